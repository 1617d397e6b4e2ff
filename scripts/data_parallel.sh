#!/usr/bin/env bash
# Data-parallel training of the next-item model on MovieLens-100K over Open MPI, against one process.
#  1. Throughput, side by side: ROUNDS alternating rounds of `drlrec fit --epochs EPOCHS` in one
#     process at one thread, then `mpirun -np 2` at one thread per rank, then two separate
#     one-thread processes at once (each training the whole model: the most two cores give two
#     independent jobs, the ceiling of the two ranks); the training windows per second of each
#     (validation left out; the separate processes' added up), the seconds rank 0 spent in
#     collectives, their medians and the ratios of the medians.
#  2. Quality: the default fit (SQN, one block, 30 epochs) for each of SEEDS in one process and over
#     two ranks: test HR@10 and NDCG@10 of each, and whether every two-rank figure lies within the
#     one-process seeds' range. The one-process runs use QUALITY_THREADS threads (default 2; the
#     thread count does not change what is trained).
# Usage: scripts/data_parallel.sh [rounds, default 3] [epochs per timed run, default 3] ["seeds", default "0 1 2 3 4"; "" skips part 2]
# Needs Open MPI (Debian: apt-get install openmpi-bin) and MovieLens-100K (drlrec data fetch movielens).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
EPOCHS=${2:-3}
SEEDS=${3-"0 1 2 3 4"}
command -v mpirun > /dev/null || { echo "mpirun is missing: apt-get install openmpi-bin" >&2; exit 1; }
swift build -c release --package-path App --product drlrec > /dev/null
DRLREC=$PWD/App/.build/release/drlrec
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Open MPI refuses to start as root unless told; one slot per process.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
field() { python3 -c "import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== throughput: $ROUNDS rounds of $EPOCHS epochs: one process at one thread, 2 ranks at one thread each, two separate one-thread processes at once"
one=() two=() pair=()
fit() { DRLREC_NUM_THREADS=1 "$DRLREC" fit --dataset movielens --epochs "$EPOCHS" --json --quiet --out "$WORK/$1.safetensors"; }
for round in $(seq "$ROUNDS"); do
    a=$(fit one | field windows_per_second)
    mpirun -np 2 -x DRLREC_NUM_THREADS=1 "$DRLREC" fit --dataset movielens --epochs "$EPOCHS" --json --quiet --out "$WORK/two.safetensors" > "$WORK/two.json"
    b=$(field windows_per_second < "$WORK/two.json") waiting=$(field collective_seconds < "$WORK/two.json") seconds=$(field training_seconds < "$WORK/two.json")
    fit left > "$WORK/left.json" & fit right > "$WORK/right.json"; wait
    c=$(echo "$(field windows_per_second < "$WORK/left.json") + $(field windows_per_second < "$WORK/right.json")" | bc -l)
    printf 'round %d: one process %.1f windows/s; 2 ranks %.1f (%.2fx, %.1f s of %.1f in collectives); two separate processes %.1f together (%.2fx)\n' \
        "$round" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$waiting" "$seconds" "$c" "$(echo "$c / $a" | bc -l)"
    one+=("$a") two+=("$b") pair+=("$c")
done
m1=$(median "${one[@]}") m2=$(median "${two[@]}") m3=$(median "${pair[@]}")
printf 'median: one process %.1f windows/s; 2 ranks %.1f: %.2fx; two separate processes %.1f: %.2fx; 2 ranks reach %.0f%% of two separate processes\n' \
    "$m1" "$m2" "$(echo "$m2 / $m1" | bc -l)" "$m3" "$(echo "$m3 / $m1" | bc -l)" "$(echo "100 * $m2 / $m3" | bc -l)"
[ -n "$SEEDS" ] || exit 0

echo "== quality: the default fit, seeds $SEEDS"
printf '%-6s %-12s %-8s %-8s %-10s %-8s\n' seed processes HR@10 NDCG@10 kept_epoch seconds
for seed in $SEEDS; do
    DRLREC_NUM_THREADS=${QUALITY_THREADS:-2} "$DRLREC" fit --dataset movielens --seed "$seed" --json --quiet --out "$WORK/q1-$seed.safetensors" | tail -1 > "$WORK/q1-$seed.json"
    mpirun -np 2 -x DRLREC_NUM_THREADS=1 "$DRLREC" fit --dataset movielens --seed "$seed" --json --quiet --out "$WORK/q2-$seed.safetensors" | tail -1 > "$WORK/q2-$seed.json"
    for p in 1 2; do
        python3 - "$WORK/q$p-$seed.json" "$seed" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<6} {r['processes']:<12} {r['hr_at_10']:<8.4f} {r['ndcg_at_10']:<8.4f} {r['kept_epoch']:<10} {r['seconds']:<8.0f}")
PY
    done
done
python3 - "$WORK" $SEEDS <<'PY'
import json, statistics, sys
work, seeds = sys.argv[1], sys.argv[2:]
runs = {p: [json.load(open(f"{work}/q{p}-{s}.json")) for s in seeds] for p in (1, 2)}
for metric, name in (("hr_at_10", "HR@10"), ("ndcg_at_10", "NDCG@10")):
    one, two = [r[metric] for r in runs[1]], [r[metric] for r in runs[2]]
    inside = sum(min(one) <= v <= max(one) for v in two)
    print(f"{name}: one process mean {statistics.mean(one):.4f} range [{min(one):.4f}, {max(one):.4f}]; "
          f"2 ranks mean {statistics.mean(two):.4f} range [{min(two):.4f}, {max(two):.4f}]; {inside} of {len(two)} within the one-process range")
PY

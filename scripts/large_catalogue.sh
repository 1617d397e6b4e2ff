#!/usr/bin/env bash
# Large catalogues and logs bigger than memory (issue 22, items 1 and 2).
#  1. Speed, side by side: ROUNDS alternating rounds of one epoch of the supervised ranker
#     (--q-learning-weight 0, batch 64) on a synthetic log of USERS users × 50 clicks on ITEMS items,
#     with the full softmax and with --sampled-softmax 1024: training windows per second (validation
#     left out), their medians and the ratio; the test HR@10 of each on 2,000 sampled users.
#  2. Quality: MovieLens-100K, the supervised ranker for each of SEEDS with the full softmax and
#     with --sampled-softmax 256 (a sixth of its 1,682 movies): test HR@10 and NDCG@10.
#  3. With FIFTY_MILLION=1: `drlrec data synthesize` at 1,000,000 users × 200,000 items × 50 clicks
#     (50M interactions, a 1.8 GB file), then one epoch of `fit` from it under /usr/bin/time -v
#     (the binary cache built first, --sampled-softmax 1024, batch 1024 with the sqrt rule,
#     validation and test on 10,000 sampled users): its peak resident memory, windows/s and
#     evaluation time; then `drlrec bench serve` of that model and of part 1's 20,000-item one.
#     About 45 minutes on 2 cores, 5 GB of disk in $WORK.
# Usage: scripts/large_catalogue.sh [rounds, default 3] [users:items, default 5000:20000] ["seeds", default "0 1 2"; "" skips part 2]
# Needs MovieLens-100K for part 2 (drlrec data fetch movielens).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
POINT=${2:-5000:20000}
SEEDS=${3-"0 1 2"}
swift build -c release --package-path App --product drlrec > /dev/null
DRLREC=$PWD/App/.build/release/drlrec
WORK=${WORK:-$(mktemp -d)}
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT
field() { python3 -c "import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

users=${POINT%:*} items=${POINT#*:}
echo "== speed: $ROUNDS rounds of one epoch on $users users x 50 clicks on $items items, full softmax against --sampled-softmax 1024"
"$DRLREC" data synthesize --users "$users" --items "$items" --events 50 --seed 0 --out "$WORK/log.csv" > /dev/null
fit() { "$DRLREC" fit --data "$WORK/log.csv" --cache "$WORK" --q-learning-weight 0 --epochs 1 --evaluation-users 2000 --json --quiet --out "$WORK/m.safetensors" "$@"; }
fit > /dev/null  # builds the log's cache outside the timing
full=() sampled=()
for round in $(seq "$ROUNDS"); do
    fit > "$WORK/full.json"
    fit --sampled-softmax 1024 > "$WORK/sampled.json"
    a=$(field windows_per_second < "$WORK/full.json") b=$(field windows_per_second < "$WORK/sampled.json")
    printf 'round %d: full softmax %.1f windows/s (HR@10 %.4f); sampled %.1f (HR@10 %.4f): %.2fx\n' "$round" \
        "$a" "$(field hr_at_10 < "$WORK/full.json")" "$b" "$(field hr_at_10 < "$WORK/sampled.json")" "$(echo "$b / $a" | bc -l)"
    full+=("$a") sampled+=("$b")
done
m1=$(median "${full[@]}") m2=$(median "${sampled[@]}")
printf 'median: full softmax %.1f windows/s, sampled %.1f: %.2fx\n' "$m1" "$m2" "$(echo "$m2 / $m1" | bc -l)"

if [ -n "$SEEDS" ]; then
    echo "== quality: MovieLens-100K, the supervised ranker, seeds $SEEDS"
    printf '%-6s %-16s %-8s %-8s %-10s\n' seed head HR@10 NDCG@10 kept_epoch
    for seed in $SEEDS; do
        for head in full sampled; do
            extra=(); [ "$head" = sampled ] && extra=(--sampled-softmax 256)
            "$DRLREC" fit --dataset movielens --q-learning-weight 0 --seed "$seed" "${extra[@]}" --json --quiet --out "$WORK/ml.safetensors" | tail -1 > "$WORK/ml.json"
            python3 - "$WORK/ml.json" "$seed" "$head" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<6} {sys.argv[3]:<16} {r['hr_at_10']:<8.4f} {r['ndcg_at_10']:<8.4f} {r['kept_epoch']:<10}")
PY
        done
    done
fi

[ -n "${FIFTY_MILLION:-}" ] || exit 0
echo "== 50M interactions: 1,000,000 users x 200,000 items x 50 clicks"
/usr/bin/time -f "synthesize: %e s, peak resident %M KB" "$DRLREC" data synthesize --users 1000000 --items 200000 --events 50 --out "$WORK/big.csv"
ls -l "$WORK/big.csv"
/usr/bin/time -v "$DRLREC" fit --data "$WORK/big.csv" --cache "$WORK" --sampled-softmax 1024 --q-learning-weight 0 --epochs 1 \
    --evaluation-users 10000 --batch-size 1024 --learning-rate-scaling sqrt --json --out "$WORK/big.safetensors" 2> "$WORK/time.txt" > "$WORK/big.json"
grep -E "binary cache|interactions of|Elapsed|Maximum resident" "$WORK/time.txt"
# The test ranks after the last progress event (validation is inside the epoch's seconds, after training).
python3 - "$WORK/big.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
progress = [l for l in lines if l["event"] == "progress"][-1]; fitted = lines[-1]
print(f"{fitted['windows_per_second']:.1f} windows/s over {fitted['training_seconds']:.0f} s; validation and model set-up "
      f"{progress['seconds'] - fitted['training_seconds']:.1f} s; test {fitted['seconds'] - progress['seconds']:.1f} s on {fitted['test_users']} users: "
      f"HR@10 {fitted['hr_at_10']:.4f}, NDCG@10 {fitted['ndcg_at_10']:.4f}")
PY
echo "== serving the 200,000-item model, and the MovieLens-sized one for comparison"
"$DRLREC" bench serve --checkpoint "$WORK/big.safetensors" | grep -E "model_scores|requests"
"$DRLREC" fit --data "$WORK/log.csv" --cache "$WORK" --q-learning-weight 0 --epochs 1 --quiet --out "$WORK/small.safetensors" > /dev/null
"$DRLREC" bench serve --checkpoint "$WORK/small.safetensors" | grep -E "model_scores|requests"

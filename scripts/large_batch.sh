#!/usr/bin/env bash
# The next-item model on MovieLens-100K at the default batch (64) and at 16 times it (1024) with a
# learning-rate rule and a warm-up, over training seeds: HR@10, NDCG@10, the kept epoch, wall time
# and peak resident memory of each `drlrec fit`, one row per run (issue 22, item 3).
#   scripts/large_batch.sh [SEEDS] [RULE] [WARMUP]   (defaults: "0 1 2", linear, 2)
set -euo pipefail
seeds=${1:-"0 1 2"} rule=${2:-linear} warmup=${3:-2}
drlrec=${DRLREC:-App/.build/release/drlrec}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf "%-40s %4s %7s %7s %5s %8s %9s\n" run seed HR@10 NDCG@10 epoch seconds "peak MB"
for seed in $seeds; do
    for setting in "batch 64|" "batch 1024, $rule, warm-up $warmup|--batch-size 1024 --learning-rate-scaling $rule --warmup-epochs $warmup"; do
        name=${setting%%|*} args=${setting#*|}
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e %M" -o "$scratch/time" "$drlrec" fit --dataset movielens --seed "$seed" $args \
            --out "$scratch/model.safetensors" --json --quiet > "$scratch/out.json"
        python3 - "$name" "$seed" "$scratch/out.json" "$scratch/time" <<'PY'
import json, sys
name, seed, out, timing = sys.argv[1:]
fitted = next(json.loads(l) for l in open(out) if '"fitted"' in l)
seconds, kb = open(timing).read().split()
print(f"{name:<40} {seed:>4} {fitted['hr_at_10']:7.4f} {fitted['ndcg_at_10']:7.4f} {fitted['kept_epoch']:5d} {float(seconds):8.1f} {int(kb) / 1024:9.0f}")
PY
    done
done

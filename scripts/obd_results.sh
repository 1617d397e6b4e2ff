#!/bin/sh
# Every Open Bandit Dataset figure of docs/RESULTS.md, in the order the section gives them
# (about 2 minutes on 2 cores). Needs the CLI built (make build), the data fetched
# (drlrec data fetch obd) and python3 for the per-context policy tables.
#   scripts/obd_results.sh [output directory, default obd-results]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
drlrec="$root/App/.build/release/drlrec"
out=${1:-obd-results}
mkdir -p "$out"
run() { name=$1; shift; echo "== drlrec $*" | tee "$out/$name.txt"; "$drlrec" "$@" 2>&1 | tee -a "$out/$name.txt"; }

# The logged policies from each other's logs, against the truth.
run all-random ope --dataset obd --campaign all --behavior random --evaluation bts
run all-bts ope --dataset obd --campaign all --behavior bts --evaluation random
run men-random ope --dataset obd --campaign men
run women-random ope --dataset obd --campaign women
# The reward model cross-fitted over three folds, all six directions.
for campaign in all men women; do
    run "crossfit-$campaign-random" ope --dataset obd --campaign "$campaign" --behavior random --evaluation bts --cross-fit 3
    run "crossfit-$campaign-bts" ope --dataset obd --campaign "$campaign" --behavior bts --evaluation random --cross-fit 3
done
# Intervals that refit the reward model, all six directions.
for campaign in all men women; do
    run "refit-$campaign-random" ope --dataset obd --campaign "$campaign" --behavior random --evaluation bts --refit-resamples 200
    run "refit-$campaign-bts" ope --dataset obd --campaign "$campaign" --behavior bts --evaluation random --refit-resamples 200
done
# bts's distribution per user context.
for feature in 0 1; do
    python3 "$root/scripts/obd_policy_table.py" --policy bts --by "user_feature_$feature" --out "$out/bts-by-f$feature.csv"
    run "table-f$feature" ope --dataset obd --behavior random --evaluation "$out/bts-by-f$feature.csv"
done
# DRLRec's own policy: ε-greedy and softmax rules of the reward model, then the saved policy.
run learned-greedy ope --dataset obd --campaign all --behavior random --evaluation learned --save-policy "$out/obd-policy.safetensors"
for temperature in 1 0.5 0.25 0.1 0.05; do
    run "learned-softmax-$temperature" ope --dataset obd --behavior random --evaluation learned --policy softmax --temperature "$temperature"
done
run saved-random ope --behavior random --evaluation "$out/obd-policy.safetensors"
run saved-bts ope --behavior bts --evaluation "$out/obd-policy.safetensors"

#!/bin/sh
# A scenario's headline A/B table from several training seeds: trains the RL agent once per seed
# (drlrec train --env ENV --seed S, into DIR/ENV-S.safetensors, skipped when the file exists) and
# runs drlrec abtest with every checkpoint as a treatment against the scenario's strongest
# baseline on the same users: one table per seed, then the mean difference with its spread across
# seeds and an interval over users and seeds.
#   scripts/multiseed_abtest.sh ENV "0 1 2" [DIR, default multiseed] [extra abtest options...]
# TRAIN_OPTIONS: extra options of drlrec train (say "--config two-stage.json", then give abtest the
# same --config).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
drlrec="$root/App/.build/release/drlrec"
env=$1 seeds=$2 dir=${3:-multiseed}
[ $# -ge 3 ] && shift 3 || shift $#
mkdir -p "$dir"
treatments=""
for seed in $seeds; do
    checkpoint="$dir/$env-$seed.safetensors"
    if [ ! -f "$checkpoint" ]; then
        echo "== training $env with seed $seed" >&2
        # shellcheck disable=SC2086  # the options are meant to split
        "$drlrec" train --env "$env" --seed "$seed" ${TRAIN_OPTIONS:-} --save "$checkpoint" --quiet >&2
    fi
    treatments="$treatments --treatment $checkpoint"
done
# shellcheck disable=SC2086  # the treatment options are meant to split
"$drlrec" abtest --env "$env" $treatments "$@"

#!/usr/bin/env bash
# The closed loop (`drlrec loop`) from one production ranker or tutor over traffic seeds: per seed, the
# learnt candidates released, how many of their off-policy intervals covered what they realised
# (and how many estimates were within the two samples' combined error of it),
# the injected broken candidate's fate, promotions and rollbacks, the learning system against the
# frozen first version over days 8-14 (with twin control, each of the platform's measures per
# user too), and the wall time (issue 19; docs/RESULTS.md).
#   scripts/closed_loop.sh [ENV] [STEPS] [SEEDS] [-- LOOP OPTIONS]
# ENV ecommerce, video or education (default ecommerce); STEPS the production policy's training
# steps (default: the environment's own); SEEDS the loop's seeds (default "0 1 2"). It is
# trained once, with seed $TRAINING_SEED (default 0) and its training state, into
# .drlrec/loop-ENV-STEPS.safetensors (-seedN before the extension for another training seed, then
# -$OPENBLAS_CORETYPE when that names another kernel than Haswell and -portable with
# DRLREC_VECTOR_ISA=portable; or $PRODUCTION). LOOP OPTIONS replace the default recipe below. With $LOOP_OUTPUT set,
# each run's JSON report is kept there as ENV-trainingN-seedS.json and its directory (registries,
# logs, learnt candidates) as ENV-trainingN-seedS/, for scripts/loop_candidates.py.
# Every loop in docs/RESULTS.md ran on OpenBLAS's Haswell (AVX2) kernel, and the production's training
# rounds differently on another kernel (another policy, other tables): so on an x86 CPU with AVX2 the
# script asks for that kernel unless $OPENBLAS_CORETYPE already names one. DRLRec's own vector kernels
# give the same bits on AVX2 and AVX-512 CPUs (their portable variant, without FMA, does not).
set -euo pipefail
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Haswell
fi
env=${1:-ecommerce} steps=${2:-default} seeds=${3:-"0 1 2"}
shift $(($# < 3 ? $# : 3))
if [ "${1:-}" = "--" ]; then shift; fi
drlrec=${DRLREC:-App/.build/release/drlrec}
training_seed=${TRAINING_SEED:-0}
# A production trained with other kernels is another policy: it gets a file of its own.
kernels=$([ -z "${OPENBLAS_CORETYPE:-}" ] || [ "$OPENBLAS_CORETYPE" = Haswell ] || echo "-$OPENBLAS_CORETYPE")$([ "${DRLREC_VECTOR_ISA:-}" != portable ] || echo -portable)
production=${PRODUCTION:-.drlrec/loop-$env-$steps$([ "$training_seed" = 0 ] || echo "-seed$training_seed")$kernels.safetensors}
recipe=(--days 14 --users 300 --learn --learning-steps 500 --explore 0.1 --shuffle 0.3 --gate-margin 0.1
        --action-noise 0.2 --twin-control --control-share 0.3 --inject-bad-candidate 7)
if [ "$env" = education ]; then
    # One task per list: no order to shuffle, no ranking weights to perturb; the tutor's own defaults for
    # learning (anchored to production), the rankers' margin (the gate passes the anchored candidates and
    # refuses the broken one), and half the other learners for a candidate, so that the night-after
    # comparison rests on more of them (docs/RESULTS.md, "A tutor anchored to production").
    recipe=(--days 14 --users 300 --learn --explore 0.2 --gate-margin 0.3 --candidate-share 0.5 --twin-control --control-share 0.3
            --inject-bad-candidate 7)
fi
if [ $# -gt 0 ]; then recipe=("$@"); fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ ! -f "$production" ]; then
    mkdir -p "$(dirname "$production")"
    training=(--env "$env" --seed "$training_seed" --save-state --out "$production" --quiet)
    if [ "$steps" != default ]; then training+=(--steps "$steps"); fi
    "$drlrec" train "${training[@]}" > /dev/null
fi
echo "production: $production (sha256 $(sha256sum "$production" | cut -c1-16), OpenBLAS kernel ${OPENBLAS_CORETYPE:-chosen by drlrec}, vector kernels $("$drlrec" info | sed -n 's/^vector kernels *//p')); loop: ${recipe[*]}"
printf "%4s %9s %7s %10s %-34s %9s %-36s %8s\n" seed released covered consistent "broken candidate (estimate)" "promoted" "days 8-14: learning - frozen" seconds
for seed in $seeds; do
    directory=$scratch/loop-$seed
    if [ -n "${LOOP_OUTPUT:-}" ]; then directory=$LOOP_OUTPUT/$env-training$training_seed-seed$seed; rm -rf "$directory"; mkdir -p "$directory"; fi
    /usr/bin/time -f "%e" -o "$scratch/time" "$drlrec" loop --env "$env" --production "$production" --seed "$seed" \
        --directory "$directory" --json --quiet "${recipe[@]}" > "$scratch/out.json"
    if [ -n "${LOOP_OUTPUT:-}" ]; then mkdir -p "$LOOP_OUTPUT"; cp "$scratch/out.json" "$LOOP_OUTPUT/$env-training$training_seed-seed$seed.json"; fi
    python3 - "$seed" "$scratch/out.json" "$scratch/time" <<'PY'
import json, re, sys
seed, out, timing = sys.argv[1:]
lines = [json.loads(l) for l in open(out)]
events = [l["event"] for l in lines if "event" in l]
summary = next(l for l in lines if "summary" in l)
learnt = [e for e in events if re.match(r"(released|refused) v\d+ \(.*/learnt-", e)]
released = sum(e.startswith("released") for e in learnt)
broken = next((e for e in events if "/broken-" in e), None)
if broken:
    m = re.search(r"candidate (\S+) \[(\S+), (\S+)\], production (\S+)", broken)
    verdict = ("refused" if broken.startswith("refused") else "RELEASED") + (f" {m[1]} [{m[2]}, {m[3]}] vs {m[4]}" if m else "")
else:
    verdict = "-"
promoted = sum(e.startswith("promoted") for e in events)
rolled = sum(e.startswith("rolled back") for e in events)
if "difference" in summary:
    d = summary
    difference = f"{d['difference']:+.2f} [{d['difference_low']:+.2f}, {d['difference_high']:+.2f}]" + (" paired" if d.get("paired") else "")
else:
    difference = "-"
print(f"{seed:>4} {released:>4} of {len(learnt):<2} {summary['covered']:>3} of {summary['released']:<1} {summary.get('consistent', 0):>6} of {summary['released']:<1} {verdict:<34} "
      f"{promoted:>3}, {rolled:<3} {difference:<36} {float(open(timing).read()):8.0f}")
for key in sorted(k for k in summary if k.endswith("_difference")):
    name = key[:-len("_difference")]
    print(f"{'':>4} {name}: {summary[key]:+.3f} [{summary[name + '_difference_low']:+.3f}, {summary[name + '_difference_high']:+.3f}] paired")
PY
done

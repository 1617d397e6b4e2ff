#!/usr/bin/env bash
# Fuzzes each named target of Fuzz/ (libFuzzer, built by `make fuzz-build`) for SECONDS, starting
# from its committed corpus Fuzz/Corpus/TARGET; new inputs go to Fuzz/.build/corpus/TARGET and
# crashing inputs to Fuzz/.build/crashes/. Runs JOBS targets at a time (each uses one core).
# Exits non-zero when any target fails; prints each target's libFuzzer statistics.
#
#   scripts/fuzz.sh SECONDS [JOBS] TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=$1; shift
jobs=1
if [[ ${1:-} =~ ^[0-9]+$ ]]; then jobs=$1; shift; fi
fuzzer=Fuzz/.build/fuzz/release/drlrec-fuzz
[[ -x $fuzzer ]] || { echo "fuzz.sh: $fuzzer is missing: run 'make fuzz-build' first" >&2; exit 2; }
mkdir -p Fuzz/.build/corpus Fuzz/.build/crashes Fuzz/.build/logs

run_target() {
    local target=$1
    mkdir -p "Fuzz/.build/corpus/$target"
    # Leak detection is off: the Swift runtime and Foundation keep caches for the process's life.
    # One BLAS thread: the targets are single-threaded, and libFuzzer measures one core.
    if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 OPENBLAS_NUM_THREADS=1 "$fuzzer" "$target" "Fuzz/.build/corpus/$target" "Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -detect_leaks=0 -print_final_stats=1 -artifact_prefix="Fuzz/.build/crashes/$target-" \
        > "Fuzz/.build/logs/$target.log" 2>&1; then
        echo "$target: no failure in ${seconds} s; $(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "Fuzz/.build/logs/$target.log" | sed 's/stat:://' | tr -s ' ' | paste -sd ' ')"
    else
        echo "$target: FAILED; the input is in Fuzz/.build/crashes/, the report in Fuzz/.build/logs/$target.log:"
        grep -E "Fatal error|ERROR: |SUMMARY" "Fuzz/.build/logs/$target.log" | head -5
        return 1
    fi
}
export -f run_target
export seconds fuzzer
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_target {}'

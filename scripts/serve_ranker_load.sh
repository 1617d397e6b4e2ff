#!/usr/bin/env bash
# Load test of `drlrec serve` with the e-commerce list-wise ranker (10,000 items) as `drlrec train`
# writes it, with exploration (ε 0.1, softmax explorer) and every served list logged to disk before
# it is answered, beside the same server's constant /livez answer (the framework's limit), in
# alternating runs: top-10 recommend requests for 20,000 users whose histories the server builds
# from the lists it serves. The ranker trains for 5,000 steps: its networks and the work of a
# request are those of a fully trained one. Prints wrk's figures and the ratio of the medians.
# Usage: scripts/serve_ranker_load.sh [seconds per run, default 20] [concurrent connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-20}
CONNECTIONS=${2:-32}
PORT=${PORT:-18081}
command -v wrk > /dev/null || { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
swift build -c release --package-path App --product drlrec > /dev/null
DRLREC=App/.build/release/drlrec
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null; rm -rf "$WORK"' EXIT

$DRLREC train --env ecommerce --steps 5000 --seed 0 --save "$WORK/ranker.safetensors" --quiet > /dev/null
$DRLREC registry register --registry "$WORK/registry" --checkpoint "$WORK/ranker.safetensors" --scenario ecommerce > /dev/null
$DRLREC registry promote --registry "$WORK/registry" v1 > /dev/null
$DRLREC serve --registry "$WORK/registry" --port "$PORT" --explore 0.1 --explorer softmax --impressions "$WORK/impressions.csv" \
    2> "$WORK/serve.log" &
SERVER=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/livez" > /dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/livez" > /dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
# Warm-up (users get histories), then the measured runs, alternating the two routes.
wrk -t2 -c"$CONNECTIONS" -d10s -s scripts/ranker.lua "http://127.0.0.1:$PORT/v1/recommend" > /dev/null
ranker=() livez=()
for run in 1 2 3; do
    echo "== run $run: ranker, $CONNECTIONS connections, 2 wrk threads, ${SECONDS_PER_RUN} s"
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s scripts/ranker.lua "http://127.0.0.1:$PORT/v1/recommend" | grep -E "errors|latency|Non-2xx")
    echo "$out"; ranker+=("$(echo "$out" | sed -n 's/.*requests, \([0-9]*\) per second/\1/p')")
    echo "== run $run: /livez (constant answer), $CONNECTIONS connections, 2 wrk threads, ${SECONDS_PER_RUN} s"
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s scripts/livez.lua "http://127.0.0.1:$PORT/livez" | grep -E "errors|latency|Non-2xx")
    echo "$out"; livez+=("$(echo "$out" | sed -n 's/.*requests, \([0-9]*\) per second/\1/p')")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "== one connection (single-request latency), ${SECONDS_PER_RUN} s"
wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" -s scripts/ranker.lua "http://127.0.0.1:$PORT/v1/recommend" | grep -E "errors|latency|Non-2xx"
r=$(median "${ranker[@]}") l=$(median "${livez[@]}")
echo "median requests/s: ranker $r, /livez $l; the ranker keeps $(awk "BEGIN { printf \"%.2f\", $r / $l }") of the framework's limit"
echo "impressions logged: $(($(wc -l < "$WORK/impressions.csv") - 1)) rows"

#!/usr/bin/env bash
# Load test of `drlrec serve` on a 10,000-item catalogue: trains a model on a synthetic log,
# serves it with the log replayed as feedback (20,000 users with histories), and measures top-10
# recommend requests with wrk (Debian's `wrk` package): one connection at a time (single-request
# latency), then concurrent connections, three times each. Prints wrk's figures and its error counts.
# Usage: scripts/serve_load.sh [seconds per run, default 20] [concurrent connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-20}
CONNECTIONS=${2:-32}
PORT=${PORT:-18080}
command -v wrk > /dev/null || { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
swift build -c release --package-path App --product drlrec > /dev/null
DRLREC=App/.build/release/drlrec
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null; rm -rf "$WORK"' EXIT

$DRLREC data synthesize --items 10000 --users 20000 --events 20 --out "$WORK/log.csv"
$DRLREC fit --data "$WORK/log.csv" --epochs 1 --registry "$WORK/registry" --promote --out "$WORK/model.safetensors" 2> /dev/null
cp "$WORK/log.csv" "$WORK/registry/feedback.csv"
$DRLREC serve --registry "$WORK/registry" --port "$PORT" 2> "$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
# Warm-up, then the measured runs.
wrk -t1 -c4 -d3s -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" > /dev/null
for run in 1 2 3; do
    echo "== run $run: one connection (single-request latency), ${SECONDS_PER_RUN} s"
    wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" | grep -E "errors|latency|Non-2xx"
    echo "== run $run: $CONNECTIONS connections, 2 wrk threads, ${SECONDS_PER_RUN} s"
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" | grep -E "errors|latency|Non-2xx"
done
echo "== the server's own counters and its request-duration histogram (all runs, warm-up included)"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^drlrec_(http_requests_total|fallbacks_total|version_requests_total)|^drlrec_http_request_duration_seconds_(bucket|count).route=.recommend.,le=.0.00[0-5]'

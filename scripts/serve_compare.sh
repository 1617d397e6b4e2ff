#!/usr/bin/env bash
# Side-by-side load test of two drlrec binaries on one registry (10,000 items, 20,000 users with
# histories, as scripts/serve_load.sh builds it): the binaries alternate, three rounds, each with
# one connection (single-request latency) and 32 connections (throughput), wrk's figures printed
# with the round and the binary. Needs Debian's `wrk`.
# Usage: scripts/serve_compare.sh OLD_DRLREC NEW_DRLREC [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1; NEW=$2; SECONDS_PER_RUN=${3:-8}
PORT=${PORT:-18090}
command -v wrk > /dev/null || { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null; rm -rf "$WORK"' EXIT
"$NEW" data synthesize --items 10000 --users 20000 --events 20 --out "$WORK/log.csv" > /dev/null
"$NEW" fit --data "$WORK/log.csv" --epochs 1 --registry "$WORK/registry" --promote --out "$WORK/model.safetensors" > /dev/null 2>&1
for round in 1 2 3; do
    for binary in "$OLD" "$NEW"; do
        cp "$WORK/log.csv" "$WORK/registry/feedback.csv"
        "$binary" serve --registry "$WORK/registry" --port "$PORT" 2> "$WORK/serve.log" &
        SERVER=$!
        for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.2; done
        wrk -t1 -c4 -d2s -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" > /dev/null
        echo "round $round $binary, 1 connection: $(wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" | grep 'latency p50')"
        echo "round $round $binary, 32 connections: $(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" -s scripts/recommend.lua "http://127.0.0.1:$PORT/v1/recommend" | grep 'latency p50')"
        kill "$SERVER"; wait "$SERVER" 2> /dev/null || true; SERVER=
    done
done

#!/usr/bin/env bash
# Load test of `drlrec serve` with the e-commerce list-wise ranker (10,000 items) as `drlrec train`
# writes it, with exploration and every served list logged to disk before it is answered, beside
# the same server's constant /livez answer (the framework's limit), in alternating runs: top-10
# recommend requests for 20,000 users whose histories the server builds from the lists it serves.
# The ranker trains for 5,000 steps: its networks and the work of a request are those of a fully
# trained one. Each round starts a fresh server per binary (binaries alternate), warms it up (10 s
# of requests), then times the ranker and /livez; it prints wrk's figures, the server's CPU time
# per request, and per binary the medians over the rounds and the ratio of the medians.
# Usage: scripts/serve_ranker_load.sh [seconds per run, default 20] [connections, default 32] [rounds, default 3]
# Environment: EXPLORATION (serve's exploration options; default the closed loop's own, uniform
# ε 0.1 with shuffle 0.3 and action noise 0.2; "--explore 0.1 --explorer softmax" for the softmax
# explorer), BINARIES (drlrec executables to compare, space-separated; default the one built here),
# RETRIEVALS (the platform's `retrieval` settings to compare, space-separated: 0, the default, is
# the ranker over the whole catalogue; N > 0 a two-stage ranker trained with a candidate
# generator of N items, N:S one that also passes the S most popular items, `retrieval_standing`),
# FLUSHES (the logs' durability settings to compare, space-separated: "disk", the default, answers a
# list once it is on disk; a number of seconds serves with `--log-flush-interval` that many: once
# written to the kernel, flushed at that interval).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-20}
CONNECTIONS=${2:-32}
ROUNDS=${3:-3}
PORT=${PORT:-18081}
EXPLORATION=${EXPLORATION:-"--explore 0.1 --shuffle 0.3 --action-noise 0.2"}
command -v wrk > /dev/null || { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
if [ -z "${BINARIES:-}" ]; then
    swift build -c release --package-path App --product drlrec > /dev/null
    BINARIES=App/.build/release/drlrec
fi
read -ra binaries <<< "$BINARIES"
read -ra retrievals <<< "${RETRIEVALS:-0}"
read -ra flushes <<< "${FLUSHES:-disk}"
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null; rm -rf "$WORK"' EXIT

# A pair is a binary serving the ranker of one retrieval setting, which it trained itself (a
# binary reads the checkpoints of its own settings), with one durability of its logs.
declare -a pairs
for r in "${retrievals[@]}"; do
    settings=()
    if [ "$r" != 0 ]; then
        if [[ $r == *:* ]]; then json="{\"retrieval\": ${r%%:*}, \"retrieval_standing\": ${r##*:}}"; else json="{\"retrieval\": $r}"; fi
        echo "$json" > "$WORK/retrieval-$r.json"
        settings=(--config "$WORK/retrieval-$r.json")
    fi
    for b in "${!binaries[@]}"; do
        if "${binaries[$b]}" train --env ecommerce --steps 5000 --seed 0 "${settings[@]}" --save "$WORK/ranker-$b-$r.safetensors" --quiet > /dev/null 2> "$WORK/train.log"; then
            for f in "${flushes[@]}"; do pairs+=("$b $r $f"); done
        else
            echo "skipped: ${binaries[$b]} cannot train with retrieval $r ($(tail -1 "$WORK/train.log" | cut -c1-120))"
        fi
    done
done
echo "exploration: $EXPLORATION; $CONNECTIONS connections, 2 wrk threads, ${SECONDS_PER_RUN} s a run, $ROUNDS rounds"
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system clock ticks
label() { echo "${binaries[$1]}$([ "$2" != 0 ] && echo ", retrieval $2")$([ "$3" != disk ] && echo ", --log-flush-interval $3")"; }
# run PAIR_INDEX ROUND: a fresh registry and server, warm-up, ranker, /livez; appends to the results.
run() {
    local p=$1 round=$2 dir="$WORK/run-$1-$2" b r f durability=()
    read -r b r f <<< "${pairs[$p]}"
    if [ "$f" != disk ]; then durability=(--log-flush-interval "$f"); fi
    mkdir -p "$dir"
    "${binaries[$b]}" registry register --registry "$dir/registry" --checkpoint "$WORK/ranker-$b-$r.safetensors" --scenario ecommerce > /dev/null
    "${binaries[$b]}" registry promote --registry "$dir/registry" v1 > /dev/null
    # shellcheck disable=SC2086
    "${binaries[$b]}" serve --registry "$dir/registry" --port "$PORT" $EXPLORATION --impressions "$dir/impressions.csv" "${durability[@]}" 2> "$dir/serve.log" &
    SERVER=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/livez" > /dev/null && break; sleep 0.2; done
    curl -sf "http://127.0.0.1:$PORT/livez" > /dev/null || { cat "$dir/serve.log" >&2; exit 1; }
    wrk -t2 -c"$CONNECTIONS" -d10s -s scripts/ranker.lua "http://127.0.0.1:$PORT/v1/recommend" > /dev/null
    local before after out rate requests
    before=$(cpu $SERVER)
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s scripts/ranker.lua "http://127.0.0.1:$PORT/v1/recommend" | grep -E "errors|latency|Non-2xx")
    after=$(cpu $SERVER)
    rate=$(echo "$out" | sed -n 's/.*requests, \([0-9]*\) per second/\1/p')
    requests=$(echo "$out" | sed -n 's/.*; \([0-9]*\) requests,.*/\1/p')
    echo "== round $round, $(label "$b" "$r" "$f"): ranker"
    echo "$out"
    echo "server CPU per request: $(awk "BEGIN { printf \"%.0f\", ($after - $before) * 1e6 / $(getconf CLK_TCK) / $requests }") µs"
    ranker[$p]="${ranker[$p]:-} $rate"
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s scripts/livez.lua "http://127.0.0.1:$PORT/livez" | grep -E "errors|latency|Non-2xx")
    echo "== round $round, $(label "$b" "$r" "$f"): /livez (constant answer)"
    echo "$out"
    livez[$p]="${livez[$p]:-} $(echo "$out" | sed -n 's/.*requests, \([0-9]*\) per second/\1/p')"
    kill $SERVER; wait $SERVER 2> /dev/null || true
    SERVER=
}
declare -a ranker livez
for round in $(seq "$ROUNDS"); do
    for p in "${!pairs[@]}"; do run "$p" "$round"; done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for p in "${!pairs[@]}"; do
    read -r b r f <<< "${pairs[$p]}"
    # shellcheck disable=SC2086
    rate=$(median ${ranker[$p]}) l=$(median ${livez[$p]})
    echo "$(label "$b" "$r" "$f"): ranker requests/s${ranker[$p]} (median $rate); /livez${livez[$p]} (median $l); the ranker keeps $(awk "BEGIN { printf \"%.3f\", $rate / $l }") of the framework's limit"
done

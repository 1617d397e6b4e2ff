#!/usr/bin/env bash
# The cost of an epoch of `drlrec fit` against the number of interactions and of items, in one
# process at one thread and over 2 ranks (Open MPI) at one thread each: synthetic logs of USERS
# users × 20 clicks on ITEMS items (`drlrec data synthesize`), one epoch of the default model each
# (SQN, one block, history 50, batch 64), its training seconds (validation left out), windows per
# second, the seconds rank 0 spent in collectives, and the model's parameter count (what each step
# all-reduces). docs/SCALING.md records the output and checks its cost model against it.
# Usage: scripts/scaling.sh ["users:items ...", default "5000:1000 5000:10000 20000:1000"]
set -euo pipefail
cd "$(dirname "$0")/.."
GRID=${1:-"5000:1000 5000:10000 20000:1000"}
command -v mpirun > /dev/null || { echo "mpirun is missing: apt-get install openmpi-bin" >&2; exit 1; }
swift build -c release --package-path App --product drlrec > /dev/null
DRLREC=$PWD/App/.build/release/drlrec
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
printf '%-8s %-8s %-13s %-10s %-9s %-15s %-13s %-12s\n' users items interactions processes windows "seconds/epoch" windows/s collectives
for point in $GRID; do
    users=${point%:*} items=${point#*:}
    log="$WORK/log-$users-$items.csv"
    "$DRLREC" data synthesize --users "$users" --items "$items" --events 20 --seed 0 --out "$log" > /dev/null
    for processes in 1 2; do
        if [ "$processes" = 1 ]; then
            DRLREC_NUM_THREADS=1 "$DRLREC" fit --data "$log" --cache "$WORK" --epochs 1 --json --quiet --out "$WORK/model.safetensors" | tail -1 > "$WORK/run.json"
        else
            mpirun -np 2 -x DRLREC_NUM_THREADS=1 "$DRLREC" fit --data "$log" --cache "$WORK" --epochs 1 --json --quiet --out "$WORK/model.safetensors" | tail -1 > "$WORK/run.json"
        fi
        python3 - "$WORK/run.json" "$users" "$items" "$processes" "$WORK/model.safetensors" <<'PY'
import json, struct, sys
run = json.load(open(sys.argv[1]))
users, items, processes = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(sys.argv[5], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
parameters = sum(eval("*".join(map(str, v["shape"])) or "1") for k, v in header.items() if k != "__metadata__")
windows = run["windows_per_second"] * run["training_seconds"]
print(f"{users:<8} {items:<8} {users * 20:<13} {processes:<10} {windows:<9.0f} {run['training_seconds']:<15.1f} "
      f"{run['windows_per_second']:<13.1f} {run['collective_seconds']:<12.2f} ({parameters:,} parameters)")
PY
    done
done

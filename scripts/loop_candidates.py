#!/usr/bin/env python3
"""How good were a closed loop's learnt candidates, really? (issue 19; docs/RESULTS.md)

    scripts/loop_candidates.py ENV REPORT DIRECTORY PRODUCTION [USERS]

REPORT is the JSON report of `drlrec loop --learn --json` and DIRECTORY its --directory (which keeps
every learnt-N.safetensors); PRODUCTION the first production checkpoint (--production). Each learnt
candidate is A/B-tested by `drlrec abtest --env ENV` against the production it was learnt from (the
version production was on the night it was learnt) on USERS simulated users (default 2,000, the
same users for every pair), whatever the gate decided: one line per candidate with the simulator's
return per user of both and the paired difference with its 95% interval, then the count, mean and
worst of the differences. `scripts/closed_loop.sh` keeps the reports and directories with
$LOOP_OUTPUT set. $DRLREC names the binary (default App/.build/release/drlrec).
"""
import json
import os
import re
import subprocess
import sys

if len(sys.argv) not in (5, 6):
    sys.exit(__doc__)
env, report, directory, production = sys.argv[1:5]
users = sys.argv[5] if len(sys.argv) == 6 else "2000"
drlrec = os.environ.get("DRLREC", "App/.build/release/drlrec")

# Each version's checkpoint as the release or refusal names it (kept in DIRECTORY), and the version
# production was on when each candidate was learnt: a night's promotion comes before its learning,
# a rollback restores the version the next day's production lines name.
current, parents, files = "v1", {}, {"v1": production}
for line in open(report):
    entry = json.loads(line)
    event = entry.get("event", "")
    if m := re.match(r"promoted (v\d+)", event):
        current = m[1]
    elif m := re.match(r"(released|refused) (v(\d+)) \((\S+)\)", event):
        files[m[2]] = os.path.join(directory, os.path.basename(m[4]))
        if "/learnt-" in m[4]:
            parents[int(m[3])] = (m[2], current, m[1])
    elif entry.get("arm") == "production":
        current = entry["version"]

differences = []
for number in sorted(parents):
    version, parent, verdict = parents[number]
    name = os.path.basename(files[version]).removesuffix(".safetensors")
    result = subprocess.run([drlrec, "abtest", "--env", env, "--control", files[parent], "--treatment", files[version],
                             "--users", users, "--seed", "100000"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"drlrec abtest failed for {name}: {result.stderr.strip()}")
    row = next((r.split() for r in result.stdout.splitlines() if r.startswith("return_per_")), None)
    if row is None:
        sys.exit(f"drlrec abtest printed no return per user for {name}")
    difference = float(row[3])
    differences.append(difference)
    print(f"{name:<10} from {parent:<4} {verdict:<9} {row[1]:>8} -> {row[2]:>8}  {difference:+8.2f} {row[5]} {row[6]}")
if differences:
    print(f"{len(differences)} candidates: mean {sum(differences) / len(differences):+.2f}, "
          f"better {sum(d > 0 for d in differences)}, worst {min(differences):+.2f}, below -5: {sum(d < -5 for d in differences)}")

#!/usr/bin/env python3
"""kill -9 tests of DRLRec's durability claims, repeated:

1. The feedback log: clients stream POST /v1/feedback to `drlrec serve` while the server is
   killed with SIGKILL at a random moment. Every event the server acknowledged (HTTP 200) must be
   in the log afterwards, and the server must start again on that log (it replays it).
2. The registry: `drlrec registry register`, `promote` and `rollback` are killed with SIGKILL at
   random moments. Afterwards the registry must list, its state must name only complete versions,
   and no half-registered version may be visible.
3. The served lists: the e-commerce list-wise ranker is served with exploration and the impression
   log; clients ask for lists and send feedback that names the list and position, while the server
   is killed with SIGKILL. Every list the server answered (HTTP 200) must be in the impression log,
   every position of it, and every acknowledged feedback in the feedback log. The server must start
   again on both logs and go on where it stopped: feedback naming a list served before the kill is
   accepted, and new lists are served.
4. The closed loop over HTTP: `drlrec loop --http` serves its simulated users through `drlrec serve`
   processes, and its learning system's server is killed with SIGKILL several times during the
   run. The loop must start it again and finish every day; it checks each night that every list
   the server answered and every feedback it acknowledged is in the logs (and stops if not), and
   this script checks that every feedback row naming a list names one in the impression log.

Parts 1 and 3 alternate the logs' durability: every other round serves with --log-flush-interval
(acknowledged once written to the kernel, flushed at an interval), which must survive a kill -9 of
the server as well as the default (on disk before the answer) does.

Standard library only. Usage: scripts/crash_durability.py [--rounds N] [--drlrec PATH]
"""
import argparse
import csv
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def run(drlrec, *args, check=True):
    return subprocess.run([drlrec, *args], check=check, capture_output=True, text=True)


def wait_healthy(port, process, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {process.stderr.read()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become healthy")


def kill_while_streaming(server, stream, seconds, clients=4):
    """Runs `stream(client, stop)` on `clients` threads, kills the server with SIGKILL after
    `seconds`, then stops the clients and waits for them."""
    stop = threading.Event()
    threads = [threading.Thread(target=stream, args=(c, stop)) for c in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()


def stream_feedback(port, client, acknowledged, stop):
    sequence = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        body = json.dumps({"user_id": f"crash-{client}", "item_id": f"i{sequence % 100}", "event": "click",
                           "timestamp": sequence, "context": {"stride": 1}})
        try:
            connection.request("POST", "/v1/feedback", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
        except OSError:
            return  # the server is gone
        except http.client.HTTPException:
            return
        if response.status == 200:
            acknowledged.append((f"crash-{client}", sequence))
        sequence += 1


def feedback_round(drlrec, registry, port, rng, durability):
    server = subprocess.Popen([drlrec, "serve", "--registry", registry, "--port", str(port), *durability],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_healthy(port, server)
    acknowledged = []
    kill_while_streaming(server, lambda client, stop: stream_feedback(port, client, acknowledged, stop), rng.uniform(0.3, 1.5))
    with open(os.path.join(registry, "feedback.csv"), newline="") as log:
        logged = {(row["user"], int(row["timestamp"])) for row in csv.DictReader(log)
                  if row.get("timestamp", "").isdigit()}
    lost = [event for event in acknowledged if event not in logged]
    # The server must start again on the log (it cuts a torn last line and replays the rest).
    restarted = subprocess.Popen([drlrec, "serve", "--registry", registry, "--port", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_healthy(port, restarted)
    restarted.send_signal(signal.SIGTERM)
    restarted.wait()
    return len(acknowledged), lost


def post(connection, path, document):
    connection.request("POST", path, json.dumps(document), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def ecommerce_context(rng):
    return {"device": rng.randrange(3), "hour": rng.randrange(240) / 10, "low_frequency": rng.randrange(2), "cold_start": 0,
            "segment": rng.randrange(8), "day": rng.randrange(7), "session_step": rng.randrange(4)}


def stream_lists(port, client, lists, feedback, stop):
    """Asks for lists and clicks the first item of each, naming the list; keeps what was acknowledged."""
    rng = random.Random(client)
    sequence = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        user = f"crash-{client}-{sequence % 5}"
        context = ecommerce_context(rng)
        try:
            status, body = post(connection, "/v1/recommend", {"user_id": user, "k": 5, "context": context})
            if status != 200:
                continue
            answer = json.loads(body)
            lists.append((answer["impression_id"], user, [item["item_id"] for item in answer["items"]]))
            status, _ = post(connection, "/v1/feedback", {"user_id": user, "item_id": answer["items"][0]["item_id"], "event": "click",
                                                          "timestamp": sequence, "context": context,
                                                          "impression_id": answer["impression_id"], "position": 1})
            if status == 200:
                feedback.append((user, sequence, answer["impression_id"]))
        except (OSError, http.client.HTTPException):
            return  # the server is gone
        sequence += 1


def served_lists_round(drlrec, registry, port, rng, durability):
    command = [drlrec, "serve", "--registry", registry, "--port", str(port), "--explore", "0.1",
               "--impressions", os.path.join(registry, "impressions.csv"), *durability]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_healthy(port, server, seconds=60)
    lists, feedback = [], []
    kill_while_streaming(server, lambda client, stop: stream_lists(port, client, lists, feedback, stop), rng.uniform(0.5, 2.0))
    problems = []
    with open(os.path.join(registry, "impressions.csv"), newline="") as log:
        shown = {}
        for row in csv.DictReader(log):
            shown.setdefault(row["impression"], {})[int(row["position"])] = (row["user"], row["item"])
    for impression, user, items in lists:
        if shown.get(impression) != {k + 1: (user, item) for k, item in enumerate(items)}:
            problems.append(f"list {impression} of {user} answered but not logged as served")
    with open(os.path.join(registry, "feedback.csv"), newline="") as log:
        logged = {(row["user"], int(row["timestamp"]), row["impression"]) for row in csv.DictReader(log)
                  if row.get("timestamp", "").isdigit()}
    problems += [f"feedback {event} acknowledged but not logged" for event in feedback if event not in logged]
    # Restart on both logs and go on: feedback on a list answered before the kill, then a new list.
    restarted = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_healthy(port, restarted, seconds=60)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    if lists:
        impression, user, items = lists[-1]
        status, body = post(connection, "/v1/feedback", {"user_id": user, "item_id": items[1], "event": "click",
                                                         "impression_id": impression, "position": 2})
        if status != 200:
            problems.append(f"after the restart, feedback on list {impression} answered before the kill: {status} {body[:200]}")
    status, body = post(connection, "/v1/recommend", {"user_id": "crash-after", "k": 5, "context": ecommerce_context(rng)})
    if status != 200:
        problems.append(f"after the restart, a new list: {status} {body[:200]}")
    restarted.send_signal(signal.SIGTERM)
    restarted.wait()
    return len(lists), len(feedback), problems


def loop_round(drlrec, checkpoint, directory, rng, kills):
    command = [drlrec, "loop", "--env", "ecommerce", "--http", "--days", "3", "--users", "40", "--production", checkpoint,
               "--candidates", checkpoint, "--gate-margin", "2", "--explore", "0.1", "--shuffle", "0.3", "--control-share", "0.2",
               "--candidate-share", "0.5", "--directory", directory, "--json", "--quiet", "--seed", str(rng.randrange(1000))]
    loop = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = f"serve --registry {directory}/registry "
    killed = 0
    while loop.poll() is None and killed < kills:
        time.sleep(rng.uniform(1.0, 4.0))
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    arguments = f.read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in arguments and loop.poll() is None:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    out, err = loop.communicate(timeout=900)
    problems = []
    if loop.returncode != 0:
        return killed, 0, [f"the loop exited {loop.returncode}: {err[-500:]}"]
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines if "event" in line]
    restarts = sum("server stopped" in event and "(killed by signal 9)" in event for event in events)
    days = {line["day"] for line in lines if "arm" in line}
    if days != {1, 2, 3}:
        problems.append(f"the loop reported days {sorted(days)}")
    # A kill that lands while the loop stops its servers needs no restart.
    if not (killed - 1 <= restarts <= killed) or killed == 0:
        problems.append(f"{killed} kills and {restarts} restarts reported")
    with open(os.path.join(directory, "registry-impressions.csv"), newline="") as log:
        shown = {(row["impression"], int(row["position"])) for row in csv.DictReader(log)}
    with open(os.path.join(directory, "registry-feedback.csv"), newline="") as log:
        rows = list(csv.DictReader(log))
    orphans = [row for row in rows if row["impression"] and (row["impression"], int(row["position"])) not in shown]
    if orphans:
        problems.append(f"{len(orphans)} feedback rows name a list position not in the impression log")
    return killed, len(rows), problems


def registry_round(drlrec, registry, checkpoint, rng):
    command = rng.choice([["registry", "register", "--registry", registry, "--checkpoint", checkpoint, "--scenario", "crash"],
                          ["registry", "promote", "--registry", registry, "v2"],
                          ["registry", "rollback", "--registry", registry]])
    process = subprocess.Popen([drlrec, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, 0.08))
    process.send_signal(signal.SIGKILL)
    process.wait()
    listing = run(drlrec, "registry", "list", "--registry", registry, check=False)
    if listing.returncode != 0:
        return f"`registry list` failed after killing `{' '.join(command[:2])}`: {listing.stderr.strip()}"
    with open(os.path.join(registry, "state.json")) as file:
        state = json.load(file)
    versions = {name for name in os.listdir(os.path.join(registry, "versions")) if not name.startswith(".")}
    for name in versions:
        with open(os.path.join(registry, "versions", name, "version.json")) as file:
            json.load(file)  # every visible version is complete
    named = [state.get("production")] + state.get("history", [])
    missing = [v for v in named if v is not None and v not in versions]
    return f"the state names missing versions {missing}" if missing else None


def durability(round_):
    """The serve options of a round's logs: every other round acknowledges once written, not flushed."""
    return ["--log-flush-interval", "1"] if round_ % 2 == 1 else []


def durability_label(round_):
    return " (--log-flush-interval 1)" if durability(round_) else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--drlrec", default="App/.build/release/drlrec")
    parser.add_argument("--port", type=int, default=18090)
    arguments = parser.parse_args()
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="drlrec-crash-")
    failures = 0
    try:
        registry = os.path.join(work, "registry")
        run(arguments.drlrec, "data", "synthesize", "--users", "300", "--items", "100", "--events", "10", "--out", os.path.join(work, "log.csv"))
        checkpoint = os.path.join(work, "model.safetensors")
        run(arguments.drlrec, "fit", "--data", os.path.join(work, "log.csv"), "--epochs", "1", "--registry", registry, "--promote", "--out", checkpoint)
        run(arguments.drlrec, "registry", "register", "--registry", registry, "--checkpoint", checkpoint, "--scenario", "crash")

        total = 0
        for round_ in range(arguments.rounds):
            count, lost = feedback_round(arguments.drlrec, registry, arguments.port, rng, durability(round_))
            total += count
            status = "ok" if not lost else f"LOST {len(lost)}: {lost[:5]}"
            print(f"feedback round {round_ + 1}{durability_label(round_)}: {count} events acknowledged before kill -9, {status}")
            failures += bool(lost)
        print(f"feedback: {total} acknowledged events over {arguments.rounds} kills, {'none lost' if failures == 0 else 'SOME LOST'}")

        problems = 0
        for round_ in range(arguments.rounds * 3):
            problem = registry_round(arguments.drlrec, registry, checkpoint, rng)
            if problem:
                print(f"registry round {round_ + 1}: {problem}")
                problems += 1
        versions = len([n for n in os.listdir(os.path.join(registry, "versions")) if not n.startswith(".")])
        print(f"registry: {arguments.rounds * 3} kills during register/promote/rollback, {problems} inconsistencies ({versions} versions)")
        failures += problems

        ranker_registry = os.path.join(work, "ranker-registry")
        ranker = os.path.join(work, "ranker.safetensors")
        run(arguments.drlrec, "train", "--env", "ecommerce", "--steps", "2000", "--seed", "0", "--save", ranker, "--quiet")
        run(arguments.drlrec, "registry", "register", "--registry", ranker_registry, "--checkpoint", ranker, "--scenario", "ecommerce")
        run(arguments.drlrec, "registry", "promote", "--registry", ranker_registry, "v1")
        totals, broken = [0, 0], 0
        for round_ in range(arguments.rounds):
            served, acknowledged, problems = served_lists_round(arguments.drlrec, ranker_registry, arguments.port, rng, durability(round_))
            totals[0] += served
            totals[1] += acknowledged
            print(f"served-lists round {round_ + 1}{durability_label(round_)}: {served} lists and {acknowledged} feedback events acknowledged before kill -9, "
                  + ("ok" if not problems else f"{len(problems)} PROBLEMS: {problems[:3]}"))
            broken += bool(problems)
        print(f"served lists: {totals[0]} lists and {totals[1]} feedback events over {arguments.rounds} kills, "
              + ("none lost, every restart went on" if broken == 0 else f"{broken} rounds with problems"))
        failures += broken

        loop_checkpoint = os.path.join(work, "loop-ranker.safetensors")
        run(arguments.drlrec, "train", "--env", "ecommerce", "--steps", "1100", "--seed", "0", "--save", loop_checkpoint, "--quiet")
        broken, kills = 0, 0
        for round_ in range(max(1, arguments.rounds // 5)):
            killed, rows, problems = loop_round(arguments.drlrec, loop_checkpoint, os.path.join(work, f"loop-{round_}"), rng, kills=3)
            kills += killed
            print(f"loop round {round_ + 1}: the learning system's server killed {killed} times, {rows} feedback rows, "
                  + ("the loop went on and finished" if not problems else f"PROBLEMS: {problems}"))
            broken += bool(problems)
        print(f"closed loop over HTTP: {kills} kills, " + ("every run finished with nothing lost" if broken == 0 else f"{broken} rounds with problems"))
        failures += broken
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

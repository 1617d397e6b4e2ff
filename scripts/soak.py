#!/usr/bin/env python3
"""Soak test of `drlrec serve`: mixed traffic for a bounded time, with kill -9 restarts.

A next-item model (v1) and a second fit (v2) are registered; the server runs with API keys, the
impression log, exploration and a cap on the users it keeps. Client threads, each at a fixed
rate, ask for lists for users drawn from a pool larger than the cap (with an empty history when
the server does not know the user, or has forgotten them), click or buy items naming
the list and position, and send hostile requests: feedback without a key (must be 401 and never
logged) and malformed bodies (must be 400). A controller runs a rollout of the other version at
half the traffic, then promotes it, and again, so the served versions keep changing. Every
--kill-every seconds (jittered) the server is killed with SIGKILL; every list it answered must
then be in the impression log with all its positions, every acknowledged feedback event in the
feedback log, and the server must start again on both logs. The server's resident memory is
sampled every second.

Prints, per server life, the requests answered, the restart time and the resident memory (first
sample, largest), and at the end the totals. Fails (exit 1) if any acknowledged event is lost,
any forged event is logged, any restart fails, or the largest resident memory of the run's last
third exceeds the bound: --memory-factor times the largest of its first third, plus
--memory-slack MB.

Standard library only. Usage: scripts/soak.py [--minutes M] [--kill-every S] [--drlrec PATH]
"""
import argparse
import csv
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_durability import run, wait_healthy  # noqa: E402

KEY = "soak-key-" + "0123456789abcdef" * 2


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Ledger:
    """What the server acknowledged (and what it must never have logged), shared by the clients."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lists, self.feedback, self.forged = [], [], 0
        self.answered, self.refused, self.unexpected = 0, 0, []

    def note(self, kind, value):
        with self.lock:
            if kind == "list":
                self.lists.append(value)
            elif kind == "feedback":
                self.feedback.append(value)
            elif kind == "answered":
                self.answered += 1
            elif kind == "refused":
                self.refused += 1
            elif kind == "forged":
                self.forged += 1
            else:
                self.unexpected.append(value)


def client(port, number, rate, users, ledger, stop):
    rng = random.Random(number)
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def exchange(path, body, headers=auth):
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()

    sequence = 0
    next_time = time.time()
    while not stop.is_set():
        next_time += 1 / rate
        time.sleep(max(0, next_time - time.time()))
        sequence += 1
        roll = rng.random()
        try:
            if roll < 0.05:  # forged feedback: no key
                status, _ = exchange("/v1/feedback", json.dumps({"user_id": f"forged-{number}-{sequence}", "item_id": "i1",
                                                                 "event": "purchase", "context": {"stride": 1}}),
                                     {"Content-Type": "application/json"})
                ledger.note("forged", None)
                if status != 401:
                    ledger.note("unexpected", f"forged feedback answered {status}")
                continue
            if roll < 0.10:  # a malformed body
                status, _ = exchange("/v1/recommend", '{"user_id": "x", "k": [')
                ledger.note("refused", None)
                if status != 400:
                    ledger.note("unexpected", f"a malformed body answered {status}")
                continue
            user = f"user-{rng.randrange(users)}"
            context = {"stride": rng.randrange(1, 4)}
            status, body = exchange("/v1/recommend", json.dumps({"user_id": user, "k": 5, "context": context}))
            if status == 404 and b"unknown user" in body:
                # A new user, or one the server forgot past --max-users: a client sends an empty history.
                status, body = exchange("/v1/recommend", json.dumps({"user_id": user, "k": 5, "context": context, "history": []}))
            if status != 200:
                ledger.note("unexpected", f"recommend answered {status}: {body[:200]}")
                continue
            answer = json.loads(body)
            items = [item["item_id"] for item in answer["items"]]
            ledger.note("list", (answer["impression_id"], user, items))
            ledger.note("answered", None)
            if rng.random() < 0.6:
                position = rng.randrange(len(items)) + 1
                event = "purchase" if rng.random() < 0.15 else "click"
                status, _ = exchange("/v1/feedback", json.dumps({
                    "user_id": user, "item_id": items[position - 1], "event": event, "timestamp": sequence, "context": context,
                    "impression_id": answer["impression_id"], "position": position}))
                if status == 200:
                    ledger.note("feedback", (user, sequence, answer["impression_id"]))
                    ledger.note("answered", None)
                else:
                    ledger.note("unexpected", f"feedback answered {status}")
        except (OSError, http.client.HTTPException, ValueError):
            # The server is gone (killed): reconnect until the round stops.
            time.sleep(0.05)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def controller(drlrec, registry, period, stop, events):
    production, other = "v1", "v2"
    while not stop.wait(period):
        result = run(drlrec, "registry", "rollout", "--registry", registry, other, "--share", "0.5", check=False)
        events.append(f"rollout {other}: exit {result.returncode}")
        if stop.wait(period):
            return
        result = run(drlrec, "registry", "promote", "--registry", registry, other, check=False)
        events.append(f"promote {other}: exit {result.returncode}")
        production, other = other, production


def check_logs(registry, ledger):
    problems = []
    shown = {}
    with open(os.path.join(registry, "impressions.csv"), newline="") as log:
        for row in csv.DictReader(log):
            shown.setdefault(row["impression"], {})[int(row["position"])] = (row["user"], row["item"])
    with ledger.lock:
        lists, feedback = list(ledger.lists), list(ledger.feedback)
    for impression, user, items in lists:
        if shown.get(impression) != {k + 1: (user, item) for k, item in enumerate(items)}:
            problems.append(f"list {impression} of {user} answered but not logged")
    logged, forged = set(), 0
    with open(os.path.join(registry, "feedback.csv"), newline="") as log:
        for row in csv.DictReader(log):
            if row["user"].startswith("forged-"):
                forged += 1
            if row.get("timestamp", "").isdigit():
                logged.add((row["user"], int(row["timestamp"]), row["impression"]))
    problems += [f"feedback {event} acknowledged but not logged" for event in feedback if event not in logged]
    if forged:
        problems.append(f"{forged} forged events in the feedback log")
    return problems, len(lists), len(feedback), sum(len(v) for v in shown.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--kill-every", type=float, default=120, help="mean seconds between kills (jittered ±50%%)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=25, help="requests a second per client")
    parser.add_argument("--users", type=int, default=20000, help="the pool of user ids (larger than --max-users)")
    parser.add_argument("--max-users", type=int, default=5000)
    parser.add_argument("--rollout-every", type=float, default=20)
    parser.add_argument("--memory-factor", type=float, default=1.25)
    parser.add_argument("--memory-slack", type=float, default=30)
    parser.add_argument("--drlrec", default="App/.build/release/drlrec")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    arguments = parser.parse_args()
    if arguments.port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            arguments.port = probe.getsockname()[1]
    rng = random.Random(11)
    work = tempfile.mkdtemp(prefix="drlrec-soak-")
    failures = []
    try:
        registry = os.path.join(work, "registry")
        data = os.path.join(work, "log.csv")
        run(arguments.drlrec, "data", "synthesize", "--users", "500", "--items", "1000", "--events", "12", "--out", data)
        for seed in (0, 1):
            checkpoint = os.path.join(work, f"model-{seed}.safetensors")
            run(arguments.drlrec, "fit", "--data", data, "--epochs", "2", "--seed", str(seed), "--out", checkpoint)
            run(arguments.drlrec, "registry", "register", "--registry", registry, "--checkpoint", checkpoint, "--scenario", "soak")
        run(arguments.drlrec, "registry", "promote", "--registry", registry, "v1")
        keys = os.path.join(work, "keys")
        with open(keys, "w") as file:
            file.write(f"* {KEY}\n")
        command = [arguments.drlrec, "serve", "--registry", registry, "--port", str(arguments.port), "--api-keys", keys,
                   "--impressions", os.path.join(registry, "impressions.csv"), "--explore", "0.1",
                   "--max-users", str(arguments.max_users)]

        ledger = Ledger()
        samples = []  # (seconds since start, RSS MB)
        events = []
        start = time.time()
        end = start + arguments.minutes * 60
        stop_all = threading.Event()
        control = threading.Thread(target=controller, args=(arguments.drlrec, registry, arguments.rollout_every, stop_all, events))
        control.start()
        life = 0
        while time.time() < end:
            life += 1
            launched = time.time()
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                wait_healthy(arguments.port, server, seconds=120)
            except RuntimeError as error:
                failures.append(f"life {life}: the server did not start: {error}")
                break
            restart = time.time() - launched
            answered_before = ledger.answered
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(arguments.port, c + life * 100, arguments.rate, arguments.users, ledger, stop))
                       for c in range(arguments.clients)]
            for thread in threads:
                thread.start()
            life_end = min(end, time.time() + arguments.kill_every * rng.uniform(0.5, 1.5))
            life_samples = []
            while time.time() < life_end:
                value = rss_mb(server.pid)
                if value is not None:
                    life_samples.append(value)
                    samples.append((time.time() - start, value))
                time.sleep(1)
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for thread in threads:
                thread.join()
            problems, lists, feedback, rows = check_logs(registry, ledger)
            print(f"life {life}: restart {restart:.1f} s, {ledger.answered - answered_before} requests answered, "
                  f"RSS first {life_samples[0] if life_samples else 0:.0f} MB, largest {max(life_samples, default=0):.0f} MB; "
                  f"after kill -9: {lists} lists ({rows} impression rows) and {feedback} feedback events acknowledged so far, "
                  + ("none lost" if not problems else f"{len(problems)} PROBLEMS: {problems[:3]}"), flush=True)
            failures += problems
        stop_all.set()
        control.join()
        # A last start on the final logs.
        launched = time.time()
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_healthy(arguments.port, server, seconds=120)
            print(f"final restart on the logs: {time.time() - launched:.1f} s")
        except RuntimeError as error:
            failures.append(f"the final restart failed: {error}")
        server.send_signal(signal.SIGTERM)
        server.wait()

        with ledger.lock:
            unexpected = list(ledger.unexpected)
        # Answers other than the expected ones are reported; a request cut by the kill is not one.
        failures += unexpected[:20]
        duration = samples[-1][0] if samples else 0
        first = [v for t, v in samples if t <= duration / 3]
        last = [v for t, v in samples if t >= 2 * duration / 3]
        bound = arguments.memory_factor * max(first, default=0) + arguments.memory_slack
        print(f"{arguments.minutes:g} min, {life} server lives: {ledger.answered} requests answered, {len(ledger.lists)} lists, "
              f"{len(ledger.feedback)} feedback events, {ledger.forged} forged events refused, {ledger.refused} malformed bodies refused; "
              f"registry actions: {len(events)} ({sum('exit 0' in e for e in events)} succeeded)")
        print(f"resident memory: largest {max(first, default=0):.0f} MB in the first third, {max(last, default=0):.0f} MB in the last "
              f"(bound {bound:.0f} MB = {arguments.memory_factor} x first + {arguments.memory_slack:g}); overall {max((v for _, v in samples), default=0):.0f} MB")
        if last and max(last) > bound:
            failures.append(f"resident memory grew past the bound: {max(last):.0f} MB > {bound:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"FAILED: {len(failures)} problems, e.g. {failures[:5]}")
    else:
        print("passed: nothing acknowledged was lost, nothing forged was logged, every restart went on, memory within the bound")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

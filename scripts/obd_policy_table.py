#!/usr/bin/env python3
"""Writes a logged Open Bandit Dataset policy's action distribution as a policy table per user
context, for `drlrec ope --evaluation TABLE.csv`.

For each value of the chosen user features (and each position), the table gives how often the
logged policy showed each item there; a '*' default row set holds the context-free distribution
for contexts it never met. The logged policies (uniform random, Bernoulli Thompson sampling) do not
read the context, so evaluating the table from the other policy's logs should recover that
policy's own click rate: a check of the per-context path against the ground truth.

Standard library only. Usage:
  scripts/obd_policy_table.py --cache DIR --policy bts --campaign all --by user_feature_0 --out table.csv
"""
import argparse
import collections
import csv
import os
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "drlrec"),
                        help="the cache `drlrec data fetch obd` filled")
    parser.add_argument("--policy", choices=["random", "bts"], default="bts")
    parser.add_argument("--campaign", choices=["all", "men", "women"], default="all")
    parser.add_argument("--by", default="user_feature_0", help="comma-separated user features (user_feature_0 to user_feature_3)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    features = args.by.split(",")
    path = os.path.join(args.cache, "obd", args.policy, args.campaign, f"{args.campaign}.csv")
    if not os.path.exists(path):
        sys.exit(f"{path}: not found; run `drlrec data fetch obd` first")
    counts = collections.defaultdict(collections.Counter)  # (context, position) -> item -> shows
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [name for name in features + ["item_id", "position"] if name not in reader.fieldnames]
        if missing:
            sys.exit(f"{path}: the header lacks {', '.join(missing)}")
        for row in reader:
            context = tuple(row[name] for name in features)
            counts[(context, row["position"])][row["item_id"]] += 1
            counts[(("*",) * len(features), row["position"])][row["item_id"]] += 1

    # Only contexts met at every position get their own rows; the others fall to the default.
    positions = collections.defaultdict(set)
    for context, position in counts:
        positions[context].add(position)
    directory = os.path.dirname(os.path.abspath(args.out))
    with tempfile.NamedTemporaryFile("w", newline="", dir=directory, delete=False) as out:
        writer = csv.writer(out)
        writer.writerow(features + ["position", "item", "probability"])
        for (context, position), items in sorted(counts.items()):
            if len(positions[context]) < 3:
                continue
            total = sum(items.values())
            for item, shows in sorted(items.items(), key=lambda pair: int(pair[0])):
                writer.writerow(list(context) + [position, item, repr(shows / total)])
        out.flush()
        os.fsync(out.fileno())
    os.replace(out.name, args.out)
    contexts = sum(1 for context in positions if len(positions[context]) == 3 and "*" not in context)
    print(f"wrote {args.out}: {args.policy}'s distribution per {args.by} ({contexts} contexts and a default)", file=sys.stderr)


if __name__ == "__main__":
    main()

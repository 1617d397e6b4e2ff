#!/usr/bin/env bash
# The API documentation of the library products, with DocC: one archive per module in
# .build/docs/MODULE.doccarchive, each from its catalog (Sources/MODULE/MODULE.docc: the overview,
# topics and tutorials) and the module's symbol graph. Fails when DocC warns (a link that does not
# resolve, say) or a public type has no documentation comment; prints how many public symbols
# have one. Browse an archive with `docc preview Sources/MODULE/MODULE.docc
# --additional-symbol-graph-dir .build/docs/graphs/MODULE`, or serve the static site it holds.
#   scripts/docs.sh [BUILD OPTIONS]
# BUILD OPTIONS are given to `swift package` for the build the symbol graphs come from (default: a
# debug build; `make test` passes its own, so that its release build is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES="DRLTensor DRLNN DRLAgents DRLData DRLEvaluation DRLDistributed DRLRanking DRLSimulation DRLServing DRLScenarios DRLWorkloads"
OUT=.build/docs
rm -rf "$OUT"
mkdir -p "$OUT"
touch "$OUT/started"
# It also tries the test modules, which it cannot load, and then exits 1: the library modules'
# graphs are checked to be fresh below instead.
swift package "$@" dump-symbol-graph --minimum-access-level public > "$OUT/symbol-graphs.log" 2>&1 || true
GRAPHS="$(dirname "$(swift build "$@" --show-bin-path)")/symbolgraph"
for module in $MODULES; do
    [ "$GRAPHS/$module.symbols.json" -nt "$OUT/started" ] || { tail -20 "$OUT/symbol-graphs.log" >&2; echo "no fresh symbol graph of $module" >&2; exit 1; }
    mkdir -p "$OUT/graphs/$module"
    cp "$GRAPHS/$module.symbols.json" "$OUT/graphs/$module/"
    cp "$GRAPHS/$module@"*.symbols.json "$OUT/graphs/$module/" 2> /dev/null || true
    docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$OUT/graphs/$module" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.drlrec.$module" \
        --transform-for-static-hosting --hosting-base-path "$module" --warnings-as-errors \
        --output-path "$OUT/$module.doccarchive" > "$OUT/$module.log" 2>&1 || { cat "$OUT/$module.log" >&2; exit 1; }
    echo "$module: $OUT/$module.doccarchive"
done
python3 - "$OUT/graphs" $MODULES <<'PY'
import glob, json, sys
root, modules = sys.argv[1], sys.argv[2:]
types = {"swift.struct", "swift.class", "swift.enum", "swift.protocol", "swift.typealias"}
missing, documented, total = [], 0, 0
for module in modules:
    for path in glob.glob(f"{root}/{module}/{module}.symbols.json"):
        for symbol in json.load(open(path))["symbols"]:
            total += 1
            if symbol.get("docComment"):
                documented += 1
            elif symbol["kind"]["identifier"] in types:
                missing.append(module + "." + ".".join(symbol["pathComponents"]))
print(f"public symbols documented: {documented} of {total} ({100 * documented / total:.0f}%)")
if missing:
    sys.exit("public types without a documentation comment:\n  " + "\n  ".join(missing))
print("every public type is documented")
PY

#!/usr/bin/env bash
# Renders an HTML report of drlrec (--report) in headless Chromium (Debian's chromium package) to
# a PNG, and checks the page as the browser loaded it: no console message (the pages have no
# script, so any is an error) and each chart named present in the rendered page.
# Usage: scripts/render_report.sh REPORT.html OUT.png [CHART ...]
#   HEIGHT (default 2000) is the screenshot's height in pixels. Exit 1 when a check fails, 2 when
#   no Chromium is installed.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [CHART ...]" >&2; exit 2; }
html=$1 png=$2
shift 2
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no Chromium to render with: sudo apt-get install chromium" >&2; exit 2; }
[ -f "$html" ] || { echo "$html: no such file" >&2; exit 1; }
url="file://$(realpath "$html")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
       --disable-background-networking --user-data-dir="$work/profile")
"$browser" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "$url" > "$work/dom.html" 2> "$work/browser.log"
"$browser" "${flags[@]}" --window-size="1100,${HEIGHT:-2000}" --screenshot="$png" "$url" > /dev/null 2>> "$work/browser.log"
failed=0
if grep -q ':CONSOLE' "$work/browser.log"; then
    echo "$html: the page logged to the console:" >&2
    grep ':CONSOLE' "$work/browser.log" >&2
    failed=1
fi
for chart in "$@"; do
    grep -q "data-chart=\"$chart\"" "$work/dom.html" || { echo "$html: the chart '$chart' is not in the rendered page" >&2; failed=1; }
done
[ -s "$png" ] || { echo "$png: no screenshot was written" >&2; failed=1; }
[ $failed -eq 0 ] && echo "$html: rendered to $png; $# chart(s) present, no console message"
exit $failed

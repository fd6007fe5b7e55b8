#!/bin/sh
# compare_reports.sh OLD_FORKSAN NEW_FORKSAN DIR — renders the JSON and
# SARIF reports of every trace directory DIR/NAME (kept by
# `run.py --keep-traces DIR`) with two builds of the command and shows
# where they differ.  A change that must not alter any report (a
# restructuring) is checked by an empty output; exit status 1 when a
# report differs.
set -u
old=$1 new=$2 dir=$3
status=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for d in "$dir"/*/; do
    name=$(basename "$d")
    for fmt in json sarif; do
        "$old" report --format "$fmt" -o "$out/old.$fmt" --fail-on never "$d" 2>/dev/null
        "$new" report --format "$fmt" -o "$out/new.$fmt" --fail-on never "$d" 2>/dev/null
        if ! cmp -s "$out/old.$fmt" "$out/new.$fmt"; then
            echo "== $name ($fmt) differs:"
            diff "$out/old.$fmt" "$out/new.$fmt" | head -20
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "compare_reports: every JSON and SARIF report is identical"
exit $status

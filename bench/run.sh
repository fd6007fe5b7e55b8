#!/bin/sh
# bench/run.sh BUILD — every benchmark bare and under `forksan run` in the
# same run, printed with the ratio against the DESIGN §9 budget.  Numbers,
# not assertions: these machines are shared and noisy.
set -e
B="$1"
F="$B/bin/forksan"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

value() { awk '{print $2}'; }

row() { # name budget bare forksan unit
    awk -v n="$1" -v budget="$2" -v b="$3" -v f="$4" -v u="$5" 'BEGIN {
        r = f / b; printf "%-34s bare %9.2f %-7s forksan %9.2f %-7s ratio %5.2fx (budget <= %sx) %s\n",
        n, b, u, f, u, r, budget, (r <= budget ? "ok" : "OVER BUDGET") }'
}

echo "== forksan bench (each: bare, then under forksan run, same machine, same run)"
bare=$("$B/bench/lockloop" | value)
fs=$("$F" run --fail-on never -- "$B/bench/lockloop" 2>/dev/null | value)
row "mutex lock+unlock (uncontended)" 2.00 "$bare" "$fs" ns/pair
awk -v b="$bare" -v f="$fs" 'BEGIN { printf "%-34s %.2f ns added per pair (budget <= 15 ns)\n", "", f - b }'

bare=$("$B/bench/forkloop" 2000 | value)
fs=$("$F" run --fail-on never -- "$B/bench/forkloop" 2000 2>/dev/null | value)
row "fork + _exit + wait" 1.25 "$bare" "$fs" us/fork

bare=$("$B/bench/forkloop" 1000 exec | value)
fs=$("$F" run --fail-on never -- "$B/bench/forkloop" 1000 exec 2>/dev/null | value)
row "fork + exec /bin/true + wait" 1.10 "$bare" "$fs" us/fork

# The analyzer on 10,000 forked children (budget: <= 2 s, linear in forks).
"$F" run --fail-on never --trace-dir "$TMP/t10k" -- "$B/bench/forkloop" 10000 thread 1 >/dev/null 2>&1 || true
n=$(ls "$TMP/t10k" | wc -l)
start=$(date +%s.%N)
"$F" report --fail-on never "$TMP/t10k" 2>/dev/null >/dev/null
end=$(date +%s.%N)
awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%-34s %d traces in %.2f s (budget <= 2 s for 10,000 forks)\n", "analyzer (forksan report)", n, e - s }'

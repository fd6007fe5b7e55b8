#!/bin/sh
# bench/run.sh BUILD — every benchmark bare and under `forksan run` in the
# same run, printed with the ratio against its budget (doc/budgets.md).  Numbers,
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

# 1,000,000 one-byte writes to a pipe (drained by the same thread): what the
# event-loop wake-up probes on write/send cost an ordinary write.  (Built
# here when the bench target did not build it.)
if [ ! -x "$B/bench/writeloop" ] || [ bench/writeloop.c -nt "$B/bench/writeloop" ]; then
    mkdir -p "$B/bench" && ${CC:-cc} -O2 -g -pthread -o "$B/bench/writeloop" bench/writeloop.c
fi
bare=$("$B/bench/writeloop" 1000000 | value)
fs=$("$F" run --fail-on never -- "$B/bench/writeloop" 1000000 2>/dev/null | value)
row "write 1 byte to a pipe" 1.05 "$bare" "$fs" ns/write

# CPython: two threads exchanging 200,000 items through queue.Queue (every
# put/get takes threading locks: POSIX semaphores on 3.11).
if [ -x /usr/bin/python3 ]; then
    bare=$(/usr/bin/python3 bench/pyqueue.py | value)
    fs=$("$F" run --fail-on never -- /usr/bin/python3 bench/pyqueue.py 2>/dev/null | value)
    row "CPython queue.Queue, 200k items" 1.10 "$bare" "$fs" s
fi

# The analyzer (forksan report) on the traces of 1,000 and of 10,000 forked
# children of a process with a sleeping second thread, so that every child
# writes a trace (a vanished thread).  Budget: <= 2 s at 10,000, linear in
# forks: the per-1,000 rate should stay about the same from one size to the
# other, so the last line divides the two rates (about 1.0 is linear).
analyze() { # children -> prints "traces seconds"
    d="$TMP/t$1"
    "$F" run --fail-on never --trace-dir "$d" -- "$B/bench/forkloop" "$1" thread 1 >/dev/null 2>&1 || true
    n=$(ls "$d" | wc -l)
    start=$(date +%s.%N)
    "$F" report --fail-on never "$d" 2>/dev/null >/dev/null
    end=$(date +%s.%N)
    rm -rf "$d"
    awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%d %.3f\n", n, e - s }'
}

analyzer_row() { # children traces seconds budget-note
    awk -v c="$1" -v n="$2" -v t="$3" -v note="$4" 'BEGIN {
        printf "%-34s %6d children, %6d traces in %6.2f s  (%.3f s per 1,000 forks)%s\n",
        "analyzer (forksan report)", c, n, t, t * 1000 / c, note }'
}

set -- $(analyze 1000)
n1k=$1 t1k=$2
analyzer_row 1000 "$n1k" "$t1k" ""
set -- $(analyze 10000)
n10k=$1 t10k=$2
ok=$(awk -v t="$t10k" 'BEGIN { print (t <= 2 ? "ok" : "OVER BUDGET") }')
analyzer_row 10000 "$n10k" "$t10k" " budget <= 2 s: $ok"
awk -v a="$t1k" -v b="$t10k" 'BEGIN {
    if (a > 0) printf "%-34s 10,000 vs 1,000: %.1fx the time for 10x the forks, per-1,000 rate ratio %.2f (1.00 = linear)\n",
        "", b / a, (b / 10) / a }'

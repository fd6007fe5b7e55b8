#!/bin/sh
# exports.sh RUNTIME HOOKS_H — the runtime exports exactly the hooked
# functions listed in hooks.h plus the public API (forksan_*), nothing else
# (everything else is built hidden).  Prints cmocka-style summary lines.
rt="$1"; hooks="$2"
expected=$(sed -n 's/^ *X([^,]*, *\([A-Za-z_0-9]*\),.*/\1/p' "$hooks"; echo execl; echo execle; echo execlp; grep -o 'forksan_[a-z_]*(' probes/forksan.h | tr -d '(')
actual=$(nm -D --defined-only "$rt" | awk '{print $3}' | sed 's/@.*//')
missing=$(printf '%s\n' $expected | sort -u | comm -23 - "$(printf '%s\n' $actual | sort -u > /tmp/fsan_exports.$$; echo /tmp/fsan_exports.$$)")
extra=$(printf '%s\n' $actual | sort -u | comm -13 "$(printf '%s\n' $expected | sort -u > /tmp/fsan_expected.$$; echo /tmp/fsan_expected.$$)" -)
rm -f /tmp/fsan_exports.$$ /tmp/fsan_expected.$$
if [ -n "$missing$extra" ]; then
    [ -n "$missing" ] && echo "exports: missing: $missing"
    [ -n "$extra" ] && echo "exports: unexpected: $extra"
    echo "[  FAILED  ] 1 test(s), listed above."
    exit 1
fi
echo "[==========] 1 test(s) run."
echo "[  PASSED  ] 1 test(s)."

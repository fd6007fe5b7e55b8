#!/bin/sh
# startup_cost.sh RUNTIME FORKSAN — what the runtime adds to the start-up of
# every exec'd image, in instructions: /bin/true under callgrind, bare and
# with the runtime preloaded as `forksan run` preloads it (its LD_PRELOAD
# and FORKSAN_OPTIONS, taken from `forksan run -- env`, the trace directory
# swapped for one that exists).  Instruction counts are deterministic where
# time is not, so the test asserts them.  Prints cmocka-style summary lines.
#
# The limit: 21,000 instructions over bare.  The runtime added 146,500
# before its hooks were resolved lazily (a dlsym per hook in the
# constructor, and eager binding of the libc functions it calls), 28,950
# after, and about 19,550 now (glibc 2.36, valgrind 3.19): about 13,200
# the loader's work (mapping, relocating, the symbol-version check of each
# libc version the runtime needs, and every other object's lookups passing
# the runtime's symbol table) and 6,400 its constructor (options, the
# record of loaded objects, the atfork registration).
# The margin (about 7%) absorbs other glibc and valgrind versions; a
# regression that links a libc function of a new symbol version, puts a
# lazy binding, a dlsym or a /proc read back into every image's start-up,
# or links crtbegin again exceeds it.
rt="$1"; forksan="$2"
limit=21000
fail() {
    echo "startup_cost: $*"
    echo "[  FAILED  ] 1 test(s), listed above."
    exit 1
}
command -v valgrind >/dev/null 2>&1 || fail "valgrind is missing (tests/install-deps.sh installs it)"
tmp=$(mktemp -d) || fail "no temporary directory"
trap 'rm -rf "$tmp"' EXIT
env_of_run=$(FORKSAN_RUNTIME="$rt" "$forksan" run --fail-on never -- /usr/bin/env 2>/dev/null)
preload=$(printf '%s\n' "$env_of_run" | sed -n 's/^LD_PRELOAD=//p')
options=$(printf '%s\n' "$env_of_run" | sed -n 's/^FORKSAN_OPTIONS=//p')
dir=$(printf '%s\n' "$options" | sed -n 's/.*trace_dir=\([^:]*\).*/\1/p')
[ -n "$preload" ] && [ -n "$dir" ] || fail "forksan run set no LD_PRELOAD or trace_dir"
mkdir -m 0700 "$tmp/run" || fail "cannot make $tmp/run"
options=$(printf '%s\n' "$options" | sed "s|$dir|$tmp/run|g")

instructions() { # env assignments... -> Ir of /bin/true
    env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true 2>&1 |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
bare=$(instructions FSAN_UNUSED=1)
with=$(instructions LD_PRELOAD="$preload" FORKSAN_OPTIONS="$options")
[ -n "$bare" ] && [ -n "$with" ] || fail "callgrind gave no instruction count"
added=$((with - bare))
echo "startup_cost: /bin/true $bare instructions bare, $with under the runtime: $added added (limit $limit)"
[ "$added" -le "$limit" ] || fail "the runtime adds $added instructions to every exec'd image's start-up, more than $limit"
echo "[==========] 1 test(s) run."
echo "[  PASSED  ] 1 test(s)."

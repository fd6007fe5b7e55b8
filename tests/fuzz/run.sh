#!/bin/sh
# run.sh MODE BUILD SECONDS TARGET... — runs the fuzz targets built into
# BUILD/fuzz/ (tests/fuzz/fuzz.mk calls it), one after the other.
#
#   check  each target runs every input of its committed corpus
#          (tests/fuzz/corpus/TARGET/) once, then fuzzes for SECONDS
#   fuzz   each target fuzzes for SECONDS; with FUZZ_MERGE=1 in the
#          environment, the new inputs are then merged into the committed
#          corpus
#
# New inputs go to BUILD/fuzz/corpus/TARGET/, never into the committed
# corpus (unless merging).  An input that crashes, leaks or trips UBSan is
# written to BUILD/fuzz/crashes/TARGET-*; libFuzzer's output is in
# BUILD/fuzz/logs/TARGET-MODE.log (the corpus run's in
# TARGET-check-corpus.log), so a check does not overwrite a long run's log.
# One line per target (in fuzz mode, all at the end) says how many inputs
# ran and the result; the exit status is 1 when any target failed.
mode="$1"
build="$2"
seconds="$3"
shift 3
fb="$build/fuzz"
mkdir -p "$fb/crashes" "$fb/logs"
# A smaller quarantine and shorter allocation stacks than ASan's defaults
# (256 MB, 30 frames): the trace target allocates and frees tables of up to
# 2 MB per input, and the defaults make it several times slower.
ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32:malloc_context_size=8}"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

# From a log: the runs of its "Done N runs in S second(s)" line, or of its
# last status line ("#N ...") when the run stopped on a crash; and S.
runs_of() {
    n=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$1" | tail -n 1)
    [ -n "$n" ] || n=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$1" | tail -n 1)
    echo "${n:-0}"
}
seconds_of() {
    s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$1" | tail -n 1)
    echo "${s:-?}"
}

status=0
summary=""
for t in "$@"; do
    bin="$fb/fuzz_$t"
    seeds="tests/fuzz/corpus/$t"
    work="$fb/corpus/$t"
    log="$fb/logs/$t-$mode.log"
    corpus_log="$fb/logs/$t-$mode-corpus.log"
    mkdir -p "$work"
    opts="-artifact_prefix=$fb/crashes/$t- -timeout=10"
    [ -f "tests/fuzz/$t.dict" ] && opts="$opts -dict=tests/fuzz/$t.dict"
    result=ok
    if [ "$mode" = check ]; then
        if "$bin" $opts -runs=0 "$seeds" >"$corpus_log" 2>&1; then
            "$bin" $opts -max_total_time="$seconds" "$work" "$seeds" >"$log" 2>&1 || result=FAILED
            line="fuzz-check: $t: $(runs_of "$corpus_log") corpus runs, then $(runs_of "$log") runs in $(seconds_of "$log") s: $result"
        else
            result=FAILED
            log="$corpus_log"
            line="fuzz-check: $t: an input of the committed corpus FAILED"
        fi
    else
        echo "== fuzz: $t for $seconds s (log: $log)"
        "$bin" $opts -max_total_time="$seconds" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1 || result=FAILED
        runs=$(runs_of "$log")
        secs=$(seconds_of "$log")
        case "$secs" in
            0) rate=$runs ;;
            *[!0-9]*) rate="?" ;;
            *) rate=$((runs / secs)) ;;
        esac
        line="fuzz: $t: $runs runs in $secs s ($rate exec/s): $result"
        if [ $result = ok ] && [ "${FUZZ_MERGE:-0}" = 1 ]; then
            "$bin" -merge=1 "$seeds" "$work" >>"$log" 2>&1 || result=FAILED
            line="$line, merged into $seeds: $result"
        fi
    fi
    if [ $result != ok ]; then
        status=1
        echo "---- $log (last lines) ----"
        tail -n 40 "$log"
        echo "----"
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        [ -n "$crash" ] && line="$line (input: $crash; reproduce: $bin $crash)"
    fi
    if [ "$mode" = check ]; then
        echo "$line"
    else
        summary="$summary$line
"
    fi
done
if [ "$mode" != check ]; then
    echo "== fuzz summary"
    printf '%s' "$summary"
fi
exit $status

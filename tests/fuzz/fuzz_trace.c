/* fuzz_trace.c — libFuzzer target for the trace reader and the rules.
 *
 * The input is one trace file.  It is parsed from memory by the reader
 * (analyzer/tracefile.c), as `forksan report` reads each file of a trace
 * directory; a trace the reader keeps (whole, or truncated) then goes
 * through the rules, the built-in suppressions and the severities that
 * wait for them, in the order analyzer/pipeline.c applies them, and the
 * trace and the report are freed.  The input buffer is not copied, so a
 * read past its end is caught.  Symbolization does not run:
 * stub_symbolize.c replaces the libdw symbolizer.  The input's length
 * picks --native-frames (odd: set), so both ways of building locations are
 * fuzzed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "analyze.h"
#include "finding.h"
#include "fuzz.h"
#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsan_trace_set set = {0};
    set.traces = calloc(1, sizeof *set.traces);
    if (!set.traces)
        return 0;
    char err[1024];
    int rc = fsan_trace_parse("fuzz.trace", data, size, &set.traces[0], err, sizeof err);
    if (rc < 0) {
        fsan_trace_free(&set.traces[0]);
    } else {
        set.ntraces = 1;
        struct fsan_symbolizer *sym = fsan_symbolizer_new();
        struct fsan_suppressions supp = {0};
        struct fsan_analyze_options opts = {.native_frames = size & 1};
        struct fsan_report report = {0};
        if (sym && fsan_suppressions_add_builtin(&supp, err, sizeof err) == 0 &&
            fsan_analyze_opts(&set, sym, &opts, &report) == 0 && fsan_suppressions_apply(&supp, &report) == 0)
            fsan_apply_downgrades(&report);
        fsan_report_free(&report);
        fsan_suppressions_free(&supp);
        fsan_symbolizer_free(sym);
    }
    fsan_trace_set_free(&set);
    return 0;
}

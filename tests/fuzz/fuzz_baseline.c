/* fuzz_baseline.c — libFuzzer target for the baseline reader
 * (analyzer/baseline.c).
 *
 * The input is the text of an earlier JSON report (--baseline OLD.json),
 * passed with its length and without a terminating NUL, as the reader
 * takes it, so a read past its end is caught.  A baseline that parses is
 * compared with a small report of two findings (marked new or unchanged,
 * the rest moved to the fixed list), and both are freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "fuzz.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsan_baseline b = {0};
    char err[512];
    if (fsan_baseline_parse(&b, "fuzz.json", (const char *)data, size, err, sizeof err) == 0) {
        struct fsan_report r = {0};
        r.findings = calloc(2, sizeof *r.findings);
        if (r.findings) {
            r.nfindings = 2;
            r.findings[0].rule = "child-deadlock";
            strcpy(r.findings[0].fingerprint, "00000000000000aa");
            r.findings[1].rule = "orphaned-lock";
            strcpy(r.findings[1].fingerprint, "0123456789ABCDEF");
            fsan_baseline_apply(&b, &r);
        }
        fsan_report_free(&r);
    }
    fsan_baseline_free(&b);
    return 0;
}

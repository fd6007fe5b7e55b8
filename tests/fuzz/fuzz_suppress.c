/* fuzz_suppress.c — libFuzzer target for suppression files
 * (analyzer/suppress.c).
 *
 * The input, with a NUL added, is the text of a suppression file.  The
 * entries it parses (all of them, or those before a bad line) are applied
 * to a small report with two findings, as forksan does with --suppressions:
 * the matcher runs every entry's glob on frames, files, modules, thread
 * names and fingerprints, suppressed findings are freed and unmatched
 * entries listed.  Everything is freed at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "model.h"
#include "suppress.h"

/* A finding whose one location has a thread and two frames; NULL strings
 * stay NULL, as the analyzer leaves unknown ones.  Returns 0 or -1 when out
 * of memory (what was allocated is still freed with the report). */
static int make_finding(struct fsan_finding *f, const char *rule, const char *fingerprint, const char *thread,
                        const char *function, const char *file)
{
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = FSAN_SEV_WARNING;
    strcpy(f->fingerprint, fingerprint);
    f->count = 1;
    f->message = strdup("a message");
    f->locations = calloc(1, sizeof *f->locations);
    if (!f->message || !f->locations)
        return -1;
    f->nlocations = 1;
    struct fsan_location *l = &f->locations[0];
    l->role = "acquired";
    l->has_thread = thread != NULL;
    l->thread_name = thread ? strdup(thread) : NULL;
    l->frames = calloc(2, sizeof *l->frames);
    if (!l->frames)
        return -1;
    l->nframes = 2;
    l->frames[0].function = strdup("pthread_mutex_lock");
    l->frames[0].module = strdup("/lib/x86_64-linux-gnu/libc.so.6");
    l->frames[1].function = function ? strdup(function) : NULL;
    l->frames[1].file = file ? strdup(file) : NULL;
    l->frames[1].module = strdup("/usr/bin/app");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    if (!text)
        return 0;
    struct fsan_suppressions s = {0};
    char err[512];
    fsan_suppressions_parse(&s, "fuzz.supp", text, 0, err, sizeof err);
    free(text);

    struct fsan_report r = {0};
    r.findings = calloc(2, sizeof *r.findings);
    if (r.findings) {
        r.nfindings = 2;
        if (make_finding(&r.findings[0], "child-deadlock", "00000000000000aa", "worker-3", "cache_refill",
                         "/src/lib/cache.c") == 0 &&
            make_finding(&r.findings[1], "orphaned-lock", "0123456789abcdef", NULL, "ns::log_write", NULL) == 0)
            fsan_suppressions_apply(&s, &r);
    }
    fsan_report_free(&r);
    fsan_suppressions_free(&s);
    return 0;
}

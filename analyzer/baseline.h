/* baseline.h — comparing a run with an earlier forksan JSON report
 * (--baseline OLD.json): which findings are new, which unchanged, which
 * fixed. */
#ifndef FSAN_BASELINE_H
#define FSAN_BASELINE_H

#include <stddef.h>

#include "model.h"

/* The findings of the baseline report, as far as the comparison needs them. */
struct fsan_baseline {
    struct fsan_fixed_finding *findings;
    size_t nfindings;
};

/* Parses text[0..len) — a forksan JSON report — named `name` in messages.
 * Returns 0; -EINVAL with "NAME: invalid JSON at offset N: problem" or
 * "NAME: not a forksan JSON report: problem" in err; or -ENOMEM. */
int fsan_baseline_parse(struct fsan_baseline *b, const char *name, const char *text, size_t len, char *err,
                        size_t errlen);

/* Reads and parses the file at path. */
int fsan_baseline_load(struct fsan_baseline *b, const char *path, char *err, size_t errlen);

/* Marks every finding of r "new" or "unchanged" by fingerprint, sets
 * r->has_baseline, and moves the baseline findings absent from r into
 * r->fixed (b keeps the others).  Returns 0 or -ENOMEM. */
int fsan_baseline_apply(struct fsan_baseline *b, struct fsan_report *r);

void fsan_baseline_free(struct fsan_baseline *b);

#endif

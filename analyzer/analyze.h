/* analyze.h — from traces to a report: loading a trace directory and
 * applying the rules. */
#ifndef FSAN_ANALYZE_H
#define FSAN_ANALYZE_H

#include "keymap.h"
#include "model.h"
#include "symbolize.h"
#include "tracefile.h"

struct fsan_trace_set {
    struct fsan_trace *traces;
    size_t ntraces;
    char **notices; /* unreadable or truncated traces, in words */
    size_t nnotices;
    /* Every distinct address space text, once: a pool's children all
     * have their parent's, and it is most of each trace. */
    char **maps;
    size_t nmaps;
    struct fsan_keymap maps_index; /* hash of the text -> index in maps */
};

/* Reads every forksan.*.trace in dir.  Unreadable traces become notices
 * (nothing else is lost); returns 0, or a negative errno when the directory
 * itself cannot be read (err says why). */
int fsan_load_dir(const char *dir, struct fsan_trace_set *set, char *err, size_t errlen);
void fsan_trace_set_free(struct fsan_trace_set *set);

/* How locations are built.  A zeroed struct is the default. */
struct fsan_analyze_options {
    /* A location that has Python frames shows only those by default (a
     * Python programmer wants the .py line, not the interpreter's C stack);
     * set, it shows the Python frames first, then the native ones
     * (--native-frames). */
    int native_frames;
};

/* Applies the rules (rules.c).  The report takes over set->notices.  opts
 * may be NULL (the defaults).  A severity that depends on other findings
 * (threads-at-fork on its orphaned-lock findings) is left pending in
 * out->downgrades until fsan_apply_downgrades (finding.h) runs after the
 * suppressions. */
int fsan_analyze_opts(struct fsan_trace_set *set, struct fsan_symbolizer *sym,
                      const struct fsan_analyze_options *opts, struct fsan_report *out);

/* fsan_analyze_opts with the default options. */
int fsan_analyze(struct fsan_trace_set *set, struct fsan_symbolizer *sym, struct fsan_report *out);

#endif

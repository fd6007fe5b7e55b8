/* rules.c — the driver of the analysis: it orders the traces, runs every
 * rule family of the table below over each trace, adds the notices a
 * trace calls for (lost records, full tables, unreadable Python), builds
 * the process list and sorts the findings.  What a finding is belongs to
 * the families (rules_*.c); how one is built and merged to finding.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "rules.h"

/* The rule families, in the order they look at each trace.  The order is
 * the order findings are committed in, which decides which instance of a
 * merged finding speaks for the group: keep it stable. */
static fsan_rule_family *const rule_families[] = {
    fsan_rules_locks,
    fsan_rules_loops,
    fsan_rules_exit,
    fsan_rules_pidcheck,
    fsan_rules_foreign,
};

static int cmp_traces(const void *a, const void *b)
{
    const struct fsan_trace *x = a, *y = b;
    if (x->proc.time_ns != y->proc.time_ns)
        return x->proc.time_ns < y->proc.time_ns ? -1 : 1;
    if (x->proc.pid != y->proc.pid)
        return (int)x->proc.pid - (int)y->proc.pid;
    /* One pid, one start: the fork child's image before what it exec'd. */
    return (x->proc.kind == FSAN_PROC_FORK ? 0 : 1) - (y->proc.kind == FSAN_PROC_FORK ? 0 : 1);
}

static void add_set_notice(struct fsan_builder *c, struct fsan_trace_set *set, char *n)
{
    char **p = n ? realloc(set->notices, (set->nnotices + 1) * sizeof *p) : NULL;
    if (p) {
        set->notices = p;
        set->notices[set->nnotices++] = n;
    } else {
        free(n);
        c->oom = 1;
    }
}

/* A process whose interpreter the runtime found but could not read: its
 * findings have native frames only, and the reader should know why.  Once
 * per distinct reason, naming the first such process: a pool of a thousand
 * workers with the same unsupported Python needs one line, not a thousand. */
static void python_notice(struct fsan_builder *c, struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (!t->has_pyinfo || t->py_state != FSAN_PY_UNAVAILABLE)
        return;
    const char *reason = t->py_reason && *t->py_reason ? t->py_reason : "no reason recorded";
    for (size_t i = 0; i < c->npy_reasons; i++)
        if (strcmp(c->py_reasons[i], reason) == 0)
            return;
    const char **p = realloc(c->py_reasons, (c->npy_reasons + 1) * sizeof *p);
    if (!p) {
        c->oom = 1;
        return;
    }
    c->py_reasons = p;
    c->py_reasons[c->npy_reasons++] = reason;
    add_set_notice(c, set, xprintf(c, "Python frames unavailable in pid %u: %s", t->proc.pid, reason));
}

static int cmp_by_pid(const void *a, const void *b)
{
    const struct fsan_trace *x = *(const struct fsan_trace *const *)a, *y = *(const struct fsan_trace *const *)b;
    return (x->proc.pid > y->proc.pid) - (x->proc.pid < y->proc.pid);
}

/* Marks every trace that has a later image of the same pid: a START image
 * (what an exec made) at the same time or later.  Once for the whole set,
 * grouping by pid (n log n; asking each trace about every other one was
 * quadratic, and dominated the analysis of ten thousand children). */
static int mark_later_images(struct fsan_trace_set *set)
{
    const struct fsan_trace **by_pid = malloc((set->ntraces ? set->ntraces : 1) * sizeof *by_pid);
    if (!by_pid)
        return -ENOMEM;
    for (size_t i = 0; i < set->ntraces; i++)
        by_pid[i] = &set->traces[i];
    qsort(by_pid, set->ntraces, sizeof *by_pid, cmp_by_pid);
    for (size_t lo = 0, hi; lo < set->ntraces; lo = hi) {
        /* The group's latest START image, and how many share its time. */
        uint64_t latest = 0;
        size_t at_latest = 0;
        for (hi = lo; hi < set->ntraces && by_pid[hi]->proc.pid == by_pid[lo]->proc.pid; hi++) {
            const struct fsan_trace *t = by_pid[hi];
            if (t->proc.kind != FSAN_PROC_START)
                continue;
            if (at_latest == 0 || t->proc.time_ns > latest)
                latest = t->proc.time_ns, at_latest = 1;
            else if (t->proc.time_ns == latest)
                at_latest++;
        }
        for (size_t i = lo; i < hi; i++) {
            struct fsan_trace *t = &set->traces[by_pid[i] - set->traces];
            int only_latest = t->proc.kind == FSAN_PROC_START && t->proc.time_ns == latest && at_latest == 1;
            t->later_image = at_latest > 0 && latest >= t->proc.time_ns && !only_latest;
        }
    }
    free(by_pid);
    return 0;
}

int fsan_analyze(struct fsan_trace_set *set, struct fsan_symbolizer *sym, struct fsan_report *out)
{
    return fsan_analyze_opts(set, sym, NULL, out);
}

int fsan_analyze_opts(struct fsan_trace_set *set, struct fsan_symbolizer *sym,
                      const struct fsan_analyze_options *opts, struct fsan_report *out)
{
    struct fsan_builder c = {sym, out, 0, 0, opts ? opts->native_frames : 0, NULL, 0};
    if (set->ntraces)
        qsort(set->traces, set->ntraces, sizeof *set->traces, cmp_traces);
    if (mark_later_images(set) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < set->ntraces; i++) {
        const struct fsan_trace *t = &set->traces[i];
        for (size_t k = 0; k < sizeof rule_families / sizeof rule_families[0]; k++)
            rule_families[k](&c, set, t);
        if (t->stats.lost_bytes || t->stats.thread_overflow || t->stats.site_overflow) {
            char *n = xprintf(&c, "process %u: %llu trace bytes lost, %u threads and %u call sites not tracked (tables full)",
                              t->proc.pid, (unsigned long long)t->stats.lost_bytes, t->stats.thread_overflow,
                              t->stats.site_overflow);
            add_set_notice(&c, set, n);
        }
        if (t->stats.held_overflow && t->proc.kind == FSAN_PROC_FORK) {
            char *n = xprintf(&c, "process %u: at its fork, %u thread%s held more locks than forksan records per thread (%d), so the snapshot may lack some of them (tables full)",
                              t->proc.pid, t->stats.held_overflow, t->stats.held_overflow == 1 ? "" : "s", FSAN_MAX_HELD_LOCKS);
            add_set_notice(&c, set, n);
        }
        python_notice(&c, set, t);
    }
    build_processes(&c, set);
    free(c.py_reasons);
    if (out->nfindings)
        qsort(out->findings, out->nfindings, sizeof *out->findings, fsan_finding_cmp);
    out->notices = set->notices;
    out->nnotices = set->nnotices;
    set->notices = NULL;
    set->nnotices = 0;
    return c.oom ? -ENOMEM : 0;
}

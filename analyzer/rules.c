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
#include "progress.h"
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
    fsan_rules_remedy,
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

/* By pid, then by the kernel's start time (0 for a trace older than
 * format 8, which says nothing more than its pid), then in image order:
 * when each began (image_ns) where that is known, else in the analysis's
 * order (the set is sorted by then). */
/* Processes whose tables overflowed: a notice each while they are few,
 * then one notice with the totals and every pid (a run of a hundred
 * thousand children must not print a hundred thousand lines). */
#define FULL_NAMED_ALONE 10

struct full_count {
    size_t processes;
    unsigned long long a, b, c;
    char *pids; /* "1, 2, 3" */
    size_t pids_len;
};

static void full_note_pid(struct fsan_builder *c, struct full_count *f, uint32_t pid)
{
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%s%u", f->processes ? ", " : "", pid);
    char *grown = realloc(f->pids, f->pids_len + (size_t)n + 1);
    if (!grown) {
        c->oom = 1;
        return;
    }
    memcpy(grown + f->pids_len, buf, (size_t)n + 1);
    f->pids = grown;
    f->pids_len += (size_t)n;
}

static void full_tables(struct fsan_builder *c, struct fsan_trace_set *set, const struct fsan_trace *t,
                        struct full_count *f)
{
    if (f->processes < FULL_NAMED_ALONE)
        add_set_notice(c, set, xprintf(c, "process %u: %llu trace bytes lost, %u threads and %u call sites not tracked (tables full)",
                                       t->proc.pid, (unsigned long long)t->stats.lost_bytes, t->stats.thread_overflow,
                                       t->stats.site_overflow));
    full_note_pid(c, f, t->proc.pid);
    f->processes++;
    f->a += t->stats.lost_bytes;
    f->b += t->stats.thread_overflow;
    f->c += t->stats.site_overflow;
}

static void full_held(struct fsan_builder *c, struct fsan_trace_set *set, const struct fsan_trace *t,
                      struct full_count *f)
{
    if (f->processes < FULL_NAMED_ALONE)
        add_set_notice(c, set, xprintf(c, "process %u: at its fork, %u thread%s held more locks than forksan records per thread (%d), so the snapshot may lack some of them (tables full)",
                                       t->proc.pid, t->stats.held_overflow, t->stats.held_overflow == 1 ? "" : "s",
                                       FSAN_MAX_HELD_LOCKS));
    full_note_pid(c, f, t->proc.pid);
    f->processes++;
    f->a += t->stats.held_overflow;
}

static void full_conds(struct fsan_builder *c, struct fsan_trace_set *set, const struct fsan_trace *t,
                       struct full_count *f)
{
    if (f->processes < FULL_NAMED_ALONE)
        add_set_notice(c, set, xprintf(c, "process %u: %u condition variable%s had no room in the table of who signals them, so a fork child's wait on %s is not checked (tables full)",
                                       t->proc.pid, t->stats.cond_overflow, t->stats.cond_overflow == 1 ? "" : "s",
                                       t->stats.cond_overflow == 1 ? "it" : "them"));
    full_note_pid(c, f, t->proc.pid);
    f->processes++;
    f->a += t->stats.cond_overflow;
}

/* Past FULL_NAMED_ALONE processes, the rest of them in one notice:
 * "12345 more processes lost ...: <totals>: pid 1, 2, ...". The totals
 * cover every process, the first ones included. */
static void full_summary(struct fsan_builder *c, struct fsan_trace_set *set, struct full_count *f, const char *what,
                         char *totals)
{
    if (f->processes > FULL_NAMED_ALONE)
        add_set_notice(c, set, xprintf(c, "%zu %s (%zu more than listed above; %s): pid %s", f->processes, what,
                                       f->processes - FULL_NAMED_ALONE, totals ? totals : "", f->pids ? f->pids : ""));
    free(totals);
    free(f->pids);
}

static int cmp_by_pid(const void *a, const void *b)
{
    const struct fsan_trace *x = *(const struct fsan_trace *const *)a, *y = *(const struct fsan_trace *const *)b;
    if (x->proc.pid != y->proc.pid)
        return x->proc.pid < y->proc.pid ? -1 : 1;
    if (x->proc.start_ticks != y->proc.start_ticks)
        return x->proc.start_ticks < y->proc.start_ticks ? -1 : 1;
    if (x->proc.start_ticks && x->proc.image_ns != y->proc.image_ns)
        return x->proc.image_ns < y->proc.image_ns ? -1 : 1;
    if (x->proc.kind != y->proc.kind)
        return x->proc.kind == FSAN_PROC_FORK ? -1 : 1;
    return (x > y) - (x < y);
}

static int same_start(const struct fsan_trace *x, const struct fsan_trace *y)
{
    return x->proc.pid == y->proc.pid && x->proc.start_ticks == y->proc.start_ticks;
}

/* Traces older than format 8 (no start time): every trace of the pid
 * counts as one process, as it always did, and a trace has a later image
 * when a START image (what an exec made) of the pid began at the same
 * time or later, other than itself. */
static void mark_later_images_by_time(const struct fsan_trace **group, size_t n)
{
    uint64_t latest = 0;
    size_t at_latest = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fsan_trace *t = group[i];
        if (t->proc.kind != FSAN_PROC_START)
            continue;
        if (at_latest == 0 || t->proc.time_ns > latest)
            latest = t->proc.time_ns, at_latest = 1;
        else if (t->proc.time_ns == latest)
            at_latest++;
    }
    for (size_t i = 0; i < n; i++) {
        struct fsan_trace *t = (struct fsan_trace *)group[i];
        int only_latest = t->proc.kind == FSAN_PROC_START && t->proc.time_ns == latest && at_latest == 1;
        t->later_image = at_latest > 0 && latest >= t->proc.time_ns && !only_latest;
    }
}

/* A process: the run by_pid[lo, lo + n) of its images, and the position
 * of its first trace in the set (which numbers it). */
struct life {
    size_t first, lo, n;
};

static int cmp_lives(const void *a, const void *b)
{
    const struct life *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* Which traces are images of one process, numbered in the order the
 * processes first appear (t->life), and which have a later image (the
 * process exec'd after writing them).
 *
 * The kernel recycles pids, so a pid alone does not name a process: a
 * fork child that wrote its findings and ended is not the program that
 * later got its pid and exec'd, and reading it as an exec of the child
 * would drop the child's findings.  The kernel's start time (10 ms ticks)
 * tells most of them apart; within one tick, the images in the order they
 * began do: a FORK image is always the first image of a new process, and
 * an image that follows one that ended (EXIT) belongs to another.
 *
 * Once for the whole set, by sorting (n log n): asking each trace about
 * every other one was quadratic. */
static int index_lives(struct fsan_builder *c, struct fsan_trace_set *set)
{
    size_t n = set->ntraces;
    const struct fsan_trace **by_pid = malloc((n ? n : 1) * sizeof *by_pid);
    struct life *lives = malloc((n ? n : 1) * sizeof *lives);
    if (!by_pid || !lives) {
        free(by_pid);
        free(lives);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        by_pid[i] = &set->traces[i];
    qsort(by_pid, n, sizeof *by_pid, cmp_by_pid);
    size_t nlives = 0;
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && same_start(by_pid[hi], by_pid[lo]); hi++)
            ;
        if (!by_pid[lo]->proc.start_ticks) {
            mark_later_images_by_time(by_pid + lo, hi - lo);
            lives[nlives++] = (struct life){0, lo, hi - lo};
            continue;
        }
        for (size_t i = lo; i < hi; i++) {
            struct fsan_trace *t = (struct fsan_trace *)by_pid[i];
            const struct fsan_trace *prev = i > lo ? by_pid[i - 1] : NULL;
            if (!prev || t->proc.kind == FSAN_PROC_FORK || prev->has_exit)
                lives[nlives++] = (struct life){0, i, 0};
            else
                ((struct fsan_trace *)prev)->later_image = 1;
            t->later_image = 0;
            lives[nlives - 1].n++;
        }
    }
    for (size_t l = 0; l < nlives; l++) {
        lives[l].first = n;
        for (size_t i = lives[l].lo; i < lives[l].lo + lives[l].n; i++)
            if ((size_t)(by_pid[i] - set->traces) < lives[l].first)
                lives[l].first = (size_t)(by_pid[i] - set->traces);
    }
    qsort(lives, nlives, sizeof *lives, cmp_lives);
    for (size_t l = 0; l < nlives; l++)
        for (size_t i = lives[l].lo; i < lives[l].lo + lives[l].n; i++)
            ((struct fsan_trace *)by_pid[i])->life = (uint32_t)l;
    free(lives);
    c->by_pid = by_pid;
    c->ntraces = n;
    c->nlives = nlives;
    return 0;
}

int fsan_analyze(struct fsan_trace_set *set, struct fsan_symbolizer *sym, struct fsan_report *out)
{
    return fsan_analyze_opts(set, sym, NULL, out);
}

int fsan_analyze_opts(struct fsan_trace_set *set, struct fsan_symbolizer *sym,
                      const struct fsan_analyze_options *opts, struct fsan_report *out)
{
    struct fsan_builder c = {.sym = sym, .r = out, .native_frames = opts ? opts->native_frames : 0};
    if (set->ntraces)
        qsort(set->traces, set->ntraces, sizeof *set->traces, cmp_traces);
    if (index_lives(&c, set) < 0)
        return -ENOMEM;
    struct full_count lost = {0}, held = {0}, conds = {0};
    fsan_progress_start("analyzing traces", set->ntraces);
    for (size_t i = 0; i < set->ntraces; i++) {
        fsan_progress_step(i);
        const struct fsan_trace *t = &set->traces[i];
        for (size_t k = 0; k < sizeof rule_families / sizeof rule_families[0]; k++)
            rule_families[k](&c, set, t);
        if (t->stats.lost_bytes || t->stats.thread_overflow || t->stats.site_overflow)
            full_tables(&c, set, t, &lost);
        if (t->stats.held_overflow && t->proc.kind == FSAN_PROC_FORK)
            full_held(&c, set, t, &held);
        if (t->stats.cond_overflow)
            full_conds(&c, set, t, &conds);
        python_notice(&c, set, t);
    }
    full_summary(&c, set, &lost, "processes lost trace bytes or had tables too small",
                 xprintf(&c, "%llu trace bytes lost, %llu threads and %llu call sites not tracked in all (tables full)",
                         lost.a, lost.b, lost.c));
    full_summary(&c, set, &held, "fork children had threads holding more locks than forksan records per thread",
                 xprintf(&c, "%llu such threads in all; their snapshots may lack some locks (tables full)", held.a));
    full_summary(&c, set, &conds, "processes had more condition variables than forksan records",
                 xprintf(&c, "%llu condition variables in all (tables full)", conds.a));
    fsan_progress_end();
    build_processes(&c, set);
    free(c.py_reasons);
    free(c.by_pid);
    fsan_keymap_free(&c.findings);
    fsan_keymap_free(&c.members);
    if (out->nfindings)
        qsort(out->findings, out->nfindings, sizeof *out->findings, fsan_finding_cmp);
    out->notices = set->notices;
    out->nnotices = set->nnotices;
    set->notices = NULL;
    set->nnotices = 0;
    return c.oom ? -ENOMEM : 0;
}

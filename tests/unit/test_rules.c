/* test_rules.c — the rules (analyzer/rules.c) on synthetic traces: each
 * verdict, each reason not to report, merging and the process tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze.h"
#include "render.h"

#define FORKER 10
#define HOLDER 11
#define LOCK_A 0xa000
#define LOCK_B 0xb000

static struct fsan_trace make_child(uint32_t pid, uint32_t ppid)
{
    struct fsan_trace t;
    memset(&t, 0, sizeof t);
    t.path = strdup("synthetic.trace");
    t.has_process = 1;
    t.proc.pid = pid;
    t.proc.ppid = ppid;
    t.proc.kind = FSAN_PROC_FORK;
    t.proc.forking_tid = FORKER;
    t.proc.time_ns = 1000 + pid;
    t.exe = strdup("/bin/prog");
    return t;
}

static struct fsan_trace make_root(uint32_t pid)
{
    struct fsan_trace t = make_child(pid, 1);
    t.proc.kind = FSAN_PROC_START;
    t.proc.forking_tid = 0;
    t.proc.time_ns = 1;
    return t;
}

static void add_thread(struct fsan_trace *t, uint32_t tid, uint32_t flags, const char *name)
{
    t->threads = realloc(t->threads, (t->nthreads + 1) * sizeof *t->threads);
    struct fsan_rec_thread *th = &t->threads[t->nthreads++];
    memset(th, 0, sizeof *th);
    th->tid = tid;
    th->flags = flags;
    snprintf(th->name, sizeof th->name, "%s", name);
}

static void add_held(struct fsan_trace *t, uint64_t addr, uint32_t holder, uint32_t kind)
{
    t->held = realloc(t->held, (t->nheld + 1) * sizeof *t->held);
    struct fsan_rec_held *h = &t->held[t->nheld++];
    memset(h, 0, sizeof *h);
    h->lock_addr = addr;
    h->holder_tid = holder;
    h->lock_type = FSAN_LOCK_MUTEX;
    h->kind = kind;
    h->depth = 1;
}

static void add_event(struct fsan_trace *t, uint64_t addr, uint32_t event)
{
    t->lock_events = realloc(t->lock_events, (t->nlock_events + 1) * sizeof *t->lock_events);
    struct fsan_trace_lock_event *e = &t->lock_events[t->nlock_events++];
    memset(e, 0, sizeof *e);
    e->ev.lock_addr = addr;
    e->ev.event = event;
}

static void add_deadlock(struct fsan_trace *t, uint64_t addr, uint32_t form, uint32_t holder)
{
    t->deadlocks = realloc(t->deadlocks, (t->ndeadlocks + 1) * sizeof *t->deadlocks);
    struct fsan_rec_deadlock *d = &t->deadlocks[t->ndeadlocks++];
    memset(d, 0, sizeof *d);
    d->lock_addr = addr;
    d->lock_type = FSAN_LOCK_MUTEX;
    d->form = form;
    d->holder_tid = holder;
    d->tid = 99;
}

/* The usual child: the forker plus a vanished thread "holder". */
static struct fsan_trace two_thread_child(uint32_t pid)
{
    struct fsan_trace t = make_child(pid, 100);
    add_thread(&t, FORKER, FSAN_THREAD_FORKER | FSAN_THREAD_MAIN, "prog");
    add_thread(&t, HOLDER, FSAN_THREAD_VANISHED, "holder");
    return t;
}

struct result {
    struct fsan_trace_set set;
    struct fsan_report report;
    struct fsan_symbolizer *sym;
};

static void analyze_opts(struct result *res, struct fsan_trace *traces, size_t n,
                         const struct fsan_analyze_options *opts)
{
    memset(res, 0, sizeof *res);
    res->set.traces = calloc(n, sizeof *traces);
    memcpy(res->set.traces, traces, n * sizeof *traces);
    res->set.ntraces = n;
    res->sym = fsan_symbolizer_new();
    assert_int_equal(fsan_analyze_opts(&res->set, res->sym, opts, &res->report), 0);
}

static void analyze(struct result *res, struct fsan_trace *traces, size_t n)
{
    memset(res, 0, sizeof *res);
    res->set.traces = calloc(n, sizeof *traces);
    memcpy(res->set.traces, traces, n * sizeof *traces);
    res->set.ntraces = n;
    res->sym = fsan_symbolizer_new();
    assert_int_equal(fsan_analyze(&res->set, res->sym, &res->report), 0);
}

static void done(struct result *res)
{
    fsan_report_free(&res->report);
    fsan_trace_set_free(&res->set);
    fsan_symbolizer_free(res->sym);
}

static const struct fsan_finding *find(const struct fsan_report *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return &r->findings[i];
    return NULL;
}

static const struct fsan_location *location(const struct fsan_finding *f, const char *role)
{
    for (size_t i = 0; i < f->nlocations; i++)
        if (strcmp(f->locations[i].role, role) == 0)
            return &f->locations[i];
    return NULL;
}

static void test_rules_deadlock_names_vanished_holder(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    add_deadlock(&t, LOCK_A, FSAN_DL_VANISHED_HOLDER, HOLDER);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "child-deadlock");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_ERROR);
    assert_non_null(strstr(f->message, "\"holder\""));
    const struct fsan_location *acq = location(f, "acquired");
    assert_non_null(acq);
    assert_int_equal(acq->tid, HOLDER);
    assert_string_equal(acq->thread_name, "holder");
    assert_non_null(location(f, "attempt"));
    assert_non_null(location(f, "fork"));
    /* The same lock is not reported twice: no latent orphaned-lock. */
    assert_null(find(&res.report, "orphaned-lock"));
    const struct fsan_finding *taf = find(&res.report, "threads-at-fork");
    assert_non_null(taf);
    assert_int_equal(taf->severity, FSAN_SEV_WARNING);
    assert_string_equal(location(taf, "thread")->thread_name, "holder");
    done(&res);
}

/* The condition variable form: the vanished signaller is named, shown
 * where it signalled and as a vanished thread; threads-at-fork says why
 * it is a warning without claiming a lock was left held. */
static void test_rules_cond_wait_names_vanished_signaller(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_deadlock(&t, LOCK_A, FSAN_DL_COND_VANISHED_SIGNALLER, HOLDER);
    t.deadlocks[0].lock_type = FSAN_LOCK_COND;
    t.deadlocks[0].kind = 2;
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "child-deadlock");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_ERROR);
    assert_non_null(strstr(f->message, "waits forever on condition variable"));
    assert_non_null(strstr(f->message, "thread 11 \"holder\" and 1 other thread"));
    const struct fsan_location *sig = location(f, "signalled");
    assert_non_null(sig);
    assert_int_equal(sig->tid, HOLDER);
    assert_string_equal(location(f, "thread")->thread_name, "holder");
    assert_null(location(f, "acquired"));
    assert_non_null(location(f, "attempt"));
    assert_non_null(location(f, "fork"));
    const struct fsan_finding *taf = find(&res.report, "threads-at-fork");
    assert_int_equal(taf->severity, FSAN_SEV_WARNING);
    assert_non_null(strstr(taf->message, "condition variable"));
    assert_null(strstr(taf->message, "left a lock held"));
    done(&res);
}

static void test_rules_orphaned_lock_is_latent_warning(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "orphaned-lock");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_WARNING);
    assert_null(find(&res.report, "child-deadlock"));
    assert_int_equal(find(&res.report, "threads-at-fork")->severity, FSAN_SEV_WARNING);
    done(&res);
}

static void test_rules_reinit_in_child_clears(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    add_event(&t, LOCK_A, FSAN_LOCKEV_REINIT);
    struct result res;
    analyze(&res, &t, 1);
    assert_null(find(&res.report, "orphaned-lock"));
    /* Threads vanished but left nothing held behind: a note. */
    assert_int_equal(find(&res.report, "threads-at-fork")->severity, FSAN_SEV_NOTE);
    done(&res);
}

static void test_rules_pshared_never_orphaned(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, FSAN_KIND_PSHARED);
    struct result res;
    analyze(&res, &t, 1);
    assert_null(find(&res.report, "orphaned-lock"));
    assert_int_equal(find(&res.report, "threads-at-fork")->severity, FSAN_SEV_NOTE);
    done(&res);
}

static void test_rules_exec_child_is_quiet(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    add_held(&t, LOCK_B, FORKER, 0);
    t.has_exec = 1;
    t.exec_path = strdup("/bin/true");
    struct result res;
    analyze(&res, &t, 1);
    assert_null(find(&res.report, "orphaned-lock"));
    assert_null(find(&res.report, "inherited-held-lock"));
    assert_null(find(&res.report, "threads-at-fork"));
    assert_int_equal(res.report.processes[0].execed, 1);
    done(&res);
}

static void test_rules_failed_exec_still_watched(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    t.has_exec = 1;
    t.exec_failed = 1;
    struct result res;
    analyze(&res, &t, 1);
    assert_non_null(find(&res.report, "orphaned-lock"));
    done(&res);
}

static void test_rules_inherited_held_lock_note(void **state)
{
    struct fsan_trace t = make_child(200, 100);
    add_thread(&t, FORKER, FSAN_THREAD_FORKER, "prog");
    add_held(&t, LOCK_B, FORKER, FSAN_KIND_RECURSIVE);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "inherited-held-lock");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_NOTE);
    assert_non_null(strstr(f->message, "recursive mutex"));
    assert_null(find(&res.report, "threads-at-fork"));
    done(&res);
}

static void test_rules_released_in_child_is_clean(void **state)
{
    struct fsan_trace t = make_child(200, 100);
    add_thread(&t, FORKER, FSAN_THREAD_FORKER, "prog");
    add_held(&t, LOCK_B, FORKER, 0);
    add_event(&t, LOCK_B, FSAN_LOCKEV_RELEASED);
    struct result res;
    analyze(&res, &t, 1);
    assert_int_equal(res.report.nfindings, 0);
    done(&res);
}

static void test_rules_forker_reacquire_deadlock(void **state)
{
    struct fsan_trace t = make_child(200, 100);
    add_thread(&t, FORKER, FSAN_THREAD_FORKER, "prog");
    add_held(&t, LOCK_B, FORKER, 0);
    add_deadlock(&t, LOCK_B, FSAN_DL_FORKER_REACQUIRE, FORKER);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "child-deadlock");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "forking thread"));
    assert_null(find(&res.report, "inherited-held-lock"));
    done(&res);
}

static void test_rules_merge_identical_children(void **state)
{
    struct fsan_trace t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = two_thread_child(200 + (uint32_t)i);
        add_held(&t[i], LOCK_A, HOLDER, 0);
    }
    struct result res;
    analyze(&res, t, 3);
    const struct fsan_finding *f = find(&res.report, "orphaned-lock");
    assert_non_null(f);
    assert_int_equal(f->count, 3);
    assert_int_equal(f->npids, 3);
    size_t orphaned = 0;
    for (size_t i = 0; i < res.report.nfindings; i++)
        orphaned += strcmp(res.report.findings[i].rule, "orphaned-lock") == 0;
    assert_int_equal(orphaned, 1);
    done(&res);
}

static void test_rules_fingerprint_distinguishes_rules(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    struct result res;
    analyze(&res, &t, 1);
    assert_true(res.report.nfindings >= 2);
    assert_int_equal(strlen(res.report.findings[0].fingerprint), 16);
    assert_string_not_equal(res.report.findings[0].fingerprint, res.report.findings[1].fingerprint);
    done(&res);
}

static void test_rules_sorted_by_severity(void **state)
{
    struct fsan_trace t = two_thread_child(200);
    add_held(&t, LOCK_A, HOLDER, 0);
    add_held(&t, LOCK_B, FORKER, 0);
    add_deadlock(&t, LOCK_A, FSAN_DL_VANISHED_HOLDER, HOLDER);
    struct result res;
    analyze(&res, &t, 1);
    for (size_t i = 1; i < res.report.nfindings; i++)
        assert_true(res.report.findings[i - 1].severity >= res.report.findings[i].severity);
    assert_string_equal(res.report.findings[0].rule, "child-deadlock");
    done(&res);
}

static void test_rules_process_tree(void **state)
{
    struct fsan_trace t[3];
    t[0] = make_root(100);
    t[1] = two_thread_child(200);
    t[1].has_exit = 1;
    t[1].exit.how = FSAN_EXIT__EXIT;
    t[1].exit.status = 3;
    t[2] = make_root(200); /* pid 200 exec'd: a new image */
    t[2].proc.time_ns = 5000;
    struct result res;
    analyze(&res, t, 3);
    assert_int_equal(res.report.nprocesses, 2);
    const struct fsan_process *child = res.report.processes[0].pid == 200 ? &res.report.processes[0] : &res.report.processes[1];
    assert_int_equal(child->ppid, 100);
    assert_int_equal(child->forked_by_tid, FORKER);
    assert_int_equal(child->threads_at_fork, 2);
    assert_int_equal(child->execed, 1);
    assert_true(child->exit.known);
    assert_string_equal(child->exit.how, "_exit");
    assert_int_equal(child->exit.status, 3);
    done(&res);
}

/* The kernel recycles pids.  Child A (pid 200) ends with an orphaned-lock
 * finding (a lock its vanished thread held); later child B gets pid 200
 * too and ends with the same finding;
 * later still a spawned program C gets pid 200 and writes a START image.
 * Their start times (start_ticks) tell them apart: three processes, A and
 * B each keep their finding (C is not an exec of either), and C's image
 * says nothing about them. */
static void test_rules_recycled_pid_keeps_every_child(void **state)
{
    struct fsan_trace t[4];
    t[0] = make_root(100);
    t[0].proc.start_ticks = 10;
    for (int i = 1; i <= 2; i++) {
        t[i] = two_thread_child(200);
        t[i].proc.start_ticks = 100 * (uint64_t)i;
        t[i].proc.time_ns = 1000000 * (uint64_t)i;
        add_held(&t[i], LOCK_A, HOLDER, FSAN_KIND_NORMAL);
    }
    t[3] = make_root(200);
    t[3].proc.ppid = 100;
    t[3].proc.start_ticks = 300;
    t[3].proc.time_ns = 3000000;
    struct result res;
    analyze(&res, t, 4);
    assert_int_equal(res.report.nprocesses, 4); /* the root, A, B and C */
    const struct fsan_finding *f = NULL;
    for (size_t i = 0; i < res.report.nfindings; i++)
        if (strcmp(res.report.findings[i].rule, "orphaned-lock") == 0)
            f = &res.report.findings[i];
    assert_non_null(f);
    assert_int_equal(f->count, 2); /* A and B, though they share a pid */
    size_t execed = 0;
    for (size_t i = 0; i < res.report.nprocesses; i++)
        execed += res.report.processes[i].execed;
    assert_int_equal(execed, 0);
    done(&res);

    /* Without start times (traces older than format 8) all three share
     * pid 200, as they always did: C's image is a later image of the
     * children, which then count as exec'd and their findings go. */
    for (int i = 0; i < 4; i++)
        t[i] = i == 0 ? make_root(100) : i == 3 ? make_root(200) : two_thread_child(200);
    for (int i = 1; i <= 2; i++) {
        t[i].proc.time_ns = 1000000 * (uint64_t)i;
        add_held(&t[i], LOCK_A, HOLDER, FSAN_KIND_NORMAL);
    }
    t[3].proc.time_ns = 3000000;
    analyze(&res, t, 4);
    assert_int_equal(res.report.nprocesses, 2);
    for (size_t i = 0; i < res.report.nfindings; i++)
        assert_string_not_equal(res.report.findings[i].rule, "orphaned-lock");
    done(&res);
}

/* Recycled within one 10 ms tick: child A and the program that got its
 * pid next have the same start_ticks.  A ended (EXIT), so the image
 * after it is another process's, and A keeps its finding. */
static void test_rules_recycled_pid_within_a_tick(void **state)
{
    struct fsan_trace t[3];
    t[0] = make_root(100);
    t[0].proc.start_ticks = 10;
    t[1] = two_thread_child(200);
    t[1].proc.start_ticks = 50;
    t[1].proc.image_ns = 1000;
    t[1].has_exit = 1;
    t[1].exit.how = FSAN_EXIT__EXIT;
    add_held(&t[1], LOCK_A, HOLDER, FSAN_KIND_NORMAL);
    t[2] = make_root(200);
    t[2].proc.ppid = 100;
    t[2].proc.start_ticks = 50;
    t[2].proc.image_ns = 2000;
    struct result res;
    analyze(&res, t, 3);
    assert_int_equal(res.report.nprocesses, 3);
    const struct fsan_finding *f = find(&res.report, "orphaned-lock");
    assert_non_null(f);
    assert_int_equal(f->count, 1);
    done(&res);

    /* The same without the EXIT: the later image is A's own exec. */
    t[0] = make_root(100);
    t[0].proc.start_ticks = 10;
    t[1] = two_thread_child(200);
    t[1].proc.start_ticks = 50;
    t[1].proc.image_ns = 1000;
    add_held(&t[1], LOCK_A, HOLDER, FSAN_KIND_NORMAL);
    t[2] = make_root(200);
    t[2].proc.start_ticks = 50;
    t[2].proc.image_ns = 2000;
    analyze(&res, t, 3);
    assert_int_equal(res.report.nprocesses, 2);
    assert_null(find(&res.report, "orphaned-lock"));
    done(&res);
}

/* Fifteen children whose tables overflowed: ten notices of their own, then
 * one with the totals naming all fifteen (not a line per process). */
static void test_rules_full_tables_summarised(void **state)
{
    struct fsan_trace t[15];
    for (int i = 0; i < 15; i++) {
        t[i] = two_thread_child(300 + (uint32_t)i);
        t[i].stats.lost_bytes = 100;
        t[i].stats.thread_overflow = 2;
    }
    struct result res;
    analyze(&res, t, 15);
    size_t alone = 0, summary = 0;
    for (size_t i = 0; i < res.report.nnotices; i++) {
        const char *n = res.report.notices[i];
        if (strncmp(n, "process ", 8) == 0 && strstr(n, "(tables full)"))
            alone++;
        if (strstr(n, "15 processes lost trace bytes")) {
            summary++;
            assert_non_null(strstr(n, "1500 trace bytes lost, 30 threads"));
            for (int p = 300; p < 315; p++) {
                char pid[8];
                snprintf(pid, sizeof pid, "%d", p);
                assert_non_null(strstr(n, pid));
            }
        }
    }
    assert_int_equal(alone, 10);
    assert_int_equal(summary, 1);
    done(&res);
}

/* A process whose table of condition variables was full says so: a fork
 * child's wait on one it left out is not checked. */
static void test_rules_cond_table_full_notice(void **state)
{
    struct fsan_trace t = make_child(400, 100);
    t.proc.kind = FSAN_PROC_START;
    t.stats.cond_overflow = 3;
    struct result res;
    analyze(&res, &t, 1);
    size_t found = 0;
    for (size_t i = 0; i < res.report.nnotices; i++)
        found += strstr(res.report.notices[i], "process 400: 3 condition variables had no room") != NULL &&
                 strstr(res.report.notices[i], "(tables full)") != NULL;
    assert_int_equal(found, 1);
    done(&res);
}

/* One process, two images: a fork child that exec'd (its START image has
 * the same start_ticks).  The fork image has a later image; the last
 * image (by image_ns) has none. */
static void test_rules_images_of_one_process(void **state)
{
    struct fsan_trace t[4];
    t[0] = make_root(100);
    t[0].proc.start_ticks = 10;
    t[1] = two_thread_child(200);
    t[1].proc.start_ticks = 50;
    add_held(&t[1], LOCK_A, HOLDER, FSAN_KIND_NORMAL);
    t[2] = make_root(200);
    t[2].proc.start_ticks = 50;
    t[2].proc.time_ns = t[1].proc.time_ns + 3; /* the same start, read again */
    t[2].proc.image_ns = 7000;
    t[3] = make_root(200);
    t[3].proc.start_ticks = 50;
    t[3].proc.time_ns = t[1].proc.time_ns - 2; /* clock jitter: before the fork image */
    t[3].proc.image_ns = 9000;
    struct result res;
    analyze(&res, t, 4);
    assert_int_equal(res.report.nprocesses, 2);
    size_t later = 0;
    for (size_t i = 0; i < res.set.ntraces; i++) {
        const struct fsan_trace *x = &res.set.traces[i];
        later += x->later_image;
        if (x->proc.image_ns == 9000)
            assert_false(x->later_image);
    }
    assert_int_equal(later, 2); /* the fork image and the first exec'd one */
    for (size_t i = 0; i < res.report.nfindings; i++)
        assert_string_not_equal(res.report.findings[i].rule, "orphaned-lock");
    done(&res);
}

/* ---- Python frames ------------------------------------------------------------ */

#define PY_HOLD_LINE 12
#define PY_ATTEMPT_LINE 55
#define PY_FORK_LINE 50

/* A native SITE of two return addresses (no maps: address-only frames). */
static void add_site(struct fsan_trace *t, uint32_t id, uint64_t a0, uint64_t a1)
{
    /* The reader keeps sites in id order; these tests add them in order. */
    assert_true(t->nsites == 0 || t->sites[t->nsites - 1].id < id);
    t->sites = realloc(t->sites, (t->nsites + 1) * sizeof *t->sites);
    struct fsan_trace_site *s = &t->sites[t->nsites++];
    s->id = id;
    s->language = FSAN_LANG_C;
    s->nframes = 2;
    s->frames = malloc(2 * sizeof *s->frames);
    s->frames[0] = a0;
    s->frames[1] = a1;
}

/* A PYSITE as the reader stores it (strings owned by the trace). */
static void add_pysite(struct fsan_trace *t, uint32_t id, const uint32_t *lines, const char *const *files,
                       const char *const *functions, uint16_t n)
{
    assert_true(t->npysites == 0 || t->pysites[t->npysites - 1].id < id);
    t->pysites = realloc(t->pysites, (t->npysites + 1) * sizeof *t->pysites);
    struct fsan_trace_pysite *ps = &t->pysites[t->npysites++];
    ps->id = id;
    ps->nframes = n;
    ps->frames = calloc(n, sizeof *ps->frames);
    for (uint16_t i = 0; i < n; i++) {
        ps->frames[i].line = lines[i];
        ps->frames[i].file = strdup(files[i]);
        ps->frames[i].function = strdup(functions[i]);
    }
}

static void add_pyref(struct fsan_trace *t, uint32_t what, uint32_t pysite, uint64_t key, const char *name)
{
    t->pyrefs = realloc(t->pyrefs, (t->npyrefs + 1) * sizeof *t->pyrefs);
    struct fsan_trace_pyref *r = &t->pyrefs[t->npyrefs++];
    memset(r, 0, sizeof *r);
    r->what = what;
    r->pysite = pysite;
    r->key = key;
    snprintf(r->name, sizeof r->name, "%s", name);
}

/* A Python program's child that deadlocks: the vanished thread HOLDER
 * (native name "holder", Python name "lock-holder") held LOCK_A, taken in
 * worker.py; the child tries to take it in main.py.  Every location also
 * has a native stack, so that "only Python frames" means something. */
static struct fsan_trace python_deadlock_child(uint32_t pid, uint32_t attempt_line)
{
    struct fsan_trace t = two_thread_child(pid);
    add_held(&t, LOCK_A, HOLDER, 0);
    t.held[0].acquire_site = 1;
    add_deadlock(&t, LOCK_A, FSAN_DL_VANISHED_HOLDER, HOLDER);
    t.deadlocks[0].attempt_site = 2;
    t.deadlocks[0].acquire_site = 1;
    t.threads[1].create_site = 3;
    t.proc.fork_site = 4;
    add_site(&t, 1, 0x1100, 0x1101);
    add_site(&t, 2, 0x2200, 0x2201);
    add_site(&t, 3, 0x3300, 0x3301);
    add_site(&t, 4, 0x4400, 0x4401);
    static const char *const hold_files[] = {"/app/worker.py", "/usr/lib/python3.11/threading.py"};
    static const char *const hold_funcs[] = {"hold", "run"};
    const uint32_t hold_lines[] = {PY_HOLD_LINE, 975};
    add_pysite(&t, 1, hold_lines, hold_files, hold_funcs, 2);
    static const char *const main_file[] = {"/app/main.py"};
    static const char *const attempt_func[] = {"child"};
    add_pysite(&t, 2, &attempt_line, main_file, attempt_func, 1);
    static const char *const fork_func[] = {"main"};
    const uint32_t fork_line = PY_FORK_LINE;
    add_pysite(&t, 3, &fork_line, main_file, fork_func, 1);
    add_pyref(&t, FSAN_PYREF_HELD, 1, LOCK_A, "");
    add_pyref(&t, FSAN_PYREF_THREAD, 1, HOLDER, "lock-holder");
    add_pyref(&t, FSAN_PYREF_ATTEMPT, 2, LOCK_A, "");
    add_pyref(&t, FSAN_PYREF_FORK, 3, 0, "");
    return t;
}

static void assert_python_frame(const struct fsan_frame *f, const char *file, int line, const char *function)
{
    assert_non_null(f->language);
    assert_string_equal(f->language, "python");
    assert_string_equal(f->file, file);
    assert_int_equal(f->line, line);
    assert_string_equal(f->function, function);
    assert_int_equal(f->address, 0);
    assert_null(f->module);
}

static int count_language(const struct fsan_location *l, const char *language)
{
    int n = 0;
    for (size_t i = 0; i < l->nframes; i++)
        n += strcmp(l->frames[i].language, language) == 0;
    return n;
}

enum format { TEXT, JSON, SARIF, HTML };

static char *render(const struct fsan_report *r, enum format format)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    int rc = format == JSON    ? fsan_render_json(out, r)
             : format == SARIF ? fsan_render_sarif(out, r)
             : format == HTML  ? fsan_render_html(out, r)
                               : fsan_render_text(out, r, 1);
    assert_int_equal(rc, 0);
    fclose(out);
    return text;
}

/* By default a location with Python frames shows only those: the .py line
 * of the attempt, of where the vanished thread took the lock, of the fork;
 * the vanished thread is called by its Python name. */
static void test_rules_python_frames_only_by_default(void **state)
{
    struct fsan_trace t = python_deadlock_child(200, PY_ATTEMPT_LINE);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "child-deadlock");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "thread 11 \"lock-holder\""));
    const struct fsan_location *attempt = location(f, "attempt");
    assert_int_equal(attempt->nframes, 1);
    assert_python_frame(&attempt->frames[0], "/app/main.py", PY_ATTEMPT_LINE, "child");
    const struct fsan_location *acq = location(f, "acquired");
    assert_int_equal(acq->nframes, 2);
    assert_python_frame(&acq->frames[0], "/app/worker.py", PY_HOLD_LINE, "hold");
    assert_python_frame(&acq->frames[1], "/usr/lib/python3.11/threading.py", 975, "run");
    assert_string_equal(acq->thread_name, "lock-holder");
    const struct fsan_location *fork = location(f, "fork");
    assert_int_equal(fork->nframes, 1);
    assert_python_frame(&fork->frames[0], "/app/main.py", PY_FORK_LINE, "main");

    const struct fsan_finding *taf = find(&res.report, "threads-at-fork");
    assert_non_null(taf);
    const struct fsan_location *th = location(taf, "thread");
    assert_int_equal(th->tid, HOLDER);
    assert_string_equal(th->thread_name, "lock-holder"); /* not the native "holder" */
    assert_int_equal(count_language(th, "c"), 0);
    assert_python_frame(&th->frames[0], "/app/worker.py", PY_HOLD_LINE, "hold");
    assert_non_null(strstr(th->description, "running at fork"));

    /* The process tree names the fork by its Python line. */
    assert_string_equal(res.report.processes[0].fork_site, "main /app/main.py:50");

    /* The renderers show them as Python frames. */
    char *text = render(&res.report, TEXT);
    assert_non_null(strstr(text, "    File \"/app/main.py\", line 55, in child\n"));
    assert_non_null(strstr(text, "    File \"/app/worker.py\", line 12, in hold\n"));
    assert_non_null(strstr(text, "thread T11 \"lock-holder\""));
    assert_null(strstr(text, "0x1100")); /* no native frame */
    free(text);
    char *json = render(&res.report, JSON);
    assert_non_null(strstr(json, "\"language\": \"python\""));
    assert_null(strstr(json, "\"language\": \"c\""));
    free(json);
    /* SARIF locates the child-deadlock result at the attempt's .py line. */
    char *sarif = render(&res.report, SARIF);
    assert_non_null(strstr(sarif, "main.py\""));
    assert_non_null(strstr(sarif, "\"startLine\": 55"));
    assert_non_null(strstr(sarif, "\"language\": \"python\""));
    free(sarif);
    char *html = render(&res.report, HTML);
    assert_non_null(strstr(html, "/app/worker.py"));
    assert_non_null(strstr(html, "lock-holder"));
    free(html);
    done(&res);
}

/* --native-frames: the Python frames first, then the native ones; the
 * fingerprints do not change (they are the innermost Python frame). */
static void test_rules_python_and_native_frames(void **state)
{
    struct fsan_trace t = python_deadlock_child(200, PY_ATTEMPT_LINE);
    struct result res;
    analyze(&res, &t, 1);
    char fp_default[17];
    snprintf(fp_default, sizeof fp_default, "%s", find(&res.report, "child-deadlock")->fingerprint);
    done(&res);

    t = python_deadlock_child(200, PY_ATTEMPT_LINE);
    struct fsan_analyze_options opts = {.native_frames = 1};
    analyze_opts(&res, &t, 1, &opts);
    const struct fsan_finding *f = find(&res.report, "child-deadlock");
    assert_string_equal(f->fingerprint, fp_default);
    const struct fsan_location *attempt = location(f, "attempt");
    assert_int_equal(attempt->nframes, 1 + 2);
    assert_python_frame(&attempt->frames[0], "/app/main.py", PY_ATTEMPT_LINE, "child");
    assert_string_equal(attempt->frames[1].language, "c");
    assert_int_equal(attempt->frames[1].address, 0x2200);
    assert_int_equal(attempt->frames[2].address, 0x2201);
    const struct fsan_location *acq = location(f, "acquired");
    assert_int_equal(acq->nframes, 2 + 2);
    assert_python_frame(&acq->frames[0], "/app/worker.py", PY_HOLD_LINE, "hold");
    assert_string_equal(acq->frames[2].language, "c");
    assert_int_equal(acq->frames[2].address, 0x1100);
    const struct fsan_location *th = location(find(&res.report, "threads-at-fork"), "thread");
    assert_int_equal(count_language(th, "python"), 2);
    assert_int_equal(count_language(th, "c"), 2);
    assert_string_equal(th->thread_name, "lock-holder");
    char *text = render(&res.report, TEXT);
    assert_non_null(strstr(text, "    File \"/app/main.py\", line 55, in child\n"));
    assert_non_null(strstr(text, "0x2200"));
    free(text);
    done(&res);
}

/* Children that differ only in the Python line of the attempt are two
 * findings, children that do not are one: Python frames are part of the
 * fingerprint. */
static void test_rules_python_frames_in_fingerprint(void **state)
{
    struct fsan_trace t[3];
    t[0] = python_deadlock_child(200, PY_ATTEMPT_LINE);
    t[1] = python_deadlock_child(201, PY_ATTEMPT_LINE);
    t[2] = python_deadlock_child(202, PY_ATTEMPT_LINE + 1);
    struct result res;
    analyze(&res, t, 3);
    size_t deadlocks = 0;
    for (size_t i = 0; i < res.report.nfindings; i++) {
        const struct fsan_finding *f = &res.report.findings[i];
        if (strcmp(f->rule, "child-deadlock") != 0)
            continue;
        deadlocks++;
        assert_int_equal(f->count, location(f, "attempt")->frames[0].line == PY_ATTEMPT_LINE ? 2 : 1);
    }
    assert_int_equal(deadlocks, 2);
    done(&res);
}

/* A shared native acquire site is trimmed to its certain frame, but that
 * concerns the native stack only: the Python stack of the lock is its own,
 * so the default view keeps all of it and says nothing about sharing. */
static void test_rules_python_frames_not_trimmed_by_shared_site(void **state)
{
    struct fsan_trace t = python_deadlock_child(200, PY_ATTEMPT_LINE);
    t.deadlocks[0].flags = FSAN_DLF_ACQUIRE_SITE_SHARED;
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_location *acq = location(find(&res.report, "child-deadlock"), "acquired");
    assert_int_equal(acq->nframes, 2);
    assert_null(strstr(acq->description, "shared"));
    done(&res);
}

static void set_pyinfo(struct fsan_trace *t, uint32_t state, const char *reason)
{
    t->has_pyinfo = 1;
    t->py_state = state;
    t->py_hexversion = 0x030e00f0;
    t->py_reason = strdup(reason);
}

static size_t count_notices(const struct fsan_report *r, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nnotices; i++)
        n += strstr(r->notices[i], text) != NULL;
    return n;
}

/* PYINFO UNAVAILABLE: one notice per distinct reason, naming the first
 * process; ACTIVE says nothing. */
static void test_rules_python_unavailable_notice(void **state)
{
    struct fsan_trace t[4];
    for (int i = 0; i < 4; i++)
        t[i] = two_thread_child(200 + (uint32_t)i);
    set_pyinfo(&t[0], FSAN_PY_UNAVAILABLE, "no debug offsets in this Python");
    set_pyinfo(&t[1], FSAN_PY_UNAVAILABLE, "no debug offsets in this Python");
    set_pyinfo(&t[2], FSAN_PY_UNAVAILABLE, "cannot read the thread states");
    set_pyinfo(&t[3], FSAN_PY_ACTIVE, "");
    struct result res;
    analyze(&res, t, 4);
    assert_int_equal(count_notices(&res.report, "Python frames unavailable"), 2);
    assert_int_equal(count_notices(&res.report, "Python frames unavailable in pid 200: no debug offsets in this Python"), 1);
    assert_int_equal(count_notices(&res.report, "Python frames unavailable in pid 202: cannot read the thread states"), 1);
    done(&res);
}

/* The root sends SIGTERM to its fork child 300; what the child ran then is
 * a Python stack (child_file: its innermost frame's file), or none. */
static struct fsan_trace root_sending_sigterm(uint32_t handlers)
{
    struct fsan_trace t = make_root(100);
    t.signals = calloc(1, sizeof *t.signals);
    t.nsignals = 1;
    struct fsan_rec_signal *r = &t.signals[0].rec;
    r->target = 300;
    r->signo = 15;
    r->tid = 100;
    r->handlers = handlers;
    return t;
}

static struct fsan_trace root_killing_child(const char *child_file, uint32_t handlers)
{
    struct fsan_trace t = root_sending_sigterm(handlers);
    struct fsan_rec_signal *r = &t.signals[0].rec;
    if (child_file) {
        const uint32_t lines[2] = {0, 0};
        const char *const files[2] = {child_file, "/usr/lib/python3.11/multiprocessing/pool.py"};
        const char *const funcs[2] = {"inner", "worker"};
        add_pysite(&t, 4, lines, files, funcs, 2);
        r->child_pysite = 4;
    }
    return t;
}

static void test_rules_killed_busy_child_is_warning(void **state)
{
    struct fsan_trace t = root_killing_child("/app/tasks.py", 0);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "skipped-cleanup");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_WARNING);
    assert_non_null(strstr(f->message, "killed by SIGTERM sent by process 100"));
    assert_non_null(strstr(f->message, "the work it was doing is lost"));
    assert_non_null(location(f, "sender"));
    const struct fsan_location *child = location(f, "child");
    assert_non_null(child);
    assert_string_equal(child->frames[0].file, "/app/tasks.py");
    done(&res);
}

/* A worker killed between tasks, waiting for the next one or still in
 * the after-fork hooks (Python's own library up to multiprocessing's
 * frames): Pool.terminate() doing its job, lost nothing, not a finding.
 * A library of the user's (site-packages) above the worker is a task. */
static void test_rules_killed_idle_worker_is_quiet(void **state)
{
    const char *idle[] = {"/usr/lib/python3.11/multiprocessing/connection.py",
                          "/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py"};
    for (size_t i = 0; i < 2; i++) {
        struct fsan_trace t = root_killing_child(idle[i], 0);
        struct result res;
        analyze(&res, &t, 1);
        assert_null(find(&res.report, "skipped-cleanup"));
        done(&res);
    }
    struct fsan_trace t = root_killing_child("/usr/lib/python3/dist-packages/requests/api.py", 0);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "skipped-cleanup");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_WARNING);
    done(&res);
}

/* A killed child whose whole stack (shorter than the runtime's limit) is
 * Python's own library, e.g. a worker still in the after-fork hooks,
 * runs no task: quiet.  The same frames filling the whole limit may be a
 * task cut off: a warning. */
static void test_rules_killed_child_in_stdlib_only(void **state)
{
    for (int full = 0; full < 2; full++) {
        struct fsan_trace t = root_sending_sigterm(0);
        struct fsan_rec_signal *r = &t.signals[0].rec;
        uint16_t n = full ? FSAN_PY_MAX_FRAMES : 3;
        uint32_t lines[FSAN_PY_MAX_FRAMES] = {0};
        const char *files[FSAN_PY_MAX_FRAMES], *funcs[FSAN_PY_MAX_FRAMES];
        for (int i = 0; i < FSAN_PY_MAX_FRAMES; i++) {
            files[i] = "/usr/lib/python3.11/_weakrefset.py";
            funcs[i] = "WeakSet.__iter__";
        }
        add_pysite(&t, 4, lines, files, funcs, n);
        r->child_pysite = 4;
        struct result res;
        analyze(&res, &t, 1);
        if (full)
            assert_int_equal(find(&res.report, "skipped-cleanup")->severity, FSAN_SEV_WARNING);
        else
            assert_null(find(&res.report, "skipped-cleanup"));
        done(&res);
    }
}

/* A fork-then-exec child killed before its exec (its innermost frame is
 * still the line that forked, as its own trace says): nothing begun,
 * nothing lost, not a finding. */
static void test_rules_killed_child_still_at_fork_is_quiet(void **state)
{
    struct fsan_trace t[2];
    t[0] = root_killing_child("/app/launcher.py", 0);
    t[1] = make_child(300, 100);
    add_thread(&t[1], FORKER, FSAN_THREAD_FORKER | FSAN_THREAD_MAIN, "prog");
    const uint32_t line = 0;
    const char *const files[1] = {"/app/launcher.py"};
    const char *const funcs[1] = {"inner"};
    add_pysite(&t[1], 7, &line, files, funcs, 1);
    add_pyref(&t[1], FSAN_PYREF_FORK, 7, 0, "");
    struct result res;
    analyze(&res, t, 2);
    assert_null(find(&res.report, "skipped-cleanup"));
    done(&res);
}

static void test_rules_killed_child_with_handlers_is_warning(void **state)
{
    struct fsan_trace t = root_killing_child(NULL, 2);
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "skipped-cleanup");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_WARNING);
    assert_non_null(strstr(f->message, "2 exit handlers it registered after the fork never run"));
    done(&res);
}

/* A hung child put down by its parent: child-deadlock says it all. */
static void test_rules_killed_deadlocked_child_not_skipped_cleanup(void **state)
{
    struct fsan_trace traces[2] = {root_killing_child("/app/tasks.py", 1), two_thread_child(300)};
    add_held(&traces[1], LOCK_A, HOLDER, 0);
    add_deadlock(&traces[1], LOCK_A, FSAN_DL_VANISHED_HOLDER, HOLDER);
    struct result res;
    analyze(&res, traces, 2);
    assert_non_null(find(&res.report, "child-deadlock"));
    assert_null(find(&res.report, "skipped-cleanup"));
    done(&res);
}

static void test_rules_foreign_handle_is_error(void **state)
{
    struct fsan_trace t = make_root(100);
    t.foreigns = calloc(1, sizeof *t.foreigns);
    t.nforeigns = 1;
    t.foreigns[0] = (struct fsan_rec_foreign){0x7f0000001000, FSAN_LOCK_SEM, FSAN_OP_SEM_TRYWAIT, 100, 0, 0,
                                              FSAN_FOREIGN_UNMAPPED, 0};
    struct result res;
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "foreign-handle");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_ERROR);
    assert_non_null(strstr(f->message, "0x7f0000001000"));
    assert_non_null(strstr(f->message, "SIGSEGV"));
    assert_non_null(location(f, "use"));
    done(&res);
}

/* A fork child whose pid check tripped at the innermost Python frame
 * function in file. */
static struct fsan_trace child_with_pid_read(const char *file, const char *function)
{
    struct fsan_trace t = make_child(300, 100);
    add_thread(&t, FORKER, FSAN_THREAD_FORKER | FSAN_THREAD_MAIN, "prog");
    const uint32_t line = 633;
    const char *const files[1] = {file};
    const char *const funcs[1] = {function};
    add_pysite(&t, 2, &line, files, funcs, 1);
    t.pidchecks = calloc(1, sizeof *t.pidchecks);
    t.npidchecks = 1;
    t.pidchecks[0].rec.pysite = 2;
    return t;
}

/* A pid check at a site the knowledge table says drops state is a
 * warning saying what; the same read anywhere else (a pid printed, a log
 * record stamped) is not reported at all. */
static void test_rules_pidcheck_reported_only_when_known(void **state)
{
    struct fsan_trace t = child_with_pid_read("/app/jobs.py", "sleep");
    struct result res;
    analyze(&res, &t, 1);
    assert_null(find(&res.report, "cleared-cache"));
    done(&res);
    t = child_with_pid_read("/usr/lib/python3/dist-packages/fsspec/spec.py", "_Cached.__call__");
    analyze(&res, &t, 1);
    const struct fsan_finding *f = find(&res.report, "cleared-cache");
    assert_non_null(f);
    assert_int_equal(f->severity, FSAN_SEV_WARNING);
    assert_non_null(strstr(f->message, "fsspec"));
    done(&res);
}

/* A lock a vanished thread took where CPython takes a lock it replaces in
 * the child (runtimelocks.def: threading's registry lock in Thread.start)
 * is no finding and leaves threads-at-fork a note; the same function name
 * in another file, or an outer frame of that name, is not the runtime's. */
static void test_rules_runtime_abandoned_lock_is_quiet(void **state)
{
    const char *files[][2] = {{"/usr/lib/python3.11/threading.py", "/app/main.py"},
                              {"/app/threading_utils.py", "/usr/lib/python3.11/threading.py"}};
    const char *funcs[][2] = {{"Thread.start", "<module>"}, {"Thread.start", "Thread.start"}};
    for (int i = 0; i < 2; i++) {
        struct fsan_trace t = two_thread_child(200);
        add_held(&t, LOCK_A, HOLDER, 0);
        const uint32_t lines[2] = {962, 10};
        add_pysite(&t, 1, lines, files[i], funcs[i], 2);
        add_pyref(&t, FSAN_PYREF_HELD, 1, LOCK_A, "");
        struct result res;
        analyze(&res, &t, 1);
        if (i == 0) {
            assert_null(find(&res.report, "orphaned-lock"));
            assert_int_equal(find(&res.report, "threads-at-fork")->severity, FSAN_SEV_NOTE);
        } else {
            assert_non_null(find(&res.report, "orphaned-lock"));
        }
        done(&res);
    }
}

/* A child that ends with _exit() and skips only logging's own atexit
 * handler (registered when it imported logging) loses nothing: no
 * finding.  A handler of the program's is a warning naming it. */
static void test_rules_skipped_harmless_atexit_is_quiet(void **state)
{
    const char *names[2] = {"logging.shutdown", "__main__.save_results"};
    for (int i = 0; i < 2; i++) {
        struct fsan_trace t = make_child(300, 100);
        add_thread(&t, FORKER, FSAN_THREAD_FORKER | FSAN_THREAD_MAIN, "prog");
        t.cleanups = calloc(1, sizeof *t.cleanups);
        t.ncleanups = 1;
        t.cleanups[0].rec.kind = FSAN_CLEANUP_SKIPPED;
        t.cleanups[0].rec.fd = -1;
        t.cleanups[0].rec.py_count = 1;
        t.cleanups[0].name = strdup(names[i]);
        struct result res;
        analyze(&res, &t, 1);
        const struct fsan_finding *f = find(&res.report, "skipped-cleanup");
        if (i == 0) {
            assert_null(f);
        } else {
            assert_non_null(f);
            assert_non_null(strstr(f->message, "(first: __main__.save_results)"));
        }
        done(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_deadlock_names_vanished_holder),
        cmocka_unit_test(test_rules_cond_wait_names_vanished_signaller),
        cmocka_unit_test(test_rules_cond_table_full_notice),
        cmocka_unit_test(test_rules_orphaned_lock_is_latent_warning),
        cmocka_unit_test(test_rules_reinit_in_child_clears),
        cmocka_unit_test(test_rules_runtime_abandoned_lock_is_quiet),
        cmocka_unit_test(test_rules_pshared_never_orphaned),
        cmocka_unit_test(test_rules_exec_child_is_quiet),
        cmocka_unit_test(test_rules_failed_exec_still_watched),
        cmocka_unit_test(test_rules_inherited_held_lock_note),
        cmocka_unit_test(test_rules_released_in_child_is_clean),
        cmocka_unit_test(test_rules_forker_reacquire_deadlock),
        cmocka_unit_test(test_rules_merge_identical_children),
        cmocka_unit_test(test_rules_fingerprint_distinguishes_rules),
        cmocka_unit_test(test_rules_sorted_by_severity),
        cmocka_unit_test(test_rules_process_tree),
        cmocka_unit_test(test_rules_recycled_pid_keeps_every_child),
        cmocka_unit_test(test_rules_recycled_pid_within_a_tick),
        cmocka_unit_test(test_rules_images_of_one_process),
        cmocka_unit_test(test_rules_full_tables_summarised),
        cmocka_unit_test(test_rules_python_frames_only_by_default),
        cmocka_unit_test(test_rules_python_and_native_frames),
        cmocka_unit_test(test_rules_python_frames_in_fingerprint),
        cmocka_unit_test(test_rules_python_frames_not_trimmed_by_shared_site),
        cmocka_unit_test(test_rules_python_unavailable_notice),
        cmocka_unit_test(test_rules_killed_busy_child_is_warning),
        cmocka_unit_test(test_rules_killed_idle_worker_is_quiet),
        cmocka_unit_test(test_rules_skipped_harmless_atexit_is_quiet),
        cmocka_unit_test(test_rules_killed_child_still_at_fork_is_quiet),
        cmocka_unit_test(test_rules_killed_child_in_stdlib_only),
        cmocka_unit_test(test_rules_killed_child_with_handlers_is_warning),
        cmocka_unit_test(test_rules_killed_deadlocked_child_not_skipped_cleanup),
        cmocka_unit_test(test_rules_foreign_handle_is_error),
        cmocka_unit_test(test_rules_pidcheck_reported_only_when_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

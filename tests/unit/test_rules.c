/* test_rules.c — the rules (analyzer/rules.c) on synthetic traces: each
 * verdict, each reason not to report, merging and the process tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze.h"

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
    assert_int_equal(find(&res.report, "threads-at-fork")->severity, FSAN_SEV_NOTE);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_deadlock_names_vanished_holder),
        cmocka_unit_test(test_rules_orphaned_lock_is_latent_warning),
        cmocka_unit_test(test_rules_reinit_in_child_clears),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

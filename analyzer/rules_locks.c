/* rules_locks.c — the rules about locks a fork child inherits (the
 * runtime's probes/locks.c and fork snapshot): child-deadlock,
 * orphaned-lock, inherited-held-lock and threads-at-fork.
 *
 * The runtime records facts (the fork snapshot, what the child did with the
 * locks it inherited, a deadlock it caught before blocking); the verdicts
 * are made here, offline, where a mistake costs nothing at run time and the
 * rules can be tested on synthetic traces.  Precision first: a lock the
 * child released, re-initialised or destroyed is not reported, a child that
 * execs leaves its inherited locks behind, a process-shared lock is never
 * orphaned (another process can release it), and a latent finding about a
 * lock is dropped when the same lock already produced a child-deadlock in
 * that child.  threads-at-fork is a warning only when a vanished thread left
 * a lock behind: a multi-threaded fork whose threads held nothing (the
 * pthread_atfork idiom makes exactly that true) is a note, so that an
 * atfork-protected program produces nothing above note.
 */
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "rules.h"

/* ---- facts about a child ----------------------------------------------------- */

static const char *lock_noun(uint16_t type)
{
    switch (type) {
    case FSAN_LOCK_MUTEX: return "mutex";
    case FSAN_LOCK_RWLOCK: return "rwlock";
    case FSAN_LOCK_SEM: return "semaphore";
    case FSAN_LOCK_COND: return "condition variable";
    case FSAN_LOCK_PYMUTEX: return "CPython lock";
    }
    return "lock";
}

static const char *mutex_kind_word(uint16_t type, uint32_t kind)
{
    if (type != FSAN_LOCK_MUTEX)
        return "";
    switch (kind & FSAN_KIND_TYPE_MASK) {
    case FSAN_KIND_RECURSIVE: return "recursive ";
    case FSAN_KIND_ERRORCHECK: return "error-checking ";
    }
    return "";
}

/* The child dealt with the lock: released, re-initialised or destroyed it. */
static int child_cleared(const struct fsan_trace *t, uint64_t addr)
{
    for (size_t i = 0; i < t->nlock_events; i++)
        if (t->lock_events[i].ev.lock_addr == addr)
            return 1;
    return 0;
}

/* Safe mode took care of this lock (quiesced it before the fork, gave it
 * to the child's thread, or re-initialised it when the child took it):
 * the remedied note says what was done and what risk remains, and a
 * held-lock finding would say a hang that no longer happens. */
static int child_remedied(const struct fsan_trace *t, uint64_t addr)
{
    for (size_t i = 0; i < t->nremedies; i++) {
        const struct fsan_rec_remedy *r = &t->remedies[i];
        if (r->object == addr && (r->kind == FSAN_REMEDY_QUIESCE || r->kind == FSAN_REMEDY_ADOPT ||
                                  r->kind == FSAN_REMEDY_REINIT))
            return 1;
    }
    return 0;
}

static int child_deadlocked_on(const struct fsan_trace *t, uint64_t addr)
{
    for (size_t i = 0; i < t->ndeadlocks; i++)
        if (t->deadlocks[i].lock_addr == addr)
            return 1;
    return 0;
}

/* The locks that the vanished threads of one child left held: certain
 * when the child deadlocked on one, else the orphaned-lock findings
 * (fingerprints) that say so.  stranded_wait: the child waits forever on
 * a condition variable that only vanished threads signalled. */
struct left_locks {
    int certain;
    char (*orphans)[17];
    size_t norphans;
    int stranded_wait;
    int unseen_holder; /* the child deadlocked on a lock whose holder is not recorded */
};

static void add_orphan(struct fsan_builder *c, struct left_locks *left, const char *fingerprint)
{
    char (*grown)[17] = realloc(left->orphans, (left->norphans + 1) * sizeof *grown);
    if (!grown) {
        c->oom = 1;
        left->certain = 1;
        return;
    }
    left->orphans = grown;
    memcpy(left->orphans[left->norphans++], fingerprint, sizeof *grown);
}

/* The condition variable form: the child waits, untimed and alone, on a
 * condition variable that before the fork only threads that vanished had
 * signalled.  The signaller the record names is shown where it signalled
 * and as a vanished thread (where it was created). */
static void rule_child_cond_wait(struct fsan_builder *c, const struct fsan_trace *t, const struct fsan_rec_deadlock *d)
{
    struct fsan_finding f;
    char *signaller = thread_label(c, t, d->holder_tid);
    char *others = d->kind > 1 ? xprintf(c, " and %u other thread%s that vanished", d->kind - 1, d->kind == 2 ? "" : "s")
                               : xstrdup(c, "");
    start_finding(&f, FSAN_RULE_CHILD_DEADLOCK, FSAN_SEV_ERROR,
                  xprintf(c, "forked child waits forever on condition variable 0x%llx: before the fork it was signalled only by %s%s, which vanished at the fork, and the child has no other thread to signal it",
                          (unsigned long long)d->lock_addr, signaller ? signaller : "a thread", others ? others : ""));
    struct fsan_location *attempt = site_location(c, &f, t, FSAN_ROLE_ATTEMPT, d->tid, d->attempt_site,
                                                  xprintf(c, "the child waits on the condition variable at:"));
    finish_location(c, attempt, t, FSAN_PYREF_ATTEMPT, d->lock_addr, (d->flags & FSAN_DLF_ATTEMPT_SITE_SHARED) != 0);
    struct fsan_location *signalled = site_location(c, &f, t, FSAN_ROLE_SIGNALLED, d->holder_tid, d->acquire_site,
                                                    xprintf(c, "signalled before the fork by %s (vanished in the child) at:",
                                                            signaller ? signaller : "a thread"));
    finish_location(c, signalled, t, 0, 0, (d->flags & FSAN_DLF_ACQUIRE_SITE_SHARED) != 0); /* no Python stack */
    const struct fsan_rec_thread *th = thread_by_tid(t, d->holder_tid);
    if (th)
        thread_location(c, &f, t, th);
    fork_location(c, &f, t);
    free(signaller);
    free(others);
    commit_finding(c, &f, t);
}

static void rule_child_deadlock(struct fsan_builder *c, const struct fsan_trace *t, const struct fsan_rec_deadlock *d)
{
    if (d->form == FSAN_DL_COND_VANISHED_SIGNALLER) {
        rule_child_cond_wait(c, t, d);
        return;
    }
    struct fsan_finding f;
    char *holder = d->holder_tid ? thread_label(c, t, d->holder_tid) : NULL;
    char *msg;
    const char *noun = lock_noun(d->lock_type);
    const char *kw = mutex_kind_word(d->lock_type, d->kind);
    switch (d->form) {
    case FSAN_DL_VANISHED_HOLDER:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: it was held at fork by %s, which does not exist in the child",
                      kw, noun, (unsigned long long)d->lock_addr, holder ? holder : "another thread");
        break;
    case FSAN_DL_FORKER_REACQUIRE:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: the forking thread held it at fork and the child takes it again",
                      kw, noun, (unsigned long long)d->lock_addr);
        break;
    case FSAN_DL_HOLDER_UNRECORDED:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: it is held, and the child has one thread, which started none since the fork, so nobody can release it (CPython records no holder for a threading.Lock: which thread took it before the fork is not known)",
                      kw, noun, (unsigned long long)d->lock_addr);
        break;
    default:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: its owner, thread %u, does not exist in the child, so nobody can release it",
                      kw, noun, (unsigned long long)d->lock_addr, d->holder_tid);
        break;
    }
    start_finding(&f, FSAN_RULE_CHILD_DEADLOCK, FSAN_SEV_ERROR, msg);
    struct fsan_location *attempt = site_location(c, &f, t, FSAN_ROLE_ATTEMPT, d->tid, d->attempt_site,
                                                  xprintf(c, "the child tries to take the %s at:", noun));
    finish_location(c, attempt, t, FSAN_PYREF_ATTEMPT, d->lock_addr, (d->flags & FSAN_DLF_ATTEMPT_SITE_SHARED) != 0);
    const struct fsan_rec_thread *th = d->holder_tid ? thread_by_tid(t, d->holder_tid) : NULL;
    if (d->lock_type == FSAN_LOCK_PYMUTEX) {
        /* Where a PyMutex was taken is not seen (no interposer sees the
         * compare-and-swap): the owner it records, as it was at fork. */
        if (th && d->form == FSAN_DL_VANISHED_HOLDER)
            thread_location(c, &f, t, th);
    } else if (d->acquire_site || (d->holder_tid && d->form != FSAN_DL_OWNER_GONE)) {
        char *desc = d->form == FSAN_DL_VANISHED_HOLDER
                         ? xprintf(c, "held at fork by %s (vanished in the child), acquired at:", holder ? holder : "a thread")
                         : xprintf(c, "held at fork by the forking thread, acquired at:");
        struct fsan_location *loc = site_location(c, &f, t, FSAN_ROLE_ACQUIRED, d->holder_tid, d->acquire_site, desc);
        if (loc && d->form == FSAN_DL_FORKER_REACQUIRE)
            set_thread(c, loc, t, 0);
        /* Where the holder took this lock: the snapshot's HELD of it. */
        finish_location(c, loc, t, FSAN_PYREF_HELD, d->lock_addr, (d->flags & FSAN_DLF_ACQUIRE_SITE_SHARED) != 0);
    }
    fork_location(c, &f, t);
    free(holder);
    commit_finding(c, &f, t);
}

/* ---- locks a runtime abandons in the child -------------------------------- */

#define FSAN_RUNTIME_LOCK(fn, file, what) {fn, file, what},
static const struct fsan_frame_glob runtime_locks[] = {
#include "runtimelocks.def"
};
#undef FSAN_RUNTIME_LOCK

/* Was the lock taken where a language runtime takes a lock it replaces in
 * the child (runtimelocks.def, by the innermost Python frame only)? */
static int runtime_abandons(const struct fsan_trace *t, uint64_t addr)
{
    const struct fsan_trace_pysite *ps = python_stack(t, FSAN_PYREF_HELD, addr);
    if (!ps || !ps->frames[0].function || !ps->frames[0].file)
        return 0;
    return fsan_frame_glob_find(runtime_locks, sizeof runtime_locks / sizeof runtime_locks[0],
                                ps->frames[0].function, ps->frames[0].file) != NULL;
}

static void rule_held(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t,
                      const struct fsan_rec_held *h, struct left_locks *left)
{
    if ((h->kind & FSAN_KIND_PSHARED) || (h->flags & (FSAN_HELD_SELF_WAIT | FSAN_HELD_FORK_CALL | FSAN_HELD_AVAILABLE)) ||
        runtime_abandons(t, h->lock_addr) || child_cleared(t, h->lock_addr) || child_remedied(t, h->lock_addr) ||
        child_deadlocked_on(t, h->lock_addr) || child_execed(set, t))
        return;
    const struct fsan_rec_thread *holder = thread_by_tid(t, h->holder_tid);
    int by_forker = holder && (holder->flags & FSAN_THREAD_FORKER);
    const char *noun = lock_noun(h->lock_type);
    const char *kw = mutex_kind_word(h->lock_type, h->kind);
    struct fsan_finding f;
    if (by_forker) {
        start_finding(&f, FSAN_RULE_INHERITED_HELD_LOCK, FSAN_SEV_NOTE,
                      xprintf(c, "%s%s 0x%llx was held by the forking thread at fork and is still held in the child (%s)",
                              kw, noun, (unsigned long long)h->lock_addr,
                              /* A mutex records its owner by tid, which the child's
                               * thread no longer has; a semaphore records none, and a
                               * recursive lock built on one (CPython's RLock) still
                               * belongs to the thread that forked. */
                              h->lock_type == FSAN_LOCK_SEM
                                  ? "a plain lock taken again there deadlocks; a recursive one the thread owns, such as CPython's RLock, does not"
                                  : "taking it again there deadlocks"));
        struct fsan_location *loc = site_location(c, &f, t, FSAN_ROLE_ACQUIRED, h->holder_tid, h->acquire_site,
                                                  xprintf(c, "acquired by the forking thread at:"));
        finish_location(c, loc, t, FSAN_PYREF_HELD, h->lock_addr, (h->flags & FSAN_HELD_SITE_SHARED) != 0);
    } else {
        char *label = thread_label(c, t, h->holder_tid);
        /* Readers still get into a read-held rwlock; a writer waits for
         * the vanished reader forever. */
        int read_held = h->lock_type == FSAN_LOCK_RWLOCK && h->mode == FSAN_MODE_READ;
        start_finding(&f, FSAN_RULE_ORPHANED_LOCK, FSAN_SEV_WARNING,
                      xprintf(c, "%s%s 0x%llx was held at fork by %s, which does not exist in the child; the child never re-initialised it, so the first attempt to take it %sthere hangs",
                              kw, noun, (unsigned long long)h->lock_addr, label ? label : "a thread",
                              read_held ? "for writing " : ""));
        struct fsan_location *loc = site_location(c, &f, t, FSAN_ROLE_ACQUIRED, h->holder_tid, h->acquire_site,
                                                  xprintf(c, "acquired by %s at:", label ? label : "the vanished thread"));
        finish_location(c, loc, t, FSAN_PYREF_HELD, h->lock_addr, (h->flags & FSAN_HELD_SITE_SHARED) != 0);
        free(label);
    }
    fork_location(c, &f, t);
    commit_finding(c, &f, t);
    if (!by_forker)
        add_orphan(c, left, f.fingerprint);
}

/* The message of threads-at-fork, for a vanished thread that did or did
 * not leave a lock held. */
static char *threads_message(struct fsan_builder *c, size_t vanished, int vanished_left_lock, int stranded_wait,
                             int unseen_holder)
{
    /* Say what was observed, no more: forksan sees pthread locks and
     * semaphores, not locks built directly on futexes, nor who holds a
     * CPython PyMutex (a plain threading.Lock from 3.13.1): a child that
     * deadlocked on one may have been left it by a vanished thread or by
     * the forking thread, and forksan cannot say which. */
    const char *why = vanished_left_lock ? "; at least one of them left a lock held that the child never released"
                    : stranded_wait ? "; the child waits forever on a condition variable that only threads among them signalled"
                    : unseen_holder ? "; the child blocked forever on a lock held at fork whose holder forksan cannot see (a CPython PyMutex, such as threading.Lock from 3.13.1): one of them or the forking thread"
                                    : "; none of them left a lock held that the child could still take (forksan sees pthread locks and semaphores, not locks built directly on futexes)";
    return xprintf(c, "%zu other thread%s alive at fork and vanished in the child%s", vanished,
                   vanished == 1 ? " was" : "s were", why);
}

/* threads-at-fork is a warning when a vanished thread left a lock behind:
 * certainly when the child deadlocked on it, or while one of the
 * orphaned-lock findings it left is reported (a lock suppressed as a
 * runtime internal, such as CPython's logging lock that its at-fork hook
 * replaces, must not make it a warning: the pipeline settles that after
 * the suppressions, fsan_apply_downgrades). */
static void rule_threads_at_fork(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t,
                                 const struct left_locks *left)
{
    size_t vanished = 0;
    for (size_t i = 0; i < t->nthreads; i++)
        vanished += (t->threads[i].flags & FSAN_THREAD_VANISHED) != 0;
    if (vanished == 0)
        return;
    /* Fork-then-exec is the safe pattern: the vanished threads matter only
     * until the exec, and what the child may call until then is the
     * business of a linter, not of this run. */
    if (child_execed(set, t))
        return;
    int vanished_left_lock = left->certain || left->norphans;
    enum fsan_severity sev = vanished_left_lock || left->stranded_wait ? FSAN_SEV_WARNING : FSAN_SEV_NOTE;
    struct fsan_finding f;
    start_finding(&f, FSAN_RULE_THREADS_AT_FORK, sev,
                  threads_message(c, vanished, vanished_left_lock, left->stranded_wait, left->unseen_holder));
    fork_location(c, &f, t);
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].flags & FSAN_THREAD_VANISHED)
            thread_location(c, &f, t, &t->threads[i]);
    if (left->certain || left->stranded_wait || !left->norphans)
        commit_finding(c, &f, t);
    else
        commit_downgradable(c, &f, t, left->orphans, left->norphans, threads_message(c, vanished, 0, 0, left->unseen_holder));
}

void fsan_rules_locks(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (t->proc.kind != FSAN_PROC_FORK)
        return;
    for (size_t i = 0; i < t->ndeadlocks; i++)
        rule_child_deadlock(c, t, &t->deadlocks[i]);
    struct left_locks left = {0, NULL, 0, 0, 0};
    for (size_t i = 0; i < t->nheld; i++) {
        const struct fsan_rec_held *h = &t->held[i];
        const struct fsan_rec_thread *holder = thread_by_tid(t, h->holder_tid);
        if (!(h->kind & FSAN_KIND_PSHARED) && holder && (holder->flags & FSAN_THREAD_VANISHED) &&
            child_deadlocked_on(t, h->lock_addr))
            left.certain = 1;
        rule_held(c, set, t, h, &left);
    }
    for (size_t i = 0; i < t->ndeadlocks; i++) {
        left.certain |= t->deadlocks[i].form == FSAN_DL_VANISHED_HOLDER;
        left.stranded_wait |= t->deadlocks[i].form == FSAN_DL_COND_VANISHED_SIGNALLER;
        left.unseen_holder |= t->deadlocks[i].form == FSAN_DL_HOLDER_UNRECORDED;
    }
    rule_threads_at_fork(c, set, t, &left);
    free(left.orphans);
}

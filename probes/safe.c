/* safe.c — safe mode: the remedies made around a fork, so that the child
 * survives the hazards the runtime sees (FORKSAN_OPTIONS=mode=safe,
 * forksan run --mode safe, or one fork through forksan_safe_fork()).
 *
 * Before the fork, in the forking thread, from the runtime's atfork
 * prepare handler (which runs after the program's own prepare handlers):
 * C stdio streams holding unflushed output are flushed (stdio.c), and
 * every lock another thread holds is *quiesced*: tried without blocking
 * until its holder lets go or the budget (safe_quiesce_ms) runs out, held
 * across the fork, and released in parent and child — a pthread_atfork
 * handler for every lock at once.  In the child, this file hands the
 * forking thread's recursive and error-checking mutexes (and write-held
 * rwlocks) to the child's thread, and resets a lock that a vanished thread
 * still held when the child first takes it (child.c decides, locks.c asks).
 * The epoll remedy lives with the loop table, in loops.c.  Every remedy,
 * and every remedy not made, is a REMEDY record in the child's trace: the
 * analyzer's rule `remedied` reports each one.
 *
 * DESIGN
 * Only try-acquires, never a blocking one: two threads waiting on each
 * other while a third forks cost the fork the budget, never a deadlock.
 * The quiesce runs with the parent's other threads still going, so it
 * reads their held-lock stacks as the snapshot does (published entries
 * only) and checks a lock's memory is still mapped (a fault-proof read)
 * before each try; a semaphore destroyed meanwhile is left alone (a note
 * says so when it was destroyed while still held).  A
 * Python thread needs the GIL to reach its release, and os.fork() holds
 * the GIL, so the wait lets it go (python.c).  Nothing here runs in the
 * parent after the fork but the releases; everything the child runs is
 * AS-safe: raw memory writes to glibc's public lock layouts, the real
 * unlock calls, and the trace writer.  The tables are fixed: locks beyond
 * SAFE_MAX_TAKEN are not quiesced and fall through to the child's reset.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fsan.h"

#define SAFE_MAX_TAKEN 64
#define SAFE_MAX_FLUSHED 16
#define SAFE_POLL_NS 100000 /* between two rounds of tries: lets the holders run */

struct taken_lock {
    uintptr_t addr;
    uint16_t type;
    uint32_t site;     /* where the holder took it */
    uint32_t pysite;
    pid_t holder;
    uint64_t waited_us;
};

/* What the prepare handler did, read by the child (and by the parent's
 * handler, for the releases).  Written before the fork only. */
int fsan__safe_in_handler; /* this fork was made in a signal handler: no remedy */
_Atomic uintptr_t fsan__sem_destroyed_held;
static struct taken_lock taken[SAFE_MAX_TAKEN];
static uint32_t ntaken;
static struct {
    int fd;
    uint64_t bytes;
} flushed[SAFE_MAX_FLUSHED];
static uint32_t nflushed;
static int busy_fd = -1;       /* a stream left unflushed: it was locked */
static uint64_t busy_bytes;
static uint32_t unmapped;      /* locks whose memory was gone */
static uintptr_t unmapped_addr;
static uint32_t destroyed;     /* semaphores destroyed while waited for */
static uintptr_t destroyed_addr;

FSAN_TLS int fsan__safe_once;

/* ---- before the fork -------------------------------------------------------- */

static void stream_found(int fd, uint64_t bytes, int done)
{
    if (!done) {
        if (busy_fd < 0) {
            busy_fd = fd;
            busy_bytes = bytes;
        }
        return;
    }
    if (nflushed < SAFE_MAX_FLUSHED) {
        flushed[nflushed].fd = fd;
        flushed[nflushed].bytes = bytes;
        nflushed++;
    }
}

static int lock_size(uint16_t type)
{
    switch (type) {
    case FSAN_LOCK_MUTEX: return (int)sizeof(pthread_mutex_t);
    case FSAN_LOCK_RWLOCK: return (int)sizeof(pthread_rwlock_t);
    default: return (int)sizeof(sem_t);
    }
}

/* Is the lock's memory still there?  A fault-proof read. */
static int lock_mapped(uintptr_t addr, uint16_t type)
{
    char copy[sizeof(pthread_rwlock_t) > sizeof(pthread_mutex_t) ? sizeof(pthread_rwlock_t) : sizeof(pthread_mutex_t)];
    return fsan__read_mem(copy, addr, (size_t)lock_size(type)) == 0;
}

/* One try.  1: taken; 0: still held; -1: leave it (gone). */
static int try_take(const struct taken_lock *c)
{
    if (!lock_mapped(c->addr, c->type)) {
        unmapped++;
        unmapped_addr = c->addr;
        return -1;
    }
    int rc;
    switch (c->type) {
    case FSAN_LOCK_MUTEX:
        rc = REAL(pthread_mutex_trylock)((pthread_mutex_t *)c->addr);
        return rc == 0 || rc == EOWNERDEAD ? 1 : 0;
    case FSAN_LOCK_RWLOCK:
        return REAL(pthread_rwlock_trywrlock)((pthread_rwlock_t *)c->addr) == 0;
    default:
        if (!fsan__sem_known((const void *)c->addr)) { /* destroyed meanwhile */
            /* Released, then destroyed (CPython frees a finished thread's
             * lock so): nothing was left behind.  Destroyed while still
             * held: the note says why it was not quiesced. */
            if (atomic_load_explicit(&fsan__sem_destroyed_held, memory_order_relaxed) == c->addr) {
                destroyed++;
                destroyed_addr = c->addr;
            }
            return -1;
        }
        return REAL(sem_trywait)((sem_t *)c->addr) == 0;
    }
}

static void release(const struct taken_lock *c)
{
    switch (c->type) {
    case FSAN_LOCK_MUTEX: REAL(pthread_mutex_unlock)((pthread_mutex_t *)c->addr); break;
    case FSAN_LOCK_RWLOCK: REAL(pthread_rwlock_unlock)((pthread_rwlock_t *)c->addr); break;
    default: REAL(sem_post)((sem_t *)c->addr); break;
    }
}

/* A semaphore with units left is not in use as a lock: a try would take
 * a unit nobody waits for.  Read from a copy (fault-proof). */
static int sem_has_units(uintptr_t addr)
{
    sem_t copy;
    int value = 0;
    return fsan__read_mem(&copy, addr, sizeof copy) == 0 && sem_getvalue(&copy, &value) == 0 && value > 0;
}

static int already_listed(const struct taken_lock *list, uint32_t n, uintptr_t addr)
{
    for (uint32_t i = 0; i < n; i++)
        if (list[i].addr == addr)
            return 1;
    return 0;
}

/* The locks other threads hold now, as their published stacks say.
 * Left out: process-shared locks (another process may hold them, and
 * they are never a fork hazard), a semaphore its holder is itself waiting
 * on (a signal, not a lock: CPython's Condition), and CPython's
 * thread-state locks, held for a thread's whole life. */
static uint32_t collect(const struct fsan__thread *self, struct taken_lock *out)
{
    uint32_t n = 0;
    uint32_t hwm = atomic_load_explicit(&fsan__threads_hwm, memory_order_acquire);
    for (uint32_t i = 0; i < hwm; i++) {
        const struct fsan__thread *t = &fsan__threads[i];
        if (t == self || atomic_load_explicit(&t->state, memory_order_acquire) != FSAN_SLOT_LIVE)
            continue;
        uint32_t count = atomic_load_explicit(&t->held_count, memory_order_acquire);
        for (uint32_t j = 0; j < count && j < FSAN_MAX_HELD; j++) {
            const struct fsan__held *h = &t->held[j];
            uintptr_t addr = atomic_load_explicit(&h->addr, memory_order_relaxed);
            if (addr == 0 || (h->kind & FSAN_KIND_PSHARED) || already_listed(out, n, addr))
                continue;
            if (h->type == FSAN_LOCK_SEM && (t->waiting_on == addr || sem_has_units(addr)))
                continue;
            if (h->pysite && fsan__py_lifelong_lock(h->pysite))
                continue;
            if (n == SAFE_MAX_TAKEN)
                return n;
            out[n] = (struct taken_lock){addr, h->type, h->site, h->pysite, t->tid, 0};
            n++;
        }
    }
    return n;
}

static void pause_ns(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

static void quiesce(const struct fsan__thread *self)
{
    static struct taken_lock wanted[SAFE_MAX_TAKEN]; /* under glibc's atfork lock: one fork at a time */
    uint32_t n = collect(self, wanted);
    if (n == 0)
        return;
    uint64_t start = fsan__now_ns(CLOCK_MONOTONIC);
    uint64_t deadline = start + (uint64_t)fsan__proc.opts.safe_quiesce_ms * 1000000u;
    uint32_t left = n;
    void *python = NULL;
    int paused = 0;
    for (;;) {
        for (uint32_t i = 0; i < n; i++) {
            if (wanted[i].addr == 0)
                continue;
            int got = try_take(&wanted[i]);
            if (got == 0)
                continue;
            if (got == 1) {
                wanted[i].waited_us = (fsan__now_ns(CLOCK_MONOTONIC) - start) / 1000u;
                taken[ntaken++] = wanted[i];
            }
            wanted[i].addr = 0;
            left--;
        }
        if (left == 0 || fsan__now_ns(CLOCK_MONOTONIC) >= deadline)
            break;
        if (!paused) {
            python = fsan__py_pause();
            paused = 1;
        }
        pause_ns(SAFE_POLL_NS);
    }
    if (paused)
        fsan__py_resume(python);
    /* Locks still held now fall through to the child: reset when it takes
     * them (fsan__child_safe_reinit), which reports it then. */
}

/* See fsan.h. */
void fsan__safe_prepare(const struct fsan__thread *self)
{
    ntaken = nflushed = unmapped = destroyed = 0;
    busy_fd = -1;
    /* A handler may have stopped the program anywhere, holding a stream
     * or a lock: flushing or waiting there is not safe.  The child is
     * told why nothing was done, and does nothing either. */
    fsan__safe_in_handler = fsan__in_signal_handler();
    if (fsan__safe_in_handler)
        return;
    fsan__stdio_safe_flush(stream_found);
    quiesce(self);
}

/* See fsan.h. */
void fsan__safe_parent(void)
{
    for (uint32_t i = 0; i < ntaken; i++)
        release(&taken[i]);
}

/* ---- in the child ------------------------------------------------------------ */

/* AS-safe: without a trace directory (a bare LD_PRELOAD) no report will
 * say what safe mode did, so the child says it in one line, as it does a
 * deadlock it sees coming: nothing is remedied silently. */
static void say_remedy(const struct fsan_rec_remedy *r)
{
    if (fsan__proc.opts.trace_dir[0] || !fsan__proc.opts.child_report)
        return;
    char msg[256];
    struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
    fsan__sb_str(&sb, "remedied (safe mode): ");
    switch (r->kind) {
    case FSAN_REMEDY_FLUSH:
        fsan__sb_str(&sb, "flushed the output buffered for descriptor ");
        fsan__sb_dec(&sb, (int64_t)r->object);
        fsan__sb_str(&sb, " before the fork, so it is written once");
        break;
    case FSAN_REMEDY_QUIESCE:
        fsan__sb_str(&sb, "waited for another thread to release lock ");
        fsan__sb_hex(&sb, r->object);
        fsan__sb_str(&sb, " before the fork");
        break;
    case FSAN_REMEDY_REINIT:
        fsan__sb_str(&sb, "re-initialised lock ");
        fsan__sb_hex(&sb, r->object);
        fsan__sb_str(&sb, ", held at fork by a thread the child does not have; the data it protected may be inconsistent");
        break;
    case FSAN_REMEDY_ADOPT:
        fsan__sb_str(&sb, "lock ");
        fsan__sb_hex(&sb, r->object);
        fsan__sb_str(&sb, ", held by the forking thread, now belongs to the child's thread");
        break;
    case FSAN_REMEDY_EPOLL:
        fsan__sb_str(&sb, "the child got its own copy of the epoll instance on descriptor ");
        fsan__sb_dec(&sb, (int64_t)r->object);
        break;
    default:
        fsan__sb_str(&sb, "a hazard could not be remedied");
        break;
    }
    fsan__sb_str(&sb, " (set FORKSAN_OPTIONS=trace_dir=DIR, or use forksan run, for where)");
    msg[sb.len] = '\0';
    fsan__log("NOTE", msg);
}

/* AS-safe: one REMEDY record, with the sites it names, written at once (a
 * child is often ended by a signal). */
void fsan__safe_record(const struct fsan_rec_remedy *r, uint32_t acquire_pysite)
{
    int saved = errno;
    say_remedy(r);
    fsan__trace_mark_needed();
    fsan__child_note_finding();
    fsan__site_write(r->site);
    fsan__site_write(r->acquire_site);
    fsan__pysite_write(r->pysite);
    if (acquire_pysite)
        fsan__child_pyref(FSAN_PYREF_HELD, acquire_pysite, r->object);
    fsan__trace_maps();
    fsan__trace_record(FSAN_REC_REMEDY, r, sizeof *r, NULL, 0);
    fsan__trace_flush();
    errno = saved;
}

/* AS-safe: the lock at addr is now owned by the calling thread where its
 * owner was the forking thread's parent identity (glibc records a
 * mutex's owner, and an rwlock's writer, by kernel thread id). */
static void adopt_owner(uintptr_t addr, uint16_t type, pid_t parent_tid, pid_t me)
{
    if (type == FSAN_LOCK_MUTEX) {
        pthread_mutex_t *m = (pthread_mutex_t *)addr;
        if (m->__data.__owner == parent_tid)
            m->__data.__owner = me;
    } else if (type == FSAN_LOCK_RWLOCK) {
        pthread_rwlock_t *rw = (pthread_rwlock_t *)addr;
        if (rw->__data.__cur_writer == parent_tid)
            rw->__data.__cur_writer = me;
    }
}

/* AS-safe: the forking thread's own recursive and error-checking mutexes
 * and write-held rwlocks become the child thread's. */
static void adopt_forker_locks(struct fsan__thread *forker, pid_t parent_tid, pid_t me)
{
    uint32_t count = atomic_load(&forker->held_count);
    for (uint32_t j = 0; j < count && j < FSAN_MAX_HELD; j++) {
        const struct fsan__held *h = &forker->held[j];
        uintptr_t addr = atomic_load(&h->addr);
        uint32_t type = h->kind & FSAN_KIND_TYPE_MASK;
        int mutex = h->type == FSAN_LOCK_MUTEX && h->kind == type &&
                    (type == FSAN_KIND_RECURSIVE || type == FSAN_KIND_ERRORCHECK);
        int writer = h->type == FSAN_LOCK_RWLOCK && h->mode == FSAN_MODE_WRITE && !(h->kind & FSAN_KIND_PSHARED);
        if (addr == 0 || !(mutex || writer) || !lock_mapped(addr, h->type))
            continue;
        pid_t owner = mutex ? fsan__mutex_owner((pthread_mutex_t *)addr)
                            : fsan__rwlock_writer((pthread_rwlock_t *)addr);
        if (owner != parent_tid)
            continue;
        adopt_owner(addr, h->type, parent_tid, me);
        struct fsan_rec_remedy r = {.object = addr, .kind = FSAN_REMEDY_ADOPT, .tid = (uint32_t)me,
                                    .acquire_site = h->site, .holder_tid = (uint32_t)parent_tid,
                                    .lock_type = h->type};
        fsan__safe_record(&r, 0);
    }
}

static void record_skipped(uint32_t reason, uint64_t object, uint64_t amount)
{
    struct fsan_rec_remedy r = {.object = object, .amount = amount, .kind = FSAN_REMEDY_SKIPPED,
                                .reason = reason, .tid = (uint32_t)fsan__sys_gettid()};
    fsan__safe_record(&r, 0);
}

/* AS-safe: the first thing after the snapshot in a child of a safe fork:
 * the locks quiesced before the fork are released (after the child's
 * thread became their owner), and what the prepare handler did is
 * recorded. */
void fsan__safe_child(pid_t parent_tid)
{
    pid_t me = (pid_t)fsan__sys_gettid();
    if (fsan__safe_in_handler) {
        record_skipped(FSAN_RMR_SIGNAL_HANDLER, 0, 0);
        return;
    }
    for (uint32_t i = 0; i < ntaken; i++) {
        adopt_owner(taken[i].addr, taken[i].type, parent_tid, me);
        release(&taken[i]);
    }
    for (uint32_t i = 0; i < nflushed; i++) {
        struct fsan_rec_remedy r = {.object = (uint64_t)(int64_t)flushed[i].fd, .amount = flushed[i].bytes,
                                    .kind = FSAN_REMEDY_FLUSH, .tid = (uint32_t)me};
        fsan__safe_record(&r, 0);
    }
    for (uint32_t i = 0; i < ntaken; i++) {
        struct fsan_rec_remedy r = {.object = taken[i].addr, .amount = taken[i].waited_us,
                                    .kind = FSAN_REMEDY_QUIESCE, .tid = (uint32_t)me,
                                    .acquire_site = taken[i].site, .holder_tid = (uint32_t)taken[i].holder,
                                    .lock_type = taken[i].type};
        fsan__safe_record(&r, taken[i].pysite);
    }
    if (busy_fd >= 0)
        record_skipped(FSAN_RMR_STREAM_BUSY, (uint64_t)(int64_t)busy_fd, busy_bytes);
    if (unmapped)
        record_skipped(FSAN_RMR_UNMAPPED, unmapped_addr, unmapped);
    if (destroyed)
        record_skipped(FSAN_RMR_DESTROYED, destroyed_addr, destroyed);
}

/* AS-safe: fork() returned in the child of a safe fork, after every
 * atfork child handler: a recursive mutex that the program's own handler
 * re-initialised has no owner any more and is left alone. */
void fsan__safe_adopt(struct fsan__thread *forker, pid_t parent_tid)
{
    if (forker && !fsan__safe_in_handler)
        adopt_forker_locks(forker, parent_tid, (pid_t)fsan__sys_gettid());
}

/* AS-safe: a lock held at fork by a thread that vanished, reset to the
 * state its own initialiser gives it, keeping its kind and attributes:
 * for a mutex the kind word (type, robust, process-shared, protocol) and
 * the elision state; for an rwlock its flags (the kind of preference) and
 * whether it is shared; a semaphore used as a lock gets back the unit the
 * vanished holder took.  0, or -EFAULT when its memory is gone. */
int fsan__safe_reset_lock(uintptr_t addr, uint16_t type)
{
    if (!lock_mapped(addr, type))
        return -EFAULT;
    if (type == FSAN_LOCK_MUTEX) {
        pthread_mutex_t *m = (pthread_mutex_t *)addr;
        int kind = m->__data.__kind;
        short spins = m->__data.__spins, elision = m->__data.__elision;
        memset(m, 0, sizeof *m);
        m->__data.__kind = kind;
        m->__data.__spins = spins;
        m->__data.__elision = elision;
    } else if (type == FSAN_LOCK_RWLOCK) {
        pthread_rwlock_t *rw = (pthread_rwlock_t *)addr;
        unsigned int flags = rw->__data.__flags;
        int shared = rw->__data.__shared;
        memset(rw, 0, sizeof *rw);
        rw->__data.__flags = flags;
        rw->__data.__shared = shared;
    } else {
        /* glibc's sem_t: the value in the low 32 bits of the first word,
         * the waiters above (they vanished too); the private flag stays. */
        *(uint64_t *)addr = 1;
    }
    return 0;
}

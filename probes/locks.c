/* locks.c — interposers for pthread mutexes, rwlocks, POSIX semaphores and
 * the condition waits that release and retake a mutex.
 *
 * On the normal path every interposer calls the real function and then
 * pushes or pops the calling thread's held-lock stack: one TLS load, one
 * hash probe for the call site, a few stores.  errno and the return value
 * are exactly the real function's.
 *
 * The uncontended mutex (the normal kind, process-private: nearly every
 * mutex) has a fast path of its own, measured in instructions
 * (tests/perf/lockpath_instructions.py): the thread's slot, a few compares,
 * two stores to stage the entry above the top of the stack, the real call,
 * one store to publish it; the unlock compares the top entry and drops it.
 * A staged entry is read by nobody, so a thread blocked in the real call
 * holds nothing in a snapshot, as before.  The call site comes from a
 * one-entry cache in the thread's slot (the return address of its last
 * mutex acquire on the general path and that site's id): the general path
 * is where a site seen for the first time is interned, so the fast path
 * never captures a stack.  Everything else — another kind, no slot yet,
 * the runtime's own calls (fsan__guard), a fork child, a full stack,
 * another call site — goes to the general path below, unchanged.
 *
 * DESIGN
 * In a forked child (fsan__proc.in_child) a blocking acquire first tries the
 * non-blocking variant.  If that succeeds, the result is the same as the
 * blocking call would have produced.  If the lock is unavailable, the child
 * asks child.c whether anybody can ever release it; if not, the hazard is
 * recorded *before* the call blocks, so a hung child has explained itself.
 * Then, in observe mode, the real blocking call runs (it hangs exactly as it
 * would have); in strict mode the child waits out a grace period (a signal
 * handler might still release the lock) and then ends.
 *
 * A lock's kind (recursive, error-checking, robust, process-shared) is read
 * from the lock itself through glibc's public structure layout rather than
 * remembered from its init call: statically initialised locks never call
 * init, and the lock always knows its own kind.  A lock is released from the
 * bookkeeping before the real unlock and recorded after the real lock, so
 * the snapshot may miss a hold that is a few instructions old but never
 * reports a lock that is already free.
 */
#include <errno.h>
#include <time.h>

#include "fsan.h"

/* ---- glibc lock introspection (layouts from <bits/struct_mutex.h> etc.) -- */

/* glibc's mutex __kind: low bits type, 16 robust, 128 process-shared. */
#define GLIBC_MUTEX_KIND_MASK 3
#define GLIBC_MUTEX_ROBUST 16
#define GLIBC_MUTEX_PSHARED 128
/* sem_t: {u64 value+waiters; int private;}: glibc stores FUTEX_SHARED (128)
 * for a process-shared semaphore and 0 for a private one. */
struct glibc_sem {
    uint64_t data;
    int private_flag;
    int pad;
};

uint32_t fsan__mutex_kind(const pthread_mutex_t *m)
{
    int k = m->__data.__kind;
    uint32_t kind = (uint32_t)(k & GLIBC_MUTEX_KIND_MASK);
    if (k & GLIBC_MUTEX_ROBUST)
        kind |= FSAN_KIND_ROBUST;
    if (k & GLIBC_MUTEX_PSHARED)
        kind |= FSAN_KIND_PSHARED;
    return kind;
}

pid_t fsan__mutex_owner(const pthread_mutex_t *m)
{
    return (pid_t)(m->__data.__owner & 0x3fffffff); /* robust/PI keep flags in the top bits */
}

uint32_t fsan__rwlock_kind(const pthread_rwlock_t *rw)
{
    return rw->__data.__shared ? FSAN_KIND_PSHARED : 0;
}

pid_t fsan__rwlock_writer(const pthread_rwlock_t *rw)
{
    return (pid_t)rw->__data.__cur_writer;
}

uint32_t fsan__sem_kind(const sem_t *s)
{
    const struct glibc_sem *g = (const struct glibc_sem *)s;
    return g->private_flag != 0 ? FSAN_KIND_PSHARED : 0;
}

/* ---- shared helpers ------------------------------------------------------ */

static inline int watching(void)
{
    return fsan__active() && !fsan__guard;
}

/* A process-shared lock is never a fork hazard (another process can
 * release it) and is often released by another process, which would leave
 * its entry in this thread's table for good: it is not tracked. */
static inline __attribute__((always_inline)) void note_acquired(const void *lock, uint16_t type, uint16_t mode, uint32_t kind, uintptr_t ret)
{
    if (FSAN_UNLIKELY(kind & FSAN_KIND_PSHARED))
        return;
    struct fsan__thread *t = fsan__self();
    if (FSAN_UNLIKELY(!t))
        return;
    fsan__held_push_fast(t, (uintptr_t)lock, type, mode, kind, fsan__site_of_obj(ret, (uintptr_t)lock));
}

static inline __attribute__((always_inline)) void note_released(const void *lock)
{
    struct fsan__thread *t = fsan__self_peek();
    if (FSAN_LIKELY(t != NULL))
        fsan__held_pop_fast(t, (uintptr_t)lock);
}

/* A mutex acquired on the general path.  Its site also goes into the fast
 * path's cache (the return address last, so the pair never pairs a return
 * address with another call's site, even for a signal handler that runs
 * in between). */
static void note_mutex_acquired(pthread_mutex_t *m, uintptr_t ret)
{
    uint32_t kind = fsan__mutex_kind(m);
    if (FSAN_UNLIKELY(kind & FSAN_KIND_PSHARED))
        return;
    struct fsan__thread *t = fsan__self();
    if (FSAN_UNLIKELY(!t))
        return;
    uint32_t site = fsan__site_of_obj(ret, (uintptr_t)m);
    (void)REAL(pthread_mutex_lock); /* looked up for the fast paths (REAL_KNOWN) */
    (void)REAL(pthread_mutex_unlock);
    fsan__held_push_fast(t, (uintptr_t)m, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, kind, site);
    t->lock_ret = 0;
    t->lock_site = site;
    t->lock_ret = ret;
}

/* In a fork child, after the real unlock: did it really release a lock the
 * snapshot holds?  glibc refuses (EPERM) or silently ignores an unlock whose
 * owner, recorded by tid, is the parent's thread — a recursive or
 * error-checking mutex, or an rwlock held for writing — so only a
 * successful unlock that leaves no foreign owner counts. */
static void child_released(const void *lock, int rc, pid_t owner_after)
{
    if (rc != 0 || (owner_after != 0 && owner_after != (pid_t)fsan__sys_gettid()))
        return;
    int saved = errno;
    fsan__child_lock_event((uintptr_t)lock, FSAN_LOCKEV_RELEASED, 0);
    errno = saved;
}

static uint32_t site_of(uintptr_t ret)
{
    return fsan__site_of(ret);
}

/* Absolute CLOCK_MONOTONIC deadline for the strict grace period. */
static struct timespec grace_deadline(void)
{
    uint64_t ns = fsan__now_ns(CLOCK_MONOTONIC) + (uint64_t)fsan__proc.opts.strict_grace_ms * 1000000u;
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return ts;
}

/* A doomed child ends rather than hangs: strict mode, and safe mode for
 * what it cannot remedy. */
static int strict(void)
{
    return fsan__proc.opts.mode == FSAN_MODE_STRICT || fsan__proc.safe_fork;
}

/* ---- mutexes ------------------------------------------------------------- */

/* In the fork child: returns the trylock result unless the lock is busy,
 * in which case the hazard check runs and EBUSY is returned. */
static int child_mutex_try(pthread_mutex_t *m, uint16_t op, uintptr_t ret, int *hazard)
{
    uint32_t kind = fsan__mutex_kind(m);
    *hazard = 0;
    if (kind & FSAN_KIND_PSHARED)
        return EBUSY; /* another process may release it: just block */
    int rc = REAL(pthread_mutex_trylock)(m);
    if (rc != EBUSY)
        return rc;
    pid_t owner = fsan__mutex_owner(m);
    if (owner == (pid_t)fsan__sys_gettid())
        return EBUSY; /* the child's own relock: not a fork hazard */
    if (op != FSAN_OP_LOCK)
        return EBUSY; /* a timed wait ends by itself: not "blocks forever" */
    uint32_t site = fsan__site_of_obj(ret, (uintptr_t)m);
    if (fsan__proc.safe_fork && fsan__child_safe_reinit((uintptr_t)m, FSAN_LOCK_MUTEX, kind, owner, site)) {
        rc = REAL(pthread_mutex_trylock)(m);
        if (rc != EBUSY)
            return rc;
    }
    *hazard = fsan__child_blocked((uintptr_t)m, FSAN_LOCK_MUTEX, op, kind, owner, site);
    return EBUSY;
}

static int mutex_acquire_blocking(pthread_mutex_t *m, uintptr_t ret)
{
    int hazard = 0;
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        int rc = child_mutex_try(m, FSAN_OP_LOCK, ret, &hazard);
        if (rc != EBUSY) {
            if (rc == 0 || rc == EOWNERDEAD)
                note_mutex_acquired(m, ret);
            return rc;
        }
        if (hazard && strict()) {
            struct timespec dl = grace_deadline();
            rc = REAL(pthread_mutex_clocklock)(m, CLOCK_MONOTONIC, &dl);
            if (rc == ETIMEDOUT)
                fsan__child_strict_exit((uintptr_t)m);
            if (rc == 0 || rc == EOWNERDEAD)
                note_mutex_acquired(m, ret);
            return rc;
        }
    }
    int rc = REAL(pthread_mutex_lock)(m);
    if (rc == 0 || rc == EOWNERDEAD)
        note_mutex_acquired(m, ret);
    return rc;
}

/* Off the fast path.  Never inlined, and reached by a tail call: its frame
 * is then the interposer's own, with the user's return address, as the
 * stack capture expects. */
static __attribute__((noinline)) int mutex_lock_slow(pthread_mutex_t *m, uintptr_t ret)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_mutex_lock)(m);
    return mutex_acquire_blocking(m, ret);
}

/* glibc kind bits that keep a mutex off the fast path: a type other than
 * the normal one (a recursive hold deepens its entry), robust,
 * process-shared.  The rest (elision, priority protocols) change nothing
 * here. */
#define GLIBC_MUTEX_NOT_PLAIN (GLIBC_MUTEX_KIND_MASK | GLIBC_MUTEX_ROBUST | GLIBC_MUTEX_PSHARED)

/* The mutex fast paths call the real functions through REAL_KNOWN: the
 * general path looks both up before it fills the site cache
 * (note_mutex_acquired), and the fast paths run only after that: the lock
 * on a cache hit, the unlock on an entry that a lock pushed.
 *
 * No frame of its own (the runtime is built with frame pointers): the
 * slow path is a tail call, so its frame stands for this one (see
 * mutex_lock_slow), and the fast path calls only the real function. */
__attribute__((optimize("omit-frame-pointer"))) FSAN_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    struct fsan__thread *t = fsan__self_peek(); /* set only once the runtime is active */
    uintptr_t ret = RET_ADDR;
    uint32_t count;
    if (FSAN_UNLIKELY(!t || fsan__guard || fsan__proc.in_child || (m->__data.__kind & GLIBC_MUTEX_NOT_PLAIN) ||
                      t->lock_ret != ret ||
                      (count = atomic_load_explicit(&t->held_count, memory_order_relaxed)) >= FSAN_MAX_HELD))
        return mutex_lock_slow(m, ret);
    fsan__held_stage(t, count, (uintptr_t)m, t->lock_site);
    int rc = REAL_KNOWN(pthread_mutex_lock)(m);
    if (FSAN_LIKELY(rc == 0))
        fsan__held_publish(t);
    return rc;
}

FSAN_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    int rc = REAL(pthread_mutex_trylock)(m);
    if ((rc == 0 || rc == EOWNERDEAD) && watching())
        note_mutex_acquired(m, RET_ADDR);
    return rc;
}

FSAN_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_mutex_timedlock)(m, abstime);
    uintptr_t ret = RET_ADDR;
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        int hazard;
        int rc = child_mutex_try(m, FSAN_OP_TIMEDLOCK, ret, &hazard);
        if (rc != EBUSY) {
            if (rc == 0 || rc == EOWNERDEAD)
                note_mutex_acquired(m, ret);
            return rc;
        }
    }
    int rc = REAL(pthread_mutex_timedlock)(m, abstime);
    if (rc == 0 || rc == EOWNERDEAD)
        note_mutex_acquired(m, ret);
    return rc;
}

FSAN_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_mutex_clocklock)(m, clk, abstime);
    uintptr_t ret = RET_ADDR;
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        int hazard;
        int rc = child_mutex_try(m, FSAN_OP_CLOCKLOCK, ret, &hazard);
        if (rc != EBUSY) {
            if (rc == 0 || rc == EOWNERDEAD)
                note_mutex_acquired(m, ret);
            return rc;
        }
    }
    int rc = REAL(pthread_mutex_clocklock)(m, clk, abstime);
    if (rc == 0 || rc == EOWNERDEAD)
        note_mutex_acquired(m, ret);
    return rc;
}

static __attribute__((noinline)) int mutex_unlock_slow(pthread_mutex_t *m)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_mutex_unlock)(m);
    note_released(m);
    if (FSAN_LIKELY(!fsan__proc.in_child))
        return REAL(pthread_mutex_unlock)(m);
    int rc = REAL(pthread_mutex_unlock)(m);
    child_released(m, rc, fsan__mutex_owner(m));
    return rc;
}

/* fsan__tls_fast is NULL in a fork child whose snapshot holds locks: there
 * every release goes to the general path, which tells the snapshot.  The
 * fast path pops without looking at fsan__guard: a hold on top of the
 * stack was pushed outside the runtime's own calls, and is released all
 * the same when one of them releases it. */
FSAN_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    struct fsan__thread *t = fsan__tls_fast;
    if (FSAN_LIKELY(t != NULL && fsan__held_pop_plain(t, (uintptr_t)m)))
        return REAL_KNOWN(pthread_mutex_unlock)(m);
    return mutex_unlock_slow(m);
}

FSAN_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    if (watching()) {
        struct fsan__thread *t = fsan__self_peek();
        if (t)
            fsan__held_pop(t, (uintptr_t)m);
        if (fsan__proc.in_child)
            fsan__child_lock_event((uintptr_t)m, FSAN_LOCKEV_REINIT, site_of(RET_ADDR));
    }
    return REAL(pthread_mutex_init)(m, attr);
}

FSAN_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    int rc = REAL(pthread_mutex_destroy)(m);
    if (rc == 0 && watching() && fsan__proc.in_child)
        fsan__child_lock_event((uintptr_t)m, FSAN_LOCKEV_DESTROYED, 0);
    return rc;
}

/* ---- rwlocks ------------------------------------------------------------- */

static int child_rwlock_try(pthread_rwlock_t *rw, int write, uint16_t op, uintptr_t ret, int *hazard)
{
    uint32_t kind = fsan__rwlock_kind(rw);
    *hazard = 0;
    if (kind & FSAN_KIND_PSHARED)
        return EBUSY;
    int rc = write ? REAL(pthread_rwlock_trywrlock)(rw) : REAL(pthread_rwlock_tryrdlock)(rw);
    if (rc != EBUSY)
        return rc;
    pid_t writer = fsan__rwlock_writer(rw);
    if (writer == (pid_t)fsan__sys_gettid())
        return EBUSY;
    if (op != FSAN_OP_RDLOCK && op != FSAN_OP_WRLOCK)
        return EBUSY; /* a timed wait ends by itself */
    if (fsan__proc.safe_fork &&
        fsan__child_safe_reinit((uintptr_t)rw, FSAN_LOCK_RWLOCK, kind, writer, fsan__site_of_obj(ret, (uintptr_t)rw))) {
        rc = write ? REAL(pthread_rwlock_trywrlock)(rw) : REAL(pthread_rwlock_tryrdlock)(rw);
        if (rc != EBUSY)
            return rc;
    }
    *hazard = fsan__child_blocked((uintptr_t)rw, FSAN_LOCK_RWLOCK, op, kind, writer, fsan__site_of_obj(ret, (uintptr_t)rw));
    return EBUSY;
}

static int rwlock_acquire(pthread_rwlock_t *rw, int write, uint16_t op, int timed, clockid_t clk,
                          const struct timespec *abstime, uintptr_t ret)
{
    uint16_t mode = write ? FSAN_MODE_WRITE : FSAN_MODE_READ;
    int rc;
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        int hazard;
        rc = child_rwlock_try(rw, write, op, ret, &hazard);
        if (rc != EBUSY)
            goto done;
        if (hazard && !timed && strict()) {
            struct timespec dl = grace_deadline();
            rc = write ? REAL(pthread_rwlock_clockwrlock)(rw, CLOCK_MONOTONIC, &dl)
                       : REAL(pthread_rwlock_clockrdlock)(rw, CLOCK_MONOTONIC, &dl);
            if (rc == ETIMEDOUT)
                fsan__child_strict_exit((uintptr_t)rw);
            goto done;
        }
    }
    switch (op) {
    case FSAN_OP_RDLOCK: rc = REAL(pthread_rwlock_rdlock)(rw); break;
    case FSAN_OP_WRLOCK: rc = REAL(pthread_rwlock_wrlock)(rw); break;
    case FSAN_OP_TIMEDRDLOCK: rc = REAL(pthread_rwlock_timedrdlock)(rw, abstime); break;
    case FSAN_OP_TIMEDWRLOCK: rc = REAL(pthread_rwlock_timedwrlock)(rw, abstime); break;
    case FSAN_OP_CLOCKRDLOCK: rc = REAL(pthread_rwlock_clockrdlock)(rw, clk, abstime); break;
    default: rc = REAL(pthread_rwlock_clockwrlock)(rw, clk, abstime); break;
    }
done:
    if (rc == 0)
        note_acquired(rw, FSAN_LOCK_RWLOCK, mode, fsan__rwlock_kind(rw), ret);
    return rc;
}

FSAN_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_rdlock)(rw);
    return rwlock_acquire(rw, 0, FSAN_OP_RDLOCK, 0, 0, NULL, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_wrlock)(rw);
    return rwlock_acquire(rw, 1, FSAN_OP_WRLOCK, 0, 0, NULL, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_timedrdlock)(rw, abstime);
    return rwlock_acquire(rw, 0, FSAN_OP_TIMEDRDLOCK, 1, 0, abstime, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_timedwrlock)(rw, abstime);
    return rwlock_acquire(rw, 1, FSAN_OP_TIMEDWRLOCK, 1, 0, abstime, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_clockrdlock)(rw, clk, abstime);
    return rwlock_acquire(rw, 0, FSAN_OP_CLOCKRDLOCK, 1, clk, abstime, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_clockwrlock)(rw, clk, abstime);
    return rwlock_acquire(rw, 1, FSAN_OP_CLOCKWRLOCK, 1, clk, abstime, RET_ADDR);
}

FSAN_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    int rc = REAL(pthread_rwlock_tryrdlock)(rw);
    if (rc == 0 && watching())
        note_acquired(rw, FSAN_LOCK_RWLOCK, FSAN_MODE_READ, fsan__rwlock_kind(rw), RET_ADDR);
    return rc;
}

FSAN_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    int rc = REAL(pthread_rwlock_trywrlock)(rw);
    if (rc == 0 && watching())
        note_acquired(rw, FSAN_LOCK_RWLOCK, FSAN_MODE_WRITE, fsan__rwlock_kind(rw), RET_ADDR);
    return rc;
}

FSAN_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_rwlock_unlock)(rw);
    note_released(rw);
    if (FSAN_LIKELY(!fsan__proc.in_child))
        return REAL(pthread_rwlock_unlock)(rw);
    int rc = REAL(pthread_rwlock_unlock)(rw);
    child_released(rw, rc, fsan__rwlock_writer(rw));
    return rc;
}

FSAN_EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr)
{
    if (watching() && fsan__proc.in_child)
        fsan__child_lock_event((uintptr_t)rw, FSAN_LOCKEV_REINIT, site_of(RET_ADDR));
    return REAL(pthread_rwlock_init)(rw, attr);
}

FSAN_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    int rc = REAL(pthread_rwlock_destroy)(rw);
    if (rc == 0 && watching() && fsan__proc.in_child)
        fsan__child_lock_event((uintptr_t)rw, FSAN_LOCKEV_DESTROYED, 0);
    return rc;
}

/* ---- semaphores ------------------------------------------------------------ */

/* A unit taken from a semaphore on the taker's own live stack is not a
 * hold.  Such a semaphore is that thread's wait object, posted by whoever
 * wakes it and gone when the frame returns — CPython 3.13+'s parking lot
 * puts one on the stack of every thread that waits for a PyMutex, a
 * thread start or a join (sem_init 0, sem_wait, sem_destroy) — not a lock
 * another thread or a fork child holds in the ordinary sense: a fork in
 * the instant between the waiter's wake-up and its sem_destroy otherwise
 * left that thread holding a "lock" in the snapshot no code will ever
 * take.  "Own live stack" uses the stack bounds threads.c records for the
 * thread (fsan__on_own_stack), never a distance from the frame: the
 * mapping just above a thread's stack can be a malloc arena holding real
 * locks.  A thread whose bounds are unknown (started by raw clone or
 * before the runtime) takes holds as before, and so does a signal handler
 * on an alternate stack.  What is given up: a binary semaphore in its
 * holder's own frames, used by other threads as a lock, leaves no hold
 * when its holder takes it (another thread taking it still does). */
static inline int sem_unit_held(const struct fsan__thread *self, const sem_t *s)
{
    return !fsan__on_own_stack(self, s);
}

static int child_sem_try(const struct fsan__thread *self, sem_t *s, uint16_t op, uintptr_t ret, int *hazard)
{
    uint32_t kind = fsan__sem_kind(s);
    *hazard = 0;
    if (kind & FSAN_KIND_PSHARED)
        return -1;
    int saved = errno;
    int rc = REAL(sem_trywait)(s);
    if (rc == 0)
        return 0;
    int err = errno;
    errno = saved;
    if (err != EAGAIN || op != FSAN_OP_SEM_WAIT)
        return -1; /* its own error, or a timed wait that ends by itself */
    if (fsan__proc.safe_fork &&
        fsan__child_safe_reinit((uintptr_t)s, FSAN_LOCK_SEM, kind, 0, fsan__site_of_obj(ret, (uintptr_t)s)) &&
        REAL(sem_trywait)(s) == 0) {
        errno = saved;
        return 0;
    }
    errno = saved;
    uint32_t site = fsan__site_of_obj(ret, (uintptr_t)s);
    /* A semaphore of the waiter's own frames may still be one another
     * thread took as a lock: the snapshot says. */
    *hazard = (fsan__on_own_stack(self, s) && fsan__child_parked((uintptr_t)s, op, site)) ||
              fsan__child_blocked((uintptr_t)s, FSAN_LOCK_SEM, op, kind, 0, site);
    return -1;
}

/* The Python stack of a semaphore acquisition.  CPython first tries
 * without blocking while it holds the GIL, and only then releases the GIL
 * and blocks: the stack of that failed try is the stack of the blocking
 * wait that follows on the same lock. */
static void note_py_acquired(sem_t *s, uint32_t pysite)
{
    struct fsan__thread *t = fsan__self_peek();
    if (!t || !pysite)
        return;
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    if (count && atomic_load_explicit(&t->held[count - 1].addr, memory_order_relaxed) == (uintptr_t)s)
        t->held[count - 1].pysite = pysite;
}

static uint32_t py_site_for_wait(sem_t *s)
{
    uint32_t site = fsan__py_wait_site((uintptr_t)s);
    /* Used: a later wait on s that no try announces must read its own. */
    if (fsan__py_pending_lock == (uintptr_t)s)
        fsan__py_pending_lock = 0;
    return site;
}

static int sem_acquire(sem_t *s, uint16_t op, clockid_t clk, const struct timespec *abstime, uintptr_t ret)
{
    int rc;
    fsan__sem_check(s, op, ret);
    struct fsan__thread *self = fsan__self();
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        int hazard;
        if (child_sem_try(self, s, op, ret, &hazard) == 0) {
            rc = 0;
            goto done;
        }
        if (hazard && op == FSAN_OP_SEM_WAIT && strict()) {
            struct timespec dl = grace_deadline();
            do
                rc = REAL(sem_clockwait)(s, CLOCK_MONOTONIC, &dl);
            while (rc != 0 && errno == EINTR);
            if (rc != 0)
                fsan__child_strict_exit((uintptr_t)s);
            goto done;
        }
    }
    /* A thread blocked on a semaphore it already holds is using it as a
     * signal (CPython's Condition.wait and Event.wait do): the snapshot
     * must know, or every idle waiter looks like a lock left held. */
    if (self)
        self->waiting_on = (uintptr_t)s;
    switch (op) {
    case FSAN_OP_SEM_WAIT: rc = REAL(sem_wait)(s); break;
    case FSAN_OP_SEM_TIMEDWAIT: rc = REAL(sem_timedwait)(s, abstime); break;
    default: rc = REAL(sem_clockwait)(s, clk, abstime); break;
    }
    if (self)
        self->waiting_on = 0;
done:
    if (rc == 0) {
        int saved = errno;
        if (sem_unit_held(self, s))
            note_acquired(s, FSAN_LOCK_SEM, FSAN_MODE_EXCL, fsan__sem_kind(s), ret);
        if (fsan__py_active())
            note_py_acquired(s, py_site_for_wait(s));
        errno = saved;
    }
    return rc;
}

FSAN_EXPORT int sem_wait(sem_t *s)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(sem_wait)(s);
    return sem_acquire(s, FSAN_OP_SEM_WAIT, 0, NULL, RET_ADDR);
}

FSAN_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(sem_timedwait)(s, abstime);
    return sem_acquire(s, FSAN_OP_SEM_TIMEDWAIT, 0, abstime, RET_ADDR);
}

FSAN_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(sem_clockwait)(s, clk, abstime);
    return sem_acquire(s, FSAN_OP_SEM_CLOCKWAIT, clk, abstime, RET_ADDR);
}

FSAN_EXPORT int sem_trywait(sem_t *s)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(sem_trywait)(s);
    fsan__sem_check(s, FSAN_OP_SEM_TRYWAIT, RET_ADDR);
    int rc = REAL(sem_trywait)(s);
    int saved = errno;
    if (rc == 0 && sem_unit_held(fsan__self(), s))
        note_acquired(s, FSAN_LOCK_SEM, FSAN_MODE_EXCL, fsan__sem_kind(s), RET_ADDR);
    if (fsan__py_active()) {
        uint32_t pysite = fsan__py_lock_site_here();
        if (rc == 0) {
            note_py_acquired(s, pysite);
        } else if (pysite) { /* the blocking wait that follows has no GIL */
            fsan__py_pending_site = pysite;
            fsan__py_pending_lock = (uintptr_t)s;
        }
    }
    errno = saved;
    return rc;
}

FSAN_EXPORT int sem_post(sem_t *s)
{
    if (FSAN_LIKELY(watching())) {
        fsan__sem_check(s, FSAN_OP_SEM_POST, RET_ADDR);
        int saved = errno;
        struct fsan__thread *t = fsan__self_peek();
        if (!t || !fsan__held_pop(t, (uintptr_t)s))
            fsan__held_pop_remote((uintptr_t)s);
        errno = saved;
    }
    if (FSAN_LIKELY(!fsan__proc.in_child))
        return REAL(sem_post)(s);
    int rc = REAL(sem_post)(s);
    child_released(s, rc, 0);
    return rc;
}

FSAN_EXPORT int sem_init(sem_t *s, int pshared, unsigned int value)
{
    if (watching()) {
        int saved = errno;
        struct fsan__thread *t = fsan__self_peek();
        if (t)
            fsan__held_pop(t, (uintptr_t)s);
        if (fsan__proc.in_child)
            fsan__child_lock_event((uintptr_t)s, FSAN_LOCKEV_REINIT, site_of(RET_ADDR));
        errno = saved;
    }
    int rc = REAL(sem_init)(s, pshared, value);
    if (rc == 0)
        fsan__sem_born(s);
    return rc;
}

/* A destroyed semaphore is held by nobody.  A unit taken by sem_wait and
 * never posted back is common: CPython 3.13+'s parking lot waits on a
 * semaphore on the waiting thread's stack (sem_init, sem_wait, sem_destroy)
 * and its waker's sem_post can come before the waiter records the unit.
 * Kept, such a hold made every later fork look as if that thread held a
 * lock (a false orphaned-lock); and the next semaphore at that stack
 * address would inherit it.  Every hold of this address goes: the calling
 * thread's first (the usual case), another thread's only when it had none. */
static void forget_holds(sem_t *s)
{
    if (!watching())
        return;
    int saved = errno;
    struct fsan__thread *t = fsan__self_peek();
    int dropped = 0;
    while (t && dropped < FSAN_MAX_HELD && fsan__held_pop(t, (uintptr_t)s))
        dropped++;
    while (!dropped && fsan__held_pop_remote((uintptr_t)s))
        ;
    errno = saved;
}

FSAN_EXPORT int sem_destroy(sem_t *s)
{
    /* Destroyed with no unit left by a thread that does not hold it: a
     * holder elsewhere never gave it back (safe mode's quiesce says so).
     * The holder destroying its own unit is done with it, like a release. */
    int value;
    struct fsan__thread *self = fsan__self_peek();
    if (sem_getvalue(s, &value) == 0 && value == 0 && !(self && fsan__held_find(self, (uintptr_t)s)))
        atomic_store_explicit(&fsan__sem_destroyed_held, (uintptr_t)s, memory_order_relaxed);
    int rc = REAL(sem_destroy)(s);
    if (rc == 0) {
        fsan__sem_gone(s);
        forget_holds(s);
    }
    if (rc == 0 && watching() && fsan__proc.in_child) {
        int saved = errno;
        fsan__child_lock_event((uintptr_t)s, FSAN_LOCKEV_DESTROYED, 0);
        errno = saved;
    }
    return rc;
}

/* sem_open semaphores are process-shared by construction (their sem_t lives
 * in a shared mapping and says so): beyond the kind check they only need to
 * be known to this image (foreign.c). */
FSAN_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, oflag);
    unsigned int mode = 0, value = 0;
    if (oflag & 0100 /* O_CREAT */) {
        mode = __builtin_va_arg(ap, unsigned int);
        value = __builtin_va_arg(ap, unsigned int);
    }
    __builtin_va_end(ap);
    sem_t *s = REAL(sem_open)(name, oflag, mode, value);
    fsan__sem_born(s);
    return s;
}

FSAN_EXPORT int sem_close(sem_t *s)
{
    int rc = REAL(sem_close)(s);
    if (rc == 0)
        fsan__sem_gone(s);
    return rc;
}

/* ---- condition variables ---------------------------------------------------- */

/* While a thread waits on a condition variable it does not hold the mutex:
 * drop the hold for the wait, take it back (at the wait's call site) after.
 * A fork child's untimed wait that nobody can end (condvars.c) is reported
 * first, and in strict mode given the grace period only. */
FSAN_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_cond_wait)(c, m);
    uintptr_t ret = RET_ADDR;
    struct fsan__thread *t = fsan__self();
    int held = t && fsan__held_pop(t, (uintptr_t)m);
    int rc;
    if (FSAN_UNLIKELY(fsan__proc.in_child) && fsan__cond_child_stranded(c, ret) && strict()) {
        struct timespec dl = grace_deadline();
        rc = REAL(pthread_cond_clockwait)(c, m, CLOCK_MONOTONIC, &dl);
        if (rc == ETIMEDOUT)
            fsan__child_strict_exit((uintptr_t)c);
    } else {
        rc = REAL(pthread_cond_wait)(c, m);
    }
    if (held)
        note_mutex_acquired(m, ret);
    return rc;
}

FSAN_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_cond_timedwait)(c, m, abstime);
    uintptr_t ret = RET_ADDR;
    struct fsan__thread *t = fsan__self();
    int held = t && fsan__held_pop(t, (uintptr_t)m);
    int rc = REAL(pthread_cond_timedwait)(c, m, abstime);
    if (held)
        note_mutex_acquired(m, ret);
    return rc;
}

FSAN_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                       const struct timespec *abstime)
{
    if (FSAN_UNLIKELY(!watching()))
        return REAL(pthread_cond_clockwait)(c, m, clk, abstime);
    uintptr_t ret = RET_ADDR;
    struct fsan__thread *t = fsan__self();
    int held = t && fsan__held_pop(t, (uintptr_t)m);
    int rc = REAL(pthread_cond_clockwait)(c, m, clk, abstime);
    if (held)
        note_mutex_acquired(m, ret);
    return rc;
}

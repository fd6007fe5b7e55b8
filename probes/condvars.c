/* condvars.c — who signals each condition variable, and the fork child's
 * untimed wait that nobody can ever end.
 *
 * A condition variable is not held, so the fork snapshot has nothing to
 * say about it; what strands a waiter is that the thread that would have
 * signalled it is gone.  The interposers of pthread_cond_signal and
 * pthread_cond_broadcast remember, per condition variable, the threads
 * that signalled it and where each first did.  In a fork child,
 * pthread_cond_wait (locks.c) asks fsan__cond_child_stranded before it
 * blocks: when the child has one thread and started none, the condition
 * variable is process-private, and every thread that ever signalled it
 * vanished at the fork, the wait can never end — nobody is left to signal
 * it.  That is recorded as a child-deadlock (condition variable form)
 * before the call blocks, as for a lock.
 *
 * DESIGN
 * The signal path is a hot path of programs that never fork: it costs a
 * TLS load, a hash, a compare of the table's address and of the first
 * signaller's tid — no syscall, no lock (callgrind: 25 instructions added
 * to the 26 of a pthread_cond_signal without waiters; the interposer keeps
 * no frame and its slow path is a tail call).  A new (condition variable,
 * thread) pair claims a slot with a compare-and-swap and interns its call
 * site, once.  The table is fixed (COND_SLOTS entries of COND_SIGNALLERS
 * threads each) and never shrinks; a condition variable it has no room
 * for is counted (STATS cond_overflow), and one with more signallers than
 * it keeps, or signalled by a thread without a slot, is marked unknown.
 * Every uncertainty leads to no finding: a condition variable never
 * signalled before the fork, one the forking thread signalled, one a
 * thread that ended before the fork signalled (its tid is not in the
 * snapshot), a process-shared one (another process can signal it), a
 * timed wait (it ends by itself).  pthread_cond_init and
 * pthread_cond_destroy forget an address's history: the next condition
 * variable there is a new one.
 *
 * The child's own signals are recorded too (its thread is no vanished
 * thread), and a child inherits its parent's history: in a grandchild the
 * grandparent's threads are not in the snapshot, so they count as "not
 * vanished" and keep it quiet.
 */
#include <errno.h>
#include <string.h>

#include "fsan.h"

#define COND_SLOTS 1024u     /* power of two */
#define COND_PROBES 16u      /* slots looked at before the table counts as full */
#define COND_SIGNALLERS 8u
#define COND_UNKNOWN 1u      /* a signaller was not recorded */

/* glibc's __wrefs: bit 0 says the condition variable is process-shared
 * (nptl/pthread_cond_common.c). */
#define GLIBC_COND_PSHARED 1u

struct cond_history {
    _Atomic uintptr_t addr; /* 0: free */
    _Atomic uint32_t flags;
    _Atomic pid_t tid[COND_SIGNALLERS]; /* in claim order, 0 after the last */
    _Atomic uint32_t site[COND_SIGNALLERS];
};

static struct cond_history history[COND_SLOTS];
_Atomic uint32_t fsan__cond_overflow;

static inline uint32_t cond_hash(uintptr_t addr)
{
    return (uint32_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> 40) & (COND_SLOTS - 1);
}

/* The entry of addr; with claim, a free slot is taken for it.  NULL when
 * there is none (and, with claim, no room). */
static struct cond_history *history_of(uintptr_t addr, int claim)
{
    uint32_t i = cond_hash(addr);
    for (uint32_t n = 0; n < COND_PROBES; n++, i = (i + 1) & (COND_SLOTS - 1)) {
        struct cond_history *h = &history[i];
        uintptr_t key = atomic_load_explicit(&h->addr, memory_order_acquire);
        if (FSAN_LIKELY(key == addr))
            return h;
        if (key != 0)
            continue;
        if (!claim)
            return NULL;
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&h->addr, &expected, addr) || expected == addr)
            return h;
    }
    if (claim)
        atomic_fetch_add_explicit(&fsan__cond_overflow, 1, memory_order_relaxed);
    return NULL;
}

/* tid signals h: found among its signallers, or added in a free place,
 * or h becomes unknown.  Only a free place costs a compare-and-swap. */
static void add_signaller(struct cond_history *h, pid_t tid, uintptr_t ret, uintptr_t addr)
{
    for (uint32_t i = 0; i < COND_SIGNALLERS; i++) {
        pid_t seen = atomic_load_explicit(&h->tid[i], memory_order_relaxed);
        if (seen == tid)
            return;
        if (seen != 0)
            continue;
        if (atomic_compare_exchange_strong(&h->tid[i], &seen, tid)) {
            atomic_store_explicit(&h->site[i], fsan__site_of_obj(ret, addr), memory_order_relaxed);
            return;
        }
        if (seen == tid)
            return;
    }
    atomic_fetch_or_explicit(&h->flags, COND_UNKNOWN, memory_order_relaxed);
}

/* Everything but the common case below: a new condition variable, one in
 * another slot than its first, another signaller than its first, a thread
 * without a slot yet. */
static __attribute__((noinline)) void note_signal_slow(pthread_cond_t *c, uintptr_t ret)
{
    uintptr_t addr = (uintptr_t)c;
    struct cond_history *h = history_of(addr, 1);
    if (FSAN_UNLIKELY(!h))
        return;
    struct fsan__thread *t = fsan__self();
    pid_t tid = t ? t->tid : 0;
    if (tid != 0 && atomic_load_explicit(&h->tid[0], memory_order_relaxed) == tid)
        return;
    if (atomic_load_explicit(&h->flags, memory_order_relaxed) != 0)
        return; /* unknown already: nothing more to learn */
    if (tid == 0) /* a thread without a slot */
        atomic_fetch_or_explicit(&h->flags, COND_UNKNOWN, memory_order_relaxed);
    else
        add_signaller(h, tid, ret, addr);
}

/* The common case: the condition variable sits in its first slot and the
 * calling thread was its first signaller. */
static inline __attribute__((always_inline)) int signal_known(const pthread_cond_t *c)
{
    uintptr_t addr = (uintptr_t)c;
    const struct cond_history *h = &history[cond_hash(addr)];
    const struct fsan__thread *t = fsan__self_peek();
    return t != NULL && atomic_load_explicit(&h->addr, memory_order_relaxed) == addr &&
           atomic_load_explicit(&h->tid[0], memory_order_relaxed) == t->tid && t->tid != 0;
}

/* The address holds a new condition variable from now on. */
static void forget(pthread_cond_t *c)
{
    struct cond_history *h = history_of((uintptr_t)c, 0);
    if (!h)
        return;
    for (uint32_t i = 0; i < COND_SIGNALLERS; i++)
        atomic_store_explicit(&h->tid[i], 0, memory_order_relaxed);
    atomic_store_explicit(&h->flags, 0, memory_order_relaxed);
}

static inline int watching(void)
{
    return fsan__active() && !fsan__guard;
}

/* Everything off the fast path, reached by a tail call: its frame stands
 * for the interposer's, with the user's return address. */
static __attribute__((noinline)) int signal_slow(pthread_cond_t *c, uintptr_t ret, int broadcast)
{
    if (watching())
        note_signal_slow(c, ret);
    return broadcast ? REAL(pthread_cond_broadcast)(c) : REAL(pthread_cond_signal)(c);
}

/* No frame of their own (the runtime is built with frame pointers): the
 * fast path checks and jumps to the real function, anything else is the
 * tail call above.  The fast path does not ask whether the runtime is
 * watching: it records nothing, and what it skips (this thread, already
 * this condition variable's first signaller) is already known. */
__attribute__((optimize("omit-frame-pointer"))) FSAN_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    fsan__real_pthread_cond_signal_fn real = REAL_KNOWN(pthread_cond_signal);
    if (FSAN_LIKELY(real != NULL && signal_known(c)))
        return real(c);
    return signal_slow(c, RET_ADDR, 0);
}

__attribute__((optimize("omit-frame-pointer"))) FSAN_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    fsan__real_pthread_cond_broadcast_fn real = REAL_KNOWN(pthread_cond_broadcast);
    if (FSAN_LIKELY(real != NULL && signal_known(c)))
        return real(c);
    return signal_slow(c, RET_ADDR, 1);
}

FSAN_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    if (watching())
        forget(c);
    return REAL(pthread_cond_init)(c, attr);
}

FSAN_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
    if (watching())
        forget(c);
    return REAL(pthread_cond_destroy)(c);
}

/* AS-safe.  See fsan.h. */
int fsan__cond_child_stranded(pthread_cond_t *c, uintptr_t ret)
{
    if (c->__data.__wrefs & GLIBC_COND_PSHARED)
        return 0;
    const struct cond_history *h = history_of((uintptr_t)c, 0);
    if (!h || atomic_load_explicit(&h->flags, memory_order_relaxed) != 0)
        return 0;
    uint32_t n = 0;
    for (; n < COND_SIGNALLERS; n++) {
        pid_t tid = atomic_load_explicit(&h->tid[n], memory_order_relaxed);
        if (tid == 0)
            break;
        if (!fsan__child_thread_vanished(tid))
            return 0;
    }
    if (n == 0 || !fsan__child_alone())
        return 0;
    int saved = errno;
    struct fsan_rec_deadlock d;
    memset(&d, 0, sizeof d);
    d.lock_addr = (uintptr_t)c;
    d.lock_type = FSAN_LOCK_COND;
    d.op = FSAN_OP_COND_WAIT;
    d.form = FSAN_DL_COND_VANISHED_SIGNALLER;
    d.tid = (uint32_t)fsan__sys_gettid();
    d.attempt_site = fsan__site_of_obj(ret, (uintptr_t)c);
    d.holder_tid = (uint32_t)atomic_load_explicit(&h->tid[0], memory_order_relaxed);
    d.acquire_site = atomic_load_explicit(&h->site[0], memory_order_relaxed);
    d.kind = n;
    fsan__child_report_deadlock(&d, 0);
    errno = saved;
    return 1;
}

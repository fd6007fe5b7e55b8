/* threads.c — the thread table: every live thread, its name, its start
 * routine, where it was created and where its stack lies.
 *
 * DESIGN
 * A fixed array of slots, claimed with compare-and-swap and found again
 * through a thread-local pointer (initial-exec TLS: one load).  Threads made
 * by pthread_create are claimed by a trampoline that runs before the user's
 * start routine; any other thread (the main thread, threads born before the
 * runtime, raw clone) is claimed lazily the first time it calls a hooked
 * function.  A thread's slot is released by a pthread key destructor, which
 * runs however the thread ends: return, pthread_exit or cancellation.
 * Claiming and releasing are AS-safe; the table never grows.
 *
 * A slot also records the thread's stack bounds, so the lock path can tell
 * an object on the thread's own live stack (fsan__on_own_stack) with two
 * loads and three compares: the trampoline records them for the threads it
 * starts, the lazy claim for the main thread; every other thread's stay
 * unknown, and its objects are never taken to be on its stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fsan.h"

struct fsan__thread fsan__threads[FSAN_MAX_THREADS];
FSAN_HOT _Atomic uint32_t fsan__threads_hwm;
FSAN_HOT _Atomic uint32_t fsan__thread_overflow;

FSAN_TLS struct fsan__thread *fsan__tls_self;
FSAN_TLS struct fsan__thread *fsan__tls_fast;
static FSAN_TLS int tls_no_slot; /* table full, or the thread is ending: never claim */
static pthread_key_t exit_key;
static int exit_key_ready;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* AS-safe */
struct fsan__thread *fsan__thread_claim(void)
{
    for (uint32_t i = 0; i < FSAN_MAX_THREADS; i++) {
        struct fsan__thread *t = &fsan__threads[i];
        int expected = FSAN_SLOT_FREE;
        if (atomic_load_explicit(&t->state, memory_order_relaxed) != FSAN_SLOT_FREE ||
            !atomic_compare_exchange_strong(&t->state, &expected, FSAN_SLOT_CLAIMED))
            continue;
        uint32_t hwm = atomic_load(&fsan__threads_hwm);
        while (hwm < i + 1 && !atomic_compare_exchange_weak(&fsan__threads_hwm, &hwm, i + 1))
            ;
        t->tid = (pid_t)fsan__sys_gettid();
        t->self = (uintptr_t)pthread_self();
        t->start_routine = 0;
        t->create_site = 0;
        t->last_site = 0;
        t->lock_site = 0;
        t->lock_ret = 0;
        t->waiting_on = 0;
        t->stack_lo = 0;
        t->stack_hi = 0;
        t->child_counted = 0;
        t->name[0] = '\0';
        t->pyname[0] = '\0';
        t->pytstate = 0;
        fsan__held_init(t);
        return t;
    }
    atomic_fetch_add(&fsan__thread_overflow, 1);
    return NULL;
}

/* AS-safe */
void fsan__thread_release(struct fsan__thread *t)
{
    fsan__held_reset(t);
    atomic_store_explicit(&t->state, FSAN_SLOT_FREE, memory_order_release);
}

static void thread_ended(void *slot)
{
    struct fsan__thread *t = slot;
    if (t && t == fsan__tls_self) {
        fsan__tls_self = NULL;
        fsan__tls_fast = NULL;
        /* Later destructors of this ending thread may still take locks;
         * claiming a new slot then would leave it behind as a ghost thread
         * in every later fork snapshot. */
        tls_no_slot = 1;
        if (t->child_counted)
            atomic_fetch_sub(&fsan__proc.child_live_threads, 1);
        fsan__thread_release(t);
    }
}

static void make_exit_key(void)
{
    exit_key_ready = pthread_key_create(&exit_key, thread_ended) == 0;
}

/* Slot t is released when the calling thread, its owner, ends
 * (thread_ended).  The key is made by the first thread that takes a slot,
 * not by the constructor: an image that never locks (most exec'd tools)
 * is spared the lazy binding of pthread_key_create (~800 instructions).
 * The caller has adopted t already, so a signal handler that takes a lock
 * on this thread does not come here again while pthread_once runs; and
 * glibc's pthread_once starts over in a fork child whose parent was in
 * the middle of it. */
static void release_at_exit(struct fsan__thread *t)
{
    pthread_once(&exit_key_once, make_exit_key);
    if (exit_key_ready)
        pthread_setspecific(exit_key, t);
}

/* The calling thread takes slot t as its own. */
static void adopt(struct fsan__thread *t)
{
    fsan__tls_self = t;
    if (!fsan__proc.in_child)
        fsan__tls_fast = t;
}

/* The main thread's stack, for its slot (claimed lazily, like any thread
 * the trampoline did not start).  Its top is the argument vector the
 * kernel put on it at exec (runtime.c): every frame of the main thread
 * lies below.  The stack grows down from there as far as RLIMIT_STACK's
 * soft limit, and the kernel keeps that much room below the stack free of
 * the mappings it places itself: [top - limit, top) is the main thread's
 * stack and nothing else.  An unlimited stack (the kernel then maps
 * bottom-up, far below) counts as MAIN_STACK_UNLIMITED_SPAN: a frame
 * deeper than that is judged as if the bounds were unknown.  The bounds
 * are taken only by the process's main thread (tid == pid) whose frame is
 * inside them: not by the forking thread of a fork child that was not its
 * parent's main thread, whose tid is the child's pid but whose stack is
 * elsewhere, nor by a first call from a signal handler on an alternate
 * stack (the main thread's bounds then stay unknown).  AS-safe. */
#define MAIN_STACK_UNLIMITED_SPAN ((uintptr_t)8 << 20)

static void main_stack_bounds(struct fsan__thread *t)
{
    uintptr_t top = fsan__proc.main_stack_top;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    struct rlimit limit;
    if (t->tid != fsan__proc.pid || top == 0 || getrlimit(RLIMIT_STACK, &limit) != 0)
        return;
    uintptr_t span = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > top ? MAIN_STACK_UNLIMITED_SPAN
                                                                             : (uintptr_t)limit.rlim_cur;
    if (here >= top || top - here >= span)
        return;
    t->stack_lo = top - span;
    t->stack_hi = top;
}

/* The calling thread has no slot yet: claim one.  NULL when the table is
 * full or the runtime is not active.  AS-safe. */
struct fsan__thread *fsan__self_slow(void)
{
    if (tls_no_slot || !fsan__active())
        return NULL;
    struct fsan__thread *t = fsan__thread_claim();
    if (!t) {
        tls_no_slot = 1;
        return NULL;
    }
    main_stack_bounds(t);
    atomic_store_explicit(&t->state, FSAN_SLOT_LIVE, memory_order_release);
    adopt(t);
    release_at_exit(t);
    return t;
}

/* AS-safe: in the fork child, the forking thread keeps its slot (with its new
 * tid) and every other slot is freed: those threads do not exist here.
 * Runs when the snapshot holds something, so the forking thread's mutex
 * releases leave the fast path, which would not report them. */
void fsan__threads_after_fork_child(struct fsan__thread *forker)
{
    fsan__tls_fast = NULL;
    uint32_t hwm = atomic_load(&fsan__threads_hwm);
    for (uint32_t i = 0; i < hwm; i++) {
        struct fsan__thread *t = &fsan__threads[i];
        if (t != forker && atomic_load(&t->state) != FSAN_SLOT_FREE)
            fsan__thread_release(t);
    }
    if (forker) {
        forker->tid = (pid_t)fsan__sys_gettid();
        forker->child_counted = 0; /* this child counts from 1, the forker */
    }
}

struct start_info {
    void *(*start)(void *);
    void *arg;
    struct fsan__thread *slot; /* claimed by the creator, or NULL */
};

/* pthread_getattr_np's first version: glibc 2.32 gave the same function a
 * new one when it moved into libc.  Linking the new one would make every
 * exec'd image's loader check one more libc version (tests/unit/
 * startup_cost.sh measures that start-up). */
__asm__(".symver pthread_getattr_np, pthread_getattr_np@GLIBC_2.2.5");

/* A started thread's stack: every frame it runs from its start routine on
 * lies below the trampoline's frame, and above the low end of the stack
 * glibc gave it (pthread_getattr_np: for any thread but the main one, the
 * stack block glibc keeps in the thread's descriptor; it reads no file).
 * The trampoline's frame is the top, not the block's end: above it glibc
 * keeps the thread's descriptor and its static TLS, whose objects are not
 * in any frame.  Unknown (0, 0) when glibc cannot say, or says a stack
 * the trampoline does not run on.  The price, once per thread start: about
 * 1,400 instructions and a sched_getaffinity call (glibc copies the
 * thread's CPU set into the attributes too), where the runtime added
 * about 2,500 to a pthread_create and join (1,350 bare) without it. */
static void started_thread_bounds(struct fsan__thread *t, uintptr_t top)
{
    pthread_attr_t attr;
    void *low;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &low, &size) == 0 && (uintptr_t)low < top && top - (uintptr_t)low <= size) {
        t->stack_lo = (uintptr_t)low;
        t->stack_hi = top;
    }
    pthread_attr_destroy(&attr);
}

/* The new thread adopts the slot its creator claimed for it, before it
 * calls anything that might take a lock: free() itself does, under an
 * allocator such as jemalloc, and a lock taken by a thread without its
 * slot would claim a second slot for the same thread, a ghost that every
 * later fork snapshot would list as a vanished thread. */
static void *trampoline(void *p)
{
    struct start_info info = *(struct start_info *)p;
    struct fsan__thread *t = info.slot;
    if (t) {
        t->tid = (pid_t)fsan__sys_gettid();
        t->self = (uintptr_t)pthread_self();
        adopt(t);
        release_at_exit(t);
        started_thread_bounds(t, (uintptr_t)__builtin_frame_address(0));
    }
    else
        tls_no_slot = 1; /* counted once, by its creator's failed claim */
    free(p);
    return info.start(info.arg);
}

/* In a fork child, a thread is counted live from the moment its creation
 * starts, so the child's "am I the only thread?" question can never race
 * with a thread that is being born. */
static int count_child_thread(struct fsan__thread *slot)
{
    if (!fsan__proc.in_child)
        return 0;
    atomic_fetch_add(&fsan__proc.child_live_threads, 1);
    fsan__proc.child_started_threads = 1;
    if (slot)
        slot->child_counted = 1;
    return 1;
}

/* DESIGN: the slot is claimed and made live by the creating thread, before
 * the real pthread_create: a thread that exists in the kernel but has not
 * run a single instruction of its start routine at the fork instant is
 * still a thread that vanishes in the child, and the snapshot must list
 * it (tid 0 until it runs). */
FSAN_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                               void *(*start)(void *), void *arg)
{
    if (!fsan__active() || fsan__guard)
        return REAL(pthread_create)(thread, attr, start, arg);
    int saved = errno;
    struct start_info *info = malloc(sizeof *info);
    if (!info) {
        errno = saved;
        return REAL(pthread_create)(thread, attr, start, arg);
    }
    info->start = start;
    info->arg = arg;
    info->slot = fsan__thread_claim();
    if (info->slot) {
        info->slot->tid = 0;
        info->slot->start_routine = (uintptr_t)start;
        info->slot->create_site = fsan__site_of((uintptr_t)__builtin_return_address(0));
        atomic_store_explicit(&info->slot->state, FSAN_SLOT_LIVE, memory_order_release);
    }
    /* Without a slot the thread's end cannot be seen: it stays counted,
     * which can only make the child look less alone than it is. */
    int counted = count_child_thread(info->slot);
    errno = saved;
    int rc = REAL(pthread_create)(thread, attr, trampoline, info);
    if (rc != 0) {
        saved = errno;
        if (counted)
            atomic_fetch_sub(&fsan__proc.child_live_threads, 1);
        if (info->slot)
            fsan__thread_release(info->slot);
        free(info);
        errno = saved;
    }
    return rc;
}

/* Names given to the calling thread are kept in its slot; names given to
 * another thread reach the snapshot through /proc/PID/task/TID/comm, which
 * the kernel keeps for every thread. */
FSAN_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
    int rc = REAL(pthread_setname_np)(thread, name);
    if (rc != 0 || !fsan__active() || !pthread_equal(thread, pthread_self()))
        return rc;
    struct fsan__thread *t = fsan__self();
    if (t) {
        size_t n = strnlen(name, sizeof t->name - 1);
        memcpy(t->name, name, n);
        t->name[n] = '\0';
    }
    return rc;
}

/* hooks_next.c — libhooks_next.so, a preloaded interposer placed after
 * libforksan (LD_PRELOAD=libforksan.so:libhooks_next.so) for test_hooks.c.
 *
 * It defines pthread_mutex_lock and pthread_cond_timedwait in two versions
 * each, a default one and a hidden older one, and counts which version
 * forksan's REAL() reached.  Each forwards to libc with dlvsym, so the
 * program still works.  The version nodes come from hooks_next.map. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

int hooks_next_lock_calls;        /* the default version of pthread_mutex_lock */
int hooks_next_lock_old_calls;    /* its hidden version: never to be reached */
int hooks_next_timedwait_calls;   /* pthread_cond_timedwait@@GLIBC_2.3.2 */
int hooks_next_timedwait_old_calls;

int hooks_next_lock(pthread_mutex_t *m);
int hooks_next_lock_old(pthread_mutex_t *m);
int hooks_next_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t);
int hooks_next_timedwait_old(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t);

__asm__(".symver hooks_next_lock, pthread_mutex_lock@@FSAN_TEST_2");
__asm__(".symver hooks_next_lock_old, pthread_mutex_lock@FSAN_TEST_1");
__asm__(".symver hooks_next_timedwait, pthread_cond_timedwait@@GLIBC_2.3.2");
__asm__(".symver hooks_next_timedwait_old, pthread_cond_timedwait@GLIBC_2.2.5");

static int libc_lock(pthread_mutex_t *m)
{
    int (*lock)(pthread_mutex_t *) = (int (*)(pthread_mutex_t *))dlvsym(RTLD_NEXT, "pthread_mutex_lock", "GLIBC_2.2.5");
    return lock(m);
}

static int libc_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    int (*wait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *) =
        (int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))dlvsym(RTLD_NEXT, "pthread_cond_timedwait",
                                                                                      "GLIBC_2.3.2");
    return wait(c, m, t);
}

int hooks_next_lock(pthread_mutex_t *m)
{
    __atomic_fetch_add(&hooks_next_lock_calls, 1, __ATOMIC_RELAXED);
    return libc_lock(m);
}

int hooks_next_lock_old(pthread_mutex_t *m)
{
    __atomic_fetch_add(&hooks_next_lock_old_calls, 1, __ATOMIC_RELAXED);
    return libc_lock(m);
}

int hooks_next_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    hooks_next_timedwait_calls++;
    return libc_timedwait(c, m, t);
}

int hooks_next_timedwait_old(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    hooks_next_timedwait_old_calls++;
    return libc_timedwait(c, m, t);
}

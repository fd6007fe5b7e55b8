/* hooks.h — the one list of hooked functions.
 *
 * FSAN_HOOKS drives everything that concerns the real functions: the table
 * fsan__real of their addresses, their lookup by name and symbol version
 * (hooks.c), and the export test (tests/unit/exports.sh compares `nm -D`
 * against this list).
 *
 * Columns: return type, name, parameter list, symbol version (NULL = the
 * default version).
 */
#ifndef FSAN_HOOKS_H
#define FSAN_HOOKS_H

#include <pthread.h>
#include <semaphore.h>
#include <pty.h>
#include <stdio.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>

#define FSAN_HOOKS(X) \
    X(int, pthread_mutex_init, (pthread_mutex_t *, const pthread_mutexattr_t *), NULL) \
    X(int, pthread_mutex_destroy, (pthread_mutex_t *), NULL) \
    X(int, pthread_mutex_lock, (pthread_mutex_t *), NULL) \
    X(int, pthread_mutex_trylock, (pthread_mutex_t *), NULL) \
    X(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *), NULL) \
    X(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t, const struct timespec *), NULL) \
    X(int, pthread_mutex_unlock, (pthread_mutex_t *), NULL) \
    X(int, pthread_rwlock_init, (pthread_rwlock_t *, const pthread_rwlockattr_t *), NULL) \
    X(int, pthread_rwlock_destroy, (pthread_rwlock_t *), NULL) \
    X(int, pthread_rwlock_rdlock, (pthread_rwlock_t *), NULL) \
    X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *), NULL) \
    X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *, const struct timespec *), NULL) \
    X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *, clockid_t, const struct timespec *), NULL) \
    X(int, pthread_rwlock_wrlock, (pthread_rwlock_t *), NULL) \
    X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *), NULL) \
    X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *, const struct timespec *), NULL) \
    X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *, clockid_t, const struct timespec *), NULL) \
    X(int, pthread_rwlock_unlock, (pthread_rwlock_t *), NULL) \
    X(int, sem_init, (sem_t *, int, unsigned int), NULL) \
    X(int, sem_destroy, (sem_t *), NULL) \
    X(sem_t *, sem_open, (const char *, int, ...), NULL) \
    X(int, sem_close, (sem_t *), NULL) \
    X(int, sem_wait, (sem_t *), NULL) \
    X(int, sem_trywait, (sem_t *), NULL) \
    X(int, sem_timedwait, (sem_t *, const struct timespec *), NULL) \
    X(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *), NULL) \
    X(int, sem_post, (sem_t *), NULL) \
    X(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *), "GLIBC_2.3.2") \
    X(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *), "GLIBC_2.3.2") \
    X(int, pthread_cond_clockwait, (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *), NULL) \
    X(int, pthread_cond_signal, (pthread_cond_t *), "GLIBC_2.3.2") \
    X(int, pthread_cond_broadcast, (pthread_cond_t *), "GLIBC_2.3.2") \
    X(int, pthread_cond_init, (pthread_cond_t *, const pthread_condattr_t *), "GLIBC_2.3.2") \
    X(int, pthread_cond_destroy, (pthread_cond_t *), "GLIBC_2.3.2") \
    X(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *), NULL) \
    X(int, pthread_setname_np, (pthread_t, const char *), NULL) \
    X(pid_t, fork, (void), NULL) \
    X(pid_t, _Fork, (void), NULL) \
    X(int, daemon, (int, int), NULL) \
    X(pid_t, forkpty, (int *, char *, const struct termios *, const struct winsize *), NULL) \
    X(int, execve, (const char *, char *const[], char *const[]), NULL) \
    X(int, execv, (const char *, char *const[]), NULL) \
    X(int, execvp, (const char *, char *const[]), NULL) \
    X(int, execvpe, (const char *, char *const[], char *const[]), NULL) \
    X(int, fexecve, (int, char *const[], char *const[]), NULL) \
    X(int, execveat, (int, const char *, char *const[], char *const[], int), NULL) \
    X(int, epoll_create, (int), NULL) \
    X(int, epoll_create1, (int), NULL) \
    X(int, epoll_ctl, (int, int, int, struct epoll_event *), NULL) \
    X(int, epoll_wait, (int, struct epoll_event *, int, int), NULL) \
    X(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *), NULL) \
    X(int, epoll_pwait2, (int, struct epoll_event *, int, const struct timespec *, const sigset_t *), NULL) \
    X(int, eventfd, (unsigned int, int), NULL) \
    X(int, timerfd_create, (int, int), NULL) \
    X(int, signalfd, (int, const sigset_t *, int), NULL) \
    X(int, pipe, (int[2]), NULL) \
    X(int, pipe2, (int[2], int), NULL) \
    X(int, socketpair, (int, int, int, int[2]), NULL) \
    X(int, close, (int), NULL) \
    X(ssize_t, write, (int, const void *, size_t), NULL) \
    X(ssize_t, send, (int, const void *, size_t, int), NULL) \
    X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t), NULL) \
    X(ssize_t, writev, (int, const struct iovec *, int), NULL) \
    X(int, unlink, (const char *), NULL) \
    X(int, unlinkat, (int, const char *, int), NULL) \
    X(int, remove, (const char *), NULL) \
    X(pid_t, getpid, (void), NULL) \
    X(long, syscall, (long, ...), NULL) \
    X(int, fflush, (FILE *), NULL) \
    X(int, fclose, (FILE *), NULL) \
    X(int, __cxa_atexit, (void (*)(void *), void *, void *), NULL) \
    X(int, on_exit, (void (*)(int, void *), void *), NULL) \
    X(void, exit, (int), NULL) \
    X(void, _exit, (int), NULL) \
    X(void, _Exit, (int), NULL) \
    X(int, kill, (pid_t, int), NULL) \
    X(int, tgkill, (pid_t, pid_t, int), NULL) \
    X(int, sigqueue, (pid_t, int, const union sigval), NULL) \
    X(int, pidfd_send_signal, (int, int, siginfo_t *, unsigned int), NULL) \
    X(pid_t, waitpid, (pid_t, int *, int), NULL) \
    X(pid_t, wait, (int *), NULL) \
    X(pid_t, wait4, (pid_t, int *, int, struct rusage *), NULL) \
    X(int, setuid, (uid_t), NULL) \
    X(int, seteuid, (uid_t), NULL) \
    X(int, setreuid, (uid_t, uid_t), NULL) \
    X(int, setresuid, (uid_t, uid_t, uid_t), NULL)

#define FSAN_HOOK_INDEX(ret, name, params, version) FSAN_HOOK_##name,
enum { FSAN_HOOKS(FSAN_HOOK_INDEX) FSAN_HOOK_COUNT };
#undef FSAN_HOOK_INDEX

/* fsan__real_<name>_fn: the type of the real function. */
#define FSAN_REAL_TYPE(ret, name, params, version) typedef ret(*fsan__real_##name##_fn) params;
FSAN_HOOKS(FSAN_REAL_TYPE)
#undef FSAN_REAL_TYPE

/* The real functions by FSAN_HOOK_<name> index; NULL until resolved. */
extern void *fsan__real[FSAN_HOOK_COUNT];

/* Records the loaded objects the lookup searches (the constructor, once). */
void fsan__hooks_init(void);

/* AS-safe when the runtime's own lookup finds the function (it always does
 * for libc's): resolves one real function and returns it; exits the
 * program when there is none. */
void *fsan__hooks_resolve_one(int index);

/* Resolves every real function, and binds every libc function the runtime
 * itself calls: done at the first fork (fsan__before_first_fork), so fork
 * children inherit them all resolved.  Safe to call repeatedly. */
void fsan__hooks_resolve(void);

/* AS-safe: does an object loaded at start-up define name (its default
 * version)?  1 yes, 0 no, -1 when only the loader can tell. */
int fsan__hooks_defined(const char *name);

/* AS-safe: the default version of name from the objects loaded at start-up
 * (dlsym(RTLD_DEFAULT) when only the loader can tell), or NULL.  For the
 * libc functions the runtime calls rarely and that carry a newer symbol
 * version than the rest: linked, each such version is checked at every
 * exec of every image (about 300 instructions). */
void *fsan__hooks_symbol(const char *name);

/* The real function: one load and one predictable branch once resolved. */
static inline void *fsan__real_get(int index)
{
    void *fn = __atomic_load_n(&fsan__real[index], __ATOMIC_RELAXED);
    return __builtin_expect(fn != NULL, 1) ? fn : fsan__hooks_resolve_one(index);
}

/* REAL(name): the real function behind the interposer `name`, resolved on
 * first use (hooks.c says how, and why that is safe in a fork child and in
 * a signal handler). */
#define REAL(name) ((fsan__real_##name##_fn)fsan__real_get(FSAN_HOOK_##name))

/* REAL_KNOWN(name): the real function with no lookup, NULL when it was
 * never looked up.  A lookup (REAL()) is a call, and would cost a fast
 * path a frame of its own; a fast path that uses this either knows its
 * slow path looked the function up first, or takes the slow path on NULL. */
#define REAL_KNOWN(name) \
    ((fsan__real_##name##_fn)__atomic_load_n(&fsan__real[FSAN_HOOK_##name], __ATOMIC_RELAXED))

/* The interposer's caller: the user's call site. */
#define RET_ADDR ((uintptr_t)__builtin_return_address(0))

#endif

/* fork.c — interposers for fork, _Fork, the exec family and the exits, so
 * the runtime knows every fork, where it was called, and each child's fate.
 *
 * DESIGN
 * The snapshot runs in an atfork child handler that the runtime registers
 * in its constructor, before anything else can: child handlers run in
 * registration order, so it runs first — before the program's and the
 * libraries' own handlers re-create their locks — and it also sees forks
 * that happen inside libc (daemon(), forkpty()) which never pass through
 * the fork symbol.  The fork() interposer adds only the call site and, once
 * all child handlers have run, the "resumed" mark that separates locks the
 * handlers dealt with from locks the child really inherits.  _Fork runs no
 * handlers, so its interposer takes the snapshot itself.
 *
 * vfork is deliberately not interposed: a vfork child borrows the parent's
 * stack and would return through our frame into the suspended parent.  A
 * vfork child (or a clone child) that calls exec or _exit through our
 * interposers is recognised by its pid (not the one the runtime recorded)
 * and passed straight through, touching nothing shared with the parent.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))

/* The call site of this thread's latest fork (fork, _Fork, daemon,
 * forkpty), handed to the prepare handler (which runs under glibc's atfork
 * lock, so concurrent forks of several threads cannot mix their sites up). */
static FSAN_TLS uint32_t tls_fork_site;
static FSAN_TLS uint32_t tls_fork_pysite;


/* Before fork: remember the site; every write is conditional, because a
 * page written after fork costs a copy-on-write fault, and a loop forking
 * from one place should not pay for rewriting the same values. */
static void before_fork(struct fsan__thread *self, uintptr_t ret)
{
    uint32_t site = fsan__site_of(ret);
    if (tls_fork_site != site)
        tls_fork_site = site;
    uint32_t pysite = fsan__py_active() ? fsan__py_site_here() : 0;
    if (tls_fork_pysite != pysite)
        tls_fork_pysite = pysite;
    pid_t tid = (pid_t)fsan__sys_gettid();
    if (self && self->tid != tid)
        self->tid = tid; /* right in this process (the slot came from a parent) */
}

/* Locks the program's and the libraries' atfork prepare handlers take are
 * the fork protocol's own: their parent and child handlers release or
 * re-create them.  jemalloc's prepare handler alone takes every arena's
 * mutex, dozens of them, which would fill the forking thread's held-lock
 * table at every fork and make every child's snapshot non-empty.  So from
 * the fork call until our own prepare handler, which runs last (it was
 * registered first), the runtime looks away: the guard makes the lock
 * interposers go straight to libc.  A child that takes such a mutex again
 * without its handler having released it is still caught: the mutex
 * records its owner, the forking thread of the parent. */
static FSAN_TLS int tls_prepare_guard;

static void guard_prepare_handlers(void)
{
    if (!tls_prepare_guard) {
        tls_prepare_guard = 1;
        fsan__guard++;
    }
}

static void end_prepare_guard(void)
{
    if (tls_prepare_guard) {
        tls_prepare_guard = 0;
        fsan__guard--;
    }
}

/* True in the process whose runtime state this is; false in a vfork or
 * clone child sharing our memory. AS-safe. */
static int own_process(void)
{
    return fsan__active() && (pid_t)fsan__sys_getpid() == fsan__proc.pid;
}

/* Runs last among the prepare handlers, right before the kernel's fork.
 * Writing here is free; every page the parent writes *after* fork is a
 * copy-on-write fault while the child lives, so the parent writes nothing
 * then. */
/* Safe mode for this fork: the option, or forksan_safe_fork(). */
static int safe_fork_wanted(void)
{
    int safe = fsan__proc.opts.mode == FSAN_MODE_SAFE || fsan__safe_once;
    if (fsan__proc.safe_fork != safe)
        fsan__proc.safe_fork = safe;
    return safe;
}

static void atfork_prepare(void)
{
    end_prepare_guard();
    uint32_t site = tls_fork_site; /* 0: a fork made inside libc */
    if (fsan__proc.fork_site != site)
        fsan__proc.fork_site = site;
    if (fsan__proc.fork_pysite != tls_fork_pysite)
        fsan__proc.fork_pysite = tls_fork_pysite;
    if (FSAN_UNLIKELY(fsan__active() && safe_fork_wanted())) {
        fsan__guard++; /* the remedies' own lock calls are not the program's */
        fsan__safe_prepare(fsan__self_peek());
        fsan__guard--;
    }
}

static void atfork_parent(void)
{
    if (FSAN_UNLIKELY(fsan__proc.safe_fork))
        fsan__safe_parent();
}

FSAN_CHILD_PATH static void atfork_child(void)
{
    if (!fsan__active())
        return;
    struct fsan__thread *self = fsan__self_peek();
    pid_t parent_tid = self ? self->tid : 0; /* before the snapshot renames it */
    fsan__child_snapshot(self);
    if (FSAN_UNLIKELY(fsan__proc.safe_fork))
        fsan__safe_child(parent_tid);
}

void fsan__fork_init(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* fork() and forksan_safe_fork(): ret is the program's call site. */
static inline __attribute__((always_inline)) pid_t fork_at(uintptr_t ret)
{
    if (!fsan__active())
        return REAL(fork)();
    int saved = errno;
    struct fsan__thread *self = fsan__self();
    before_fork(self, ret);
    if (errno != saved)
        errno = saved;
    pid_t parent_tid = self ? self->tid : 0;
    guard_prepare_handlers();
    pid_t pid = REAL(fork)();
    if (pid != 0)
        end_prepare_guard(); /* no-op unless fork failed before the handlers */
    /* No errno save here: the child's path keeps errno itself (the trace
     * writer saves it), and even reading errno is a call into a libc page
     * the child would otherwise never touch: a page fault per fork. */
    if (pid == 0) {
        fsan__child_resumed(self);
        if (FSAN_UNLIKELY(fsan__proc.safe_fork))
            fsan__safe_adopt(self, parent_tid);
    }
    return pid;
}

FSAN_CHILD_PATH FSAN_EXPORT pid_t fork(void)
{
    return fork_at(RET_ADDR);
}

/* forksan.h: one fork in safe mode, whatever the mode. */
FSAN_EXPORT pid_t forksan_safe_fork(void)
{
    fsan__safe_once = 1;
    pid_t pid = fork_at(RET_ADDR);
    fsan__safe_once = 0;
    return pid;
}

FSAN_EXPORT pid_t _Fork(void)
{
    if (!fsan__active())
        return REAL(_Fork)();
    int saved = errno;
    struct fsan__thread *self = fsan__self();
    before_fork(self, RET_ADDR);
    fsan__proc.fork_site = tls_fork_site; /* _Fork runs no handlers */
    fsan__proc.fork_pysite = tls_fork_pysite;
    if (safe_fork_wanted()) /* _Fork is async-signal-safe: often called in a handler */
        fsan__safe_in_handler = fsan__in_signal_handler();
    pid_t parent_tid = self ? self->tid : 0;
    if (errno != saved)
        errno = saved;
    pid_t pid = REAL(_Fork)();
    saved = errno;
    if (pid == 0) {
        fsan__child_snapshot(self);
        fsan__child_resumed(self);
        if (fsan__proc.safe_fork)
            fsan__safe_adopt(self, parent_tid); /* no prepare handler ran: nothing was quiesced */
    }
    tls_fork_site = 0;
    if (errno != saved)
        errno = saved;
    return pid;
}

/* daemon() and forkpty() fork inside libc, past the fork symbol; they are
 * interposed only to name their call site (the atfork handlers do the
 * rest).  Any other libc-internal fork on a thread that called fork()
 * before is attributed to that earlier call: the site is kept, not cleared
 * after each fork, because clearing it would cost the parent a
 * copy-on-write fault on every fork. */
FSAN_EXPORT int daemon(int nochdir, int noclose)
{
    if (fsan__active()) {
        before_fork(fsan__self(), RET_ADDR);
        guard_prepare_handlers();
    }
    int rc = REAL(daemon)(nochdir, noclose);
    end_prepare_guard();
    return rc;
}

FSAN_EXPORT pid_t forkpty(int *amaster, char *name, const struct termios *termp, const struct winsize *winp)
{
    if (fsan__active()) {
        before_fork(fsan__self(), RET_ADDR);
        guard_prepare_handlers();
    }
    pid_t pid = REAL(forkpty)(amaster, name, termp, winp);
    if (pid != 0)
        end_prepare_guard();
    return pid;
}

/* ---- exec ------------------------------------------------------------------ */

/* AS-safe (exec is async-signal-safe, so the path to it must be too). */
static void before_exec(const char *path)
{
    if (!own_process())
        return;
    int saved = errno;
    fsan__trace_stats();
    if (fsan__trace_is_needed()) {
        struct fsan_rec_exec e = {(uint32_t)fsan__sys_gettid(), 0};
        fsan__trace_record(FSAN_REC_EXEC, &e, sizeof e, path, path ? strlen(path) : 0);
        fsan__trace_flush();
    }
    errno = saved;
}

static void exec_failed(void)
{
    if (!own_process() || !fsan__trace_is_needed())
        return;
    int saved = errno;
    struct fsan_rec_exec_failed f = {saved, 0};
    fsan__trace_record(FSAN_REC_EXEC_FAILED, &f, sizeof f, NULL, 0);
    errno = saved;
}

FSAN_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    before_exec(path);
    int rc = REAL(execve)(path, argv, envp);
    exec_failed();
    return rc;
}

FSAN_EXPORT int execv(const char *path, char *const argv[])
{
    before_exec(path);
    int rc = REAL(execv)(path, argv);
    exec_failed();
    return rc;
}

FSAN_EXPORT int execvp(const char *file, char *const argv[])
{
    before_exec(file);
    int rc = REAL(execvp)(file, argv);
    exec_failed();
    return rc;
}

FSAN_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    before_exec(file);
    int rc = REAL(execvpe)(file, argv, envp);
    exec_failed();
    return rc;
}

FSAN_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    before_exec("(fexecve)");
    int rc = REAL(fexecve)(fd, argv, envp);
    exec_failed();
    return rc;
}

FSAN_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    before_exec(path);
    int rc = REAL(execveat)(dirfd, path, argv, envp, flags);
    exec_failed();
    return rc;
}

/* The execl family is variadic; glibc implements it by calling execve
 * internally (not through the PLT), so it is rebuilt here on the interposed
 * execv/execvp/execve.  The argument vector lives on the stack, as in libc. */
enum exec_list_kind { EXEC_L, EXEC_LP, EXEC_LE };

static int exec_list(enum exec_list_kind kind, const char *path, const char *arg0, va_list ap)
{
    va_list count_ap;
    va_copy(count_ap, ap);
    size_t n = arg0 ? 1 : 0;
    while (arg0 && va_arg(count_ap, const char *))
        n++;
    va_end(count_ap);
    char *argv[n + 1];
    if (n)
        argv[0] = (char *)arg0;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(ap, char *);
    argv[n] = NULL;
    if (n)
        (void)va_arg(ap, char *); /* the terminating NULL */
    switch (kind) {
    case EXEC_LP: return execvp(path, argv);
    case EXEC_LE: return execve(path, argv, va_arg(ap, char *const *));
    default: return execv(path, argv);
    }
}

FSAN_EXPORT int execl(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    int rc = exec_list(EXEC_L, path, arg0, ap);
    va_end(ap);
    return rc;
}

FSAN_EXPORT int execlp(const char *file, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    int rc = exec_list(EXEC_LP, file, arg0, ap);
    va_end(ap);
    return rc;
}

FSAN_EXPORT int execle(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    int rc = exec_list(EXEC_LE, path, arg0, ap);
    va_end(ap);
    return rc;
}

/* ---- exit ------------------------------------------------------------------ */

/* AS-safe (the _exit path). */
FSAN_CHILD_PATH static void record_exit(uint32_t how, int status, uintptr_t ret)
{
    if (!own_process() || fsan__proc.exit_recorded)
        return;
    fsan__proc.exit_recorded = 1;
    fsan__trace_stats();
    if (fsan__trace_is_needed()) { /* a clean image leaves no file at all */
        /* errno only here: in a clean fork child, reading it is a call into
         * a libc page and writing it copies the thread's TLS page. */
        int saved = errno;
        struct fsan_rec_exit e = {how, status, 0, (uint32_t)fsan__sys_gettid()};
        fsan__trace_record(FSAN_REC_EXIT, &e, sizeof e, NULL, 0);
        fsan__trace_flush();
        if (errno != saved)
            errno = saved;
    }
}

FSAN_EXPORT void exit(int status)
{
    if (fsan__proc.in_child)
        fsan__stdio_child_exit(RET_ADDR);
    record_exit(FSAN_EXIT_EXIT, status, RET_ADDR);
    REAL(exit)(status);
    __builtin_unreachable();
}

FSAN_CHILD_PATH FSAN_EXPORT void _exit(int status)
{
    if (fsan__proc.in_child)
        fsan__stdio_child__exit(RET_ADDR);
    record_exit(FSAN_EXIT__EXIT, status, RET_ADDR);
    REAL(_exit)(status);
    __builtin_unreachable();
}

FSAN_EXPORT void _Exit(int status)
{
    if (fsan__proc.in_child)
        fsan__stdio_child__exit(RET_ADDR);
    record_exit(FSAN_EXIT__EXIT, status, RET_ADDR);
    REAL(_Exit)(status);
    __builtin_unreachable();
}

/* main returned (libc calls exit internally, past our interposer). */
void fsan__fork_fini(void)
{
    record_exit(FSAN_EXIT_DESTRUCTOR, -1, 0);
}


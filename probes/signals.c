/* signals.c — fork children killed by a signal: the cleanup they skip.
 *
 * A fork child that dies of a signal runs none of its exit path: the exit
 * handlers it registered, its Python atexit handlers, the output it
 * buffered, and whatever work it had in hand (multiprocessing's
 * Pool.terminate(), which a `with Pool()` block calls on the way out,
 * sends SIGTERM to workers that may still be busy).  The child cannot say
 * so: it is dead.  So the sender does, in its kill()/tgkill()/sigqueue()/
 * pidfd_send_signal() interposer, just before the signal goes out.
 *
 * DESIGN
 * The sender reports only what it can know for sure:
 *  - the target is a fork child of this very image that has not exec'd:
 *    its memory holds, at our address, our per-image random cookie and
 *    its own pid (process_vm_readv; a parent may read its descendants);
 *  - the signal kills it: default action is to terminate, and the child
 *    neither catches nor ignores it (SigCgt/SigIgn in /proc/PID/status);
 *  - what it loses is read from the child's memory (fsan__child_lost),
 *    the same bookkeeping the child's own _exit() uses, and so is what
 *    its main thread is running (a Python stack, file and function only).
 * Anything that cannot be read means no record: never a guess.  A signal
 * is a rare event; this path may be slow, but it is AS-safe (kill is
 * called from signal handlers).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))

uint64_t fsan__image_cookie;

void fsan__signals_init(void)
{
    /* getauxval through the runtime's lookup: see fsan__hooks_symbol. */
    unsigned long (*auxval)(unsigned long) = (unsigned long (*)(unsigned long))fsan__hooks_symbol("getauxval");
    const unsigned char *random = auxval ? (const unsigned char *)auxval(AT_RANDOM) : NULL;
    if (random)
        memcpy(&fsan__image_cookie, random + 8, sizeof fsan__image_cookie);
    fsan__image_cookie |= 1; /* never 0, the value of an unreadable word */
}

/* Signals whose default action ends the process. */
static int kills_by_default(int sig)
{
    switch (sig) {
    case 0: case SIGCHLD: case SIGCONT: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
    case SIGURG: case SIGWINCH:
        return 0;
    }
    return sig > 0 && sig < 65;
}

static uint64_t status_mask(const char *text, size_t len, const char *key)
{
    const char *p = memmem(text, len, key, strlen(key));
    uint64_t v = 0;
    if (!p)
        return 0;
    for (p += strlen(key); p < text + len && (*p == '\t' || *p == ' '); p++)
        ;
    for (; p < text + len; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            break;
        v = v << 4 | (uint64_t)d;
    }
    return v;
}

/* Does pid catch or ignore sig?  -1 when it cannot be told. */
static int handles(pid_t pid, int sig)
{
    if (sig == SIGKILL)
        return 0;
    char path[48], text[4096];
    struct fsan__sbuf sb = {path, sizeof path - 1, 0};
    fsan__sb_str(&sb, "/proc/");
    fsan__sb_dec(&sb, pid);
    fsan__sb_str(&sb, "/status");
    path[sb.len] = '\0';
    ssize_t n = fsan__read_file(path, text, sizeof text);
    if (n <= 0)
        return -1;
    uint64_t bit = 1ull << (sig - 1);
    return ((status_mask(text, (size_t)n, "\nSigIgn:") | status_mask(text, (size_t)n, "\nSigCgt:")) & bit) != 0;
}

/* Is pid a fork child of this image (not exec'd since)? */
static int own_fork_child(pid_t pid)
{
    uint64_t cookie = 0;
    struct fsan__process proc;
    fsan__read_pid = pid;
    int ok = fsan__read_mem(&cookie, (uintptr_t)&fsan__image_cookie, sizeof cookie) == 0 &&
             fsan__read_mem(&proc, (uintptr_t)&fsan__proc, sizeof proc) == 0;
    fsan__read_pid = 0;
    return ok && cookie == fsan__image_cookie && proc.in_child && proc.pid == pid;
}

struct pending_signal {
    int armed;
    struct fsan_rec_signal rec;
    const char *py_name;
};

/* Before the signal goes out: is it the death of a fork child, and what
 * does that child lose?  Fills *p when it is. */
static void before_signal(pid_t pid, int sig, uintptr_t ret, struct pending_signal *p)
{
    p->armed = 0;
    if (!fsan__active() || fsan__guard || pid <= 0 || !kills_by_default(sig) ||
        pid == (pid_t)fsan__sys_getpid())
        return;
    int saved = errno;
    fsan__guard++;
    if (own_fork_child(pid) && handles(pid, sig) == 0) {
        struct fsan__lost lost;
        fsan__read_pid = pid;
        fsan__child_lost(&lost);
        uint32_t child_pysite = fsan__py_active() ? fsan__py_thread_stack(pid) : 0;
        fsan__read_pid = 0;
        p->armed = 1;
        p->py_name = lost.py_name;
        p->rec = (struct fsan_rec_signal){(uint32_t)pid, (uint32_t)sig, (uint32_t)fsan__sys_gettid(),
                                          fsan__site_of(ret), fsan__py_active() ? fsan__py_site_here() : 0,
                                          lost.handlers, lost.handler, lost.pending, lost.py_handlers,
                                          child_pysite};
    }
    fsan__guard--;
    errno = saved;
}

/* After it went out (rc 0): the record. */
static int after_signal(int rc, const struct pending_signal *p)
{
    if (rc != 0 || !p->armed)
        return rc;
    int saved = errno;
    fsan__trace_mark_needed();
    fsan__site_write(p->rec.site);
    fsan__pysite_write(p->rec.pysite);
    fsan__pysite_write(p->rec.child_pysite);
    fsan__trace_maps();
    fsan__trace_record(FSAN_REC_SIGNAL, &p->rec, sizeof p->rec, p->py_name,
                       p->py_name ? strnlen(p->py_name, 255) : 0);
    fsan__trace_flush();
    errno = saved;
    return rc;
}

FSAN_EXPORT int kill(pid_t pid, int sig)
{
    struct pending_signal p;
    before_signal(pid, sig, RET_ADDR, &p);
    return after_signal(REAL(kill)(pid, sig), &p);
}

FSAN_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
    struct pending_signal p;
    before_signal(tgid, sig, RET_ADDR, &p);
    return after_signal(REAL(tgkill)(tgid, tid, sig), &p);
}

FSAN_EXPORT int sigqueue(pid_t pid, int sig, const union sigval value)
{
    struct pending_signal p;
    before_signal(pid, sig, RET_ADDR, &p);
    return after_signal(REAL(sigqueue)(pid, sig, value), &p);
}

/* A pidfd names its process in /proc/self/fdinfo/FD ("Pid:"). */
static pid_t pidfd_pid(int pidfd)
{
    char path[64], text[1024];
    struct fsan__sbuf sb = {path, sizeof path - 1, 0};
    fsan__sb_str(&sb, "/proc/self/fdinfo/");
    fsan__sb_dec(&sb, pidfd);
    path[sb.len] = '\0';
    ssize_t n = fsan__read_file(path, text, sizeof text - 1);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    const char *p = strstr(text, "\nPid:");
    long pid = 0;
    for (p = p ? p + 5 : text + n; *p == '\t' || *p == ' '; p++)
        ;
    for (; *p >= '0' && *p <= '9'; p++)
        pid = pid * 10 + (*p - '0');
    return (pid_t)pid;
}

FSAN_EXPORT int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    struct pending_signal p = {0};
    if (fsan__active() && !fsan__guard && kills_by_default(sig))
        before_signal(pidfd_pid(pidfd), sig, RET_ADDR, &p);
    return after_signal(REAL(pidfd_send_signal)(pidfd, sig, info, flags), &p);
}

/* ---- reaping: how a child ended, told by its parent --------------------- */

/* A child that a signal ended says nothing about it, whoever sent the
 * signal (its own alarm, a crash, another process): its parent learns it
 * from wait and records it, so the report does not say "no exit seen".
 * Only a signal death costs anything. */
static void reaped(pid_t pid, int status)
{
    if (pid <= 0 || !WIFSIGNALED(status) || !fsan__active())
        return;
    int saved = errno;
    struct fsan_rec_reaped r = {(uint32_t)pid, (uint32_t)WTERMSIG(status)};
    fsan__trace_mark_needed();
    fsan__trace_record(FSAN_REC_REAPED, &r, sizeof r, NULL, 0);
    errno = saved;
}

FSAN_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    int st = 0;
    pid_t rc = REAL(waitpid)(pid, status ? status : &st, options);
    if (rc > 0)
        reaped(rc, status ? *status : st);
    return rc;
}

FSAN_EXPORT pid_t wait(int *status)
{
    int st = 0;
    pid_t rc = REAL(wait)(status ? status : &st);
    if (rc > 0)
        reaped(rc, status ? *status : st);
    return rc;
}

FSAN_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    int st = 0;
    pid_t rc = REAL(wait4)(pid, status ? status : &st, options, usage);
    if (rc > 0)
        reaped(rc, status ? *status : st);
    return rc;
}

/* loops.c — event loops: epoll instances, the threads that drive them, the
 * descriptors registered in them and the wake-up paths into them.
 *
 * An event loop is an epoll instance plus the thread that waits on it.
 * After fork the child keeps the loop's memory but not its thread, and the
 * epoll instance is the *same kernel object* as the parent's: an epoll_ctl
 * in the child edits the parent's interest list, a wait in the child steals
 * the parent's events, and a wake-up written by the child lands in a loop
 * nobody drives.  This file records, in every process, which epoll
 * instances exist and who drives them; in a fork child it watches the
 * inherited ones (rules stranded-loop and shared-loop).
 *
 * DESIGN
 * Kernel objects are tracked by observing their creation, not by fd
 * number: the child's own epoll_create (or its closing an inherited epoll
 * fd, which is what uv_loop_fork and event_reinit do first) marks the
 * instance re-created, even when the kernel hands back the same number.
 * Tables are fixed and indexed by descriptor (descriptors beyond
 * FSAN_MAX_FDS are not tracked, and counted).  Outside a fork child that
 * inherited a loop, write() and send() cost one predictable branch.  The
 * table lock is a spin lock guarded against same-thread re-entry (a signal
 * handler) and reset in the child, where its holder may have vanished.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))
#define FSAN_MAX_LOOPS 64
#define FSAN_MAX_FDS 4096
#define FSAN_LOOP_FDS 32

struct loop {
    int epfd;             /* -1 = free */
    int inherited;        /* created before the fork that made this process */
    int recreated;        /* the child closed it */
    int written;          /* LOOP record written in this trace */
    pid_t creator_tid;
    pid_t driver_tid;
    uint32_t create_site, create_pysite;
    uint32_t driver_vanished;
    uint32_t reported;    /* bit per use kind already recorded */
    int remedied;         /* safe mode gave the child its own copy (not "re-created": a stranded loop stays stranded) */
    int untracked;        /* registrations not in fds[] (full, or a descriptor tracked in another loop) */
    int nfds;
    int fds[FSAN_LOOP_FDS];
    struct epoll_event events[FSAN_LOOP_FDS]; /* each fd's registration, as epoll_ctl last set it */
};

static struct loop loops[FSAN_MAX_LOOPS];
static uint8_t loop_of_epfd[FSAN_MAX_FDS]; /* loop index + 1 */
static uint8_t loop_of_fd[FSAN_MAX_FDS];   /* loop a descriptor is registered in, + 1 */
static int32_t peer_of_fd[FSAN_MAX_FDS];   /* the other end of a pipe/socketpair, + 1 */
static _Atomic int loops_lock;
static FSAN_TLS int in_loops;
/* In the hot section: every fork child reads it, and a page the parent
 * never touched costs the child a fault even to read. */
FSAN_HOT static int loops_initialized;

/* ---- table ------------------------------------------------------------------ */

static int lock_loops(void)
{
    return fsan__spin_lock(&loops_lock, &in_loops);
}

static void unlock_loops(void)
{
    fsan__spin_unlock(&loops_lock, &in_loops);
}

static void init_once(void)
{
    if (loops_initialized)
        return;
    for (int i = 0; i < FSAN_MAX_LOOPS; i++)
        loops[i].epfd = -1;
    loops_initialized = 1;
}

static int tracked(int fd)
{
    return fd >= 0 && fd < FSAN_MAX_FDS;
}

static struct loop *loop_for_epfd(int epfd)
{
    return tracked(epfd) && loop_of_epfd[epfd] ? &loops[loop_of_epfd[epfd] - 1] : NULL;
}

/* A descriptor number is being reused (closed, or handed out again). */
static void forget_fd(int fd)
{
    if (!tracked(fd))
        return;
    if (loop_of_fd[fd]) {
        struct loop *l = &loops[loop_of_fd[fd] - 1];
        for (int i = 0; i < l->nfds; i++)
            if (l->fds[i] == fd) {
                l->nfds--;
                l->fds[i] = l->fds[l->nfds];
                l->events[i] = l->events[l->nfds];
            }
        loop_of_fd[fd] = 0;
    }
    if (peer_of_fd[fd]) {
        int peer = peer_of_fd[fd] - 1;
        if (tracked(peer) && peer_of_fd[peer] == fd + 1)
            peer_of_fd[peer] = 0;
        peer_of_fd[fd] = 0;
    }
}

static void add_loop(int epfd, uintptr_t ret)
{
    if (!tracked(epfd) || lock_loops() < 0)
        return;
    init_once();
    forget_fd(epfd);
    if (loop_of_epfd[epfd])
        loops[loop_of_epfd[epfd] - 1].epfd = -1;
    loop_of_epfd[epfd] = 0;
    for (int i = 0; i < FSAN_MAX_LOOPS; i++) {
        struct loop *l = &loops[i];
        if (l->epfd != -1)
            continue;
        memset(l, 0, sizeof *l);
        l->epfd = epfd;
        struct fsan__thread *self = fsan__self();
        l->creator_tid = self ? self->tid : (pid_t)fsan__sys_gettid();
        unlock_loops();
        l->create_site = fsan__site_of(ret);
        l->create_pysite = fsan__py_active() ? fsan__py_site_here() : 0;
        loop_of_epfd[epfd] = (uint8_t)(i + 1);
        return;
    }
    unlock_loops();
}

/* ---- the child's watch --------------------------------------------------------- */

/* AS-safe: the LOOP record, once per trace file. */
static void write_loop(struct loop *l)
{
    if (l->written)
        return;
    l->written = 1;
    fsan__site_write(l->create_site);
    fsan__pysite_write(l->create_pysite);
    struct fsan_rec_loop rec = {
        .epfd = l->epfd,
        .creator_tid = (uint32_t)l->creator_tid,
        .driver_tid = (uint32_t)l->driver_tid,
        .create_site = l->create_site,
        .create_pysite = l->create_pysite,
        .flags = l->driver_vanished ? FSAN_LOOP_DRIVER_VANISHED : 0,
        .nfds = (uint32_t)l->nfds,
    };
    fsan__trace_record(FSAN_REC_LOOP, &rec, sizeof rec, l->fds, (size_t)l->nfds * sizeof l->fds[0]);
}

static void strict_loop_exit(int epfd)
{
    char msg[160];
    struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
    fsan__sb_str(&sb, "shared-loop: the forked child used the parent's epoll instance (fd ");
    fsan__sb_dec(&sb, epfd);
    fsan__sb_str(&sb, "); strict mode ends it");
    msg[sb.len] = '\0';
    fsan__log("ERROR", msg);
    fsan__child_strict_exit((uintptr_t)epfd);
}

/* AS-safe: the child used, woke or re-created an inherited loop. */
static void record_use(struct loop *l, uint32_t kind, int fd, uintptr_t ret)
{
    if ((l->reported & (1u << kind)) || (pid_t)fsan__sys_getpid() != fsan__proc.pid)
        return;
    l->reported |= 1u << kind;
    int saved = errno;
    fsan__trace_mark_needed();
    fsan__child_note_finding();
    write_loop(l);
    uint32_t site = fsan__site_of(ret);
    uint32_t pysite = fsan__py_active() ? fsan__py_site_here() : 0;
    fsan__site_write(site);
    fsan__pysite_write(pysite);
    struct fsan_rec_loop_use use = {l->epfd, kind, fd, (uint32_t)fsan__sys_gettid(), site, pysite};
    fsan__trace_maps();
    fsan__trace_record(FSAN_REC_LOOP_USE, &use, sizeof use, NULL, 0);
    fsan__trace_flush();
    errno = saved;
    if (fsan__proc.opts.mode == FSAN_MODE_STRICT && (kind == FSAN_LOOPUSE_CTL || kind == FSAN_LOOPUSE_WAIT))
        strict_loop_exit(l->epfd);
}

static struct loop *inherited_loop(int epfd)
{
    struct loop *l = loop_for_epfd(epfd);
    return l && l->inherited && !l->recreated && !l->remedied ? l : NULL;
}

/* AS-safe, fork child of a safe fork, before its first epoll_ctl or wait
 * on an inherited instance: a new epoll instance with the same
 * registrations (events and data as the parent last set them) takes the
 * inherited one's descriptor number (dup3 is atomic: the number never
 * means anything else), so from now on the child edits and waits on its
 * own kernel object and the parent's interest list is the parent's alone.
 * Registrations the table does not hold make the copy unfaithful: then
 * nothing is done, and the use is reported as before.  1 when the copy
 * was made. */
static int remedy_loop(struct loop *l, uintptr_t ret)
{
    int saved = errno;
    struct fsan_rec_remedy r = {.object = (uint64_t)(int64_t)l->epfd, .kind = FSAN_REMEDY_EPOLL,
                                .tid = (uint32_t)fsan__sys_gettid(), .site = fsan__site_of(ret),
                                .pysite = fsan__py_active() ? fsan__py_site_here() : 0,
                                .acquire_site = l->create_site};
    int done = 0;
    if (l->untracked) {
        r.kind = FSAN_REMEDY_SKIPPED;
        r.reason = FSAN_RMR_EPOLL_FULL;
    } else {
        int fd_flags = fcntl(l->epfd, F_GETFD);
        int copy = REAL(epoll_create1)(EPOLL_CLOEXEC);
        int err = copy < 0 || fd_flags < 0 ? errno : 0;
        for (int i = 0; !err && i < l->nfds; i++)
            if (REAL(epoll_ctl)(copy, EPOLL_CTL_ADD, l->fds[i], &l->events[i]) < 0 && errno != EBADF)
                err = errno; /* EBADF: the child closed it without telling the runtime */
        if (!err && fsan__sys_dup3(copy, l->epfd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
            err = errno;
        if (copy >= 0)
            REAL(close)(copy);
        if (err) {
            r.kind = FSAN_REMEDY_SKIPPED;
            r.reason = FSAN_RMR_EPOLL_FAILED;
            r.amount = (uint64_t)err;
        } else {
            r.amount = (uint64_t)l->nfds;
            l->remedied = 1;
            done = 1;
        }
    }
    fsan__site_write(l->create_site);
    fsan__safe_record(&r, 0);
    errno = saved;
    return done;
}

/* AS-safe: fork child, first thing (from child.c).  Every loop alive now
 * was created in the parent; a loop whose driver was not the forking
 * thread has lost its driver. */
void fsan__loops_after_fork_child(pid_t forker_parent_tid)
{
    if (!loops_initialized)
        return; /* no epoll here: touch nothing (every page written is copied) */
    atomic_store(&loops_lock, 0);
    in_loops = 0;
    int stranded = 0;
    for (int i = 0; i < FSAN_MAX_LOOPS; i++) {
        struct loop *l = &loops[i];
        if (l->epfd == -1)
            continue;
        l->inherited = 1;
        l->recreated = 0;
        l->written = 0;
        l->reported = 0;
        if (l->remedied)
            l->remedied = 0; /* the parent's copy, inherited again */
        l->driver_vanished = l->driver_tid != 0 && l->driver_tid != forker_parent_tid;
        stranded |= (int)l->driver_vanished;
    }
    fsan__proc.io_watch |= FSAN_IO_LOOPS;
    if (stranded) {
        /* Evidence for the untouched-stranded warning, written now: the
         * child may never come back through the runtime. */
        for (int i = 0; i < FSAN_MAX_LOOPS; i++)
            if (loops[i].epfd != -1 && loops[i].driver_vanished)
                write_loop(&loops[i]);
    }
}

/* ---- interposers ------------------------------------------------------------------ */

static inline int watching(void)
{
    return fsan__active() && !fsan__guard;
}

FSAN_EXPORT int epoll_create(int size)
{
    int fd = REAL(epoll_create)(size);
    if (fd >= 0 && watching())
        add_loop(fd, RET_ADDR);
    return fd;
}

FSAN_EXPORT int epoll_create1(int flags)
{
    int fd = REAL(epoll_create1)(flags);
    if (fd >= 0 && watching()) {
        int saved = errno;
        add_loop(fd, RET_ADDR);
        errno = saved;
    }
    return fd;
}

/* A registration epoll_ctl made (the table lock held).  Safe mode copies
 * them; every registration the table cannot hold is counted. */
static void note_registration(struct loop *l, int epfd, int op, int fd, const struct epoll_event *event)
{
    int i = 0;
    while (tracked(fd) && i < l->nfds && l->fds[i] != fd)
        i++;
    int known = tracked(fd) && i < l->nfds;
    if (op == EPOLL_CTL_ADD && tracked(fd) && l->nfds < FSAN_LOOP_FDS && !loop_of_fd[fd]) {
        l->events[l->nfds] = event ? *event : (struct epoll_event){0};
        l->fds[l->nfds++] = fd;
        loop_of_fd[fd] = loop_of_epfd[epfd];
    } else if (op == EPOLL_CTL_ADD) {
        l->untracked++;
    } else if (op == EPOLL_CTL_MOD && known && event) {
        l->events[i] = *event;
    } else if (op == EPOLL_CTL_DEL && known && loop_of_fd[fd] == loop_of_epfd[epfd]) {
        l->fds[i] = l->fds[l->nfds - 1];
        l->events[i] = l->events[l->nfds - 1];
        l->nfds--;
        loop_of_fd[fd] = 0;
    } else if (op == EPOLL_CTL_DEL && l->untracked) {
        l->untracked--;
    }
}

FSAN_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    if (!watching())
        return REAL(epoll_ctl)(epfd, op, fd, event);
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        struct loop *l = inherited_loop(epfd);
        if (l && !(fsan__proc.safe_fork && !fsan__safe_in_handler && remedy_loop(l, RET_ADDR)))
            record_use(l, FSAN_LOOPUSE_CTL, fd, RET_ADDR);
    }
    int rc = REAL(epoll_ctl)(epfd, op, fd, event);
    struct loop *l = loop_for_epfd(epfd);
    if (rc == 0 && l && lock_loops() == 0) {
        note_registration(l, epfd, op, fd, event);
        unlock_loops();
    }
    return rc;
}

/* The thread that waits on an instance is its driver. */
static void note_wait(int epfd, uintptr_t ret)
{
    struct loop *l = loop_for_epfd(epfd);
    if (!l)
        return;
    if (FSAN_UNLIKELY(fsan__proc.in_child) && l->inherited && !l->recreated && !l->remedied &&
        !(fsan__proc.safe_fork && !fsan__safe_in_handler && remedy_loop(l, ret)))
        record_use(l, FSAN_LOOPUSE_WAIT, -1, ret);
    struct fsan__thread *self = fsan__self_peek();
    pid_t tid = self ? self->tid : 0;
    if (tid && l->driver_tid != tid)
        l->driver_tid = tid;
}

FSAN_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    if (watching())
        note_wait(epfd, RET_ADDR);
    return REAL(epoll_wait)(epfd, events, maxevents, timeout);
}

FSAN_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                            const sigset_t *sigmask)
{
    if (watching())
        note_wait(epfd, RET_ADDR);
    return REAL(epoll_pwait)(epfd, events, maxevents, timeout, sigmask);
}

FSAN_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                             const struct timespec *timeout, const sigset_t *sigmask)
{
    if (watching())
        note_wait(epfd, RET_ADDR);
    return REAL(epoll_pwait2)(epfd, events, maxevents, timeout, sigmask);
}

/* New descriptors: whatever the number meant before is forgotten. */
static int fresh_fd(int fd)
{
    if (fd >= 0 && watching() && lock_loops() == 0) {
        forget_fd(fd);
        unlock_loops();
    }
    return fd;
}

FSAN_EXPORT int eventfd(unsigned int initval, int flags)
{
    return fresh_fd(REAL(eventfd)(initval, flags));
}

FSAN_EXPORT int timerfd_create(int clockid, int flags)
{
    return fresh_fd(REAL(timerfd_create)(clockid, flags));
}

FSAN_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    int rc = REAL(signalfd)(fd, mask, flags);
    return fd == -1 ? fresh_fd(rc) : rc;
}

static void pair_up(const int fds[2])
{
    if (!watching() || !tracked(fds[0]) || !tracked(fds[1]) || lock_loops() < 0)
        return;
    forget_fd(fds[0]);
    forget_fd(fds[1]);
    peer_of_fd[fds[0]] = fds[1] + 1;
    peer_of_fd[fds[1]] = fds[0] + 1;
    unlock_loops();
}

FSAN_EXPORT int pipe(int fds[2])
{
    int rc = REAL(pipe)(fds);
    if (rc == 0)
        pair_up(fds);
    return rc;
}

FSAN_EXPORT int pipe2(int fds[2], int flags)
{
    int rc = REAL(pipe2)(fds, flags);
    if (rc == 0)
        pair_up(fds);
    return rc;
}

FSAN_EXPORT int socketpair(int domain, int type, int protocol, int fds[2])
{
    int rc = REAL(socketpair)(domain, type, protocol, fds);
    if (rc == 0)
        pair_up(fds);
    return rc;
}

/* A vfork child (CPython's subprocess, posix_spawn fallbacks) runs in the
 * parent's memory and closes descriptors the parent keeps open: it must not
 * touch the parent's tables. */
static int own_process(void)
{
    return (pid_t)fsan__sys_getpid() == fsan__proc.pid;
}

FSAN_EXPORT int close(int fd)
{
    if (!loops_initialized || !tracked(fd) || (!loop_of_epfd[fd] && !loop_of_fd[fd] && !peer_of_fd[fd]))
        return REAL(close)(fd); /* nothing known about this descriptor */
    if (!own_process())
        return REAL(close)(fd);
    if (FSAN_UNLIKELY(fsan__proc.io_watch & FSAN_IO_LOOPS) && watching()) {
        struct loop *l = inherited_loop(fd);
        if (l && fsan__proc.in_child) {
            record_use(l, FSAN_LOOPUSE_RECREATE, fd, RET_ADDR);
            l->recreated = 1;
        }
    }
    int rc = REAL(close)(fd);
    if (rc == 0 && loops_initialized && watching() && tracked(fd) && lock_loops() == 0) {
        forget_fd(fd);
        if (loop_of_epfd[fd]) {
            loops[loop_of_epfd[fd] - 1].epfd = -1;
            loop_of_epfd[fd] = 0;
        }
        unlock_loops();
    }
    return rc;
}

/* A write into a stranded loop: to a registered descriptor (an eventfd) or
 * to the peer of one (the write end of a self-pipe or socketpair). */
static void check_wake(int fd, uintptr_t ret)
{
    if (!tracked(fd))
        return;
    int in = loop_of_fd[fd];
    if (!in && peer_of_fd[fd]) {
        int peer = peer_of_fd[fd] - 1;
        in = tracked(peer) ? loop_of_fd[peer] : 0;
    }
    if (!in)
        return;
    struct loop *l = &loops[in - 1];
    if (l->inherited && !l->recreated && l->driver_vanished)
        record_use(l, FSAN_LOOPUSE_WAKE, fd, ret);
}

/* Every write-like call of a fork child that needs a look: a write that
 * wakes a stranded loop, or one an inherited exit handler makes. */
static void watched_write(int fd, uint64_t bytes, uintptr_t ret)
{
    if (!fsan__proc.in_child || !watching())
        return;
    if (fsan__proc.io_watch & FSAN_IO_LOOPS)
        check_wake(fd, ret);
    if (fsan__proc.io_watch & FSAN_IO_EXIT_HANDLER)
        fsan__cleanup_write(fd, bytes);
}

/* The watched paths live out of line, each ending in the real call, so
 * the common path of every interposer is a load, a branch and a jump to
 * libc (no register saved for a call that returns). */
static __attribute__((noinline)) ssize_t write_watched(int fd, const void *buf, size_t count, uintptr_t ret)
{
    watched_write(fd, count, ret);
    return REAL(write)(fd, buf, count);
}

FSAN_EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
    if (FSAN_UNLIKELY(fsan__proc.io_watch))
        return write_watched(fd, buf, count, RET_ADDR);
    return REAL(write)(fd, buf, count);
}

static __attribute__((noinline)) ssize_t send_watched(int fd, const void *buf, size_t len, int flags, uintptr_t ret)
{
    watched_write(fd, len, ret);
    return REAL(send)(fd, buf, len, flags);
}

FSAN_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (FSAN_UNLIKELY(fsan__proc.io_watch))
        return send_watched(fd, buf, len, flags, RET_ADDR);
    return REAL(send)(fd, buf, len, flags);
}

FSAN_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                           socklen_t tolen)
{
    if (FSAN_UNLIKELY(fsan__proc.io_watch))
        watched_write(fd, len, RET_ADDR);
    return REAL(sendto)(fd, buf, len, flags, to, tolen);
}

FSAN_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (FSAN_UNLIKELY(fsan__proc.io_watch)) {
        uint64_t bytes = 0;
        for (int i = 0; iov && i < iovcnt; i++)
            bytes += iov[i].iov_len;
        watched_write(fd, bytes, RET_ADDR);
    }
    return REAL(writev)(fd, iov, iovcnt);
}

/* cleanup.c — what the parent's exit handlers do when a fork child runs
 * them (rule duplicated-cleanup).
 *
 * A fork child that ends with exit() runs every atexit / on_exit handler
 * and C++ static destructor its parent registered.  Most of them free
 * memory or reset library state, which is harmless twice.  It is a hazard
 * when such a handler does the parent's work a second time: writes or
 * sends on a descriptor the child shares with its parent (a log line, a
 * "goodbye" on a connection, a buffered file flushed twice), or removes a
 * file (the pid file or socket the parent still uses).  So the finding is
 * made when a handler the child inherited does one of those, and it says
 * which handler did what.
 *
 * DESIGN
 * Every handler is registered through a trampoline that knows its
 * registration number (the __cxa_atexit and on_exit interposers in
 * stdio.c hand it over): glibc runs the same functions with the same
 * arguments in the same order, one frame deeper.  While an inherited
 * handler runs in a fork child, the thread-local `running` names it, and
 * the write-like and remove-like interposers ask whether the descriptor is
 * the parent's own open file (kcmp(KCMP_FILE), which needs no ptrace
 * attach right) or whether a removal succeeded.  The first such effect is
 * recorded and flushed at once: the process is on its way out.  The table
 * of trampolines is fixed; handlers beyond it are registered directly and
 * simply not watched.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))
#define FSAN_MAX_EXIT_HANDLERS 4096

struct exit_handler {
    uintptr_t fn;
    void *arg;
    uint32_t index; /* registration number in this image */
};

static struct exit_handler handlers[FSAN_MAX_EXIT_HANDLERS];
static _Atomic uint32_t nhandlers;
static FSAN_TLS const struct exit_handler *running; /* an inherited handler, in a fork child */
FSAN_HOT static int effect_recorded;
FSAN_HOT static uint32_t exit_site, exit_pysite;

static int own_child(void)
{
    return fsan__active() && fsan__proc.in_child && (pid_t)fsan__sys_getpid() == fsan__proc.pid;
}

/* AS-safe: the child starts with nothing recorded. */
void fsan__cleanup_after_fork_child(void)
{
    if (effect_recorded)
        effect_recorded = 0;
    if (exit_site)
        exit_site = 0;
    if (exit_pysite)
        exit_pysite = 0;
}

/* exit() was called in a fork child: where, for the finding. */
void fsan__cleanup_child_exit(uintptr_t ret)
{
    if (!own_child())
        return;
    exit_site = fsan__site_of(ret);
    exit_pysite = fsan__py_active() ? fsan__py_site_here() : 0;
}

/* What an inherited handler is about to run in: the handler it
 * interrupts (handlers may run handlers) and the stdio bytes pending. */
struct handler_frame {
    const struct exit_handler *outer;
    uint64_t pending;
};

static void enter(const struct exit_handler *h, struct handler_frame *fr)
{
    fr->outer = running;
    fr->pending = 0;
    if (FSAN_LIKELY(!fsan__proc.in_child) || h->index >= fsan__atexit_at_fork() || !own_child())
        return;
    int fd;
    fr->pending = fsan__stdio_pending(&fd);
    running = h;
    if (!(fsan__proc.io_watch & FSAN_IO_EXIT_HANDLER))
        fsan__proc.io_watch |= FSAN_IO_EXIT_HANDLER;
}

/* Output the handler left in stdio buffers is written by exit() right
 * after the handlers, onto the same descriptor: its effect too. */
static void leave(const struct exit_handler *h, const struct handler_frame *fr)
{
    if (running == h && !effect_recorded) {
        int fd;
        uint64_t pending = fsan__stdio_pending(&fd);
        if (pending > fr->pending && fd >= 0)
            fsan__cleanup_write(fd, pending - fr->pending);
    }
    running = fr->outer;
}

static void run_cxa(void *p)
{
    const struct exit_handler *h = p;
    struct handler_frame fr;
    enter(h, &fr);
    ((void (*)(void *))h->fn)(h->arg);
    leave(h, &fr);
}

static void run_on_exit(int status, void *p)
{
    const struct exit_handler *h = p;
    struct handler_frame fr;
    enter(h, &fr);
    ((void (*)(int, void *))h->fn)(status, h->arg);
    leave(h, &fr);
}

static struct exit_handler *remember(uintptr_t fn, void *arg, uint32_t index)
{
    uint32_t slot = atomic_fetch_add(&nhandlers, 1);
    if (slot >= FSAN_MAX_EXIT_HANDLERS)
        return NULL;
    struct exit_handler *h = &handlers[slot];
    h->fn = fn;
    h->arg = arg;
    h->index = index;
    return h;
}

int fsan__cleanup_cxa_atexit(void (*fn)(void *), void *arg, void *dso, uint32_t index)
{
    struct exit_handler *h = remember((uintptr_t)fn, arg, index);
    return h ? REAL(__cxa_atexit)(run_cxa, h, dso) : REAL(__cxa_atexit)(fn, arg, dso);
}

int fsan__cleanup_on_exit(void (*fn)(int, void *), void *arg, uint32_t index)
{
    struct exit_handler *h = remember((uintptr_t)fn, arg, index);
    return h ? REAL(on_exit)(run_on_exit, h) : REAL(on_exit)(fn, arg);
}

/* Is fd the parent's own open file (the same open file description), not
 * merely the same number?  Unknown (no parent left, no kcmp) is "no". */
static int shared_with_parent(int fd)
{
    long parent = fsan__sys_getppid();
    if (parent <= 1)
        return 0;
    int saved = errno;
    long same = syscall(SYS_kcmp, fsan__sys_getpid(), parent, KCMP_FILE, fd, fd);
    errno = saved;
    return same == 0;
}

static void record_effect(uint32_t effect, int fd, uint64_t bytes, const char *path)
{
    int saved = errno;
    effect_recorded = 1;
    fsan__trace_mark_needed();
    fsan__child_note_finding();
    fsan__site_write(exit_site);
    fsan__pysite_write(exit_pysite);
    fsan__trace_maps();
    fsan__trace_maps_cover(running->fn);
    struct fsan_rec_cleanup rec = {FSAN_CLEANUP_DUP_HANDLERS, fd, bytes, exit_site, fsan__atexit_at_fork(),
                                   running->fn, effect, exit_pysite};
    fsan__trace_record(FSAN_REC_CLEANUP, &rec, sizeof rec, path, path ? strnlen(path, 255) : 0);
    fsan__trace_flush();
    errno = saved;
}

/* A write-like call while an inherited handler runs (the io_watch gate). */
void fsan__cleanup_write(int fd, uint64_t bytes)
{
    if (!running || effect_recorded || bytes == 0 || !own_child() || !shared_with_parent(fd))
        return;
    record_effect(FSAN_EFFECT_WRITE, fd, bytes, NULL);
}

static void removed(int rc, const char *path)
{
    if (rc == 0 && FSAN_UNLIKELY(running) && !effect_recorded && own_child())
        record_effect(FSAN_EFFECT_REMOVE, -1, 0, path);
}

FSAN_EXPORT int unlink(const char *path)
{
    int rc = REAL(unlink)(path);
    removed(rc, path);
    return rc;
}

FSAN_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    int rc = REAL(unlinkat)(dirfd, path, flags);
    removed(rc, path);
    return rc;
}

FSAN_EXPORT int remove(const char *path)
{
    int rc = REAL(remove)(path);
    removed(rc, path);
    return rc;
}

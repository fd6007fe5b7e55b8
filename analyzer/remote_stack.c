/* remote_stack.c — the stacks of a hung process, taken from outside:
 * every thread is stopped with ptrace, unwound with libunwind's remote
 * unwinder (libunwind-ptrace), and let go again.
 *
 * DESIGN
 * The watchdog (watchdog.c) calls this only for a fork child it has seen
 * blocked, so the cost falls on a process that was doing nothing.
 * PTRACE_SEIZE + PTRACE_INTERRUPT stop a thread without sending it a
 * signal: the program's own handlers, its signal mask and its parent's
 * wait() see nothing, and the system call it was blocked in is restarted
 * when it is let go (a futex wait or a pipe read go on waiting as
 * before).  Only the stop of each thread is awaited, for at most
 * STOP_WAIT_MS: a thread that does not stop (it ended, or it sits in an
 * uninterruptible wait) keeps no stack, and the reason is written out.  A
 * signal that arrived while a thread was stopped is handed back to it
 * when it is detached, so nothing is lost.
 *
 * libunwind lives in the forksan command only: the watched program never
 * loads it.  The command loads it too only when a child is found hung
 * (dlopen, through the table below), so no other run pays for mapping
 * and relocating it at start-up; when it is missing, the hang report says
 * which package to install instead of the stacks.  The addresses are kept raw and symbolized afterwards with
 * the analyzer's libdw symbolizer against the maps text taken at the
 * hang, like every other stack in the report.
 *
 * A child that runs CPython also has Python frames: they are read while
 * its threads are stopped, by the frame walker the runtime uses
 * (common/pywalk.c) over process_vm_readv (analyzer/pyremote.c), so the
 * interpreter's structures do not change under the reads.  A CPython it
 * cannot read (a version or build it does not know) is said once, in
 * h->py_unavailable; a child without CPython has no Python frames.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pyremote.h"
#include "trace_format.h"
#include "watchdog.h"

/* How long every thread together may take to stop. */
#define STOP_WAIT_MS 2000

/* What a thread went through: attached, stopped, with a signal to give
 * back at the detach. */
struct traced {
    int attached;
    int stopped;
    int gone;
    int signal;
};

/* The process's TracerPid from /proc/PID/status: who already traces it. */
static int tracer_of(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    int tracer = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "TracerPid: %d", &tracer) == 1)
            break;
    fclose(f);
    return tracer;
}

static void explain_attach_error(pid_t pid, int err, char *why, size_t whylen)
{
    int tracer = tracer_of(pid);
    if (err == ESRCH)
        snprintf(why, whylen, "it ended before its stacks could be taken");
    else if (tracer > 0)
        snprintf(why, whylen, "it is already traced by pid %d (a debugger), and a process has one tracer", tracer);
    else
        snprintf(why, whylen,
                 "ptrace refused to attach to it (%s): it may be set-user-ID or have called "
                 "prctl(PR_SET_DUMPABLE, 0), or /proc/sys/kernel/yama/ptrace_scope forbids it",
                 strerror(err));
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every attached thread has stopped or ended, or the time is
 * up.  Returns how many stopped. */
static size_t await_stops(struct fsan_hang_thread *threads, struct traced *t, size_t n)
{
    long long deadline = now_ms() + STOP_WAIT_MS;
    size_t stopped = 0, pending = 0;
    for (size_t i = 0; i < n; i++)
        pending += t[i].attached && !t[i].gone;
    while (pending > 0 && now_ms() < deadline) {
        for (size_t i = 0; i < n; i++) {
            if (!t[i].attached || t[i].stopped || t[i].gone)
                continue;
            int status;
            pid_t r = waitpid(threads[i].tid, &status, __WALL | WNOHANG);
            if (r == 0)
                continue;
            pending--;
            if (r == threads[i].tid && WIFSTOPPED(status)) {
                t[i].stopped = 1;
                stopped++;
                /* Not our interrupt's stop: a signal on its way in, to be
                 * handed back at the detach. */
                if ((status >> 16) != PTRACE_EVENT_STOP)
                    t[i].signal = WSTOPSIG(status);
            } else {
                t[i].gone = 1;
            }
        }
        if (pending > 0)
            usleep(2000);
    }
    return stopped;
}

/* The remote unwinder, called through this table.  libunwind's names are macros for the architecture's symbols
 * (unw_step is _Ux86_64_step): UNWIND_SYMBOL spells what they expand to. */
static struct {
    unw_accessors_t *upt_accessors;
    void *(*upt_create)(pid_t);
    void (*upt_destroy)(void *);
    unw_addr_space_t (*create_addr_space)(unw_accessors_t *, int);
    void (*destroy_addr_space)(unw_addr_space_t);
    int (*init_remote)(unw_cursor_t *, unw_addr_space_t, void *);
    int (*get_reg)(unw_cursor_t *, int, unw_word_t *);
    int (*step)(unw_cursor_t *);
} libunwind;

#define UNWIND_SYMBOL_(name) #name
#define UNWIND_SYMBOL(name) UNWIND_SYMBOL_(name)
#define UNWIND_PACKAGE "libunwind8"

/* Loads libunwind once: the architecture's unwinder, global because the
 * ptrace accessors library calls into it without naming it as a
 * dependency, then the accessors.  0, or -1 with the reason in why. */
static int load_libunwind(char *why, size_t whylen)
{
    if (libunwind.step)
        return 0;
    void *unwinder = dlopen("libunwind-" UNWIND_SYMBOL(UNW_TARGET) ".so.8", RTLD_NOW | RTLD_GLOBAL);
    void *accessors = unwinder ? dlopen("libunwind-ptrace.so.0", RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!accessors) {
        snprintf(why, whylen, "its stacks need libunwind, which could not be loaded (Debian: apt-get install %s): %s",
                 UNWIND_PACKAGE, dlerror());
        return -1;
    }
#define UNWIND_RESOLVE(field, lib, name) (*(void **)&libunwind.field = dlsym(lib, name))
    if (!UNWIND_RESOLVE(upt_accessors, accessors, "_UPT_accessors") ||
        !UNWIND_RESOLVE(upt_create, accessors, "_UPT_create") ||
        !UNWIND_RESOLVE(upt_destroy, accessors, "_UPT_destroy") ||
        !UNWIND_RESOLVE(create_addr_space, unwinder, UNWIND_SYMBOL(unw_create_addr_space)) ||
        !UNWIND_RESOLVE(destroy_addr_space, unwinder, UNWIND_SYMBOL(unw_destroy_addr_space)) ||
        !UNWIND_RESOLVE(init_remote, unwinder, UNWIND_SYMBOL(unw_init_remote)) ||
        !UNWIND_RESOLVE(get_reg, unwinder, UNWIND_SYMBOL(unw_get_reg)) ||
        !UNWIND_RESOLVE(step, unwinder, UNWIND_SYMBOL(unw_step))) {
        libunwind.step = NULL;
        snprintf(why, whylen, "its stacks need libunwind, and the one found lacks a function of its remote unwinder "
                 "(Debian: apt-get install %s)", UNWIND_PACKAGE);
        return -1;
    }
#undef UNWIND_RESOLVE
    return 0;
}

static int unwind_thread(struct fsan_hang_thread *th)
{
    unw_addr_space_t as = libunwind.create_addr_space(libunwind.upt_accessors, 0);
    if (!as)
        return -ENOMEM;
    void *upt = libunwind.upt_create(th->tid);
    int rc = -ENOMEM;
    unw_cursor_t cursor;
    if (upt && (rc = libunwind.init_remote(&cursor, as, upt)) == 0) {
        do {
            unw_word_t ip;
            if (libunwind.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
                break;
            th->ips[th->nips++] = (uint64_t)ip;
        } while (th->nips < FSAN_HANG_FRAMES && libunwind.step(&cursor) > 0);
    } else if (upt) {
        rc = -EIO;
    }
    if (upt)
        libunwind.upt_destroy(upt);
    libunwind.destroy_addr_space(as);
    return rc;
}

void fsan_hang_thread_free_py(struct fsan_hang_thread *th)
{
    for (int i = 0; i < th->npy; i++) {
        free(th->py[i].file);
        free(th->py[i].function);
    }
    free(th->py);
    th->py = NULL;
    th->npy = 0;
}

/* Takes each frame the walker hands out into a thread's array. */
static void keep_pyframe(void *ctx, const char *file, const char *function, int line)
{
    struct fsan_hang_thread *th = ctx;
    if (!th->py)
        return; /* the array could not be allocated */
    struct fsan_hang_pyframe *pf = &th->py[th->npy];
    pf->file = strdup(file ? file : "");
    pf->function = strdup(function ? function : "");
    pf->line = line;
    if (!pf->file || !pf->function) {
        free(pf->file);
        free(pf->function);
        return;
    }
    th->npy++;
}

/* The Python frames of each stopped thread of h (t says which stopped). */
static void read_python(struct fsan_hang *h, const struct traced *t)
{
    struct fsan_py_remote py;
    const char *why = NULL;
    int rc = fsan_py_remote_open(h->pid, &py, &why);
    if (rc == -ENOENT)
        return;
    if (rc < 0) {
        h->py_unavailable = strdup(why ? why : strerror(-rc));
        return;
    }
    for (size_t i = 0; i < h->nthreads; i++) {
        struct fsan_hang_thread *th = &h->threads[i];
        /* 3.10's one thread state is the forking thread's, which is the
         * child's main thread: a thread without one (started by C code)
         * must not be given its frames. */
        if (!t[i].stopped || (!py.layout.native_tid && th->tid != h->pid))
            continue;
        th->py = calloc(FSAN_PY_MAX_FRAMES, sizeof *th->py);
        int walked = fsan_py_walk_thread(&py.layout, &py.mem, py.runtime, py.code_type, th->tid, FSAN_PY_MAX_FRAMES,
                                         keep_pyframe, th);
        if (walked == -ESRCH && !py.layout.native_tid)
            h->py_unavailable = strdup("CPython 3.10's thread states do not say which thread is theirs, and the "
                                       "child started Python threads of its own, so whose frames are whose "
                                       "cannot be told");
        if (th->npy == 0) {
            free(th->py);
            th->py = NULL;
        }
    }
}

int fsan_remote_stacks(struct fsan_hang *h, char *why, size_t whylen)
{
    pid_t pid = h->pid;
    struct fsan_hang_thread *threads = h->threads;
    size_t n = h->nthreads;
    if (load_libunwind(why, whylen) < 0)
        return -ENOENT;
    struct traced *t = calloc(n ? n : 1, sizeof *t);
    if (!t) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    int attach_error = 0;
    size_t attached = 0;
    for (size_t i = 0; i < n; i++) {
        if (ptrace(PTRACE_SEIZE, threads[i].tid, NULL, NULL) == 0) {
            t[i].attached = 1;
            attached++;
        } else if (!attach_error) {
            attach_error = errno;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].attached && ptrace(PTRACE_INTERRUPT, threads[i].tid, NULL, NULL) < 0)
            t[i].gone = 1;
    size_t stopped = await_stops(threads, t, n);
    size_t unwound = 0, gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].stopped && unwind_thread(&threads[i]) == 0 && threads[i].nips > 0)
            unwound++;
        gone += t[i].gone;
    }
    if (stopped > 0)
        read_python(h, t);
    for (size_t i = 0; i < n; i++)
        if (t[i].stopped)
            ptrace(PTRACE_DETACH, threads[i].tid, NULL, (void *)(long)t[i].signal);
    free(t);
    if (attached == 0) {
        explain_attach_error(pid, attach_error ? attach_error : ESRCH, why, whylen);
        return -(attach_error ? attach_error : ESRCH);
    }
    if (gone > 0 && unwound < n) {
        snprintf(why, whylen, "it ended while its stacks were being taken (%zu of %zu threads unwound)", unwound, n);
        return unwound ? 0 : -ESRCH;
    }
    if (stopped < attached) {
        snprintf(why, whylen, "%zu of its %zu threads did not stop for ptrace within %d ms", attached - stopped, n,
                 STOP_WAIT_MS);
        return unwound ? 0 : -ETIMEDOUT;
    }
    if (attached < n) {
        char reason[256];
        explain_attach_error(pid, attach_error, reason, sizeof reason);
        snprintf(why, whylen, "%zu of its %zu threads could not be attached: %s", n - attached, n, reason);
        return unwound ? 0 : -attach_error;
    }
    if (unwound < n) {
        snprintf(why, whylen, "libunwind could not unwind %zu of its %zu threads", n - unwound, n);
        return unwound ? 0 : -EIO;
    }
    return 0;
}

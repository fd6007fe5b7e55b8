/* watchdog.h — forksan run's hang watchdog (watchdog.c) and the remote
 * stacks it takes of a hung child (remote_stack.c). */
#ifndef FSAN_WATCHDOG_H
#define FSAN_WATCHDOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "model.h"
#include "symbolize.h"

/* --hang-timeout when none is given, in seconds. */
#define FSAN_HANG_TIMEOUT_DEFAULT 10
/* The most frames kept of one thread's stack at the hang. */
#define FSAN_HANG_FRAMES 64

/* A Python frame of a hung thread, read from outside (common/pywalk.c). */
struct fsan_hang_pyframe {
    char *file;             /* never NULL ("" when unknown) */
    char *function;         /* never NULL ("" when unknown) */
    int line;               /* 0 when unknown */
};

/* One thread of a hung child, as the watchdog saw it. */
struct fsan_hang_thread {
    int tid;
    char name[16];          /* its comm */
    char *blocked;          /* what it waits for, in words */
    uint64_t futex;         /* the futex it waits on, 0 for other waits */
    uint64_t ips[FSAN_HANG_FRAMES]; /* innermost first; [0] is the exact pc */
    int nips;               /* 0: no stack (see fsan_hang.no_stacks) */
    struct fsan_hang_pyframe *py; /* its Python frames, innermost first */
    int npy;                /* 0: it runs no Python, or they could not be read */
};

/* A fork child found hung: everything the report needs, taken while it
 * was alive and symbolized afterwards. */
struct fsan_hang {
    int pid, ppid;
    int seconds;            /* how long it was seen blocked */
    char *kind;             /* "futex", "pipe", "futex+pipe", or "unknown" (a child that is
                               not dumpable: its waits cannot be read): part of the fingerprint */
    char *maps;             /* its /proc/PID/maps at the hang */
    size_t maps_len;
    struct fsan_hang_thread *threads;
    size_t nthreads;
    char *no_stacks;        /* why the stacks are missing, or NULL */
    char *py_unavailable;   /* the child runs CPython whose frames cannot be read: why; else NULL */
    int ended;              /* strict mode ended it */
};

struct fsan_watchdog {
    pid_t root;             /* the command forksan run started */
    int timeout_s;
    int strict;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;   /* guards stop, for the wake-up */
    pthread_cond_t wake;
    int stop;
    /* Only the watchdog's thread touches these while it runs. */
    struct fsan_watched *watched;
    size_t nwatched, watched_cap;
    struct fsan_hang *hangs;
    size_t nhangs;
};

/* Starts watching the fork children of root on a thread of its own.
 * 0 or -errno (nothing runs then). */
int fsan_watchdog_start(struct fsan_watchdog *w, pid_t root, int timeout_s, int strict);
/* Stops the thread (waiting for a stack being taken); what it found stays. */
void fsan_watchdog_stop(struct fsan_watchdog *w);
void fsan_watchdog_free(struct fsan_watchdog *w);
/* Adds a child-hang finding per hang (symbolized with sym; the fork site
 * and the vanished threads copied from the threads-at-fork finding of the
 * same pid), and notices for stacks that could not be taken.  Runs before
 * the suppressions.  0 or -ENOMEM. */
int fsan_watchdog_apply(struct fsan_watchdog *w, struct fsan_symbolizer *sym, struct fsan_report *r);
/* A threads-at-fork finding of a process that then hung stops reading as
 * reassurance: its message points at child-hang.  Runs after the
 * downgrades, which may rewrite that message.  0 or -ENOMEM. */
int fsan_watchdog_annotate(struct fsan_report *r);

/* The child-hang findings of hangs[0..n), as fsan_watchdog_apply does
 * for the hangs of a watchdog.  0 or -ENOMEM. */
int fsan_hangs_apply(const struct fsan_hang *hangs, size_t n, struct fsan_symbolizer *sym, struct fsan_report *r);
void fsan_hang_free(struct fsan_hang *h);
/* A hang whose waits could not be read (kind "unknown"): a warning. */
static inline int fsan_hang_is_closed(const struct fsan_hang *h)
{
    return h->kind && strcmp(h->kind, "unknown") == 0;
}
/* Appends text (taken over) to the report's notices.  0 or -ENOMEM. */
int fsan_report_push_notice(struct fsan_report *r, char *text);

/* hangfile.c: keeps a hang in the trace directory dir as
 * forksan.<pid>.<index>.hang (index tells apart two hangs of one pid).
 * 0 or -errno. */
int fsan_hang_save(const char *dir, const struct fsan_hang *h, size_t index);
/* Saves every hang the watchdog found; says on stderr which it could not. */
void fsan_watchdog_save(const struct fsan_watchdog *w, const char *dir);
/* forksan report: the child-hang findings of the hang files in dir (an
 * unreadable one is a notice).  0 or -ENOMEM. */
int fsan_hangs_apply_dir(const char *dir, struct fsan_symbolizer *sym, struct fsan_report *r);

/* Stops every thread of h->pid with ptrace, unwinds it with libunwind,
 * reads its Python frames when the child runs CPython, and lets it go
 * again (remote_stack.c).  Fills h->threads[i].ips and .py, or
 * h->py_unavailable; on failure writes why into why (the threads keep no
 * stack) and returns -errno. */
int fsan_remote_stacks(struct fsan_hang *h, char *why, size_t whylen);
/* Frees the Python frames of a hang's thread. */
void fsan_hang_thread_free_py(struct fsan_hang_thread *th);

#endif

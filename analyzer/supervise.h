/* supervise.h — forksan run's channel from the runtime (supervise.c). */
#ifndef FSAN_SUPERVISE_H
#define FSAN_SUPERVISE_H

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

#include "model.h"
#include "options.h"

/* forksan run's exit status when some trace could not be written whole and
 * no finding already fails the run (sysexits' EX_IOERR). */
#define FSAN_EXIT_INCOMPLETE 74

struct fsan_supervisor {
    char path[PATH_MAX]; /* the FIFO, "" once removed */
    int rfd, wfd;
    char *buf;           /* the messages as read */
    size_t len, cap;
    size_t dropped;      /* bytes not kept */
    size_t incomplete;   /* processes with incomplete traces (after apply) */
};

/* Makes the FIFO in dir and opens it.  0 or -errno (then nothing is left). */
int fsan_supervisor_open(struct fsan_supervisor *s, const char *dir);
/* waitpid(pid) that reads the FIFO meanwhile.  0 with *status, or -errno.
 * Once *stop holds a signal number (forksan was told to stop and passed it
 * on), it waits at most grace_ms more: then -ETIMEDOUT, the command still
 * running. */
int fsan_supervisor_wait(struct fsan_supervisor *s, pid_t pid, int *status, const volatile sig_atomic_t *stop,
                         int grace_ms);
/* Closes and removes the FIFO; what was read stays. */
void fsan_supervisor_close(struct fsan_supervisor *s);
void fsan_supervisor_free(struct fsan_supervisor *s);
/* Adds what was heard to the report: the incomplete-traces notice (first),
 * live findings the traces lack, messages as notices.  0 or -ENOMEM. */
int fsan_supervisor_apply(struct fsan_supervisor *s, struct fsan_report *r);

#endif

/* common.h — helpers shared by the C scenario programs.
 *
 * A scenario's hazard is often a hang; every scenario must still end on
 * its own.  wait_child_bounded() gives a child a bounded time, then kills
 * it, and returns how it ended, so the parent never hangs with it. */
#ifndef SCENARIO_COMMON_H
#define SCENARIO_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Returns the child's exit status, or 128+signal, or -1 if it had to be
 * killed after ms milliseconds. */
static inline int wait_child_bounded(pid_t pid, int ms)
{
    int status = 0;
    for (int waited = 0; waited < ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* A one-shot latch so a thread can say "I hold it now". */
struct latch {
    pthread_mutex_t m;
    pthread_cond_t c;
    int set;
};
#define LATCH_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

static inline void latch_set(struct latch *l)
{
    pthread_mutex_lock(&l->m);
    l->set = 1;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}

static inline void latch_wait(struct latch *l)
{
    pthread_mutex_lock(&l->m);
    while (!l->set)
        pthread_cond_wait(&l->c, &l->m);
    pthread_mutex_unlock(&l->m);
}

#endif

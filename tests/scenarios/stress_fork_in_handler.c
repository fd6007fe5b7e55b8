/* Stress: fork() called from a SIGUSR1 handler while 4 threads churn
 * mutexes.  First the main thread raises the signal at itself (20 forks);
 * then it sends the signal to the churners (20 forks each), so the handler
 * forks on a thread interrupted anywhere in its loop: holding its mutex,
 * or inside the runtime's own lock and unlock hooks.  Each child _exits at
 * once (no lock, no malloc, no stdio: all the handler may touch).  The
 * runtime's fork path must be as async-signal-safe as the program's: no
 * hang, no crash, every child reaped with status 0, the same output as
 * bare, and no child said to deadlock.
 *
 * Prints "raised: 20/20\nsent: 80/80". */
#include "common.h"

#include <errno.h>
#include <stdatomic.h>

#define CHURNERS 4
#define ROUNDS 20

static pthread_mutex_t mutexes[CHURNERS];
static atomic_int stop;
static volatile long work;
static _Atomic pid_t forked; /* the handler's last child, taken by main */

static void fork_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pid_t pid = fork(); /* @mark:handler-fork */
    if (pid == 0)
        _exit(0);
    atomic_store(&forked, pid);
    errno = saved;
}

static void *churner(void *arg)
{
    pthread_mutex_t *m = &mutexes[(long)arg];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_mutex_lock(m);
        work++;
        pthread_mutex_unlock(m);
    }
    return NULL;
}

/* Waits (at most 5 s) for the handler to report its fork, then reaps the
 * child: 1 when it ended with status 0. */
static int handler_child_ok(void)
{
    pid_t pid = 0;
    for (int waited = 0; waited < 5000 * 10 && (pid = atomic_exchange(&forked, 0)) == 0; waited++)
        usleep(100);
    return pid > 0 && wait_child_bounded(pid, 5000) == 0;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = fork_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t threads[CHURNERS];
    for (long i = 0; i < CHURNERS; i++) {
        pthread_mutex_init(&mutexes[i], NULL);
        if (pthread_create(&threads[i], NULL, churner, (void *)i) != 0)
            return 2;
    }
    int raised = 0, sent = 0;
    for (int i = 0; i < ROUNDS; i++) {
        raise(SIGUSR1); /* @mark:raise */
        raised += handler_child_ok();
    }
    for (int i = 0; i < ROUNDS; i++)
        for (int t = 0; t < CHURNERS; t++) {
            usleep(1000); /* let the churner run into its loop again */
            pthread_kill(threads[t], SIGUSR1); /* @mark:send */
            sent += handler_child_ok();
        }
    atomic_store(&stop, 1);
    for (int i = 0; i < CHURNERS; i++)
        pthread_join(threads[i], NULL);
    printf("raised: %d/%d\nsent: %d/%d\n", raised, ROUNDS, sent, ROUNDS * CHURNERS);
    return raised == ROUNDS && sent == ROUNDS * CHURNERS ? 0 : 1;
}

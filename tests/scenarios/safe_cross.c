/* Two threads each hold a lock the other wants (each waits for the other's
 * with a timed lock, so the program ends) while the main thread forks.
 * Safe mode's quiesce only tries, so the fork returns once the budget
 * (safe_quiesce_ms) runs out, not when the deadlock ends; the child then
 * takes both locks (re-initialised: their holders vanished) and ends with 0.
 * Prints how long the fork took, in whole 100 ms steps, and how the child
 * ended. */
#include "common.h"

#include <errno.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static struct latch a_held = LATCH_INIT;
static struct latch b_held = LATCH_INIT;

static void lock_after(pthread_mutex_t *mine, struct latch *mine_held, pthread_mutex_t *theirs,
                       struct latch *theirs_held)
{
    pthread_mutex_lock(mine); /* @mark:take */
    latch_set(mine_held);
    latch_wait(theirs_held);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    if (pthread_mutex_timedlock(theirs, &until) == 0)
        pthread_mutex_unlock(theirs);
    pthread_mutex_unlock(mine);
}

static void *first(void *arg)
{
    (void)arg;
    lock_after(&a, &a_held, &b, &b_held);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    lock_after(&b, &b_held, &a, &a_held);
    return NULL;
}

int main(void)
{
    pthread_t t1, t2;
    pthread_create(&t1, NULL, first, NULL);
    pthread_create(&t2, NULL, second, NULL);
    latch_wait(&a_held);
    latch_wait(&b_held);
    struct timespec t0, t1_;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&a); /* @mark:attempt */
        pthread_mutex_lock(&b);
        _exit(0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1_);
    long ms = (t1_.tv_sec - t0.tv_sec) * 1000 + (t1_.tv_nsec - t0.tv_nsec) / 1000000;
    int rc = wait_child_bounded(pid, 1500);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    printf("fork took under %ld ms\nchild ended: %d\n", (ms / 100 + 1) * 100, rc);
    return 0;
}

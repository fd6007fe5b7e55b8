/* Two mutexes taken through one wrapper: the call site inside the wrapper
 * is shared.  Its stack is captured once, for the first lock (from
 * warm_up); the thread that holds the second lock at fork came through
 * hold_second.  The report must not show warm_up's callers as the place
 * where the second lock was taken: it shows the wrapper line only. */
#include "common.h"

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static __attribute__((noinline)) void lock_it(pthread_mutex_t *m)
{
    pthread_mutex_lock(m); /* @mark:wrapper */
}

static __attribute__((noinline)) void warm_up(void)
{
    lock_it(&first); /* @mark:warmup */
    pthread_mutex_unlock(&first);
}

static void *hold_second(void *arg)
{
    (void)arg;
    lock_it(&second);
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&second);
    return NULL;
}

int main(void)
{
    warm_up();
    pthread_t t;
    pthread_create(&t, NULL, hold_second, NULL);
    latch_wait(&holding);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&second); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

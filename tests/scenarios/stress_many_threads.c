/* Stress: 2,000 threads alive at fork, more than the runtime's thread
 * table holds (FSAN_MAX_THREADS, 1,024 slots).  Every thread checks in,
 * then waits on a condition variable; the main thread forks once, the
 * child writes one line and _exits, and the parent lets the threads go
 * and joins them all.  The runtime must keep the program's behaviour and
 * say how many threads it could not track: the main thread takes a slot
 * first (it locks before it creates), the first 1,023 threads take the
 * rest, so 2,000 - 1,023 = 977 are untracked, each counted once.
 *
 * With "late", the main thread creates every thread before it touches a
 * lock: the threads take all 1,024 slots, the main thread finds none and
 * forks without a slot of its own; still 977 untracked (976 threads and
 * the main thread).
 *
 * Prints "child ran\nchild ended: 0\nthreads joined: 2000". */
#include <string.h>

#include "common.h"

#define THREADS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t checked_in = PTHREAD_COND_INITIALIZER, go = PTHREAD_COND_INITIALIZER;
static int ready, released;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_signal(&checked_in);
    while (!released)
        pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Waits under the lock, at most 30 s, for every thread to check in. */
static int all_checked_in(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    int rc = 0;
    pthread_mutex_lock(&lock);
    while (ready < THREADS && rc == 0)
        rc = pthread_cond_timedwait(&checked_in, &lock, &deadline);
    int all = ready == THREADS;
    pthread_mutex_unlock(&lock);
    return all;
}

int main(int argc, char **argv)
{
    int late = argc > 1 && strcmp(argv[1], "late") == 0;
    if (!late) {
        pthread_mutex_lock(&lock);
        ready = 0;
        pthread_mutex_unlock(&lock);
    }
    static pthread_t threads[THREADS];
    pthread_attr_t small;
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, 64 * 1024);
    int created = 0;
    for (; created < THREADS; created++)
        if (pthread_create(&threads[created], &small, waiter, NULL) != 0) /* @mark:create */
            break;
    if (created < THREADS || !all_checked_in()) {
        printf("only %d threads\n", created);
        return 1;
    }
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        static const char line[] = "child ran\n";
        _exit(write(1, line, sizeof line - 1) == sizeof line - 1 ? 0 : 1);
    }
    int status = wait_child_bounded(pid, 10000);
    pthread_mutex_lock(&lock);
    released = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    int joined = 0;
    for (int i = 0; i < created; i++)
        joined += pthread_join(threads[i], NULL) == 0;
    printf("child ended: %d\nthreads joined: %d\n", status, joined);
    return status == 0 && joined == THREADS ? 0 : 1;
}

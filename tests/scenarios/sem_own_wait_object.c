/* sem_own_wait_object.c — a quiet control: two threads each wait on a
 * semaphore in their own frames (sem_init 0, sem_wait, sem_destroy: the
 * way CPython 3.13+'s parking lot waits for a lock or a thread start),
 * another thread wakes them with sem_post, and each destroys its semaphore
 * before the process forks.  No lock is held at that fork: a destroyed
 * semaphore's unit must not outlive it.
 *
 * With the argument "awake" the fork lands in the window CPython's
 * parking lot leaves open: after each waiter has woken (its sem_wait
 * returned) and before it destroys its semaphore.  The main thread waits
 * the same way first, on a semaphore in its own frame that a short-lived
 * thread posts, and forks before destroying it.  A unit taken from a
 * semaphore on the taker's own stack is no held lock: nothing may call
 * the waiters' semaphores orphaned or the main thread's inherited held.
 * Prints "child ended: N". */
#include "common.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>

static int awake_at_fork;
static _Atomic(sem_t *) parked[2];
static struct latch woken[2] = {LATCH_INIT, LATCH_INIT};
static struct latch forked = LATCH_INIT;

static void *waiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    sem_t wait_entry;
    sem_init(&wait_entry, 0, 0);
    atomic_store(&parked[i], &wait_entry);
    sem_wait(&wait_entry);
    if (!awake_at_fork)
        sem_destroy(&wait_entry);
    latch_set(&woken[i]);
    latch_wait(&forked);
    if (awake_at_fork)
        sem_destroy(&wait_entry);
    return NULL;
}

static void *poster(void *arg)
{
    usleep(20 * 1000); /* let the main thread block in sem_wait */
    sem_post(arg);
    return NULL;
}

int main(int argc, char **argv)
{
    awake_at_fork = argc > 1 && strcmp(argv[1], "awake") == 0;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, waiter, (void *)(intptr_t)i);
        while (!atomic_load(&parked[i]))
            usleep(1000);
        usleep(20 * 1000); /* let it block in sem_wait */
        sem_post(atomic_load(&parked[i]));
        latch_wait(&woken[i]);
    }
    sem_t main_entry;
    if (awake_at_fork) {
        pthread_t p;
        sem_init(&main_entry, 0, 0);
        pthread_create(&p, NULL, poster, &main_entry);
        sem_wait(&main_entry);
        pthread_join(p, NULL);
    }
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int rc = wait_child_bounded(pid, 3000);
    latch_set(&forked);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    if (awake_at_fork)
        sem_destroy(&main_entry);
    printf("child ended: %d\n", rc);
    return 0;
}

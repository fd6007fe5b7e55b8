/* sem_own_wait_object.c — a quiet control: a thread waits on a semaphore in
 * its own frames (sem_init 0, sem_wait, sem_destroy: the way CPython
 * 3.13+'s parking lot waits for a lock or a thread start), another thread
 * wakes it with sem_post, and the process forks after the waiter woke and
 * before it destroyed the semaphore.  No lock is held at that fork: the
 * semaphore belongs to the waiter's frame and nothing else can reach it.
 * A second waiter destroys its woken semaphore before the fork (its unit
 * must not outlive it).  Prints "child ended: N". */
#include "common.h"

#include <semaphore.h>
#include <stdatomic.h>

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
    if (i == 1)
        sem_destroy(&wait_entry);
    latch_set(&woken[i]);
    latch_wait(&forked);
    if (i == 0)
        sem_destroy(&wait_entry);
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, waiter, (void *)(intptr_t)i);
        while (!atomic_load(&parked[i]))
            usleep(1000);
        usleep(20 * 1000); /* let it block in sem_wait */
        sem_post(atomic_load(&parked[i]));
        latch_wait(&woken[i]);
    }
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int rc = wait_child_bounded(pid, 3000);
    latch_set(&forked);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

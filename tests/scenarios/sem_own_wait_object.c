/* sem_own_wait_object.c — a quiet control: two threads each wait on a
 * semaphore in their own frames (sem_init 0, sem_wait, sem_destroy: the
 * way CPython 3.13+'s parking lot waits for a lock or a thread start),
 * another thread wakes them with sem_post, and each destroys its semaphore
 * before the process forks.  No lock is held at that fork: a destroyed
 * semaphore's unit must not outlive it.  Prints "child ended: N". */
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
    sem_destroy(&wait_entry);
    latch_set(&woken[i]);
    latch_wait(&forked);
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

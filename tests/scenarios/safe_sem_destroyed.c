/* safe_sem_destroyed.c — a semaphore destroyed while safe mode waits for
 * it.  A thread named "holder" takes a semaphore used as a lock and keeps
 * it; when the main thread is about to fork, another thread ("janitor")
 * waits 20 ms and destroys the semaphore.  (The holder destroying its own
 * unit would be no hazard at all: it is done with it.)  Safe mode's quiesce (run with a budget
 * far longer than 20 ms) is then waiting for a semaphore that no longer
 * exists: it leaves it alone, and the child's trace says so.  Prints
 * "child ended: N".  Used by tests/cli/run_cli.py (safe-mode-semaphore-destroyed). */
#include "common.h"

#include <semaphore.h>
#include <stdatomic.h>

static sem_t sem;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;
static atomic_int forking;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    sem_wait(&sem);
    latch_set(&holding);
    latch_wait(&done);
    return NULL;
}

static void *janitor(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "janitor");
    while (!atomic_load(&forking))
        usleep(1000);
    usleep(20 * 1000);
    sem_destroy(&sem);
    return NULL;
}

int main(void)
{
    sem_init(&sem, 0, 1);
    pthread_t t, j;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pthread_create(&j, NULL, janitor, NULL);
    atomic_store(&forking, 1);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int rc = wait_child_bounded(pid, 3000);
    latch_set(&done);
    pthread_join(t, NULL);
    pthread_join(j, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

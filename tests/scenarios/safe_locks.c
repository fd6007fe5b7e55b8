/* Safe mode's two remedies for a lock another thread holds at fork.  A
 * thread named "holder" takes a lock (argv[1]: mutex, rwlock or sem, a
 * semaphore used as a lock) and the main thread forks while it holds it;
 * the child then takes the lock and ends with 0.
 *   release  the holder lets go 20 ms after the fork was asked for: safe
 *            mode's quiesce waits for that, takes the lock across the fork
 *            and releases it in both processes (remedied, "waited");
 *   keep     the holder keeps it until the child has ended: the budget
 *            runs out, and the child's first take re-initialises the lock
 *            (remedied, "re-initialised").
 * Without safe mode the child blocks forever in the keep variant
 * (child-deadlock; the parent kills it after 1.5 s: "child ended: -1"). */
#include "common.h"

#include <semaphore.h>
#include <string.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;
static const char *kind;
static int keep;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void take(void)
{
    if (strcmp(kind, "mutex") == 0)
        pthread_mutex_lock(&mutex); /* @mark:take */
    else if (strcmp(kind, "rwlock") == 0)
        pthread_rwlock_wrlock(&rwlock); /* @mark:take_rw */
    else
        sem_wait(&sem); /* @mark:take_sem */
}

static void give(void)
{
    if (strcmp(kind, "mutex") == 0)
        pthread_mutex_unlock(&mutex);
    else if (strcmp(kind, "rwlock") == 0)
        pthread_rwlock_unlock(&rwlock);
    else
        sem_post(&sem);
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    take();
    latch_set(&holding);
    if (keep)
        latch_wait(&done);
    else
        usleep(20 * 1000);
    give();
    return NULL;
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "mutex";
    keep = argc > 2 && strcmp(argv[2], "keep") == 0;
    sem_init(&sem, 0, 1);
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        take(); /* the child's attempt, same lines as the holder's */
        give();
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

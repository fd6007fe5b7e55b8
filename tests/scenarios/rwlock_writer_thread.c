/* A thread named "writer" holds an rwlock for writing across the main
 * thread's fork; the child takes it for reading: child-deadlock naming
 * "writer" and where it took the lock, plus threads-at-fork. */
#include "common.h"

static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *writer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "writer");
    pthread_rwlock_wrlock(&table); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    pthread_rwlock_unlock(&table);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL); /* @mark:create */
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_rwlock_rdlock(&table); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

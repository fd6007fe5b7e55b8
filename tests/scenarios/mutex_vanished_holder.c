/* A thread named "holder" takes a mutex and keeps it across the main
 * thread's fork; the child then locks it: child-deadlock naming "holder"
 * and the line where it took the lock, plus threads-at-fork. */
#include "common.h"

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&shared); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&shared);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL); /* @mark:create */
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&shared); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* Regression: a thread whose own thread-specific-data destructor takes a
 * lock after forksan's destructor released its slot must not come back as
 * a ghost "vanished thread" in a later fork.  The threads are joined before
 * the fork, so the fork is single-threaded: nothing above note. */
#include "common.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;

static void on_thread_exit(void *value)
{
    (void)value;
    pthread_mutex_lock(&m); /* after forksan's own destructor ran */
    pthread_mutex_unlock(&m);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_setspecific(key, &key);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_key_create(&key, on_thread_exit);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        _exit(0);
    }
    printf("child ended: %d\n", wait_child_bounded(pid, 2000));
    return 0;
}

/* A thread takes more mutexes than forksan tracks per thread (its held
 * stack is full), keeps them across the fork, and the child locks the last
 * one.  The snapshot cannot know that hold, but the mutex records its
 * owner's tid, which is not a thread of the child: still child-deadlock,
 * naming the holder thread. */
#include "common.h"

#define HELD 40 /* more than the runtime's per-thread table */

static pthread_mutex_t locks[HELD];
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "hoarder");
    for (int i = 0; i < HELD; i++)
        pthread_mutex_lock(&locks[i]);
    latch_set(&holding);
    latch_wait(&done);
    for (int i = HELD; i-- > 0;)
        pthread_mutex_unlock(&locks[i]);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < HELD; i++)
        pthread_mutex_init(&locks[i], NULL);
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&locks[HELD - 1]); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* Clean control: another thread holds a mutex while the main thread
 * starts /bin/true with posix_spawn (no fork to watch). */
#include "common.h"

#include <spawn.h>

extern char **environ;

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&shared);
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&shared);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t pid;
    char *argv[] = {"true", NULL};
    int err = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
    int rc = err ? -2 : wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

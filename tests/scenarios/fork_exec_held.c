/* Clean control: another thread holds a mutex while the main thread forks,
 * and the child execs /bin/true straight away (the fork-then-exec idiom).
 * threads-at-fork is at most a note. */
#include "common.h"

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
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

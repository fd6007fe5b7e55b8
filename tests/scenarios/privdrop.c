/* A server-style child that drops privileges: run as root, the child
 * switches to user nobody (65534), then
 *   - locks a mutex that a vanished thread of its parent holds: its trace,
 *     created as root at the fork, must still take the finding;
 *   - starts a thread of its own that holds a mutex and forks: the
 *     grandchild's trace is created after the switch, and its deadlock
 *     must reach the report too.
 * Not root: prints "not root" and does nothing (the scenario is skipped by
 * its expectations). */
#include "common.h"

static pthread_mutex_t parent_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;
static struct latch parent_holding = LATCH_INIT, parent_done = LATCH_INIT;
static struct latch child_holding = LATCH_INIT, child_done = LATCH_INIT;

static void *hold_parent_lock(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&parent_lock);
    latch_set(&parent_holding);
    latch_wait(&parent_done);
    pthread_mutex_unlock(&parent_lock);
    return NULL;
}

static void *hold_child_lock(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&child_lock);
    latch_set(&child_holding);
    latch_wait(&child_done);
    pthread_mutex_unlock(&child_lock);
    return NULL;
}

static void child(void)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        _exit(2);
    pthread_t t;
    pthread_create(&t, NULL, hold_child_lock, NULL);
    latch_wait(&child_holding);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&child_lock); /* @mark:grandchild-attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&child_done);
    pthread_join(t, NULL);
    printf("grandchild ended: %d\n", rc);
    fflush(stdout);
    pthread_mutex_lock(&parent_lock); /* @mark:child-attempt */
    _exit(0);
}

int main(void)
{
    if (geteuid() != 0) {
        puts("not root");
        return 0;
    }
    pthread_t t;
    pthread_create(&t, NULL, hold_parent_lock, NULL);
    latch_wait(&parent_holding);
    pid_t pid = fork();
    if (pid == 0)
        child();
    int rc = wait_child_bounded(pid, 4000);
    latch_set(&parent_done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* Clean control: the forking thread holds a recursive mutex at fork, and a
 * pthread_atfork child handler re-initialises it, so the child's lock
 * succeeds.  No finding above note. */
#include "common.h"

static pthread_mutex_t guard;

static void init_guard(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&guard, &attr);
    pthread_mutexattr_destroy(&attr);
}

static void child_reinit(void)
{
    init_guard(); /* @mark:reinit */
}

int main(void)
{
    init_guard();
    pthread_atfork(NULL, NULL, child_reinit);
    pthread_mutex_lock(&guard);
    pthread_mutex_lock(&guard); /* recursive: depth 2 at fork */
    pid_t pid = fork();
    if (pid == 0) {
        if (pthread_mutex_lock(&guard) != 0)
            _exit(3);
        pthread_mutex_unlock(&guard);
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    pthread_mutex_unlock(&guard);
    pthread_mutex_unlock(&guard);
    printf("child ended: %d\n", rc);
    return 0;
}

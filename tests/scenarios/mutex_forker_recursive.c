/* The forking thread holds a RECURSIVE mutex at fork; the child locks it
 * again.  A recursive mutex is no escape on glibc: it records its owner as
 * a kernel tid, the child's only thread has a new tid, so the relock
 * blocks forever: child-deadlock. */
#include "common.h"

static pthread_mutex_t guard;

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&guard, &attr);
    pthread_mutexattr_destroy(&attr);

    pthread_mutex_lock(&guard); /* @mark:acquire */
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&guard); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    pthread_mutex_unlock(&guard);
    printf("child ended: %d\n", rc);
    return 0;
}

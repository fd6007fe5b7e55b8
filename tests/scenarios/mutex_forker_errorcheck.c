/* The forking thread holds an error-checking mutex at fork; the child
 * relocks it.  The mutex's owner is the parent thread's tid, not the
 * child's, so the relock is not EDEADLK but a wait that never ends:
 * child-deadlock. */
#include "common.h"

static pthread_mutex_t guard;

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&guard, &attr);
    pthread_mutexattr_destroy(&attr);

    pthread_mutex_lock(&guard); /* @mark:acquire */
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        int r = pthread_mutex_lock(&guard); /* @mark:attempt */
        _exit(r == 0 ? 0 : 3);
    }
    int rc = wait_child_bounded(pid, 1500);
    pthread_mutex_unlock(&guard);
    printf("child ended: %d\n", rc);
    return 0;
}

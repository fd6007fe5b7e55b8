/* The forking thread holds a normal (default) mutex at fork; the child
 * locks it again: child-deadlock (the child's copy of the mutex says
 * "taken", and nobody in the child will ever release it).  The process has
 * no other thread, so there is no threads-at-fork finding.  main's exit
 * status is argv[1] (default 0), for the exit-status checks of run_cli.py. */
#include "common.h"

static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    pthread_mutex_lock(&guard); /* @mark:acquire */
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&guard); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    pthread_mutex_unlock(&guard);
    printf("child ended: %d\n", rc);
    return argc > 1 ? atoi(argv[1]) : 0;
}

/* Clean control: a single-threaded program forks; the child takes and
 * releases a lock, prints a line and ends normally (status 0, flushing its
 * own output and leaving with _exit, the fork-child idiom).  main's exit
 * status is argv[1] (default 0), so a same-as-bare check has a non-zero
 * status to compare. */
#include "common.h"

static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    pthread_mutex_lock(&guard);
    pthread_mutex_unlock(&guard);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&guard);
        pthread_mutex_unlock(&guard);
        printf("child says hello\n");
        fflush(stdout);
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    printf("child ended: %d\n", rc);
    return argc > 1 ? atoi(argv[1]) : 0;
}

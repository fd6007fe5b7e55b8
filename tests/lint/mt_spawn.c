/* A multi-threaded program that starts children with posix_spawn and with
 * vfork+exec, and prints in the parent only: clean. */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *worker(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    char *child_argv[] = {"/bin/true", NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, environ) == 0)
        waitpid(pid, NULL, 0);
    pid = vfork();
    if (pid == 0) {
        execv("/bin/true", child_argv);
        _exit(127);
    }
    printf("spawned %d\n", (int)pid);
    waitpid(pid, NULL, 0);
    pthread_join(t, NULL);
    return 0;
}

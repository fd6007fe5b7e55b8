/* A multi-threaded program that forks through a wrapper: xfork() calls
 * fork, handles the error and returns the pid, and main tests what it
 * returned (its child resets a signal first, and returns 0 as a
 * constant when optimised).  The child calls printf before _exit: one unsafe-after-fork
 * at the printf line (marked "unsafe"), its fork location the fork call
 * in xfork (marked "wrapped") called from main (marked "fork").
 * run_and_wait() and spawn() also call fork but are no wrappers: their
 * children exec and never return (spawn returns the pid, in the parent
 * only), so main's printf calls after them are not a child's: quiet. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    return arg;
}

__attribute__((noinline)) static pid_t xfork(void)
{
    pid_t pid = fork(); /* @mark:wrapped */
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    /* The child's own set-up: at -O2 its path returns 0 as a constant. */
    if (pid == 0)
        signal(SIGPIPE, SIG_DFL);
    return pid;
}

__attribute__((noinline)) static int run_and_wait(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv("/bin/true", argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

__attribute__((noinline)) static pid_t spawn(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv("/bin/true", argv);
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pid_t pid = xfork(); /* @mark:fork */
    if (pid == 0) {
        printf("child %d of %s\n", (int)getpid(), argv[0]); /* @mark:unsafe */
        _exit(argc);
    }
    waitpid(pid, NULL, 0);
    if (run_and_wait(argv) == 0)
        printf("ran\n");
    pid = spawn(argv);
    if (pid <= 0)
        printf("spawn failed\n");
    else
        waitpid(pid, NULL, 0);
    pthread_join(t, NULL);
    return 0;
}

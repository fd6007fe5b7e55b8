/* The same multi-threaded program, but its child calls only
 * async-signal-safe functions before execv: clean. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        static const char msg[] = "child\n";
        write(STDOUT_FILENO, msg, sizeof msg - 1);
        int fd = open("/dev/null", O_RDONLY);
        dup2(fd, STDIN_FILENO);
        close(fd);
        char *child_argv[] = {"/bin/true", NULL};
        execv("/bin/true", child_argv);
        _exit(127);
    }
    if (pid < 0)
        perror("fork");
    printf("parent of %d (%s)\n", (int)pid, argc > 0 ? argv[0] : "");
    waitpid(pid, NULL, 0);
    pthread_join(t, NULL);
    return 0;
}

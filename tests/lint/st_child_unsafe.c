/* A single-threaded program (nothing in its closure creates threads) whose
 * child calls printf: clean, the rule is about multi-threaded parents. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        printf("child %d of %s\n", (int)getpid(), argv[0]);
        _exit(argc);
    }
    waitpid(pid, NULL, 0);
    return 0;
}

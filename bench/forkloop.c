/* forkloop.c — fork, the child _exits at once, the parent waits; prints the
 * best-of-3 microseconds per fork.  With "exec" as second argument the
 * child execs /bin/true instead; with "thread", a second thread sleeps
 * through the loop, so every child has something to report (a vanished
 * thread): that is the trace the analyzer benchmark reads.  Budgets
 * (doc/budgets.md): fork+_exit <= 1.25x bare, fork+exec <= 1.10x bare. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    int exec_child = argc > 2 && strcmp(argv[2], "exec") == 0;
    if (argc > 2 && strcmp(argv[2], "thread") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, sleeper, NULL);
    }
    double best = 1e30;
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    for (int round = 0; round < rounds; round++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                if (exec_child)
                    execl("/bin/true", "true", (char *)NULL);
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
        }
        double per = (now() - t0) / (double)n;
        if (per < best)
            best = per;
    }
    printf("%s %.2f us/fork\n", exec_child ? "forkexec" : "forkloop", best);
    return 0;
}

/* forkloop.c — fork, the child ends at once, the parent waits for it.
 *
 *   forkloop [FORKS [plain|exec|thread [ROUNDS [PROGRESS]]]]
 *            defaults: 2,000 forks, plain, 3 rounds, no progress
 *
 * Prints "forkloop|forkexec <us> us/fork": the best of ROUNDS timed loops of
 * FORKS forks each.  The child:
 *   plain   calls _exit(0);
 *   exec    execs /bin/true;
 *   thread  calls _exit(0), but a second thread of the parent sleeps through
 *           the whole loop, so every child has something to report (a thread
 *           that vanished at fork) and writes a trace with that finding: the
 *           traces bench/bench.py gives the analyzer.
 * With PROGRESS > 0 a line "forkloop: K of N" goes to stderr every PROGRESS
 * forks, for the long runs that make 100,000 children.
 *
 * DESIGN
 * The parent waits for each child before the next fork, so at most one
 * child exists at a time: the loop measures fork and exit, not how the
 * machine copes with many live processes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum child_action { CHILD_EXIT, CHILD_EXEC };

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The sleeper tells main it is running before main forks: a child forked
 * while the thread was created but not yet running would have a finding
 * of its own (a thread that never started), not the one every other child
 * has. */
static pthread_barrier_t sleeper_running;

static void *sleeper(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&sleeper_running);
    for (;;)
        pause();
    return NULL;
}

/* One timed loop; returns microseconds per fork, or a negative value when a
 * fork failed. */
static double fork_loop(long forks, enum child_action action, long progress, long total, long *done)
{
    double start = now_us();
    for (long i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkloop: fork");
            return -1;
        }
        if (pid == 0) {
            if (action == CHILD_EXEC)
                execl("/bin/true", "true", (char *)NULL);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        ++*done;
        if (progress > 0 && *done % progress == 0)
            fprintf(stderr, "forkloop: %ld of %ld\n", *done, total);
    }
    return (now_us() - start) / (double)forks;
}

int main(int argc, char **argv)
{
    long forks = argc > 1 ? atol(argv[1]) : 2000;
    const char *mode = argc > 2 ? argv[2] : "plain";
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    long progress = argc > 4 ? atol(argv[4]) : 0;
    int known_mode = strcmp(mode, "plain") == 0 || strcmp(mode, "exec") == 0 || strcmp(mode, "thread") == 0;
    if (forks <= 0 || rounds <= 0 || !known_mode) {
        fprintf(stderr, "usage: forkloop [FORKS [plain|exec|thread [ROUNDS [PROGRESS]]]]\n");
        return 2;
    }
    enum child_action action = strcmp(mode, "exec") == 0 ? CHILD_EXEC : CHILD_EXIT;
    if (strcmp(mode, "thread") == 0) {
        pthread_t thread;
        pthread_barrier_init(&sleeper_running, NULL, 2);
        if (pthread_create(&thread, NULL, sleeper, NULL) != 0) {
            fprintf(stderr, "forkloop: cannot start the sleeping thread\n");
            return 1;
        }
        pthread_barrier_wait(&sleeper_running);
    }
    double best = 1e300;
    long done = 0;
    for (int round = 0; round < rounds; round++) {
        double per_fork = fork_loop(forks, action, progress, forks * rounds, &done);
        if (per_fork < 0)
            return 1;
        if (per_fork < best)
            best = per_fork;
    }
    printf("%s %.3f us/fork\n", action == CHILD_EXEC ? "forkexec" : "forkloop", best);
    return 0;
}

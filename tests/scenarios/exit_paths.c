/* How fork children end and what cleanup they skip, one case per argument.
 * In every case the child registers its own exit handlers (child_cleanup
 * with atexit, child_goodbye with on_exit) and writes a line to its own
 * buffered FILE after the fork:
 *   underscore  the child ends with _exit(0) -> skipped-cleanup at _exit
 *               naming child_cleanup, and the lost bytes
 *   killed      the parent kills the waiting child with SIGTERM ->
 *               skipped-cleanup at the parent's kill() naming SIGTERM and
 *               child_cleanup
 *   handled     the same kill, but the child catches SIGTERM and ends with
 *               exit(0): its cleanup runs -> clean
 *   exits       the child ends with exit(0) -> clean */
#include "common.h"

#include <string.h>

static FILE *child_log;

static void child_cleanup(void)
{
    fputs("[child cleanup]\n", child_log);
    fflush(child_log);
}

static void child_goodbye(int status, void *arg)
{
    (void)status;
    (void)arg;
}

static void on_term(int sig)
{
    (void)sig;
    exit(0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "underscore";
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (strcmp(mode, "handled") == 0)
            signal(SIGTERM, on_term);
        child_log = fdopen(dup(1), "w"); /* a pipe under the runner: fully buffered */
        atexit(child_cleanup);
        on_exit(child_goodbye, NULL);
        fputs("child log line\n", child_log);
        if (strcmp(mode, "underscore") == 0)
            _exit(0); /* @mark:underscore */
        if (strcmp(mode, "exits") == 0)
            exit(0);
        (void)!write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    if (strcmp(mode, "killed") == 0 || strcmp(mode, "handled") == 0) {
        char c;
        (void)!read(ready[0], &c, 1);
        kill(pid, SIGTERM); /* @mark:kill */
    }
    int rc = wait_child_bounded(pid, 3000);
    printf("child ended: %d\n", rc);
    return 0;
}

/* writeloop.c — 1,000,000 one-byte write() calls to a pipe (N from argv[1]);
 * prints the best-of-3 nanoseconds per write.  It measures what forksan's
 * write/send hooks (the event-loop wake-up probes) add to an ordinary write
 * that touches no event loop.  Budget: <= 1.05x bare.
 *
 * The same thread drains the pipe with one 64 KiB read after every 4,096
 * writes (so the pipe never fills and nothing blocks): a reader thread
 * would put a cross-CPU wake-up behind every write and make the number
 * mostly scheduler noise. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4096 /* well below the 64 KiB default pipe capacity */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int drain(int fd, long want)
{
    static char buf[65536];
    while (want > 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return -1;
        want -= n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int fds[2];
    if (n <= 0 || pipe(fds) != 0) {
        perror("writeloop");
        return 1;
    }
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        long pending = 0;
        for (long i = 0; i < n; i++) {
            if (write(fds[1], "x", 1) != 1) {
                perror("write");
                return 1;
            }
            if (++pending == BATCH) {
                if (drain(fds[0], pending) != 0)
                    return 1;
                pending = 0;
            }
        }
        double per = (now() - t0) / (double)n;
        if (drain(fds[0], pending) != 0)
            return 1;
        if (per < best)
            best = per;
    }
    printf("writeloop %.2f ns/write\n", best);
    return 0;
}

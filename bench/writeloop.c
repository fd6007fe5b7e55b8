/* writeloop.c — one-byte write() calls to a pipe.
 *
 *   writeloop [WRITES [ROUNDS]]      defaults: 1,000,000 writes, 3 rounds
 *
 * Prints "writeloop <ns> ns/write": the best of ROUNDS timed loops.  It
 * measures what forksan's write/send hooks (the event-loop wake-up probes)
 * add to an ordinary write that touches no event loop.
 *
 * DESIGN
 * The same thread drains the pipe with one 64 KiB read after every 4,096
 * writes, so the pipe never fills and nothing blocks: a reader thread
 * would put a cross-CPU wake-up behind every write and make the number
 * mostly scheduler noise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4096 /* well below the 64 KiB default pipe capacity */

static double now_ns(void)
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

/* One timed loop; returns nanoseconds per write, or a negative value when
 * a write or read failed. */
static double write_loop(const int fds[2], long writes)
{
    double start = now_ns();
    long pending = 0;
    for (long i = 0; i < writes; i++) {
        if (write(fds[1], "x", 1) != 1) {
            perror("writeloop: write");
            return -1;
        }
        if (++pending == BATCH) {
            if (drain(fds[0], pending) != 0)
                return -1;
            pending = 0;
        }
    }
    double per_write = (now_ns() - start) / (double)writes;
    return drain(fds[0], pending) == 0 ? per_write : -1;
}

int main(int argc, char **argv)
{
    long writes = argc > 1 ? atol(argv[1]) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int fds[2];
    if (writes <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: writeloop [WRITES [ROUNDS]] (both positive)\n");
        return 2;
    }
    if (pipe(fds) != 0) {
        perror("writeloop: pipe");
        return 1;
    }
    double best = 1e300;
    for (int round = 0; round < rounds; round++) {
        double per_write = write_loop(fds, writes);
        if (per_write < 0)
            return 1;
        if (per_write < best)
            best = per_write;
    }
    printf("writeloop %.4f ns/write\n", best);
    return 0;
}

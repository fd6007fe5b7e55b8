/* lockloop.c — uncontended pthread_mutex_lock + unlock pairs; prints the
 * best-of-5 nanoseconds per pair.  Budget (doc/budgets.md): <= 2x bare and
 * <= 15 ns added. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
        }
        double per = (now() - t0) / (double)n;
        if (per < best)
            best = per;
    }
    printf("lockloop %.2f ns/pair\n", best);
    return 0;
}

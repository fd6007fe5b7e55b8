/* lockloop.c — uncontended pthread_mutex_lock + unlock pairs, or
 * pthread_cond_signal calls that find no waiter.
 *
 *   lockloop [PAIRS [ROUNDS [signal]]]   defaults: 5,000,000 pairs, 3 rounds
 *
 * Prints "lockloop <ns> ns/pair": the best of ROUNDS timed loops of PAIRS
 * pairs each.  With "signal" each unit is one pthread_cond_signal on a
 * condition variable nobody waits on, the call a producer makes per item
 * (the runtime records who signals each condition variable).  bench/bench.py runs it bare and under forksan run (budget in
 * doc/budgets.md), and under callgrind with one round of N and of 2N pairs,
 * so that the difference of the two instruction counts is the cost of N
 * pairs with the start-up of the process cancelled out.
 *
 * DESIGN
 * The mutex is a local whose address escapes to the library calls only, and
 * the loop does nothing else: what it times is the two calls and whatever
 * the runtime's interposers add to them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 5000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int signal = argc > 3 && strcmp(argv[3], "signal") == 0;
    if (pairs <= 0 || rounds <= 0 || (argc > 3 && !signal)) {
        fprintf(stderr, "usage: lockloop [PAIRS [ROUNDS [signal]]] (both numbers positive)\n");
        return 2;
    }
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    double best = 1e300;
    for (int round = 0; round < rounds; round++) {
        double start = now_ns();
        if (signal) {
            for (long i = 0; i < pairs; i++)
                pthread_cond_signal(&cond);
        } else {
            for (long i = 0; i < pairs; i++) {
                pthread_mutex_lock(&mutex);
                pthread_mutex_unlock(&mutex);
            }
        }
        double per_pair = (now_ns() - start) / (double)pairs;
        if (per_pair < best)
            best = per_pair;
    }
    printf("lockloop %.4f ns/pair\n", best);
    return 0;
}

/* A consumer waits on a condition variable for items that a thread named
 * "producer" makes.  The main thread forks while the producer is alive;
 * in the child the producer has vanished, so the child's untimed
 * pthread_cond_wait for one more item can never end.  forksan reports
 * child-deadlock (condition variable form) before the wait blocks: the
 * wait, where "producer" signalled, the producer as a vanished thread and
 * the fork.  Without forksan the child hangs plainly and ends by its own
 * alarm (SIGALRM: 142 to its parent); --mode strict ends it with the exit
 * code instead.
 *
 * The argument makes the quiet controls, each the same program but for
 * one thing:
 *   child-thread  the child starts a thread of its own that produces
 *   timed         the child's wait has a time limit (it gives up: 9)
 *   forker        the main thread (the one that forks) produced one item
 *                 too: the child still hangs, but forksan cannot claim
 *                 that only a vanished thread signalled
 *   pshared       the condition variable is process-shared, in shared
 *                 memory: once the child waits, the parent's producer
 *                 makes the next item and wakes it
 *   overflow      before it produces, the producer signals more condition
 *                 variables than forksan's table has room for: the
 *                 shelf's is not recorded, so forksan cannot know who
 *                 signalled it (the child hangs, by its alarm, and the
 *                 report says the table was full)
 * The parent prints how the child ended (-1: it had to kill it itself). */
#include "common.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

struct shelf {
    pthread_mutex_t m;
    pthread_cond_t ready;
    int items;
    int waiting; /* the child is in its wait (pshared: the producer sees it) */
};

static struct shelf private_shelf = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
static struct shelf *shelf = &private_shelf;
static struct latch produced = LATCH_INIT;
static int fill_table; /* overflow: signal many other condition variables first */

/* More condition variables than the runtime's table of signallers has
 * slots (1,024). */
#define MANY_CONDS 4096
static pthread_cond_t many[MANY_CONDS];
static struct latch more = LATCH_INIT;

static void produce(void)
{
    pthread_mutex_lock(&shelf->m);
    shelf->items++;
    pthread_cond_signal(&shelf->ready); /* @mark:signal */
    pthread_mutex_unlock(&shelf->m);
}

static void *producer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "producer");
    for (int i = 0; fill_table && i < MANY_CONDS; i++)
        pthread_cond_signal(&many[i]);
    for (int i = 0; i < 3; i++)
        produce();
    latch_set(&produced);
    latch_wait(&more); /* alive, and idle, at the fork */
    /* A shared shelf: the child holds the mutex from saying it waits
     * until its wait releases it, so seeing the flag under the mutex
     * means the child is in pthread_cond_wait. */
    for (int seen = shelf == &private_shelf; !seen; usleep(1000)) {
        pthread_mutex_lock(&shelf->m);
        seen = shelf->waiting;
        pthread_mutex_unlock(&shelf->m);
    }
    produce();
    return NULL;
}

static void *child_producer(void *arg)
{
    (void)arg;
    produce();
    return NULL;
}

/* A shelf in shared memory whose mutex and condition variable are
 * process-shared. */
static struct shelf *shared_shelf(void)
{
    struct shelf *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        exit(2);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&s->ready, &ca);
    s->items = 0;
    return s;
}

/* The child: wait for one item more than the parent had. */
static int consume(const char *how)
{
    pthread_t t;
    int started = strcmp(how, "child-thread") == 0 && pthread_create(&t, NULL, child_producer, NULL) == 0;
    pthread_mutex_lock(&shelf->m);
    int want = 4;
    int status = 0;
    shelf->waiting = 1;
    while (shelf->items < want) {
        if (strcmp(how, "timed") == 0) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_nsec += 300 * 1000 * 1000;
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&shelf->ready, &shelf->m, &deadline) == ETIMEDOUT) {
                status = 9;
                break;
            }
        } else {
            pthread_cond_wait(&shelf->ready, &shelf->m); /* @mark:wait */
        }
    }
    pthread_mutex_unlock(&shelf->m);
    if (started)
        pthread_join(t, NULL);
    return status;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "vanished";
    if (strcmp(how, "pshared") == 0)
        shelf = shared_shelf();
    fill_table = strcmp(how, "overflow") == 0;
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL); /* @mark:create */
    latch_wait(&produced);
    if (strcmp(how, "forker") == 0)
        produce();
    pthread_mutex_lock(&shelf->m);
    shelf->items = 3; /* the parent consumed what came before */
    pthread_mutex_unlock(&shelf->m);
    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        alarm(3);
        _exit(consume(how));
    }
    latch_set(&more);
    int rc = wait_child_bounded(pid, 10000);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* Clean control: a single-threaded parent forks 20 children one after the
 * other; each child starts 20 threads, one at a time, and waits for each
 * to hand over its result — through a semaphore the new thread posts and
 * through a mutex and condition variable — then joins them all.  The
 * child's waits race with threads being born: none of them is a deadlock,
 * and strict mode must never end such a child.
 *
 * Prints "children ok: 20" when every child ended with status 0 and
 * returned the right sum. */
#include <semaphore.h>

#include "common.h"

#define CHILDREN 20
#define THREADS 20

static sem_t handed;
static pthread_mutex_t result_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t result_ready = PTHREAD_COND_INITIALIZER;
static int result, have_result;

static void *worker(void *arg)
{
    int value = (int)(long)arg;
    pthread_mutex_lock(&result_lock);
    result = value;
    have_result = 1;
    pthread_cond_signal(&result_ready);
    pthread_mutex_unlock(&result_lock);
    sem_post(&handed);
    return NULL;
}

static int child_body(void)
{
    if (sem_init(&handed, 0, 0) != 0)
        return 2;
    pthread_t threads[THREADS];
    int sum = 0;
    for (int i = 0; i < THREADS; i++) {
        if (pthread_create(&threads[i], NULL, worker, (void *)(long)(i + 1)) != 0)
            return 2;
        sem_wait(&handed); /* @mark:child-wait */
        pthread_mutex_lock(&result_lock);
        while (!have_result)
            pthread_cond_wait(&result_ready, &result_lock);
        sum += result;
        have_result = 0;
        pthread_mutex_unlock(&result_lock);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    return sum == THREADS * (THREADS + 1) / 2 ? 0 : 1;
}

int main(void)
{
    int ok = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_body());
        if (wait_child_bounded(pid, 10000) == 0)
            ok++;
    }
    printf("children ok: %d\n", ok);
    return 0;
}

/* Bad input: a program that forks as fast as it can (5,000 children, each
 * ending at once with _exit) while a worker thread churns a mutex.  The
 * counts stay right (every child is one fork, the worker is the one
 * vanished thread) and nothing above note is reported: the worker holds
 * its mutex only briefly and the children never touch it.  Prints
 * "children: 5000". */
#include "common.h"

static pthread_mutex_t churned = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

static void *worker(void *arg)
{
    (void)arg;
    while (!stop) {
        pthread_mutex_lock(&churned);
        pthread_mutex_unlock(&churned);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    int children = 0;
    for (int i = 0; i < 5000; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0 && waitpid(pid, NULL, 0) == pid)
            children++;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("children: %d\n", children);
    return 0;
}

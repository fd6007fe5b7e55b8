/* Clean control: a mutex protected with pthread_atfork (prepare locks it,
 * parent and child unlock it) is churned by a worker thread while the main
 * thread forks 20 times; every child locks it and exits 0.  The worker
 * vanishes in each child, but it can never hold the lock at fork. */
#include "common.h"

#define FORKS 20

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static volatile int stop;

static void prepare(void) { pthread_mutex_lock(&counter_lock); }
static void release(void) { pthread_mutex_unlock(&counter_lock); }

static void *churn(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "churner");
    while (!stop) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_atfork(prepare, release, release);
    pthread_t t;
    pthread_create(&t, NULL, churn, NULL);
    int ok = 0;
    for (int i = 0; i < FORKS; i++) {
        usleep(2000);
        pid_t pid = fork();
        if (pid == 0) {
            pthread_mutex_lock(&counter_lock);
            counter++;
            pthread_mutex_unlock(&counter_lock);
            _exit(0);
        }
        if (wait_child_bounded(pid, 1000) == 0)
            ok++;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("children ok: %d/%d\n", ok, FORKS);
    return 0;
}

/* safe_fork_in_handler.c — safe mode and a fork made in a signal
 * handler.  A thread named "holder" keeps a mutex; the main thread's
 * SIGALRM handler forks, and the child takes the mutex.  A handler may
 * have interrupted the program anywhere, so safe mode remedies nothing
 * for that child: a remedied note says why, and the child still ends (a
 * child-deadlock, ended as in strict mode) instead of hanging.
 * Prints "child ended: N" (-1: it had to be killed). */
#include "common.h"

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;
static volatile sig_atomic_t child_pid;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&shared); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&shared);
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        pthread_mutex_lock(&shared); /* @mark:attempt */
        _exit(0);
    }
    child_pid = pid;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    signal(SIGALRM, on_alarm);
    alarm(1);
    while (!child_pid)
        pause();
    int rc = wait_child_bounded(child_pid, 3000);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

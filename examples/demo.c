/* demo.c — the bundled example for `make demo`: a worker thread named
 * "cache-writer" holds a mutex while the main thread forks; the child then
 * takes the same mutex and would hang forever.  The parent gives the child
 * two seconds, then ends it, so the demo always finishes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static int holding;

static void *cache_writer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "cache-writer");
    pthread_mutex_lock(&cache_lock); /* held across the fork */
    pthread_mutex_lock(&started_lock);
    holding = 1;
    pthread_cond_signal(&started);
    pthread_mutex_unlock(&started_lock);
    sleep(3);
    pthread_mutex_unlock(&cache_lock);
    return NULL;
}

static void child_work(void)
{
    pthread_mutex_lock(&cache_lock); /* never returns: the holder is gone */
    printf("child: got the cache lock\n");
    pthread_mutex_unlock(&cache_lock);
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, cache_writer, NULL);
    pthread_mutex_lock(&started_lock);
    while (!holding)
        pthread_cond_wait(&started, &started_lock);
    pthread_mutex_unlock(&started_lock);

    pid_t pid = fork();
    if (pid == 0) {
        child_work();
        _exit(0);
    }
    int status = 0;
    for (int i = 0; i < 20 && waitpid(pid, &status, WNOHANG) == 0; i++)
        usleep(100 * 1000);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        printf("parent: child %d is stuck, ending it\n", (int)pid);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    pthread_join(t, NULL);
    return 0;
}

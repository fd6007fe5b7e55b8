/* demo.c — the bundled example for `make demo`: a worker thread named
 * "cache-writer" holds a mutex while the main thread forks, a thread named
 * "event-loop" drives an epoll loop, and a per-process session cache (kept
 * the way many libraries keep theirs: keyed by getpid()) holds the users
 * the parent logged in.  The child looks at the cache (the pid check
 * empties it: the sessions are gone), hands the loop some work (wakes it
 * through its eventfd: nobody will ever run it), then takes the mutex and
 * would hang forever.  The parent gives the child two seconds, then ends
 * it, so the demo always finishes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../probes/forksan.h"

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

/* The session cache belongs to the process that built it: a child that
 * looks finds another pid, throws the parent's sessions away and says so
 * through forksan's (optional, weak) API. */
static pid_t sessions_owner;
static int sessions;

static int *session_cache(void)
{
    if (getpid() != sessions_owner) {
        if (sessions_owner != 0 && forksan_cache_dropped)
            forksan_cache_dropped("the session cache");
        sessions = 0;
        sessions_owner = getpid();
        if (forksan_cache_declare)
            forksan_cache_declare("the session cache");
    }
    return &sessions;
}

static int loop_fd, wake_fd;
static volatile int loop_running = 1;

static void *event_loop(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "event-loop");
    struct epoll_event events[8];
    while (loop_running)
        epoll_wait(loop_fd, events, 8, 100);
    return NULL;
}

static void submit_to_loop(void)
{
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0) /* wakes a loop nobody drives */
        perror("write");
}

static void child_work(void)
{
    printf("child: %d sessions\n", *session_cache());
    fflush(stdout);
    submit_to_loop();
    pthread_mutex_lock(&cache_lock); /* never returns: the holder is gone */
    printf("child: got the cache lock\n");
    pthread_mutex_unlock(&cache_lock);
}

int main(void)
{
    *session_cache() += 3; /* three users logged in */
    loop_fd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = wake_fd};
    epoll_ctl(loop_fd, EPOLL_CTL_ADD, wake_fd, &wake);
    pthread_t loop_thread;
    pthread_create(&loop_thread, NULL, event_loop, NULL);

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
    loop_running = 0;
    pthread_join(loop_thread, NULL);
    return 0;
}

/* A thread named "loop" drives an epoll loop (an eventfd registered as its
 * wake-up) when main forks.  The child adds a pipe's read end to the
 * inherited epoll instance and waits on it: shared-loop (the child uses a
 * loop it did not re-create) and stranded-loop at error (it waits on a loop
 * whose driving thread does not exist in the child).
 *
 * The epoll instance is one kernel object shared by parent and child, so
 * the child's epoll_ctl changed the PARENT's interest list: after the child
 * has ended, the parent writes to the pipe and its own loop thread reports
 * the fd the child added ("parent saw child's fd: yes"). */
#include "common.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static int ep = -1;           /* the loop's epoll instance */
static int wake = -1;         /* eventfd registered in it: the loop's wake-up */
static int pipefd[2];         /* the child registers pipefd[0] in ep */
static atomic_int stop;
static struct latch looping = LATCH_INIT;
static struct latch saw_child_fd = LATCH_INIT;

static void *loop(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "loop");
    /* Bounded: at most 300 rounds of 10 ms, whatever happens. */
    for (int round = 0; round < 300 && !atomic_load(&stop); round++) {
        struct epoll_event ev[8];
        int n = epoll_wait(ep, ev, 8, 10); /* @mark:loopwait */
        if (round == 0)
            latch_set(&looping); /* it has waited on ep: it drives the loop */
        for (int i = 0; i < n; i++) {
            char buf[64];
            if (ev[i].data.fd == wake) {
                uint64_t v;
                if (read(wake, &v, sizeof v) < 0)
                    continue;
            } else if (ev[i].data.fd == pipefd[0]) {
                if (read(pipefd[0], buf, sizeof buf) > 0)
                    latch_set(&saw_child_fd);
            }
        }
    }
    return NULL;
}

/* Waits for the latch at most ms milliseconds; 1 if it was set. */
static int latch_wait_ms(struct latch *l, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->m);
    int rc = 0;
    while (!l->set && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&l->c, &l->m, &until);
    int set = l->set;
    pthread_mutex_unlock(&l->m);
    return set;
}

int main(void)
{
    ep = epoll_create1(EPOLL_CLOEXEC); /* @mark:created */
    wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = wake};
    if (ep < 0 || wake < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) != 0 || pipe(pipefd) != 0) {
        perror("setup");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, loop, NULL); /* @mark:create */
    latch_wait(&looping);
    usleep(20 * 1000); /* most likely back in epoll_wait */

    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        struct epoll_event add = {.events = EPOLLIN, .data.fd = pipefd[0]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &add) != 0) /* @mark:use */
            _exit(2);
        struct epoll_event got[4];
        epoll_wait(ep, got, 4, 50); /* @mark:childwait */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);

    /* The child is gone; the parent never registered pipefd[0] itself. */
    if (write(pipefd[1], "x", 1) != 1)
        perror("write");
    int saw = latch_wait_ms(&saw_child_fd, 1000);

    atomic_store(&stop, 1);
    uint64_t one = 1;
    if (write(wake, &one, sizeof one) != (ssize_t)sizeof one)
        perror("wake");
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    printf("parent saw child's fd: %s\n", saw ? "yes" : "no");
    return 0;
}

/* Clean control: a thread named "loop" drives an epoll loop when main
 * forks, as in loop_epoll_child_ctl.c, but the child first closes the
 * inherited epoll fd and then builds a loop of its own (a new epoll
 * instance, a pipe registered in it, a write and a wait).  The inherited
 * loop is neither used nor left stranded and open: nothing above note
 * (the idle loop thread is at most a threads-at-fork note). */
#include "common.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static int ep = -1;
static int wake = -1;
static atomic_int stop;
static struct latch looping = LATCH_INIT;

static void *loop(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "loop");
    for (int round = 0; round < 300 && !atomic_load(&stop); round++) {
        struct epoll_event ev[8];
        int n = epoll_wait(ep, ev, 8, 10);
        if (round == 0)
            latch_set(&looping); /* it has waited on ep: it drives the loop */
        for (int i = 0; i < n; i++) {
            uint64_t v;
            if (ev[i].data.fd == wake && read(wake, &v, sizeof v) < 0)
                continue;
        }
    }
    return NULL;
}

/* The child's own loop: 0 when it saw its own pipe become readable. */
static int child_own_loop(void)
{
    close(ep); /* @mark:close */
    int mine = epoll_create1(EPOLL_CLOEXEC); /* @mark:recreate */
    int p[2];
    if (mine < 0 || pipe(p) != 0)
        return 2;
    struct epoll_event add = {.events = EPOLLIN, .data.fd = p[0]};
    if (epoll_ctl(mine, EPOLL_CTL_ADD, p[0], &add) != 0)
        return 3;
    if (write(p[1], "x", 1) != 1)
        return 4;
    struct epoll_event got[4];
    int n = epoll_wait(mine, got, 4, 500);
    return n == 1 && got[0].data.fd == p[0] ? 0 : 5;
}

int main(void)
{
    ep = epoll_create1(EPOLL_CLOEXEC); /* @mark:created */
    wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = wake};
    if (ep < 0 || wake < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) != 0) {
        perror("setup");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, loop, NULL); /* @mark:create */
    latch_wait(&looping);
    usleep(20 * 1000); /* most likely back in epoll_wait */

    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0)
        _exit(child_own_loop());
    int rc = wait_child_bounded(pid, 1500);

    atomic_store(&stop, 1);
    uint64_t one = 1;
    if (write(wake, &one, sizeof one) != (ssize_t)sizeof one)
        perror("wake");
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* libevent, the harm of a shared event base to the parent: the parent
 * watches a pipe with a persistent read event and forks; the child
 * deletes that event, which removes the pipe from the epoll instance
 * (EPOLL_CTL_DEL), runs the base once and writes a byte into the pipe.
 * Without event_reinit that instance is the parent's: the parent's
 * registration is gone, and the byte never wakes its base.
 *   observe mode  "parent saw its event: no", shared-loop (error);
 *   safe mode     the child's first use gets it its own copy of the
 *                 instance: "parent saw its event: yes", remedied (note). */
#include "common.h"

#include <event2/event.h>

static int parent_events;

/* Reads the byte: an undrained level-triggered event would keep a
 * non-blocking loop busy for ever. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char c;
    if (read(fd, &c, 1) == 1)
        parent_events++;
}

int main(void)
{
    int p[2];
    struct event_base *base = pipe(p) == 0 ? event_base_new() : NULL; /* @mark:created */
    struct event *ev = base ? event_new(base, p[0], EV_READ | EV_PERSIST, on_readable, NULL) : NULL;
    if (!ev || event_add(ev, NULL) != 0) {
        fprintf(stderr, "libevent setup failed\n");
        return 1;
    }
    event_base_loop(base, EVLOOP_NONBLOCK); /* registers the pipe with the kernel */

    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        event_del(ev); /* @mark:use */
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (write(p[1], "x", 1) != 1)
            _exit(2);
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    /* The child's byte is in the pipe: the parent's base must see it. */
    for (int i = 0; i < 50 && !parent_events; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(10 * 1000);
    }
    printf("child ended: %d\nparent saw its event: %s\n", rc, parent_events ? "yes" : "no");
    event_free(ev);
    event_base_free(base);
    return 0;
}

/* libevent: an event_base with a persistent read event on a pipe, run by
 * the main thread, which then forks.  The loop's driving thread is the
 * forking thread, so the loop is not stranded.  The child runs the loop
 * once (event_base_loop with EVLOOP_NONBLOCK):
 *   loop_event_fork         without event_reinit: the child waits on the
 *                           parent's epoll instance: shared-loop (error);
 *   loop_event_fork reinit  event_reinit first (libevent closes the
 *                           inherited epoll fd, creates a new one and adds
 *                           the events again): nothing above note.
 * The child writes to the pipe first and reports whether the read callback
 * ran. */
#include "common.h"

#include <string.h>
#include <event2/event.h>

static int reads;

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char buf[64];
    if (read(fd, buf, sizeof buf) > 0)
        reads++;
}

int main(int argc, char **argv)
{
    int reinit = argc > 1 && strcmp(argv[1], "reinit") == 0;
    int p[2];
    if (pipe(p) != 0)
        return 1;
    struct event_base *base = event_base_new(); /* @mark:created */
    struct event *ev = base ? event_new(base, p[0], EV_READ | EV_PERSIST, on_read, NULL) : NULL;
    if (!ev || event_add(ev, NULL) != 0) {
        fprintf(stderr, "libevent setup failed\n");
        return 1;
    }
    event_base_loop(base, EVLOOP_NONBLOCK); /* the parent drives the loop: @mark:drive */

    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (reinit && event_reinit(base) != 0) /* @mark:reinit */
            _exit(2);
        if (write(p[1], "x", 1) != 1)
            _exit(4);
        event_base_loop(base, EVLOOP_NONBLOCK); /* @mark:use */
        _exit(reads > 0 ? 0 : 3);
    }
    int rc = wait_child_bounded(pid, 1500);

    event_free(ev);
    event_base_free(base);
    printf("child ended: %d\n", rc);
    return 0;
}

/* libuv, the harm of a shared loop to the parent: the parent watches a
 * pipe with a uv_poll_t and forks; the child stops watching it, which
 * removes it from the epoll instance (EPOLL_CTL_DEL), and writes a byte
 * into the pipe.  Without uv_loop_fork that instance is the parent's: the
 * parent's registration is gone, and the byte never wakes its loop.
 *   observe mode  "parent saw its event: no", shared-loop (error);
 *   safe mode     the child's first use gets it its own copy of the
 *                 instance: "parent saw its event: yes", remedied (note). */
#include "common.h"

#include <uv.h>

static int parent_events;

static void on_readable(uv_poll_t *handle, int status, int events)
{
    (void)handle;
    (void)status;
    (void)events;
    parent_events++;
}

int main(void)
{
    uv_loop_t loop;
    uv_poll_t poll;
    int p[2];
    if (pipe(p) != 0 || uv_loop_init(&loop) != 0 || uv_poll_init(&loop, &poll, p[0]) != 0) { /* @mark:created */
        fprintf(stderr, "libuv setup failed\n");
        return 1;
    }
    uv_poll_start(&poll, UV_READABLE, on_readable);
    uv_run(&loop, UV_RUN_NOWAIT); /* registers the pipe with the kernel */

    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        uv_poll_stop(&poll); /* @mark:use */
        if (write(p[1], "x", 1) != 1)
            _exit(2);
        uv_run(&loop, UV_RUN_NOWAIT);
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    /* The child's byte is in the pipe: the parent's loop must see it. */
    for (int i = 0; i < 50 && !parent_events; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(10 * 1000);
    }
    printf("child ended: %d\nparent saw its event: %s\n", rc, parent_events ? "yes" : "no");
    uv_poll_stop(&poll);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    return 0;
}

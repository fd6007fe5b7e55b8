/* libuv: a uv loop (uv_loop_init, a uv_async_t) run by the main thread,
 * which then forks.  The loop's driving thread is the forking thread, so
 * the loop is not stranded.  The child runs the loop once (UV_RUN_NOWAIT):
 *   loop_uv_fork         without uv_loop_fork: the child waits on the
 *                        parent's epoll instance: shared-loop (error);
 *   loop_uv_fork reinit  uv_loop_fork first (libuv closes the inherited
 *                        epoll fd and creates a new one): nothing above note.
 * The child also sends the async handle to itself and reports whether its
 * callback ran (it does in both cases: the harm of the first is to the
 * parent, whose kernel loop state the child shares). */
#include "common.h"

#include <string.h>
#include <uv.h>

static int async_calls;

static void on_async(uv_async_t *handle)
{
    (void)handle;
    async_calls++;
}

int main(int argc, char **argv)
{
    int reinit = argc > 1 && strcmp(argv[1], "reinit") == 0;
    uv_loop_t loop;
    uv_async_t async;
    if (uv_loop_init(&loop) != 0 || uv_async_init(&loop, &async, on_async) != 0) { /* @mark:created */
        fprintf(stderr, "libuv setup failed\n");
        return 1;
    }
    uv_async_send(&async);
    uv_run(&loop, UV_RUN_NOWAIT); /* the parent drives the loop: @mark:drive */

    fflush(stdout);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (reinit && uv_loop_fork(&loop) != 0) /* @mark:reinit */
            _exit(2);
        int before = async_calls;
        uv_async_send(&async);
        uv_run(&loop, UV_RUN_NOWAIT); /* @mark:use */
        _exit(async_calls > before ? 0 : 3);
    }
    int rc = wait_child_bounded(pid, 1500);

    uv_close((uv_handle_t *)&async, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    printf("child ended: %d\n", rc);
    return 0;
}

/* A thread named "producer" is to write into a pipe; the main thread
 * forks a child to read it and, as the pipe is the child's now, closes its
 * own ends.  The producer does not exist in the child, which holds the
 * only write end itself: its read waits forever.  The watchdog of forksan
 * run reports child-hang naming the pipe, with the child's stack at the
 * read and "producer" as a thread that vanished.
 *
 * The child ends by its own alarm(20) and the parent kills it after a
 * bounded wait; the parent prints how the child ended. */
#include "common.h"

static int fds[2];
static struct latch started = LATCH_INIT;
static struct latch go = LATCH_INIT;

static void *producer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "producer");
    latch_set(&started);
    latch_wait(&go);
    /* The parent closed its ends: the write fails, nobody reads it. */
    ssize_t n = write(fds[1], "data\n", 5);
    (void)n;
    return NULL;
}

int main(void)
{
    if (pipe(fds) < 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL); /* @mark:create */
    latch_wait(&started);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        alarm(20);
        char buf[16];
        ssize_t n = read(fds[0], buf, sizeof buf); /* @mark:read */
        _exit(n > 0 ? 0 : 1);
    }
    close(fds[0]);
    close(fds[1]);
    int rc = wait_child_bounded(pid, 6000);
    latch_set(&go);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

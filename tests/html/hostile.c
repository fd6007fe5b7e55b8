/* hostile.c — the HTML check's program with markup in every string it
 * controls.  It is mutex_vanished_holder (a thread holds a mutex across the
 * main thread's fork, the child then locks it: child-deadlock) with a
 * thread name made of HTML metacharacters and a control character; the
 * check also runs it from a directory whose name is markup, so the exe
 * path is hostile too.  A report that does not escape them grows an <s>
 * or <i> element in the browser's DOM, which the check looks for. */
#include "common.h"

/* 15 bytes, the most a Linux thread name holds. */
#define HOSTILE_NAME "<s>\"&'\x1b</s>"

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), HOSTILE_NAME);
    pthread_mutex_lock(&shared);
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&shared);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&shared);
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

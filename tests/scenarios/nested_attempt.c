/* The child takes the doomed lock two calls deep; a thread of the parent
 * held it at fork.  In such a child forksan does not unwind (glibc
 * leaves the loader's dl_load_write_lock as the vanished threads had it),
 * so the attempt stack comes from the frame-pointer chain: both the lock
 * call and its caller must be in the report. */
#include "common.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&table_lock); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&table_lock);
    return NULL;
}

static __attribute__((noinline)) void update_table(void)
{
    pthread_mutex_lock(&table_lock); /* @mark:attempt */
}

static __attribute__((noinline)) void child_main(void)
{
    update_table(); /* @mark:caller */
    _exit(0);
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t pid = fork();
    if (pid == 0)
        child_main();
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

/* A lock built directly on futex(2), as Rust's std::sync::Mutex, Go's
 * runtime and allocators build theirs: no pthread call, so the runtime
 * cannot see it taken.  A thread named "locker" holds it across the main
 * thread's fork; the child then takes it and waits on the futex forever:
 * the watchdog of forksan run (--hang-timeout) reports child-hang with the
 * child's stack at the attempt, and "locker" as a thread that vanished.
 *
 * With the argument "traced" the child first makes its parent its tracer
 * (PTRACE_TRACEME), so the watchdog cannot attach: child-hang is still
 * reported, from /proc, with a notice saying why the stacks are missing.
 * With "undumpable" the child calls prctl(PR_SET_DUMPABLE, 0): a
 * supervisor that is not root can then neither attach to it nor read its
 * /proc files that need ptrace access (syscall, maps), and says so.
 *
 * The child ends by its own alarm(20) and the parent kills it after a
 * bounded wait, so a broken watchdog never hangs the test; the parent
 * prints how the child ended (-1: it had to kill it itself; 137: someone
 * else's SIGKILL, forksan's under --mode strict). */
#include "common.h"

#include <linux/futex.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

static int lock_word; /* 0 free, 1 taken */
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void futex_lock(int *word)
{
    while (__sync_val_compare_and_swap(word, 0, 1) != 0)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0); /* @mark:futex-wait */
}

static void futex_unlock(int *word)
{
    __sync_lock_release(word);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *locker(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "locker");
    futex_lock(&lock_word); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    futex_unlock(&lock_word);
    return NULL;
}

int main(int argc, char **argv)
{
    int traced = argc > 1 && strcmp(argv[1], "traced") == 0;
    int undumpable = argc > 1 && strcmp(argv[1], "undumpable") == 0;
    pthread_t t;
    pthread_create(&t, NULL, locker, NULL); /* @mark:create */
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        alarm(20);
        if (traced)
            ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        if (undumpable)
            prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        futex_lock(&lock_word); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 6000);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

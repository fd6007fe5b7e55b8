/* Children that wait, but not forever: the watchdog of forksan run
 * (--hang-timeout 1 in the tests) must report none of them.  Each has a
 * thread that vanished at the fork, like the hung children it must tell
 * them apart from, and each waits 2.5 s, more than twice the timeout.
 *
 *   sleep         the child sleeps (nanosleep): a timed wait
 *   grandchild    the child waits for its own child, which sleeps
 *   shared-futex  the child waits on a futex in shared memory that the
 *                 parent wakes (another process can end the wait)
 *   parent-pipe   the child reads a pipe that the parent writes to
 *   timed-wait    the child waits on a private semaphore nobody posts,
 *                 with a time limit (a timed futex wait: it ends by itself)
 *   timerfd       the child reads a timer (timerfd) that expires later
 *
 * The child prints nothing; the parent prints how it ended (0: on its own). */
#include "common.h"

#include <errno.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#define WAIT_US 2500000

static struct latch started = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *bystander(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "bystander");
    latch_set(&started);
    latch_wait(&done);
    return NULL;
}

static int child(const char *how, int *shared, int fd)
{
    if (strcmp(how, "sleep") == 0) {
        usleep(WAIT_US);
        return 0;
    }
    if (strcmp(how, "grandchild") == 0) {
        pid_t g = fork();
        if (g == 0) {
            usleep(WAIT_US);
            _exit(0);
        }
        int status;
        return waitpid(g, &status, 0) == g && WIFEXITED(status) ? 0 : 1;
    }
    if (strcmp(how, "shared-futex") == 0) {
        while (__atomic_load_n(shared, __ATOMIC_SEQ_CST) == 0)
            syscall(SYS_futex, shared, FUTEX_WAIT, 0, NULL, NULL, 0);
        return 0;
    }
    if (strcmp(how, "timed-wait") == 0) {
        sem_t never;
        sem_init(&never, 0, 0);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WAIT_US / 1000000;
        until.tv_nsec += (WAIT_US % 1000000) * 1000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        return sem_timedwait(&never, &until) < 0 && errno == ETIMEDOUT ? 0 : 1;
    }
    if (strcmp(how, "timerfd") == 0) {
        int timer = timerfd_create(CLOCK_MONOTONIC, 0);
        struct itimerspec when = {.it_value = {WAIT_US / 1000000, (WAIT_US % 1000000) * 1000L}};
        uint64_t expired;
        if (timer < 0 || timerfd_settime(timer, 0, &when, NULL) < 0)
            return 1;
        return read(timer, &expired, sizeof expired) == sizeof expired ? 0 : 1;
    }
    char buf[8];
    return read(fd, buf, sizeof buf) > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "sleep";
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int fds[2];
    if (shared == MAP_FAILED || pipe(fds) < 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, bystander, NULL);
    latch_wait(&started);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        _exit(child(how, shared, fds[0]));
    }
    if (strcmp(how, "shared-futex") == 0) {
        usleep(WAIT_US);
        __atomic_store_n(shared, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, shared, FUTEX_WAKE, 1, NULL, NULL, 0);
    } else if (strcmp(how, "parent-pipe") == 0) {
        usleep(WAIT_US);
        ssize_t n = write(fds[1], "go", 2);
        (void)n;
    }
    int rc = wait_child_bounded(pid, 8000);
    latch_set(&done);
    pthread_join(t, NULL);
    printf("child ended: %d\n", rc);
    return 0;
}

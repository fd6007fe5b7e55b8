/* pid_recycled.c — the kernel hands a pid to a new process once its old
 * owner is gone.  Child A ends at once while a lock that a vanished
 * thread ("holder") held stays locked in it: orphaned-lock.  The parent
 * then asks the kernel for A's pid again (ns_last_pid, root only) and
 * forks child B, which execs this program as "spawned"; that image reaps
 * a child a signal killed, so it writes a trace of its own: an image of
 * pid A written after A's, but of another process.  A's finding must stay
 * in the report.  Prints "recycled pid A"; exits 77 when pids cannot be
 * recycled here (not root, no ns_last_pid, or another process took it).
 * Used by tests/cli/run_cli.py (recycled-pid-keeps-findings). */
#include "common.h"

#include <fcntl.h>
#include <string.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "holder");
    pthread_mutex_lock(&shared);
    latch_set(&holding);
    latch_wait(&done);
    pthread_mutex_unlock(&shared);
    return NULL;
}

/* The exec'd image: reaps a child that SIGKILL ended (a REAPED record). */
static int spawned(void)
{
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    return 0;
}

/* The next fork gets pid (when nothing else takes it first). */
static int ask_for_pid(pid_t pid)
{
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int)pid - 1);
    int ok = write(fd, buf, (size_t)n) == n;
    close(fd);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "spawned") == 0)
        return spawned();
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    latch_wait(&holding);
    pid_t a = fork();
    if (a == 0)
        _exit(0);
    waitpid(a, NULL, 0);
    pid_t b = -1;
    for (int tries = 0; tries < 20 && b != a; tries++) {
        if (ask_for_pid(a) < 0)
            break;
        b = fork();
        if (b == 0) {
            execl("/proc/self/exe", argv[0], "spawned", (char *)NULL);
            _exit(127);
        }
        waitpid(b, NULL, 0);
    }
    latch_set(&done);
    pthread_join(t, NULL);
    if (b != a) {
        printf("cannot recycle pids here\n");
        return 77;
    }
    printf("recycled pid %d\n", (int)a);
    return 0;
}

/* Clean controls for threads forksan cannot see being born, in fork
 * children whose main thread waits on a semaphore a thread will post:
 *   signal  the thread is started by pthread_create from a SIGALRM handler
 *   clone   the thread is made with clone() directly (no pthread_create,
 *           no slot in forksan's table, no TLS of its own)
 * Neither wait is a deadlock: no finding above note, and strict mode
 * never ends such a child.  Prints "children ok: 10". */
#define _GNU_SOURCE
#include <sched.h>
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

static sem_t handed;

static void *poster(void *arg)
{
    (void)arg;
    usleep(20 * 1000);
    sem_post(&handed);
    return NULL;
}

static void start_from_handler(int sig)
{
    (void)sig;
    pthread_t t;
    if (pthread_create(&t, NULL, poster, NULL) == 0)
        pthread_detach(t);
}

static int clone_poster(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sem_post(&handed);
    return 0;
}

static int child_body(const char *mode)
{
    sem_init(&handed, 0, 0);
    if (strcmp(mode, "signal") == 0) {
        signal(SIGALRM, start_from_handler);
        ualarm(10 * 1000, 0);
    } else {
        size_t size = 256 * 1024;
        char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
            return 2;
        int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
        if (clone(clone_poster, stack + size, flags, NULL) < 0)
            return 2;
    }
    while (sem_wait(&handed) != 0) /* @mark:wait */
        ; /* EINTR: the alarm */
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "signal";
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_body(mode));
        if (wait_child_bounded(pid, 5000) == 0)
            ok++;
    }
    printf("children ok: %d\n", ok);
    return 0;
}

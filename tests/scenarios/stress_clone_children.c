/* Stress: fork-like children made past fork(), which the runtime never
 * sees being born: raw clone3 (flags 0, exit signal SIGCHLD), raw clone
 * (SIGCHLD, no new stack; both through syscall(), which the runtime
 * interposes), and glibc's clone() wrapper running a function on a stack
 * of its own.  A thread churns a mutex meanwhile.  Each child writes a
 * line, takes and releases a mutex only it uses, and exits 0; the parent
 * waits for each.  The runtime must let them run as bare (same output,
 * every child exits 0) and report no error about children it did not see
 * forked.
 *
 * Prints a line per child, then "clone3: 5/5\nclone: 5/5\nglibc clone: 5/5". */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define EACH 5

struct clone3_args { /* the kernel's struct clone_args, first version */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static pthread_mutex_t churned = PTHREAD_MUTEX_INITIALIZER, child_only = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop;

static void *churner(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_mutex_lock(&churned);
        pthread_mutex_unlock(&churned);
    }
    return NULL;
}

/* The child's work: a line, a lock of its own; 0 when all went well. */
static int child_work(const char *line)
{
    ssize_t n = write(1, line, strlen(line));
    pthread_mutex_lock(&child_only);
    pthread_mutex_unlock(&child_only);
    return n == (ssize_t)strlen(line) ? 0 : 1;
}

static int wrapped_child(void *line)
{
    return child_work(line);
}

/* Makes one child of the kind; its pid, or -1. */
static pid_t make_child(int kind, char *stack, size_t size)
{
    static const char *const lines[] = {"clone3 child\n", "clone child\n", "glibc clone child\n"};
    long pid;
    if (kind == 0) {
        struct clone3_args args = {.exit_signal = SIGCHLD};
        pid = syscall(SYS_clone3, &args, sizeof args); /* @mark:clone3 */
    } else if (kind == 1) {
        pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0); /* @mark:clone */
    } else {
        return clone(wrapped_child, stack + size, SIGCHLD, (void *)lines[2]); /* @mark:wrapper */
    }
    if (pid == 0)
        _exit(child_work(lines[kind]));
    return (pid_t)pid;
}

int main(void)
{
    size_t size = 256 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, churner, NULL) != 0)
        return 2;
    int ok[3] = {0, 0, 0};
    for (int kind = 0; kind < 3; kind++)
        for (int i = 0; i < EACH; i++) {
            pid_t pid = make_child(kind, stack, size);
            if (pid > 0 && wait_child_bounded(pid, 5000) == 0)
                ok[kind]++;
        }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("clone3: %d/%d\nclone: %d/%d\nglibc clone: %d/%d\n", ok[0], EACH, ok[1], EACH, ok[2], EACH);
    return ok[0] + ok[1] + ok[2] == 3 * EACH ? 0 : 1;
}

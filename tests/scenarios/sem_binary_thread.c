/* A binary semaphore (sem_init(&s, 0, 1)) used as a lock: a thread named
 * "sem-holder" has taken it (sem_wait) and keeps it across the main
 * thread's fork; the child sem_waits on it: child-deadlock naming
 * "sem-holder", plus threads-at-fork.
 *
 * With the argument "counting" the semaphore starts at 2: the holder's unit
 * leaves one, the child's sem_trywait gets it, and nothing is stranded (no
 * orphaned-lock: a counting semaphore with units left is no held lock).
 * With "stack" the semaphore lives in the main thread's frame, where the
 * child waits on it: one of its own frames, yet a lock another thread
 * took, not a wait object of its own (the snapshot says so).
 * With "above-stack" the holder runs on a stack the program maps itself,
 * and the semaphore lives in the memory mapped right above that stack, as
 * a lock in a malloc arena can lie right above a thread's stack: a few
 * kilobytes above the holder's frames, yet no part of its stack, so its
 * unit is a held lock all the same. */
#include "common.h"

#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>

#define HOLDER_STACK (1u << 20)
#define ARENA_ABOVE (64u << 10)
#define ARENA_HEADER 64 /* where an arena's first chunk would start */

static sem_t global_gate;
static sem_t *gate = &global_gate;
static struct latch holding = LATCH_INIT;
static struct latch done = LATCH_INIT;

static void *sem_holder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sem-holder");
    sem_wait(gate); /* @mark:acquire */
    latch_set(&holding);
    latch_wait(&done);
    sem_post(gate);
    return NULL;
}

int main(int argc, char **argv)
{
    int counting = argc > 1 && strcmp(argv[1], "counting") == 0;
    sem_t stack_gate;
    if (argc > 1 && strcmp(argv[1], "stack") == 0)
        gate = &stack_gate;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (argc > 1 && strcmp(argv[1], "above-stack") == 0) {
        char *block = mmap(NULL, HOLDER_STACK + ARENA_ABOVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
        if (block == MAP_FAILED || pthread_attr_setstack(&attr, block, HOLDER_STACK) != 0)
            return 1;
        gate = (sem_t *)(block + HOLDER_STACK + ARENA_HEADER);
    }
    sem_init(gate, 0, counting ? 2 : 1);
    pthread_t t;
    pthread_create(&t, &attr, sem_holder, NULL); /* @mark:create */
    pthread_attr_destroy(&attr);
    latch_wait(&holding);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (counting)
            _exit(sem_trywait(gate) == 0 ? 0 : 1);
        sem_wait(gate); /* @mark:attempt */
        _exit(0);
    }
    int rc = wait_child_bounded(pid, 1500);
    latch_set(&done);
    pthread_join(t, NULL);
    sem_destroy(gate);
    printf("child ended: %d\n", rc);
    return 0;
}

/* A library keys a cache by process id (the classic pid check): the parent
 * fills it, the child's first use finds the pid changed and empties it ->
 * cleared-cache (a note: forksan does not know this library) at the check.
 * The library also declares the drop with forksan_cache_dropped(), the
 * public API -> cleared-cache warning naming it.  A second library reads
 * the pid with syscall(SYS_getpid), past libc -> cleared-cache (note) at
 * its check too. */
#include "common.h"

#include <string.h>
#include <sys/syscall.h>

#include "../../probes/forksan.h"

static pid_t cache_owner;
static int cache_entries;

static __attribute__((noinline)) int *cache_get(void)
{
    if (getpid() != cache_owner) { /* @mark:check */
        if (cache_owner != 0 && forksan_cache_dropped)
            forksan_cache_dropped("the session cache"); /* @mark:declared */
        cache_entries = 0;
        cache_owner = getpid();
    }
    return &cache_entries;
}

static pid_t raw_owner;
static int raw_entries;

static __attribute__((noinline)) int *raw_cache_get(void)
{
    if ((pid_t)syscall(SYS_getpid) != raw_owner) { /* @mark:rawcheck */
        raw_entries = 0;
        raw_owner = (pid_t)syscall(SYS_getpid);
    }
    return &raw_entries;
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        (*cache_get())++;
        (*raw_cache_get())++;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int n = *cache_get() + *raw_cache_get();
        _exit(n == 0 ? 0 : 1);
    }
    printf("child ended: %d\n", wait_child_bounded(pid, 2000));
    return 0;
}

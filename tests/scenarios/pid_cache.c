/* Libraries that key a cache by process id (the classic pid check): the
 * parent fills it, the child's first use finds the pid changed and empties
 * it.  Three libraries, three ways:
 *   cache_get      getpid(), says nothing -> not reported: forksan does
 *                  not know this library, and a pid check of unknown
 *                  effect is mostly a pid being printed or logged
 *   raw_cache_get  syscall(SYS_getpid), past libc -> not reported either
 *   session_get    uses forksan's public API: forksan_cache_declare() where
 *                  it builds the cache, forksan_cache_dropped() where it
 *                  drops it -> warning naming it, with where it was built,
 *                  and no separate note for its own pid reads. */
#include "common.h"

#include <string.h>
#include <sys/syscall.h>

#include "../../probes/forksan.h"

static pid_t cache_owner;
static int cache_entries;

static __attribute__((noinline)) int *cache_get(void)
{
    if (getpid() != cache_owner) { /* @mark:check */
        cache_entries = 0;
        cache_owner = getpid(); /* @mark:store */
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

static pid_t session_owner;
static int sessions;

static __attribute__((noinline)) int *session_get(void)
{
    if (getpid() != session_owner) { /* @mark:sessioncheck */
        if (session_owner != 0 && forksan_cache_dropped)
            forksan_cache_dropped("the session cache"); /* @mark:declared */
        sessions = 0;
        session_owner = getpid();
        if (forksan_cache_declare)
            forksan_cache_declare("the session cache"); /* @mark:built */
    }
    return &sessions;
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        (*cache_get())++;
        (*raw_cache_get())++;
        (*session_get())++;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int n = *cache_get() + *raw_cache_get() + *session_get();
        _exit(n == 0 ? 0 : 1);
    }
    printf("child ended: %d\n", wait_child_bounded(pid, 2000));
    return 0;
}

/* hooks.c — owns the bootstrap: finding the real function behind every
 * interposer listed in hooks.h.
 *
 * DESIGN
 * Lookup is by dlsym(RTLD_NEXT), so forksan composes with other preloaded
 * interposers (they are "next").  glibc keeps two versions of
 * pthread_cond_wait and friends; plain dlsym would be fine today, but the
 * table names the version explicitly so the lookup cannot drift to the
 * LinuxThreads-era ABI.  Resolution runs in the constructor, and lazily on
 * first use if some other library's constructor calls a hooked function
 * before ours ran.  dlsym does not call any function we interpose (it may
 * calloc its error buffer, which we do not hook), so there is no bootstrap
 * recursion to break.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <unistd.h>

#include "fsan.h"

#define FSAN_DEFINE_REAL(ret, name, params, version) ret(*fsan__real_##name) params;
FSAN_HOOKS(FSAN_DEFINE_REAL)
#undef FSAN_DEFINE_REAL

struct hook_entry {
    const char *name;
    const char *version;
    void **slot;
};

#define FSAN_HOOK_ENTRY(ret, name, params, version) {#name, version, (void **)&fsan__real_##name},
static const struct hook_entry hook_table[] = {FSAN_HOOKS(FSAN_HOOK_ENTRY)};
#undef FSAN_HOOK_ENTRY

void *fsan__hooks_resolve_one(int index)
{
    const struct hook_entry *h = &hook_table[index];
    if (*h->slot)
        return *h->slot;
    void *fn = h->version ? dlvsym(RTLD_NEXT, h->name, h->version) : NULL;
    if (!fn)
        fn = dlsym(RTLD_NEXT, h->name);
    if (!fn) {
        /* Without the real function the program cannot go on; say which. */
        fsan__log("ERROR", "cannot find the real function behind an interposer (dlsym failed); is libc too old?");
        fsan__log("ERROR", h->name);
        _exit(127);
    }
    *h->slot = fn;
    return fn;
}

void fsan__hooks_resolve(void)
{
    for (int i = 0; i < FSAN_HOOK_COUNT; i++)
        fsan__hooks_resolve_one(i);
}

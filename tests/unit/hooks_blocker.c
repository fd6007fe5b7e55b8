/* hooks_blocker.c — libhooks_blocker.so for test_hooks.c: its constructor
 * writes a byte to the descriptor HOOKS_BLOCKER_ENTERED_FD names, then
 * blocks until a byte arrives on HOOKS_BLOCKER_RELEASE_FD.  Meanwhile the
 * thread that dlopen()ed it holds the dynamic loader's lock (glibc runs
 * constructors under it): dlsym in any other thread, or in a child made
 * then, would wait for ever. */
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void hooks_blocker_wait(void)
{
    const char *entered = getenv("HOOKS_BLOCKER_ENTERED_FD"), *release = getenv("HOOKS_BLOCKER_RELEASE_FD");
    if (!entered || !release)
        return;
    char byte = 1;
    if (write(atoi(entered), &byte, 1) != 1)
        return;
    (void)read(atoi(release), &byte, 1);
}

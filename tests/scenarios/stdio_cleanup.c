/* Buffers and exit handlers across fork, one case per argument (stdout is
 * a pipe under the scenario runner, so it is fully buffered):
 *   dup        unflushed "hello" at fork, the child ends with exit()
 *              -> stdio-duplicate (the text really appears twice) and
 *              duplicated-cleanup (the parent's atexit handler runs twice)
 *   underscore the same, the child ends with _exit() -> clean
 *   flushed    the parent flushes before fork, the child ends with exit()
 *              but no handler is registered -> clean
 *   lost       (parent flushed) the child prints after fork and ends with
 *              _exit() -> skipped-cleanup
 *   kept       the same, the child flushes first -> clean */
#include "common.h"

#include <string.h>

static void parent_cleanup(void)
{
    fputs("[cleanup]", stdout);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "dup";
    if (strcmp(mode, "dup") == 0 || strcmp(mode, "underscore") == 0)
        atexit(parent_cleanup);
    fputs("hello", stdout);
    if (strcmp(mode, "flushed") == 0 || strcmp(mode, "lost") == 0 || strcmp(mode, "kept") == 0)
        fflush(stdout); /* nothing inherited: only the child's own output is at stake */
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (strcmp(mode, "dup") == 0 || strcmp(mode, "flushed") == 0)
            exit(0); /* @mark:exit */
        if (strcmp(mode, "lost") == 0 || strcmp(mode, "kept") == 0) {
            fputs("child-line\n", stdout);
            if (strcmp(mode, "kept") == 0)
                fflush(stdout);
        }
        _exit(0); /* @mark:underscore */
    }
    int rc = wait_child_bounded(pid, 2000);
    fprintf(stderr, "child ended: %d\n", rc);
    return 0;
}

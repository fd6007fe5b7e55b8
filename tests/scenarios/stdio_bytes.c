/* Unflushed stdio bytes at fork, counted.  stdout is a pipe under the
 * scenario runner, so it is fully buffered: a full line and a partial line
 * ("line one\n" is 9 bytes, "partial" 7) are both still in the buffer when
 * the process forks, and parent and child each end with exit(), which
 * flushes them: the 16 bytes appear twice -> stdio-duplicate, "16 bytes",
 * at the child's exit().  With "flushed" as argument the parent flushes
 * before the fork: nothing is inherited, nothing written twice -> clean. */
#include "common.h"

#include <string.h>

int main(int argc, char **argv)
{
    int flushed = argc > 1 && strcmp(argv[1], "flushed") == 0;
    printf("line one\n");
    printf("partial");
    if (flushed)
        fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        exit(0); /* @mark:exit */
    fprintf(stderr, "child ended: %d\n", wait_child_bounded(pid, 2000));
    exit(0);
}

/* What the parent's exit handlers do when a fork child ends with exit()
 * and so runs them again (rule duplicated-cleanup).  One case per
 * argument; the parent registers one handler, forks, and the child calls
 * exit(0):
 *   remove   the handler removes the parent's pid file -> duplicated-cleanup
 *            naming the handler and the file; the parent's file is gone
 *   write    the handler writes "bye" on stderr, the parent's own open
 *            file -> duplicated-cleanup "writes 4 bytes to fd 2"
 *   free     the handler only frees memory -> nothing: running it twice
 *            is harmless
 *   own      the handler writes on a file the child opened itself, not the
 *            parent's -> nothing */
#include "common.h"

#include <fcntl.h>
#include <string.h>

static char pid_file[64];
static void *cache;
static const char *mode;

static void remove_pid_file(void)
{
    unlink(pid_file); /* @mark:unlink */
}

static void say_bye(void)
{
    ssize_t n = write(2, "bye\n", 4);
    (void)n;
}

static void free_cache(void)
{
    free(cache);
    cache = NULL;
}

static int child_log = -1;

static void close_child_log(void)
{
    if (child_log >= 0) {
        ssize_t n = write(child_log, "closing\n", 8);
        (void)n;
        close(child_log);
    }
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "remove";
    snprintf(pid_file, sizeof pid_file, "/tmp/forksan-scenario-%d.pid", (int)getpid());
    int fd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
        close(fd);
    cache = malloc(64);
    if (strcmp(mode, "remove") == 0)
        atexit(remove_pid_file);
    else if (strcmp(mode, "write") == 0)
        atexit(say_bye);
    else if (strcmp(mode, "own") == 0)
        atexit(close_child_log);
    else
        atexit(free_cache);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        if (strcmp(mode, "own") == 0)
            child_log = open("/dev/null", O_WRONLY);
        exit(0); /* @mark:exit */
    }
    int rc = wait_child_bounded(pid, 2000);
    printf("child ended: %d, pid file %s\n", rc, access(pid_file, F_OK) == 0 ? "kept" : "gone");
    unlink(pid_file);
    return 0;
}

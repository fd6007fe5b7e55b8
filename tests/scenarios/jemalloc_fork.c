/* Clean control: a program linked against jemalloc (as Redis is) forks
 * while another thread allocates.  jemalloc's own atfork handlers take
 * every arena's mutex before the fork and release or re-create them after:
 * the fork protocol working as designed.  None of those locks may show up
 * (nor fill the forking thread's table: no "tables full" notice), and
 * forksan's handlers must still come first although jemalloc registers
 * its own on its first malloc, inside forksan's constructor.
 * Prints "children ok: 20". */
#include "common.h"

#include <string.h>

static volatile int stop;

static void *churn(void *arg)
{
    (void)arg;
    while (!stop) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = malloc((size_t)(16 << (i % 12)));
        for (int i = 0; i < 64; i++)
            free(p[i]);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, churn, NULL);
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *p = malloc(4096);
            memset(p, 1, 4096);
            free(p);
            _exit(0);
        }
        if (wait_child_bounded(pid, 5000) == 0)
            ok++;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("children ok: %d\n", ok);
    return 0;
}

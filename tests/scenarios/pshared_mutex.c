/* Clean control: a process-shared mutex in MAP_SHARED|MAP_ANONYMOUS memory
 * is held by the parent across fork and released by the parent ~200 ms
 * later; the child's lock blocks until then and succeeds.  Another process
 * may release a process-shared lock, so this is no hazard. */
#include "common.h"

#include <sys/mman.h>

int main(void)
{
    pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);

    pthread_mutex_lock(m);
    pid_t pid = fork();
    if (pid == 0) {
        if (pthread_mutex_lock(m) != 0)
            _exit(3);
        pthread_mutex_unlock(m);
        _exit(0);
    }
    usleep(200 * 1000);
    pthread_mutex_unlock(m);
    int rc = wait_child_bounded(pid, 1500);
    printf("child ended: %d\n", rc);
    return 0;
}

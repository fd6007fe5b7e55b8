/* An "interpreter" that exports PyGILState_Check but is not CPython 3.11
 * (no Py_Version): forksan must fall back to native frames and say once,
 * in the report, that Python frames were unavailable and why — while still
 * finding the child-deadlock.  Built with -rdynamic so the symbol is
 * visible to dlsym, as in a real interpreter. */
#include "common.h"

int PyGILState_Check(void);
int PyGILState_Check(void)
{
    return 1;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    pthread_mutex_lock(&m); /* @mark:acquire */
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&m); /* @mark:attempt */
        _exit(0);
    }
    printf("child ended: %d\n", wait_child_bounded(pid, 1500));
    pthread_mutex_unlock(&m);
    return 0;
}

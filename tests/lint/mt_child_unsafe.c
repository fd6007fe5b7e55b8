/* A multi-threaded program whose fork child calls printf and then
 * pthread_mutex_lock before _exit: unsafe-after-fork at the printf line
 * (marked "unsafe" below) and the fork line (marked "fork"). */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    return arg;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pid_t pid = fork(); /* @mark:fork */
    if (pid == 0) {
        printf("child %d of %s\n", (int)getpid(), argv[0]); /* @mark:unsafe */
        pthread_mutex_lock(&lock);
        _exit(argc);
    }
    waitpid(pid, NULL, 0);
    pthread_join(t, NULL);
    return 0;
}

/* Stress: 64 threads churn mutexes, rwlocks (read and write) and binary
 * semaphores (used as locks) while the main thread forks 1,000 times; each
 * child writes one byte to a pipe and _exits, touching no lock a churner
 * could hold.  Under this load the runtime must keep the program's
 * behaviour (same output and status as bare), let every child run and be
 * reaped, and never say a child deadlocks (none takes a lock).  At every
 * fork churners hold their locks: orphaned-lock and a threads-at-fork
 * warning are the truth.
 *
 * Prints "children ok: 1000, bytes: 1000". */
#include "common.h"

#include <semaphore.h>
#include <stdatomic.h>

#define CHURNERS 64
#define FORKS 1000

static pthread_mutex_t mutexes[8];
static pthread_rwlock_t rwlocks[4];
static sem_t sems[4];
static atomic_int stop;
static volatile long work;

/* Each pass takes the thread's lock and lets it go again; one pass in 4
 * keeps it for 10 ms, so that locks are held at every fork and 64 threads
 * leave two cores room for the forking thread (shorter holds cost as much
 * system time in futex wake-ups as the 1,000 forks themselves). */
static void *churner(void *arg)
{
    int i = (int)(long)arg;
    static const char *const names[] = {"churn-mutex", "churn-mutex", "churn-rwlock", "churn-sem"};
    pthread_setname_np(pthread_self(), names[i % 4]);
    for (long n = 0; !atomic_load_explicit(&stop, memory_order_relaxed); n++) {
        useconds_t hold = n % 4 ? 0 : 10000;
        switch (i % 4) {
        case 2: {
            pthread_rwlock_t *rw = &rwlocks[(i / 4) % 4];
            if ((n / 4) % 2) /* the long holds alternate: write, read */
                pthread_rwlock_wrlock(rw);
            else
                pthread_rwlock_rdlock(rw);
            work++;
            if (hold)
                usleep(hold);
            pthread_rwlock_unlock(rw);
            break;
        }
        case 3:
            sem_wait(&sems[(i / 4) % 4]); /* @mark:sem */
            work++;
            if (hold)
                usleep(hold);
            sem_post(&sems[(i / 4) % 4]);
            break;
        default:
            pthread_mutex_lock(&mutexes[i % 8]); /* @mark:mutex */
            work++;
            if (hold)
                usleep(hold);
            pthread_mutex_unlock(&mutexes[i % 8]);
        }
    }
    return NULL;
}

/* The child's exit status, or -1 when it did not end within ms (killed);
 * polls finely: 1,000 children must not cost 10 ms each. */
static int reap(pid_t pid, int ms)
{
    int status = 0;
    for (long us = 0; us < ms * 1000L; us += 100) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

int main(void)
{
    for (int i = 0; i < 8; i++)
        pthread_mutex_init(&mutexes[i], NULL);
    for (int i = 0; i < 4; i++) {
        pthread_rwlock_init(&rwlocks[i], NULL);
        sem_init(&sems[i], 0, 1); /* binary: a semaphore used as a lock */
    }
    int bytes_pipe[2];
    if (pipe(bytes_pipe) != 0)
        return 2;
    pthread_t threads[CHURNERS];
    pthread_attr_t small; /* fewer pages for each fork to copy */
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, 64 * 1024);
    for (int i = 0; i < CHURNERS; i++)
        if (pthread_create(&threads[i], &small, churner, (void *)(long)i) != 0)
            return 2;
    int ok = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork(); /* @mark:fork */
        if (pid == 0) {
            ssize_t w = write(bytes_pipe[1], "x", 1);
            _exit(w == 1 ? 0 : 1);
        }
        if (pid > 0 && reap(pid, 5000) == 0)
            ok++;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < CHURNERS; i++)
        pthread_join(threads[i], NULL);
    close(bytes_pipe[1]);
    long bytes = 0;
    char buf[512];
    for (ssize_t n; (n = read(bytes_pipe[0], buf, sizeof buf)) > 0;)
        bytes += n;
    printf("children ok: %d, bytes: %ld\n", ok, bytes);
    return ok == FORKS && bytes == FORKS ? 0 : 1;
}

/* test_hooks.c — the runtime's own lookup of the real functions
 * (probes/hooks.c), observed from a program running under the runtime.
 *
 * The test re-executes itself with LD_PRELOAD=libforksan.so:libhooks_next.so
 * (the runtime next to this build's tests: ../lib/libforksan.so, or
 * FORKSAN_RUNTIME).  libhooks_next.so is another preloaded interposer,
 * placed after the runtime, that defines pthread_mutex_lock and
 * pthread_cond_timedwait in a default and a hidden version each and counts
 * which one is reached: what forksan's REAL() calls must be the next
 * object's definition of the version the hook names, as dlsym(RTLD_NEXT)
 * or dlvsym would find it.  libhooks_blocker.so holds the loader's lock in
 * a second thread while a hook is used for the first time in a child made
 * with clone() (no fork hook runs, so nothing was resolved for it) and in
 * a signal handler: a lookup that needed the loader would never return
 * (SIGALRM ends the test instead of a hang). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define UNDER_RUNTIME "FSAN_TEST_HOOKS_UNDER_RUNTIME"

static int counter(const char *name)
{
    int *value = (int *)dlsym(RTLD_DEFAULT, name);
    assert_non_null(value);
    return __atomic_load_n(value, __ATOMIC_RELAXED);
}

static void test_hooks_runtime_is_loaded(void **state)
{
    int (*active)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "forksan_is_active");
    assert_non_null(active);
    assert_int_equal(active(), 1);
}

/* A hook without a version (pthread_mutex_lock) reaches the next object's
 * default version, never its hidden one. */
static void test_hooks_default_version_of_the_next_interposer(void **state)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int before = counter("hooks_next_lock_calls");
    assert_int_equal(pthread_mutex_lock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);
    assert_int_equal(counter("hooks_next_lock_calls"), before + 1);
    assert_int_equal(counter("hooks_next_lock_old_calls"), 0);
}

/* A hook with a version (pthread_cond_timedwait@GLIBC_2.3.2) reaches that
 * version, not the LinuxThreads-era GLIBC_2.2.5 one. */
static void test_hooks_named_version_of_the_next_interposer(void **state)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec past = {0, 0};
    assert_int_equal(pthread_mutex_lock(&m), 0);
    assert_int_equal(pthread_cond_timedwait(&c, &m, &past), ETIMEDOUT);
    assert_int_equal(pthread_mutex_unlock(&m), 0);
    assert_int_equal(counter("hooks_next_timedwait_calls"), 1);
    assert_int_equal(counter("hooks_next_timedwait_old_calls"), 0);
}

/* The loader's lock, held by a second thread inside dlopen. */
struct loader_lock {
    pthread_t thread;
    int entered[2], release[2];
};

static void *open_blocker(void *arg)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return NULL;
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, "libhooks_blocker.so");
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static void hold_loader_lock(struct loader_lock *l)
{
    char fd[16], byte;
    assert_int_equal(pipe(l->entered), 0);
    assert_int_equal(pipe(l->release), 0);
    snprintf(fd, sizeof fd, "%d", l->entered[1]);
    setenv("HOOKS_BLOCKER_ENTERED_FD", fd, 1);
    snprintf(fd, sizeof fd, "%d", l->release[0]);
    setenv("HOOKS_BLOCKER_RELEASE_FD", fd, 1);
    assert_int_equal(pthread_create(&l->thread, NULL, open_blocker, NULL), 0);
    assert_int_equal(read(l->entered[0], &byte, 1), 1);
}

static void release_loader_lock(struct loader_lock *l)
{
    char byte = 1;
    void *handle = NULL;
    assert_int_equal(write(l->release[1], &byte, 1), 1);
    assert_int_equal(pthread_join(l->thread, &handle), 0);
    assert_non_null(handle);
    assert_int_equal(dlclose(handle), 0); /* the next dlopen runs the constructor again */
    close(l->entered[0]);
    close(l->entered[1]);
    close(l->release[0]);
    close(l->release[1]);
}

static int child_uses_a_hook(void *arg)
{
    /* setresuid(-1, -1, -1) changes nothing; _exit is a first use too. */
    _exit(setresuid((uid_t)-1, (uid_t)-1, (uid_t)-1) == 0 ? 0 : 1);
}

static void test_hooks_first_use_in_a_child_without_the_loader(void **state)
{
    struct loader_lock l;
    hold_loader_lock(&l);
    size_t stack_size = 256 * 1024;
    char *stack = malloc(stack_size);
    assert_non_null(stack);
    pid_t pid = clone(child_uses_a_hook, stack + stack_size, SIGCHLD, NULL);
    assert_true(pid > 0);
    /* Up to 20 s; a child stuck on the loader's lock is killed, not left. */
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 2000 && done == 0; i++) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0)
            usleep(10000);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    free(stack);
    release_loader_lock(&l);
    assert_int_equal(done, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static volatile sig_atomic_t handler_result = -1;

static void handler_uses_a_hook(int sig)
{
    handler_result = setreuid((uid_t)-1, (uid_t)-1);
}

static void test_hooks_first_use_in_a_signal_handler_without_the_loader(void **state)
{
    struct loader_lock l;
    hold_loader_lock(&l);
    alarm(20);
    signal(SIGUSR1, handler_uses_a_hook);
    raise(SIGUSR1);
    alarm(0);
    release_loader_lock(&l);
    assert_int_equal(handler_result, 0);
}

static int run_under_runtime(char **argv)
{
    char self[PATH_MAX], runtime[PATH_MAX + 64], preload[2 * PATH_MAX + 128];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    const char *env = getenv("FORKSAN_RUNTIME");
    snprintf(runtime, sizeof runtime, "%s", env && *env ? env : self);
    if (!(env && *env))
        strcat(runtime, "/../lib/libforksan.so");
    snprintf(preload, sizeof preload, "%s:%s/libhooks_next.so", runtime, self);
    setenv("LD_PRELOAD", preload, 1);
    unsetenv("FORKSAN_OPTIONS");
    setenv(UNDER_RUNTIME, "1", 1);
    execv("/proc/self/exe", argv);
    perror("test_hooks: exec");
    return 1;
}

int main(int argc, char **argv)
{
    if (!getenv(UNDER_RUNTIME))
        return run_under_runtime(argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks_runtime_is_loaded),
        cmocka_unit_test(test_hooks_default_version_of_the_next_interposer),
        cmocka_unit_test(test_hooks_named_version_of_the_next_interposer),
        cmocka_unit_test(test_hooks_first_use_in_a_child_without_the_loader),
        cmocka_unit_test(test_hooks_first_use_in_a_signal_handler_without_the_loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

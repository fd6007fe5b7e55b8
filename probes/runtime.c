/* runtime.c — libforksan.so's constructor and destructor, and the
 * process-wide state every other file reads.
 *
 * DESIGN
 * The library is linked with -z initfirst so its constructor runs before
 * any other object's (libc's early init has already run): its atfork
 * handler is then the first registered, and the thread and lock tables
 * exist before any other library can create a thread.  Options are parsed
 * here, once; a malformed FORKSAN_OPTIONS stops the program before main
 * with the reason (running with settings the user did not ask for would be
 * a silent failure), an unknown key only warns.  Every exec'd image runs
 * the constructor and most never fork, so it does only what must precede
 * the program: what only a forking process needs waits for its first fork
 * (fsan__before_first_fork), and the real functions are looked up on first
 * use (hooks.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forksan.h"
#include "fsan.h"

FSAN_HOT struct fsan__process fsan__proc;
FSAN_TLS int fsan__guard;


static void warn_unknown_key(const char *key, size_t len)
{
    char msg[256];
    struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
    fsan__sb_str(&sb, "FORKSAN_OPTIONS: unknown option '");
    fsan__sb_mem(&sb, key, len);
    fsan__sb_str(&sb, "' ignored (FORKSAN_OPTIONS=help=1 lists the options)");
    msg[sb.len] = '\0';
    fsan__log("WARNING", msg);
}

static void emit_help_line(const char *line)
{
    (void)fsan__write_all(2, line, strlen(line));
    (void)fsan__write_all(2, "\n", 1);
}

/* A relative trace_dir or log_path is made absolute now: the program may
 * chdir. */
static void absolutize(char *dir, const char *what)
{
    if (!dir[0] || dir[0] == '/')
        return;
    char cwd[FSAN_OPTION_PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || strlen(cwd) + 1 + strlen(dir) >= FSAN_OPTION_PATH_MAX) {
        dir[0] = '\0';
        fsan__log("WARNING", what);
        return;
    }
    char full[FSAN_OPTION_PATH_MAX * 2];
    struct fsan__sbuf sb = {full, sizeof full - 1, 0};
    fsan__sb_str(&sb, cwd);
    fsan__sb_str(&sb, "/");
    fsan__sb_str(&sb, dir);
    full[sb.len] = '\0';
    memcpy(dir, full, strlen(full) + 1);
}

/* With -z initfirst the constructor runs before libc has set environ, so
 * the environment comes from the constructor's own arguments. */
static const char *find_env(char **envp, const char *name)
{
    for (char **e = envp; e && *e; e++) {
        const char *v = *e, *n = name;
        while (*n && *v == *n)
            v++, n++;
        if (!*n && *v == '=')
            return v + 1;
    }
    return NULL;
}

/* trace_dir, for a bare preload: created (0700) when missing, so traces
 * are not lost in silence; a directory other users may write into is
 * used, but said to be unsafe, with the fix.  (forksan run checks its own
 * before the command starts, and refuses.)  A directory of root's is
 * trusted: it is how a process that dropped privileges sees forksan run's
 * directory. */
static void check_trace_dir(const char *dir)
{
    if (!dir[0])
        return;
    struct stat st;
    if (fsan__sys_stat(dir, &st, 0) < 0 && errno == ENOENT && mkdir(dir, 0700) == 0)
        return;
    if (fsan__sys_stat(dir, &st, 0) < 0) {
        char msg[FSAN_OPTION_PATH_MAX + 128];
        struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
        fsan__sb_str(&sb, "trace_dir '");
        fsan__sb_str(&sb, dir);
        fsan__sb_str(&sb, "' cannot be used or created: traces are lost (set trace_dir to a directory of your own)");
        msg[sb.len] = '\0';
        fsan__log("WARNING", msg);
        return;
    }
    if ((st.st_mode & 002) || (st.st_uid != 0 && st.st_uid != geteuid())) {
        char msg[FSAN_OPTION_PATH_MAX + 200];
        struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
        fsan__sb_str(&sb, "trace_dir '");
        fsan__sb_str(&sb, dir);
        fsan__sb_str(&sb, (st.st_mode & 002) ? "' is writable by every user"
                                             : "' belongs to another user");
        fsan__sb_str(&sb, ": traces there can be swapped or forged (use a private directory: mkdir -m 0700)");
        msg[sb.len] = '\0';
        fsan__log("WARNING", msg);
    }
}

static char **init_envp;

void fsan__init(void)
{
    if (fsan__proc.initialized)
        return;
    fsan__guard++;
    /* The atfork handlers first, before anything can allocate: an
     * allocator that replaces malloc (jemalloc) registers its own handlers
     * on its first malloc, and ours must come before every other library's
     * (our child handler takes the snapshot before theirs change the
     * locks; our prepare handler runs after theirs). */
    fsan__fork_init();
    /* Where the real functions are, not yet which they are: REAL()
     * resolves each on first use, and the first fork all (hooks.c). */
    fsan__hooks_init();
    fsan__proc.pid = (pid_t)fsan__sys_getpid();
    fsan__options_defaults(&fsan__proc.opts);
    char err[512];
    if (fsan__options_parse(&fsan__proc.opts, init_envp ? find_env(init_envp, "FORKSAN_OPTIONS") : getenv("FORKSAN_OPTIONS"), err, sizeof err,
                            warn_unknown_key) < 0) {
        fsan__log("ERROR", err);
        _exit(2);
    }
    if (fsan__proc.opts.help)
        fsan__options_help(&fsan__proc.opts, emit_help_line);
    absolutize(fsan__proc.opts.log_path, "log_path is relative and the working directory is unknown; messages go to stderr");
    absolutize(fsan__proc.opts.trace_dir, "trace_dir is relative and the working directory is unknown; no traces");
    check_trace_dir(fsan__proc.opts.trace_dir);
    /* The CPython bridge looks for the interpreter with dlsym, which costs
     * more than all the rest of this function: not in images without it. */
    if (fsan__hooks_defined("PyGILState_Check") != 0)
        fsan__py_init();
    fsan__proc.initialized = 1;
    fsan__trace_open_process(FSAN_PROC_START, 0, 0);
    if (fsan__proc.opts.trace_all)
        fsan__trace_mark_needed();
    if (fsan__proc.opts.verbosity >= 1 && fsan__proc.opts.trace_dir[0]) {
        char msg[FSAN_OPTION_PATH_MAX + 64];
        struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
        fsan__sb_str(&sb, "tracing into ");
        fsan__sb_str(&sb, fsan__proc.opts.trace_dir);
        msg[sb.len] = '\0';
        fsan__log("INFO", msg);
    }
    fsan__guard--;
}

/* The stdio streams (for what a fork child loses when it skips its exit
 * path) and the cookie that tells this image's fork children from other
 * processes matter only once the process forks. */
void fsan__before_first_fork(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    fsan__hooks_resolve();
    fsan__clock_init();
    fsan__stdio_init();
    fsan__signals_init();
}

/* The handle that names this library to libc's pthread_atfork (fork.c)
 * and __cxa_atexit: crtbegin defines it in every shared object, and the
 * runtime is linked without crtbegin (the Makefile says why).  Its address
 * is all that matters: libc unregisters the atfork handlers of a handle
 * when its object is unloaded, which a preloaded runtime never is. */
void *__dso_handle __attribute__((visibility("hidden"))) = &__dso_handle;

/* The argument vector the kernel put on the main thread's stack lies above
 * every frame the main thread will run (threads.c: its stack bounds). */
__attribute__((constructor)) static void forksan_constructor(int argc, char **argv, char **envp)
{
    fsan__proc.main_stack_top = (uintptr_t)argv;
    init_envp = envp;
    fsan__init();
    init_envp = NULL;
}

__attribute__((destructor)) static void forksan_destructor(void)
{
    if (fsan__active())
        fsan__fork_fini();
}

/* ---- public API (forksan.h) --------------------------------------------- */

FSAN_EXPORT int forksan_is_active(void)
{
    return fsan__active();
}

FSAN_EXPORT const char *forksan_version(void)
{
    return FORKSAN_VERSION;
}

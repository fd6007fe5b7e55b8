/* cli_run.c — `forksan run` and `forksan report`.
 *
 * run: make a private trace directory (0700), preload the runtime, run the
 * command with our signals forwarded to it, wait, then analyze the traces
 * and render the report.
 *
 * DESIGN
 * The command's own stdout is never touched: the report goes to stderr (or
 * -o FILE), like a sanitizer's.  Before launching, forksan checks what it
 * can check cheaply and says so in one line, but still runs the program: a
 * statically linked or setuid executable cannot load the runtime (the
 * dynamic loader ignores LD_PRELOAD for them), a missing command is an
 * error (127, like env and the shells).  Nothing is lost: if the report
 * cannot be produced the trace directory is kept and named.  Suppression
 * files and the --baseline report are read before the command starts, for
 * the same reason as FORKSAN_OPTIONS is checked then: a typo in them is a
 * usage error that costs nothing, not a report lost after a long run.
 * While the command runs, the hang watchdog (watchdog.c, --hang-timeout)
 * watches its fork children from a thread of its own; what it found joins
 * the report.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze.h"
#include "render.h"
#include "baseline.h"
#include "cli.h"
#include "options.h"
#include "supervise.h"
#include "suppress.h"
#include "watchdog.h"

/* ---- locating things ------------------------------------------------------- */

/* The runtime sits at ../lib/libforksan.so from the command, both in the
 * build tree and after make install; FORKSAN_RUNTIME overrides. */
static int find_runtime(char *out, size_t len)
{
    const char *env = getenv("FORKSAN_RUNTIME");
    if (env && *env) {
        snprintf(out, len, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n < 0)
            return -errno;
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        if (snprintf(out, len, "%s/../lib/libforksan.so", self) >= (int)len)
            return -ENAMETOOLONG;
    }
    char real[PATH_MAX];
    if (!realpath(out, real))
        return -errno;
    snprintf(out, len, "%s", real);
    return access(out, R_OK) == 0 ? 0 : -errno;
}

/* PATH lookup as execvp does it, to diagnose before forking. */
static int resolve_command(const char *cmd, char *out, size_t len)
{
    if (strchr(cmd, '/')) {
        snprintf(out, len, "%s", cmd);
        return access(out, F_OK) == 0 ? (access(out, X_OK) == 0 ? 0 : -EACCES) : -ENOENT;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int saw_noexec = 0;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(out, len, "%.*s%s%s", (int)n, path, n ? "/" : "", cmd);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            saw_noexec = 1;
        }
        path = colon ? colon + 1 : path + n;
    }
    return saw_noexec ? -EACCES : -ENOENT;
}

/* 1 when the ELF file has no program interpreter (static), 0 when it has,
 * -1 when it is not an ELF file we can read (a script: not our concern). */
static int is_static_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    Elf64_Ehdr eh;
    int result = -1;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        result = 1;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type == PT_INTERP) {
                result = 0;
                break;
            }
        }
    }
    close(fd);
    return result;
}

static void warn_unwatchable(struct fsan_cli *cli, const char *path)
{
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) && geteuid() != 0)
        why = "is set-user-ID or set-group-ID: the dynamic loader ignores LD_PRELOAD for it";
    else if (is_static_elf(path) == 1)
        why = "is statically linked: LD_PRELOAD cannot load the runtime into it";
    if (!why)
        return;
    fprintf(stderr, "forksan: warning: '%s' %s, so forksan cannot watch it (dynamically linked programs it runs are still watched); running it anyway\n", path, why);
    if (snprintf(cli->unwatched, sizeof cli->unwatched, "'%.300s' was not watched: it %s", path, why) < 0)
        cli->unwatched[0] = '\0';
}

/* ---- the trace directory ------------------------------------------------------- */

static int make_trace_dir(struct fsan_cli *cli, char *out, size_t len, int *temporary)
{
    if (cli->trace_dir) {
        snprintf(out, len, "%s", cli->trace_dir);
        *temporary = 0;
        if (mkdir(out, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "forksan: cannot create trace directory '%s': %s (choose another with --trace-dir)\n", out, strerror(errno));
            return -1;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(out, len, "%s/forksan.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        *temporary = !cli->keep_traces;
        if (!mkdtemp(out)) {
            fprintf(stderr, "forksan: cannot create a trace directory from '%s': %s (set TMPDIR or use --trace-dir)\n", out, strerror(errno));
            return -1;
        }
    }
    char real[PATH_MAX];
    if (realpath(out, real))
        snprintf(out, len, "%s", real);
    /* Whoever else can write into the directory can swap a trace for a
     * file of their own (the traced program then appends into it), plant
     * forged traces, or delete findings. */
    struct stat st;
    if (stat(out, &st) == 0 && (st.st_uid != geteuid() || (st.st_mode & 022))) {
        if (st.st_uid != geteuid())
            fprintf(stderr, "forksan: trace directory '%s' belongs to user %u, not to you: that user could swap or forge traces in it (choose a directory of your own with --trace-dir)\n",
                    out, (unsigned)st.st_uid);
        else
            fprintf(stderr, "forksan: trace directory '%s' is writable by other users (mode %04o): they could swap or forge traces in it (chmod 700 '%s', or choose another with --trace-dir)\n",
                    out, (unsigned)(st.st_mode & 07777), out);
        return -1;
    }
    if (access(out, W_OK | X_OK) < 0) {
        fprintf(stderr, "forksan: trace directory '%s' is not writable: %s (choose another with --trace-dir)\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes what the runtime writes: forksan.* files, and the uid-U
 * directories of processes that changed user (one level, no links
 * followed). */
static void remove_trace_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[PATH_MAX];
    while ((de = readdir(d)) != NULL) {
        int runtime_file = strncmp(de->d_name, "forksan.", 8) == 0;
        int uid_dir = strncmp(de->d_name, "uid-", 4) == 0;
        if ((!runtime_file && !uid_dir) || snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (uid_dir && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_trace_dir(path);
        else if (runtime_file)
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- environment ---------------------------------------------------------------- */

static int set_environment(struct fsan_cli *cli, const char *runtime, const char *dir, const char *supervisor)
{
    const char *old_preload = getenv("LD_PRELOAD");
    char *preload = NULL;
    if (asprintf(&preload, "%s%s%s", runtime, old_preload && *old_preload ? ":" : "",
                 old_preload ? old_preload : "") < 0)
        return -ENOMEM;
    const char *old_opts = getenv("FORKSAN_OPTIONS");
    char *opts = NULL;
    /* The runtime speaks into the trace directory, not into the program's
     * stderr (the report shows what it said); the user's own options come
     * after those two defaults, so they can change them, and before the
     * settings this run depends on. */
    if (asprintf(&opts, "log_path=%s/" FSAN_LOG_PREFIX ":child_report=0%s%s:trace_dir=%s:mode=%s:exitcode=%d:supervisor=%s",
                 dir, old_opts && *old_opts ? ":" : "", old_opts && *old_opts ? old_opts : "", dir,
                 cli->mode == FSAN_MODE_STRICT ? "strict" : cli->mode == FSAN_MODE_SAFE ? "safe" : "observe", cli->exitcode, supervisor) < 0) {
        free(preload);
        return -ENOMEM;
    }
    setenv("LD_PRELOAD", preload, 1);
    setenv("FORKSAN_OPTIONS", opts, 1);
    free(preload);
    free(opts);
    return 0;
}

/* The user's FORKSAN_OPTIONS are checked here, before anything runs, so a
 * typo is a usage error of forksan rather than a dying program. */
static int check_user_options(void)
{
    struct fsan__options o;
    char err[512];
    fsan__options_defaults(&o);
    if (fsan__options_parse(&o, getenv("FORKSAN_OPTIONS"), err, sizeof err, NULL) < 0) {
        fprintf(stderr, "forksan: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- suppressions and baseline --------------------------------------------------- */

/* FORKSAN_OPTIONS=suppressions=FILE, copied out of the parsed options (the
 * struct is a local).  Empty when unset or unparsable (check_user_options
 * reports a malformed FORKSAN_OPTIONS for run). */
static int options_suppressions(char *out, size_t len)
{
    struct fsan__options o;
    char err[512];
    fsan__options_defaults(&o);
    out[0] = '\0';
    if (fsan__options_parse(&o, getenv("FORKSAN_OPTIONS"), err, sizeof err, NULL) < 0) {
        fprintf(stderr, "forksan: %s\n", err);
        return -1;
    }
    snprintf(out, len, "%s", o.suppressions);
    return 0;
}

/* Everything is read before the command runs, so that a typo in a
 * suppression file or a broken baseline costs nothing but the error. */
int fsan_load_filters(struct fsan_cli *cli)
{
    char err[1024], from_env[FSAN_OPTION_PATH_MAX];
    cli->supp = calloc(1, sizeof *cli->supp);
    if (!cli->supp) {
        fprintf(stderr, "forksan: out of memory\n");
        return FSAN_EXIT_USAGE;
    }
    if (options_suppressions(from_env, sizeof from_env) < 0)
        return FSAN_EXIT_USAGE;
    int rc = 0;
    if (!cli->no_builtin_suppressions)
        rc = fsan_suppressions_add_builtin(cli->supp, err, sizeof err);
    for (int i = 0; rc == 0 && i < cli->nsuppressions; i++)
        rc = fsan_suppressions_load(cli->supp, cli->suppressions[i], err, sizeof err);
    /* --suppressions replaces the environment's file, as a command-line
     * option replaces a default. */
    if (rc == 0 && cli->nsuppressions == 0 && from_env[0])
        rc = fsan_suppressions_load(cli->supp, from_env, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "forksan: %s\n", err);
        return FSAN_EXIT_USAGE;
    }
    if (!cli->baseline)
        return 0;
    cli->base = calloc(1, sizeof *cli->base);
    if (!cli->base) {
        fprintf(stderr, "forksan: out of memory\n");
        return FSAN_EXIT_USAGE;
    }
    if (fsan_baseline_load(cli->base, cli->baseline, err, sizeof err) < 0) {
        fprintf(stderr, "forksan: %s\n", err);
        return FSAN_EXIT_USAGE;
    }
    return 0;
}

void fsan_free_filters(struct fsan_cli *cli)
{
    if (cli->supp)
        fsan_suppressions_free(cli->supp);
    if (cli->base)
        fsan_baseline_free(cli->base);
    free(cli->supp);
    free(cli->base);
    cli->supp = NULL;
    cli->base = NULL;
}

/* ---- running ---------------------------------------------------------------------- */

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stop_signal; /* SIGINT, SIGTERM or SIGHUP was passed on */

/* After passing on a signal that asks to stop, forksan waits this long for
 * the command to end, then reports without it. */
#define STOP_GRACE_MS 3000

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
        stop_signal = sig;
}

static int wait_for(struct fsan_cli *cli, pid_t pid)
{
    int status;
    int rc = fsan_supervisor_wait(cli->sup, pid, &status, &stop_signal, STOP_GRACE_MS);
    if (rc == -ETIMEDOUT) {
        fprintf(stderr, "forksan: '%s' (pid %d) did not end within %d s of SIG%s; reporting without it (it is still running)\n",
                cli->argv[0], (int)pid, STOP_GRACE_MS / 1000, sigabbrev_np(stop_signal));
        return 128 + stop_signal;
    }
    if (rc < 0)
        return 1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

static int launch(struct fsan_cli *cli, const char *path)
{
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "forksan: cannot start '%s': %s\n", cli->argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execv(path, cli->argv);
        fprintf(stderr, "forksan: cannot run '%s': %s\n", cli->argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    child_pid = pid;
    cli->root_pid = pid;
    cli->root_exe = path;
    static struct fsan_watchdog watchdog;
    if (cli->hang_timeout > 0) {
        int rc = fsan_watchdog_start(&watchdog, pid, cli->hang_timeout, cli->mode != FSAN_MODE_OBSERVE);
        if (rc < 0)
            fprintf(stderr, "forksan: warning: cannot start the hang watchdog: %s; a hung child will not be reported\n",
                    strerror(-rc));
        else
            cli->watchdog = &watchdog;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaction(forwarded[i], &sa, NULL);
    int status = wait_for(cli, pid);
    if (cli->watchdog)
        fsan_watchdog_stop(cli->watchdog);
    /* The command is gone (and its pid may soon be someone else's): from
     * now on these signals end forksan itself, as a user stopping a long
     * report expects. */
    child_pid = 0;
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaction(forwarded[i], &sa, NULL);
    return status;
}

static int decide_exit(struct fsan_cli *cli, int status, enum fsan_severity worst)
{
    if (cli->fail_on != FSAN_SEV_NONE && worst >= cli->fail_on)
        return cli->exitcode;
    /* A report with holes must not read as a clean run. */
    if (cli->sup && cli->sup->incomplete)
        return FSAN_EXIT_INCOMPLETE;
    return status;
}

int fsan_cmd_run(struct fsan_cli *cli)
{
    if (check_user_options() < 0)
        return FSAN_EXIT_USAGE;
    if (!cli->supp && fsan_load_filters(cli) != 0)
        return FSAN_EXIT_USAGE;
    char runtime[PATH_MAX];
    int rc = find_runtime(runtime, sizeof runtime);
    if (rc < 0) {
        fprintf(stderr, "forksan: cannot find the runtime '%s': %s (build it with 'make', or set FORKSAN_RUNTIME)\n", runtime, strerror(-rc));
        return FSAN_EXIT_USAGE;
    }
    char path[PATH_MAX];
    rc = resolve_command(cli->argv[0], path, sizeof path);
    if (rc == -ENOENT) {
        fprintf(stderr, "forksan: cannot run '%s': command not found\n", cli->argv[0]);
        return 127;
    }
    if (rc < 0) {
        fprintf(stderr, "forksan: cannot run '%s': %s\n", cli->argv[0], strerror(-rc));
        return 126;
    }
    warn_unwatchable(cli, path);
    char dir[PATH_MAX];
    int temporary;
    if (make_trace_dir(cli, dir, sizeof dir, &temporary) < 0)
        return FSAN_EXIT_USAGE;
    static struct fsan_supervisor sup;
    rc = fsan_supervisor_open(&sup, dir);
    if (rc < 0)
        fprintf(stderr, "forksan: warning: cannot make the channel for the runtime in '%s': %s; if a trace cannot be written (a full disk), its findings are lost\n",
                dir, strerror(-rc));
    cli->sup = &sup;
    if (set_environment(cli, runtime, dir, sup.path) < 0) {
        fprintf(stderr, "forksan: out of memory\n");
        fsan_supervisor_close(&sup);
        return 1;
    }
    int status = launch(cli, path);
    fsan_supervisor_close(&sup);
    if (cli->watchdog)
        fsan_watchdog_save(cli->watchdog, dir); /* for a later forksan report of dir */
    if (status < 0)
        return 126;
    enum fsan_severity worst = FSAN_SEV_NONE;
    if (fsan_report_dir(cli, dir, status, &worst) < 0) {
        fprintf(stderr, "forksan: the traces are kept in '%s' (forksan report %s)\n", dir, dir);
        return status;
    }
    if (temporary)
        remove_trace_dir(dir);
    else if (cli->keep_traces || cli->trace_dir)
        fprintf(stderr, "forksan: traces kept in '%s'\n", dir);
    status = decide_exit(cli, status, worst);
    fsan_supervisor_free(&sup);
    cli->sup = NULL;
    if (cli->watchdog)
        fsan_watchdog_free(cli->watchdog);
    cli->watchdog = NULL;
    return status;
}

int fsan_cmd_report(struct fsan_cli *cli, const char *dir)
{
    enum fsan_severity worst = FSAN_SEV_NONE;
    if (!cli->supp && fsan_load_filters(cli) != 0)
        return FSAN_EXIT_USAGE;
    int rc = fsan_report_dir(cli, dir, -1, &worst);
    if (rc == -ENOENT || rc == -ENOTDIR || rc == -EACCES)
        return FSAN_EXIT_USAGE;
    if (rc < 0)
        return 1;
    return decide_exit(cli, 0, worst);
}

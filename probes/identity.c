/* identity.c — a process that changes user keeps its traces.
 *
 * Servers start as root and switch their workers to an unprivileged user
 * (nginx's "user nobody;", PostgreSQL refuses root, any daemon that drops
 * privileges after forking).  The trace directory is private (0700,
 * owned by whoever ran forksan), so from that moment the worker could
 * neither append to its own trace nor create the traces of its children:
 * its findings would be lost, and the runtime's complaint would land in
 * the server's error log.
 *
 * DESIGN
 * Just before a process running as root gives up its user id (setuid,
 * setreuid, setresuid, seteuid), while it still may, the runtime
 *  - makes the trace directory traversable by others (0711: they can
 *    reach a file they know the name of, not list or create anything);
 *  - creates uid-U/ inside it, owned by the new user U, mode 0700, and
 *    from then on creates this process's new files there (its children's
 *    traces, its log);
 *  - gives U the trace and log files this process already has, so it can
 *    go on appending to them.
 * The analyzer reads the uid-U directories too.  Nothing here runs unless a root process
 * is about to become another user while tracing, and a step that fails
 * only means those traces are lost, as before, never that the program's
 * call fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsan.h"

/* AS-safe (only system calls): appends "/uid-U" to a path option. */
static int join_uid_dir(char *out, size_t cap, const char *dir, uid_t uid)
{
    struct fsan__sbuf sb = {out, cap - 1, 0};
    fsan__sb_str(&sb, dir);
    fsan__sb_str(&sb, "/uid-");
    fsan__sb_dec(&sb, uid);
    if (sb.len >= cap - 1)
        return -ENAMETOOLONG;
    out[sb.len] = '\0';
    return 0;
}

/* The directory uid-U exists, is a real directory (not a link someone
 * planted) and belongs to U. */
static int make_uid_dir(const char *path, uid_t uid)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (fsan__sys_stat(path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_uid != uid && lchown(path, uid, (gid_t)-1) < 0)
        return -errno;
    return 0;
}

static void give_file(const char *path, uid_t uid)
{
    if (path && path[0])
        (void)lchown(path, uid, (gid_t)-1); /* its group does not matter: mode 0600 */
}

static void before_user_change(uid_t uid)
{
    char *dir = fsan__proc.opts.trace_dir;
    if (!fsan__active() || geteuid() != 0 || uid == (uid_t)-1 || uid == 0 || !dir[0])
        return;
    int saved = errno;
    struct stat st;
    char sub[FSAN_OPTION_PATH_MAX];
    if (fsan__sys_stat(dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 0711) != 0711)
        (void)chmod(dir, (st.st_mode & 07777) | 0711);
    if (join_uid_dir(sub, sizeof sub, dir, uid) == 0 && make_uid_dir(sub, uid) == 0) {
        give_file(fsan__trace_file(), uid);
        char log[FSAN_OPTION_PATH_MAX + 32];
        struct fsan__sbuf sb = {log, sizeof log - 1, 0};
        if (fsan__proc.opts.log_path[0]) {
            fsan__sb_str(&sb, fsan__proc.opts.log_path);
            fsan__sb_str(&sb, ".");
            fsan__sb_dec(&sb, fsan__sys_getpid());
            log[sb.len] = '\0';
            give_file(log, uid);
        }
        /* The log goes along when it lives in the trace directory (as
         * forksan run sets it up). */
        size_t n = strlen(dir);
        char newlog[FSAN_OPTION_PATH_MAX];
        const char *lp = fsan__proc.opts.log_path;
        if (strncmp(lp, dir, n) == 0 && lp[n] == '/' && strchr(lp + n + 1, '/') == NULL &&
            join_uid_dir(newlog, sizeof newlog, dir, uid) == 0 &&
            strlen(newlog) + strlen(lp + n) < sizeof newlog) {
            strcat(newlog, lp + n);
            memcpy(fsan__proc.opts.log_path, newlog, strlen(newlog) + 1);
        }
        memcpy(dir, sub, strlen(sub) + 1);
    }
    errno = saved;
}

FSAN_EXPORT int setuid(uid_t uid)
{
    before_user_change(uid);
    return REAL(setuid)(uid);
}

FSAN_EXPORT int seteuid(uid_t uid)
{
    before_user_change(uid);
    return REAL(seteuid)(uid);
}

FSAN_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
    before_user_change(euid != (uid_t)-1 ? euid : ruid);
    return REAL(setreuid)(ruid, euid);
}

FSAN_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
    before_user_change(euid != (uid_t)-1 ? euid : ruid);
    return REAL(setresuid)(ruid, euid, suid);
}

/* lint_python.c — the extension modules a Python interpreter can import,
 * for `forksan lint --python PYTHON`: the interpreter is asked for its
 * import path and extension suffixes, and the directories of that path
 * are searched for extension modules, each named as `import` names it.
 *
 * The question is a few lines of Python run as `PYTHON -c`, with standard
 * input from /dev/null, answering on standard output in NUL-terminated
 * records, each a tag letter and a value:
 *   V forksan-python-1      first, always (an answer from anything else
 *                           than this script does not start so)
 *   E the interpreter's ELF file (the real path of its /proc/self/exe,
 *     so a venv's link or a wrapper script leads to the binary)
 *   R its version (sys.version's first word)
 *   S an extension suffix (importlib.machinery.EXTENSION_SUFFIXES, in order)
 *   P an entry of sys.path, in order
 *
 * DESIGN
 * The interpreter runs with the environment forksan has, so PYTHONPATH
 * and a virtual environment count: that is the path the program will
 * import from when run from the same place.  Entries that are not
 * absolute directories ('' is the current directory for -c; zip files
 * hold no extension module that can be loaded) are left out.  The walk
 * follows the import system's rules far enough to name modules right:
 * a file is a module when its name is an identifier followed by one of
 * the suffixes, tried in the interpreter's order; a directory is a package
 * (regular or namespace) when its name is an identifier; the first entry
 * of the path that holds a dotted name is the one `import` finds, so a
 * later one of the same name is shadowed and left out, and a file reached
 * twice (nested path entries, links) is listed once, under its first name.
 * Symbolic links to directories are not followed (a loop cannot start).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lint.h"

#define ANSWER_TIMEOUT_MS 30000
#define ANSWER_MAX (4u << 20)
#define MAX_PACKAGE_DEPTH 32

static const char question[] =
    "import importlib.machinery as m, os, sys\n"
    "o = sys.stdout.buffer\n"
    "def put(tag, value):\n"
    "    o.write(tag + os.fsencode(value) + b'\\0')\n"
    "put(b'V', 'forksan-python-1')\n"
    "put(b'E', os.path.realpath('/proc/self/exe'))\n"
    "put(b'R', sys.version.split()[0])\n"
    "for s in m.EXTENSION_SUFFIXES: put(b'S', s)\n"
    "for p in sys.path: put(b'P', p)\n"
    "o.flush()\n";

extern char **environ;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Appends what fd has to *buf; 0 at end of file, 1 for more, -1 on error. */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*len + 4096 > *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 65536;
        char *grown = realloc(*buf, grown_cap);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = grown_cap;
    }
    ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    *len += (size_t)n;
    (*buf)[*len] = '\0';
    return n > 0;
}

/* The last non-empty line of text (what a failing Python says last is
 * the exception), at most 200 bytes of it. */
static void last_line(const char *text, size_t len, char *out, size_t outlen)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    size_t n = len - start < 200 ? len - start : 200;
    snprintf(out, outlen, "%.*s", (int)n, text + start);
}

/* Runs python with the question; *answer (malloc'd, NUL-terminated past
 * *len) is its standard output.  0, or -1 with err saying what went wrong. */
static int ask(const char *python, char **answer, size_t *len, char *err, size_t errlen)
{
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        goto fail_errno;
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(out[0]);
        close(out[1]);
        goto fail_errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    char *argv[] = {(char *)python, "-c", (char *)question, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, python, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(errp[1]);
    if (rc != 0) {
        close(out[0]);
        close(errp[0]);
        snprintf(err, errlen, "cannot run it: %s", strerror(rc));
        return -1;
    }
    char *ebuf = NULL;
    size_t elen = 0, ecap = 0, cap = 0;
    *answer = NULL;
    *len = 0;
    struct pollfd fds[2] = {{.fd = out[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
    uint64_t deadline = now_ms() + ANSWER_TIMEOUT_MS;
    int failed = 0, timed_out = 0;
    while ((fds[0].fd >= 0 || fds[1].fd >= 0) && !failed) {
        uint64_t t = now_ms();
        if (t >= deadline) {
            timed_out = 1;
            break;
        }
        if (poll(fds, 2, (int)(deadline - t)) < 0) {
            if (errno == EINTR)
                continue;
            failed = 1;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            int more = i == 0 ? drain(fds[i].fd, answer, len, &cap) : drain(fds[i].fd, &ebuf, &elen, &ecap);
            if (more < 0 || *len > ANSWER_MAX || elen > ANSWER_MAX)
                failed = 1;
            if (more <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    if (timed_out || failed)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char said[256] = "";
    if (ebuf)
        last_line(ebuf, elen, said, sizeof said);
    free(ebuf);
    if (timed_out)
        snprintf(err, errlen, "no answer within %d seconds (ended it)", ANSWER_TIMEOUT_MS / 1000);
    else if (failed)
        snprintf(err, errlen, "its answer could not be read (out of memory, or more than %u bytes)", ANSWER_MAX);
    else if (WIFSIGNALED(status))
        snprintf(err, errlen, "it was killed by signal %d%s%s", WTERMSIG(status), *said ? ": " : "", said);
    else if (WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "it exited with status %d%s%s", WEXITSTATUS(status), *said ? ": " : "", said);
    else
        return 0;
    free(*answer);
    *answer = NULL;
    return -1;

fail_errno:
    snprintf(err, errlen, "cannot run it: %s", strerror(errno));
    return -1;
}

static int push(char ***list, size_t *n, const char *value)
{
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *list = grown;
    if (!(grown[*n] = strdup(value)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fsan_lint_python_query(const char *python, struct fsan_lint_python *py, char *err, size_t errlen)
{
    memset(py, 0, sizeof *py);
    char *answer;
    size_t len;
    if (ask(python, &answer, &len, err, errlen) < 0)
        return -1;
    static const char magic[] = "Vforksan-python-1";
    if (len < sizeof magic || memcmp(answer, magic, sizeof magic) != 0 || answer[len - 1] != '\0') {
        snprintf(err, errlen, "it did not answer as a Python 3 interpreter does (is it one?)");
        free(answer);
        return -1;
    }
    int rc = 0;
    for (size_t at = sizeof magic; at < len && rc == 0; at += strlen(answer + at) + 1) {
        const char *value = answer + at + 1;
        switch (answer[at]) {
        case 'E': rc = (py->executable = strdup(value)) ? 0 : -ENOMEM; break;
        case 'R': rc = (py->version = strdup(value)) ? 0 : -ENOMEM; break;
        case 'S': rc = push(&py->suffixes, &py->nsuffixes, value); break;
        case 'P':
            if (value[0] == '/' && is_directory(value))
                rc = push(&py->path, &py->npath, value);
            break;
        default: break;
        }
    }
    free(answer);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        fsan_lint_python_free(py);
        return -1;
    }
    if (!py->executable || !py->nsuffixes) {
        snprintf(err, errlen, "its answer lacks %s", !py->executable ? "the interpreter's file" : "extension suffixes");
        fsan_lint_python_free(py);
        return -1;
    }
    return 0;
}

void fsan_lint_python_free(struct fsan_lint_python *py)
{
    free(py->executable);
    free(py->version);
    fsan_free_strings(py->suffixes, py->nsuffixes);
    fsan_free_strings(py->path, py->npath);
    memset(py, 0, sizeof *py);
}

/* ---- the walk ------------------------------------------------------------ */

struct module_walk {
    const struct fsan_lint_python *py;
    struct fsan_lint_module *modules;
    size_t n, cap;
    struct fsan_keymap names;  /* hash of a dotted name -> index + 1 */
    struct fsan_keymap inodes; /* (device, inode) already listed */
    int oom;
};

/* 1 for a Python identifier: [A-Za-z_][A-Za-z0-9_]*, and any byte past
 * ASCII (a non-ASCII identifier is UTF-8; the interpreter checks it more
 * closely than this, and a name it refuses cannot be imported anyway). */
static int is_identifier(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* The module name a file name gives, or 0: the first suffix, in the
 * interpreter's order, that leaves an identifier. */
static size_t module_stem(const struct fsan_lint_python *py, const char *file)
{
    size_t len = strlen(file);
    for (size_t i = 0; i < py->nsuffixes; i++) {
        size_t slen = strlen(py->suffixes[i]);
        if (len > slen && strcmp(file + len - slen, py->suffixes[i]) == 0 && is_identifier(file, len - slen))
            return len - slen;
    }
    return 0;
}

static void add_module(struct module_walk *w, const char *package, const char *file, size_t stem, const char *path,
                       const struct stat *st)
{
    char *name;
    if (asprintf(&name, "%s%s%.*s", package, *package ? "." : "", (int)stem, file) < 0) {
        w->oom = 1;
        return;
    }
    uint64_t name_key = fsan_fnv1a(FSAN_FNV_SEED, name), index;
    uint64_t inode_key = ((uint64_t)st->st_dev << 44) ^ (uint64_t)st->st_ino;
    if ((fsan_keymap_get(&w->names, name_key, &index) && strcmp(w->modules[index - 1].name, name) == 0) ||
        fsan_keymap_get(&w->inodes, inode_key, NULL)) {
        free(name); /* shadowed by an earlier entry of the path, or listed already */
        return;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        struct fsan_lint_module *grown = realloc(w->modules, cap * sizeof *grown);
        if (!grown) {
            free(name);
            w->oom = 1;
            return;
        }
        w->modules = grown;
        w->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy || fsan_keymap_put(&w->names, name_key, w->n + 1) < 0 || fsan_keymap_put(&w->inodes, inode_key, 1) < 0) {
        free(copy);
        free(name);
        w->oom = 1;
        return;
    }
    w->modules[w->n].name = name;
    w->modules[w->n].path = copy;
    w->n++;
}

static void walk_package(struct module_walk *w, const char *dir, const char *package, int depth)
{
    size_t n;
    char **names = fsan_lint_dir_entries(dir, &n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat lst, st;
        /* No module or package name starts with a dot. */
        if (names[i][0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path || lstat(path, &lst) < 0)
            goto next;
        if (S_ISDIR(lst.st_mode)) {
            if (depth < MAX_PACKAGE_DEPTH && is_identifier(names[i], strlen(names[i]))) {
                char *sub;
                if (asprintf(&sub, "%s%s%s", package, *package ? "." : "", names[i]) < 0) {
                    w->oom = 1;
                    goto next;
                }
                walk_package(w, path, sub, depth + 1);
                free(sub);
            }
            goto next;
        }
        size_t stem = module_stem(w->py, names[i]);
        if (stem && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            add_module(w, package, names[i], stem, path, &st);
    next:
        free(names[i]);
    }
    free(names);
}

int fsan_lint_python_modules(const struct fsan_lint_python *py, struct fsan_lint_module **out, size_t *n)
{
    struct module_walk w = {.py = py};
    for (size_t i = 0; i < py->npath && !w.oom; i++) {
        char dir[PATH_MAX];
        /* "/usr/lib/python3/" and "/usr/lib/python3" are one directory. */
        snprintf(dir, sizeof dir, "%s", py->path[i]);
        for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/';)
            dir[--len] = '\0';
        walk_package(&w, dir, "", 0);
    }
    fsan_keymap_free(&w.names);
    fsan_keymap_free(&w.inodes);
    *out = w.modules;
    *n = w.n;
    if (w.oom) {
        fsan_lint_modules_free(w.modules, w.n);
        *out = NULL;
        *n = 0;
        return -ENOMEM;
    }
    return 0;
}

void fsan_lint_modules_free(struct fsan_lint_module *modules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(modules[i].name);
        free(modules[i].path);
    }
    free(modules);
}

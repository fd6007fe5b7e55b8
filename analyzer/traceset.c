/* traceset.c — loading every trace of a run from its directory.
 *
 * DESIGN
 * One bad file must not cost the rest: an unreadable, corrupt or foreign
 * file becomes a notice that the report prints, and the analysis goes on
 * with the others.  A truncated trace is kept up to the cut.  Files are read
 * in name order so reports are reproducible.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "catalogue.h"
#include "progress.h"

static int is_trace_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "forksan.", 8) == 0 && n > 14 && strcmp(name + n - 6, ".trace") == 0;
}

/* forksan.log.PID: what the runtime of process PID said (log_path). */
static int is_log_name(const char *name)
{
    size_t n = strlen(FSAN_LOG_PREFIX);
    if (strncmp(name, FSAN_LOG_PREFIX ".", n + 1) != 0 || !name[n + 1])
        return 0;
    for (const char *p = name + n + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_notice(struct fsan_trace_set *set, const char *text)
{
    char **p = realloc(set->notices, (set->nnotices + 1) * sizeof *p);
    if (!p)
        return -ENOMEM;
    set->notices = p;
    set->notices[set->nnotices] = strdup(text);
    if (!set->notices[set->nnotices])
        return -ENOMEM;
    set->nnotices++;
    return 0;
}

/* uid-U: where a process that switched to user U wrote (see
 * probes/identity.c). */
static int is_uid_dir_name(const char *name)
{
    if (strncmp(name, "uid-", 4) != 0 || !name[4])
        return 0;
    for (const char *p = name + 4; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static int add_name(char ***names, size_t *n, const char *prefix, const char *name)
{
    char **p = realloc(*names, (*n + 1) * sizeof *p);
    if (!p)
        return -ENOMEM;
    *names = p;
    if (asprintf(&p[*n], "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", name) < 0)
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* The wanted names in dir (prefix NULL) or in its uid-U subdirectory
 * prefix, appended to names. */
static int scan_dir(const char *dir, const char *prefix, int (*wanted)(const char *), char ***names, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir, prefix ? "/" : "", prefix ? prefix : "");
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (wanted(de->d_name)) {
            rc = add_name(names, n, prefix, de->d_name);
        } else if (!prefix && is_uid_dir_name(de->d_name)) {
            struct stat st;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
            /* A real directory only: never follow a link someone planted. */
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
                int sub_rc = scan_dir(dir, de->d_name, wanted, names, n);
                rc = sub_rc == -ENOMEM ? sub_rc : 0;
            }
        }
    }
    closedir(d);
    return rc;
}

static int list_names(const char *dir, int (*wanted)(const char *), char ***names_out, size_t *n_out, char *err,
                      size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    int rc = scan_dir(dir, NULL, wanted, &names, &n);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory listing '%s'", dir);
        else
            snprintf(err, errlen, "cannot read trace directory '%s': %s", dir, strerror(-rc));
        return rc;
    }
    qsort(names, n, sizeof *names, cmp_names);
    *names_out = names;
    *n_out = n;
    return 0;
}

#define LOG_MAX_BYTES (64 * 1024) /* read of each log; the rest is counted */
#define LOG_MAX_NOTICES 100       /* lines shown from all logs together */

/* One log line "==PID==LEVEL: forksan: text" as a notice.  The headline
 * of the runtime's immediate report of a finding (a rule id follows
 * "forksan: ") is left out: the report shows that finding in full. */
static int log_line_notice(struct fsan_trace_set *set, const char *pid, const char *line, size_t len,
                           size_t *shown, size_t *skipped)
{
    const char *tag = "forksan: ";
    const char *text = memmem(line, len, tag, strlen(tag));
    if (!text || len < 2 || line[0] != '=' || line[1] != '=')
        return 0; /* a continuation line of a multi-line message */
    text += strlen(tag);
    const char *colon = memchr(text, ':', len - (size_t)(text - line));
    if (colon) {
        char id[64];
        size_t n = (size_t)(colon - text);
        if (n < sizeof id) {
            memcpy(id, text, n);
            id[n] = '\0';
            if (fsan_rule_find(id))
                return 0;
        }
    }
    if (*shown >= LOG_MAX_NOTICES) {
        (*skipped)++;
        return 0;
    }
    char notice[1024];
    snprintf(notice, sizeof notice, "runtime of process %s: %.*s", pid, (int)(len - (size_t)(text - line)), text);
    (*shown)++;
    return add_notice(set, notice);
}

/* Reads at most LOG_MAX_BYTES of a log, never blocking on what is not a
 * regular file (a FIFO planted in the directory) and never following a
 * link. */
static ssize_t read_log(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return (ssize_t)len;
}

/* What the runtime said (forksan.log.PID files) becomes notices. */
static int load_logs(const char *dir, struct fsan_trace_set *set)
{
    char **names = NULL, err[512];
    size_t n = 0, shown = 0, skipped = 0;
    if (list_names(dir, is_log_name, &names, &n, err, sizeof err) < 0)
        return 0; /* the traces were read: the logs are a bonus */
    int rc = 0;
    char *buf = malloc(LOG_MAX_BYTES);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        const char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];
        const char *pid = base + strlen(FSAN_LOG_PREFIX) + 1;
        ssize_t len = buf && rc == 0 ? read_log(path, buf, LOG_MAX_BYTES) : -1;
        for (ssize_t at = 0; len > 0 && at < len && rc == 0;) {
            const char *eol = memchr(buf + at, '\n', (size_t)(len - at));
            size_t linelen = eol ? (size_t)(eol - (buf + at)) : (size_t)(len - at);
            rc = log_line_notice(set, pid, buf + at, linelen, &shown, &skipped);
            at += (ssize_t)linelen + 1;
        }
        free(names[i]);
    }
    free(names);
    free(buf);
    if (rc == 0 && skipped) {
        char notice[256];
        snprintf(notice, sizeof notice, "%zu more messages of the runtime are in the " FSAN_LOG_PREFIX ".* files of the trace directory", skipped);
        rc = add_notice(set, notice);
    }
    return rc;
}

/* Traces that could not be read whole.  A few are notices of their own,
 * each with its exact reason (file and offset); beyond that, one notice
 * per kind of damage names every such file once: a directory of a hundred
 * thousand traces from a crashed disk needs a handful of lines, not a
 * hundred thousand. */
#define BAD_NAMED_ALONE 10

enum bad_kind { BAD_TRUNCATED, BAD_VERSION, BAD_FOREIGN, BAD_CORRUPT, BAD_UNREADABLE, BAD_KINDS };

static const char *const bad_words[BAD_KINDS] = {
    [BAD_TRUNCATED] = "truncated (the records before the cut are used)",
    [BAD_VERSION] = "written by a forksan of another trace format version (skipped)",
    [BAD_FOREIGN] = "not forksan traces (skipped)",
    [BAD_CORRUPT] = "corrupt (skipped)",
    [BAD_UNREADABLE] = "unreadable (skipped)",
};

struct bad_trace {
    char *name; /* as listed in the directory */
    char *message;
    enum bad_kind kind;
};

static enum bad_kind bad_kind_of(int rc, const char *message)
{
    if (rc == 1)
        return BAD_TRUNCATED;
    if (strstr(message, "': format version "))
        return BAD_VERSION;
    if (strstr(message, "': not a forksan trace") || strstr(message, "': not a regular file"))
        return BAD_FOREIGN;
    return rc == -EINVAL ? BAD_CORRUPT : BAD_UNREADABLE;
}

/* The notices for bad[0..n): each message when there are few, else one
 * line per kind: "forksan could not read 51234 of 100000 traces in full:
 * 51234 corrupt (skipped): forksan.1.trace, ... (first: <its message>)". */
static int bad_notices(struct fsan_trace_set *set, const struct bad_trace *bad, size_t n, size_t total)
{
    if (n <= BAD_NAMED_ALONE) {
        for (size_t i = 0; i < n; i++)
            if (add_notice(set, bad[i].message) < 0)
                return -ENOMEM;
        return 0;
    }
    for (int kind = 0; kind < BAD_KINDS; kind++) {
        size_t count = 0, first = n;
        for (size_t i = 0; i < n; i++)
            if (bad[i].kind == (enum bad_kind)kind) {
                count++;
                first = first < n ? first : i;
            }
        if (!count)
            continue;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            return -ENOMEM;
        fprintf(f, "%zu of %zu traces are %s: ", count, total, bad_words[kind]);
        for (size_t i = 0, listed = 0; i < n; i++)
            if (bad[i].kind == (enum bad_kind)kind)
                fprintf(f, "%s%s", listed++ ? ", " : "", bad[i].name);
        fprintf(f, " (the first: %s)", bad[first].message);
        if (fclose(f) != 0 || !text) {
            free(text);
            return -ENOMEM;
        }
        int rc = add_notice(set, text);
        free(text);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Makes t use the set's copy of its address space text, the set keeping
 * t's own when it is the first of its kind.  0 or -ENOMEM. */
static int share_maps(struct fsan_trace_set *set, struct fsan_trace *t)
{
    if (!t->maps)
        return 0;
    uint64_t h = fsan_fnv1a_bytes(FSAN_FNV_SEED, t->maps, t->maps_len), at;
    if (fsan_keymap_get(&set->maps_index, h, &at)) {
        const char *known = set->maps[at];
        if (strlen(known) == t->maps_len && memcmp(known, t->maps, t->maps_len) == 0) {
            free(t->maps);
            t->maps = set->maps[at];
            t->maps_shared = 1;
        }
        return 0; /* (another text with the same hash keeps its own copy) */
    }
    char **grown = realloc(set->maps, (set->nmaps + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    set->maps = grown;
    if (fsan_keymap_put(&set->maps_index, h, set->nmaps) < 0)
        return -ENOMEM;
    set->maps[set->nmaps++] = t->maps;
    t->maps_shared = 1;
    return 0;
}

int fsan_load_dir(const char *dir, struct fsan_trace_set *set, char *err, size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    int rc = list_names(dir, is_trace_name, &names, &n, err, errlen);
    if (rc < 0)
        return rc;
    set->traces = calloc(n ? n : 1, sizeof *set->traces);
    if (!set->traces) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    fsan_progress_start("reading traces", n);
    struct bad_trace *bad = NULL;
    size_t nbad = 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        fsan_progress_step(i);
        char path[4096], msg[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct fsan_trace *t = &set->traces[set->ntraces];
        memset(t, 0, sizeof *t);
        int read = fsan_trace_read(path, t, msg, sizeof msg);
        if (read != 0) {
            /* This trace is lost (or cut short), the others are not. */
            struct bad_trace *grown = realloc(bad, (nbad + 1) * sizeof *bad);
            char *copy = strdup(msg);
            if (grown)
                bad = grown;
            if (grown && copy) {
                bad[nbad++] = (struct bad_trace){names[i], copy, bad_kind_of(read, msg)};
                names[i] = NULL;
            } else {
                free(copy);
                rc = -ENOMEM;
            }
        }
        if (read >= 0 && rc >= 0)
            rc = share_maps(set, t);
        if (read < 0 || rc < 0)
            fsan_trace_free(t);
        else
            set->ntraces++;
    }
    if (rc >= 0)
        rc = bad_notices(set, bad, nbad, n);
    for (size_t i = 0; i < nbad; i++) {
        free(bad[i].name);
        free(bad[i].message);
    }
    free(bad);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    fsan_progress_end();
    free(names);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory reading the traces");
        return rc;
    }
    return load_logs(dir, set);
}

void fsan_trace_set_free(struct fsan_trace_set *set)
{
    for (size_t i = 0; i < set->ntraces; i++)
        fsan_trace_free(&set->traces[i]);
    free(set->traces);
    for (size_t i = 0; i < set->nnotices; i++)
        free(set->notices[i]);
    free(set->notices);
    for (size_t i = 0; i < set->nmaps; i++)
        free(set->maps[i]);
    free(set->maps);
    fsan_keymap_free(&set->maps_index);
    memset(set, 0, sizeof *set);
}

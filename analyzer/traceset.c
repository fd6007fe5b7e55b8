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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

static int is_trace_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "forksan.", 8) == 0 && n > 14 && strcmp(name + n - 6, ".trace") == 0;
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

static int list_names(const char *dir, char ***names_out, size_t *n_out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "cannot read trace directory '%s': %s", dir, strerror(e));
        return -e;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_trace_name(de->d_name))
            continue;
        char **p = realloc(names, (n + 1) * sizeof *p);
        if (!p || !(p[n] = strdup(de->d_name))) {
            free(p ? p : names);
            closedir(d);
            snprintf(err, errlen, "out of memory listing '%s'", dir);
            return -ENOMEM;
        }
        names = p;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    *names_out = names;
    *n_out = n;
    return 0;
}

int fsan_load_dir(const char *dir, struct fsan_trace_set *set, char *err, size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    int rc = list_names(dir, &names, &n, err, errlen);
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
    for (size_t i = 0; i < n; i++) {
        char path[4096], msg[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        struct fsan_trace *t = &set->traces[set->ntraces];
        memset(t, 0, sizeof *t);
        rc = fsan_trace_read(path, t, msg, sizeof msg);
        if (rc != 0 && add_notice(set, msg) < 0)
            rc = -ENOMEM;
        if (rc < 0) {
            fsan_trace_free(t);
            continue;
        }
        set->ntraces++;
    }
    free(names);
    return 0;
}

void fsan_trace_set_free(struct fsan_trace_set *set)
{
    for (size_t i = 0; i < set->ntraces; i++)
        fsan_trace_free(&set->traces[i]);
    free(set->traces);
    for (size_t i = 0; i < set->nnotices; i++)
        free(set->notices[i]);
    free(set->notices);
    memset(set, 0, sizeof *set);
}

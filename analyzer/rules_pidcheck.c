/* rules_pidcheck.c — the rule about state a library drops in a fork child
 * because the pid changed (the runtime's probes/pidcheck.c):
 * cleared-cache, for a pid check known (pidchecks.def) or declared
 * (forksan_cache_dropped) to throw away what the parent built.
 */
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "rules.h"

#define FSAN_PIDCHECK(fn, file, what) {fn, file, what},
static const struct fsan_frame_glob pid_knowledge[] = {
#include "pidchecks.def"
};
#undef FSAN_PIDCHECK

static const struct fsan_frame_glob *known_pidcheck(const struct fsan_location *loc)
{
    if (!loc || !loc->nframes || !loc->frames[0].function)
        return NULL;
    return fsan_frame_glob_find(pid_knowledge, sizeof pid_knowledge / sizeof pid_knowledge[0],
                                loc->frames[0].function, loc->frames[0].file ? loc->frames[0].file : "");
}

/* "function@file" of a location's innermost frame, NULL when unknown. */
static char *innermost_function(struct fsan_builder *c, const struct fsan_location *loc)
{
    if (!loc || !loc->nframes || !loc->frames[0].function)
        return NULL;
    return xprintf(c, "%s@%s", loc->frames[0].function, loc->frames[0].file ? loc->frames[0].file : "");
}

static int seen_before(char *const *seen, size_t n, const char *fn)
{
    for (size_t i = 0; fn && i < n; i++)
        if (seen[i] && strcmp(seen[i], fn) == 0)
            return 1;
    return 0;
}

void fsan_rules_pidcheck(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (t->proc.kind != FSAN_PROC_FORK || child_execed(set, t) || !t->npidchecks)
        return;
    /* One finding per function: a library that compares getpid() with its
     * cached pid and then stores getpid() again reads it twice, and a
     * function that declared the drop (forksan_cache_dropped) already has
     * its warning.  Declared drops go first. */
    char **seen = calloc(t->npidchecks, sizeof *seen);
    size_t nseen = 0;
    if (!seen) {
        c->oom = 1;
        return;
    }
    for (int declared_pass = 1; declared_pass >= 0; declared_pass--) {
        for (size_t i = 0; i < t->npidchecks; i++) {
            const struct fsan_trace_pidcheck *p = &t->pidchecks[i];
            if ((p->name != NULL) != declared_pass)
                continue;
            struct fsan_finding f;
            start_finding(&f, FSAN_RULE_CLEARED_CACHE, FSAN_SEV_NOTE, NULL);
            struct fsan_location *loc = loop_location(c, &f, t, FSAN_ROLE_CHECK, 0, p->rec.site, p->rec.pysite,
                                                      p->name ? xprintf(c, "the child drops it at:")
                                                              : xprintf(c, "the pid check (read before the fork here too) at:"));
            char *fn = innermost_function(c, loc);
            const struct fsan_frame_glob *k = p->name ? NULL : known_pidcheck(loc);
            /* A pid check whose effect is unknown is not reported: most
             * merely print or log the pid, and a note that says "maybe"
             * a hundred times is noise.  What is reported is a drop that
             * is known (the knowledge table) or declared by the library. */
            if (!p->name && (!k || seen_before(seen, nseen, fn))) {
                free(fn);
                fsan_finding_free(&f);
                continue;
            }
            seen[nseen++] = fn;
            if (p->name) {
                f.severity = FSAN_SEV_WARNING;
                f.message = xprintf(c, "the forked child threw away %s that the parent built (declared with forksan_cache_dropped)", p->name);
                if (p->rec.built_site)
                    site_location(c, &f, t, FSAN_ROLE_BUILT, 0, p->rec.built_site,
                                  xprintf(c, "the parent built it (forksan_cache_declare) at:"));
            } else {
                f.severity = FSAN_SEV_WARNING;
                f.message = xprintf(c, "a pid check trips in the forked child and state built in the parent is dropped: %s", k->what);
            }
            fork_location(c, &f, t);
            commit_finding(c, &f, t);
        }
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
}

/* model.c — the small amount of behaviour that belongs to the report model
 * itself: naming and parsing severities, the table of location roles (their
 * report names and headings), and freeing a finished report.
 *
 * Severity names appear in three places that must agree: the text report
 * (upper-cased), the JSON report, and the `--fail-on` option.  Keeping the
 * spelling here, next to the enum, means a renderer and the option parser
 * cannot drift apart.
 *
 * DESIGN
 * fsan_report_free() releases what the report owns and then zeroes the
 * struct, but it does not free the struct itself.  model.h does not say
 * whether a report lives on the stack or the heap, and this choice is the
 * one that is correct for both: a caller with a heap report frees the
 * shell after this call, a caller with a stack report does nothing more.
 * Zeroing makes a second call harmless, which is cheap insurance on error
 * paths where several owners might try to clean up.  Every array is walked
 * with its own count, so a partly built report (an allocation failed in the
 * middle of the analysis, leaving NULLs and short counts) frees cleanly as
 * long as each count never exceeds what was actually stored.  Strings the
 * model documents as static (tool_version, rule, role, language, exit how)
 * are never freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---- severities ---------------------------------------------------------- */

const char *fsan_severity_name(enum fsan_severity s)
{
    switch (s) {
    case FSAN_SEV_NONE:
        return "none";
    case FSAN_SEV_NOTE:
        return "note";
    case FSAN_SEV_WARNING:
        return "warning";
    case FSAN_SEV_ERROR:
        return "error";
    }
    /* An out-of-range value is a bug elsewhere; a renderer still needs a
     * printable string rather than NULL. */
    return "unknown";
}

/* The words `--fail-on` accepts.  "never" is what a user types to say no
 * finding should fail the run; "none" is accepted as well because it is the
 * name fsan_severity_name() gives FSAN_SEV_NONE, so that every name this file
 * prints can also be read back. */
static const struct {
    const char *word;
    enum fsan_severity severity;
} severity_words[] = {
    {"error", FSAN_SEV_ERROR},
    {"warning", FSAN_SEV_WARNING},
    {"note", FSAN_SEV_NOTE},
    {"never", FSAN_SEV_NONE},
    {"none", FSAN_SEV_NONE},
};

int fsan_severity_parse(const char *text, enum fsan_severity *out)
{
    if (text == NULL || out == NULL)
        return -EINVAL;
    for (size_t i = 0; i < sizeof severity_words / sizeof severity_words[0]; i++) {
        if (strcmp(text, severity_words[i].word) == 0) {
            *out = severity_words[i].severity;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- location roles ------------------------------------------------------ */

/* The one table of roles: the name the JSON and SARIF reports print, and
 * the heading the text and HTML reports show for a location without a
 * description.  Indexed by enum fsan_role. */
static const struct {
    const char *name;
    const char *heading;
} roles[FSAN_ROLE_COUNT] = {
    [FSAN_ROLE_ACQUIRED] = {"acquired", "acquired at:"},
    [FSAN_ROLE_ATTEMPT] = {"attempt", "the child's attempt:"},
    [FSAN_ROLE_FORK] = {"fork", "fork called at:"},
    [FSAN_ROLE_THREAD] = {"thread", "thread:"},
    [FSAN_ROLE_CREATED] = {"created", "created at:"},
    [FSAN_ROLE_USE] = {"use", "used at:"},
    [FSAN_ROLE_CHECK] = {"check", "pid checked at:"},
    [FSAN_ROLE_EXIT] = {"exit", "exited at:"},
    [FSAN_ROLE_SENDER] = {"sender", "signal sent at:"},
    [FSAN_ROLE_CHILD] = {"child", "the child was running:"},
    [FSAN_ROLE_BUILT] = {"built", "built at:"},
    [FSAN_ROLE_LIVE] = {"live", "live:"},
    [FSAN_ROLE_SIGNALLED] = {"signalled", "signalled at:"},
};

const char *fsan_role_name(enum fsan_role role)
{
    return (unsigned)role < FSAN_ROLE_COUNT ? roles[role].name : "location";
}

const char *fsan_role_heading(const char *role)
{
    for (size_t i = 0; role != NULL && i < FSAN_ROLE_COUNT; i++)
        if (strcmp(role, roles[i].name) == 0)
            return roles[i].heading;
    return NULL;
}

/* ---- freeing ------------------------------------------------------------- */

void fsan_free_strings(char **strings, size_t n)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

void fsan_frame_free(struct fsan_frame *f)
{
    free(f->function);
    free(f->file);
    free(f->module);
}

void fsan_location_free(struct fsan_location *l)
{
    for (size_t i = 0; i < l->nframes; i++)
        fsan_frame_free(&l->frames[i]);
    free(l->frames);
    free(l->thread_name);
    free(l->description);
}

void fsan_finding_free(struct fsan_finding *f)
{
    for (size_t i = 0; i < f->nlocations; i++)
        fsan_location_free(&f->locations[i]);
    free(f->locations);
    free(f->message);
    free(f->pids);
}

static void free_findings(struct fsan_finding *findings, size_t n)
{
    if (findings == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        fsan_finding_free(&findings[i]);
    free(findings);
}

static void free_processes(struct fsan_process *processes, size_t n)
{
    if (processes == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(processes[i].exe);
        free(processes[i].fork_site);
    }
    free(processes);
}

void fsan_report_free(struct fsan_report *r)
{
    if (r == NULL)
        return;
    fsan_free_strings(r->command, r->ncommand);
    free_processes(r->processes, r->nprocesses);
    free_findings(r->findings, r->nfindings);
    fsan_free_strings(r->notices, r->nnotices);
    for (size_t i = 0; i < r->nfixed; i++) {
        free(r->fixed[i].rule);
        free(r->fixed[i].message);
    }
    free(r->fixed);
    fsan_free_strings(r->unmatched_suppressions, r->nunmatched);
    for (size_t i = 0; i < r->ndowngrades; i++) {
        free(r->downgrades[i].unless);
        fsan_finding_free(&r->downgrades[i].note);
    }
    free(r->downgrades);
    memset(r, 0, sizeof *r);
}

int fsan_finding_cmp(const void *a, const void *b)
{
    const struct fsan_finding *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int r = strcmp(x->rule, y->rule);
    if (r)
        return r;
    return (x->pids ? x->pids[0] : 0) - (y->pids ? y->pids[0] : 0);
}

uint64_t fsan_fnv1a(uint64_t h, const char *s)
{
    return s ? fsan_fnv1a_bytes(h, s, strlen(s)) : h;
}

uint64_t fsan_fnv1a_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* hang_report.c — what the watchdog (watchdog.c) found, as child-hang
 * findings in the report.
 *
 * A hang is known to forksan run only, not to the traces (forksan run
 * keeps it beside them, hangfile.c, for a later forksan report), so it
 * joins the report after the rules, like what the runtime said through
 * the FIFO (supervise.c): before the baseline and the suppressions, which
 * treat it like any other finding.
 *
 * Each thread's location holds its Python frames (when the child runs
 * CPython) before its native ones, as the lock findings do; a CPython
 * whose frames could not be read is said once, in the message.
 *
 * DESIGN
 * The child's stacks were taken as raw addresses with the maps text of
 * the moment; they are symbolized here with the report's symbolizer, like
 * every stack in the report.  The rest of the story is in the child's own
 * trace, already turned into findings by the rules: the threads-at-fork
 * finding of that pid has the fork site and every thread that vanished at
 * the fork with its stack, so those locations are copied from it rather
 * than read again.  A child the runtime already reported as
 * child-deadlock (a pthread lock it saw) is not reported twice.  The
 * fingerprint is the rule, what the child waits in
 * (futex, pipe) and the functions of its stacks: no address or pid, so
 * the same hang in many children, or in the next run, is one finding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "watchdog.h"

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int has_pid(const struct fsan_finding *f, int pid)
{
    for (size_t i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return 1;
    return 0;
}

static const struct fsan_finding *finding_of_pid(const struct fsan_report *r, const char *rule, int pid)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0 && has_pid(&r->findings[i], pid))
            return &r->findings[i];
    return NULL;
}

static void copy_location(struct fsan_location *to, const struct fsan_location *from, int *oom)
{
    memset(to, 0, sizeof *to);
    to->role = from->role;
    to->has_thread = from->has_thread;
    to->tid = from->tid;
    to->thread_name = dup_or_null(from->thread_name, oom);
    to->description = dup_or_null(from->description, oom);
    to->frames = from->nframes ? calloc(from->nframes, sizeof *to->frames) : NULL;
    if (from->nframes && !to->frames) {
        *oom = 1;
        return;
    }
    for (size_t i = 0; i < from->nframes; i++) {
        to->frames[i] = from->frames[i];
        to->frames[i].function = dup_or_null(from->frames[i].function, oom);
        to->frames[i].file = dup_or_null(from->frames[i].file, oom);
        to->frames[i].module = dup_or_null(from->frames[i].module, oom);
    }
    to->nframes = from->nframes;
}

/* The runtime's interposers (syscall() among them) sit between the
 * program and libc: their frames say nothing to the user. */
static int is_runtime_module(const char *module)
{
    const char *slash = module ? strrchr(module, '/') : NULL;
    return module && strncmp(slash ? slash + 1 : module, "libforksan", 10) == 0;
}

static void symbolize_thread(struct fsan_symbolizer *sym, const struct fsan_hang *h,
                             const struct fsan_hang_thread *th, struct fsan_location *loc, int *oom)
{
    size_t total = (size_t)th->npy + (size_t)th->nips;
    loc->frames = total ? calloc(total, sizeof *loc->frames) : NULL;
    if (total && !loc->frames) {
        *oom = 1;
        return;
    }
    for (int i = 0; i < th->npy; i++) {
        struct fsan_frame *f = &loc->frames[loc->nframes++];
        f->language = "python";
        f->function = th->py[i].function[0] ? dup_or_null(th->py[i].function, oom) : NULL;
        f->file = th->py[i].file[0] ? dup_or_null(th->py[i].file, oom) : NULL;
        f->line = th->py[i].line;
    }
    for (int i = 0; i < th->nips; i++) {
        struct fsan_symbol s = {0};
        /* Frame 0 is where the thread is; the others are return addresses. */
        fsan_symbolize(sym, h->maps, h->maps_len, th->ips[i], i > 0, &s);
        if (is_runtime_module(s.module))
            continue;
        struct fsan_frame *f = &loc->frames[loc->nframes++];
        f->address = th->ips[i];
        f->language = "c";
        f->function = dup_or_null(s.function, oom);
        f->file = dup_or_null(s.file, oom);
        f->line = s.line;
        f->module = dup_or_null(s.module, oom);
        f->module_offset = s.module_offset;
    }
}

/* "thread 1201 "locker", thread 1202" of a threads-at-fork finding. */
static void vanished_threads(FILE *m, const struct fsan_finding *taf)
{
    int n = 0;
    for (size_t i = 0; taf && i < taf->nlocations; i++) {
        const struct fsan_location *l = &taf->locations[i];
        if (strcmp(l->role, fsan_role_name(FSAN_ROLE_THREAD)) != 0 || !l->has_thread)
            continue;
        fprintf(m, "%s thread %d", n++ ? "," : "; the threads that vanished at its fork:", l->tid);
        if (l->thread_name)
            fprintf(m, " \"%s\"", l->thread_name);
    }
}

static uint64_t fingerprint(const struct fsan_hang *h, const struct fsan_finding *f)
{
    uint64_t fp = fsan_fnv1a(fsan_fnv1a(FSAN_FNV_SEED, f->rule), h->kind);
    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *l = &f->locations[i];
        if (strcmp(l->role, fsan_role_name(FSAN_ROLE_CHILD)) != 0)
            continue;
        fp = fsan_fnv1a(fp, "|");
        for (size_t j = 0; j < l->nframes; j++) {
            fp = fsan_fnv1a(fp, l->frames[j].function);
            fp = fsan_fnv1a(fp, l->frames[j].file);
        }
    }
    return fp;
}

int fsan_report_push_notice(struct fsan_report *r, char *text)
{
    char **grown = text ? realloc(r->notices, (r->nnotices + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        return -ENOMEM;
    }
    r->notices = grown;
    grown[r->nnotices++] = text;
    return 0;
}

/* Builds the finding of one hang into f (zeroed).  0 or -ENOMEM. */
static int build(const struct fsan_hang *h, struct fsan_symbolizer *sym, const struct fsan_report *r,
                 struct fsan_finding *f)
{
    const struct fsan_finding *taf = finding_of_pid(r, "threads-at-fork", h->pid);
    int oom = 0;
    int closed = fsan_hang_is_closed(h);
    f->rule = fsan_rule_find("child-hang")->id;
    f->severity = closed ? FSAN_SEV_WARNING : fsan_rule_find("child-hang")->default_severity;
    f->count = 1;
    char *message = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&message, &mlen);
    if (!m)
        return -ENOMEM;
    if (closed)
        fprintf(m, "forked child %d may hang: %s %zu thread%s asleep for %d s without using CPU time or being woken "
                "once; what %s in cannot be read (the child is not dumpable), so a long sleep or a timed wait would "
                "look the same", h->pid, h->nthreads == 1 ? "its" : "all", h->nthreads,
                h->nthreads == 1 ? " has been" : "s have been", h->seconds, h->nthreads == 1 ? "it waits" : "they wait");
    else
        fprintf(m, "forked child %d hangs: %s %zu thread%s blocked for %d s without using CPU time; thread %d %s",
                h->pid, h->nthreads == 1 ? "its" : "all", h->nthreads, h->nthreads == 1 ? " has been" : "s have been",
                h->seconds, h->threads[0].tid, h->threads[0].blocked);
    /* A futex in a program's data has a name: the lock variable. */
    struct fsan_symbol word = {0};
    if (h->threads[0].futex)
        fsan_symbolize(sym, h->maps, h->maps_len, h->threads[0].futex, 0, &word);
    if (word.function && word.module)
        fprintf(m, "; the futex word lies in '%s' of %s", word.function, word.module);
    vanished_threads(m, taf);
    if (h->py_unavailable)
        fprintf(m, "; Python frames unavailable: %s", h->py_unavailable);
    if (h->ended)
        fputs("; --mode strict ended it", m);
    if (fclose(m) != 0)
        return -ENOMEM;
    f->message = message;
    f->pids = malloc(sizeof *f->pids);
    size_t extra = 0;
    for (size_t i = 0; taf && i < taf->nlocations; i++)
        extra += strcmp(taf->locations[i].role, fsan_role_name(FSAN_ROLE_FORK)) == 0 ||
                 strcmp(taf->locations[i].role, fsan_role_name(FSAN_ROLE_THREAD)) == 0;
    f->locations = calloc(h->nthreads + extra, sizeof *f->locations);
    if (!f->pids || !f->locations)
        return -ENOMEM;
    f->pids[f->npids++] = h->pid;
    for (size_t i = 0; i < h->nthreads; i++) {
        const struct fsan_hang_thread *th = &h->threads[i];
        struct fsan_location *loc = &f->locations[f->nlocations++];
        loc->role = fsan_role_name(FSAN_ROLE_CHILD);
        loc->has_thread = 1;
        loc->tid = th->tid;
        loc->thread_name = th->name[0] ? dup_or_null(th->name, &oom) : NULL;
        if (asprintf(&loc->description, "thread %d at the hang: %s:", th->tid, th->blocked) < 0) {
            loc->description = NULL;
            oom = 1;
        }
        symbolize_thread(sym, h, th, loc, &oom);
    }
    for (size_t i = 0; taf && i < taf->nlocations; i++)
        if (strcmp(taf->locations[i].role, fsan_role_name(FSAN_ROLE_FORK)) == 0 ||
            strcmp(taf->locations[i].role, fsan_role_name(FSAN_ROLE_THREAD)) == 0)
            copy_location(&f->locations[f->nlocations++], &taf->locations[i], &oom);
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016llx", (unsigned long long)fingerprint(h, f));
    return oom ? -ENOMEM : 0;
}

/* Adds f, or its pid to the same hang of another child.  Takes over f. */
static int add_finding(struct fsan_report *r, struct fsan_finding *f)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        struct fsan_finding *same = &r->findings[i];
        if (strcmp(same->rule, f->rule) != 0 || strcmp(same->fingerprint, f->fingerprint) != 0)
            continue;
        int *pids = realloc(same->pids, (same->npids + 1) * sizeof *pids);
        if (pids) {
            same->pids = pids;
            pids[same->npids++] = f->pids[0];
            same->count++;
        }
        fsan_finding_free(f);
        return pids ? 0 : -ENOMEM;
    }
    struct fsan_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof *grown);
    if (!grown) {
        fsan_finding_free(f);
        return -ENOMEM;
    }
    r->findings = grown;
    grown[r->nfindings++] = *f;
    return 0;
}

int fsan_watchdog_apply(struct fsan_watchdog *w, struct fsan_symbolizer *sym, struct fsan_report *r)
{
    return fsan_hangs_apply(w->hangs, w->nhangs, sym, r);
}

int fsan_hangs_apply(const struct fsan_hang *hangs, size_t n, struct fsan_symbolizer *sym, struct fsan_report *r)
{
    int rc = 0;
    size_t before = r->nfindings;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct fsan_hang *h = &hangs[i];
        /* The runtime saw this one coming and said why: once is enough. */
        if (finding_of_pid(r, "child-deadlock", h->pid))
            continue;
        struct fsan_finding f;
        memset(&f, 0, sizeof f);
        rc = build(h, sym, r, &f);
        if (rc < 0) {
            fsan_finding_free(&f);
            break;
        }
        rc = add_finding(r, &f);
        if (rc == 0 && h->no_stacks) {
            char *notice = NULL;
            if (asprintf(&notice, "child-hang: no stacks of the hung child %d: %s; %s", h->pid, h->no_stacks,
                         fsan_hang_is_closed(h) ? "it is reported from its state in /proc/PID/stat alone"
                                                : "what it waits in is from /proc") < 0)
                notice = NULL;
            rc = fsan_report_push_notice(r, notice);
        }
    }
    if (r->nfindings > before)
        qsort(r->findings, r->nfindings, sizeof *r->findings, fsan_finding_cmp);
    return rc;
}

int fsan_watchdog_annotate(struct fsan_report *r)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        struct fsan_finding *taf = &r->findings[i];
        if (strcmp(taf->rule, "threads-at-fork") != 0)
            continue;
        char *extra = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&extra, &len);
        if (!m)
            return -ENOMEM;
        int hung = 0;
        for (size_t j = 0; j < taf->npids; j++)
            if (finding_of_pid(r, "child-hang", taf->pids[j]))
                fprintf(m, "%s%d", hung++ ? ", " : "", taf->pids[j]);
        if (fclose(m) != 0)
            return -ENOMEM;
        char *message = NULL;
        if (hung && asprintf(&message, "%s; then the child %s %s hung: see child-hang", taf->message,
                             hung == 1 ? "process" : "processes", extra) < 0) {
            free(extra);
            return -ENOMEM;
        }
        free(extra);
        if (message) {
            free(taf->message);
            taf->message = message;
        }
    }
    return 0;
}

/* finding.c — how the analyzer builds its report: text helpers, locations
 * from the traces' native and Python stacks, fingerprints, merging identical
 * findings from many processes, the process list, and findings whose
 * severity waits for the suppressions.  The rule families (rules_*.c) call
 * it; they decide what is a finding, this file decides how one looks.
 *
 * Python programs: the runtime records, besides native stacks, the Python
 * stacks of the fork call, of each thread at fork, of where each held lock
 * was taken and of the child's attempt (PYREF records).  A location that
 * has one shows the Python frames only, unless --native-frames asks for
 * both (Python first): the interpreter's C frames say nothing a Python
 * programmer can act on.  Such a location's fingerprint is its innermost
 * Python frame, so it does not depend on that option.  A thread's Python
 * name (threading.Thread.name) is the name users gave it, so it is
 * preferred to the 15-byte native one.
 *
 * Identical findings from many processes (a pool forking 1,000 workers)
 * merge into one with a count: the fingerprint is the rule plus the
 * symbolized sites that identify it (function, file and line, or module and
 * offset — never raw addresses, which change with ASLR), so it is stable
 * across runs and usable for baselines.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "finding.h"

char *xstrdup(struct fsan_builder *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        c->oom = 1;
    return d;
}

char *xvprintf(struct fsan_builder *c, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
        c->oom = 1;
    }
    return s;
}

char *xprintf(struct fsan_builder *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(c, fmt, ap);
    va_end(ap);
    return s;
}

const char *basename_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

static int is_runtime_module(const char *module)
{
    const char *b = basename_of(module);
    return b && strncmp(b, "libforksan", 10) == 0;
}

void symbolize_frame(struct fsan_builder *c, const struct fsan_trace *t, uint64_t addr, int is_ret,
                     struct fsan_frame *f)
{
    memset(f, 0, sizeof *f);
    f->address = addr;
    f->language = "c";
    struct fsan_symbol s = {0};
    if (t->maps_len)
        fsan_symbolize(c->sym, t->maps, t->maps_len, addr, is_ret, &s);
    f->function = xstrdup(c, s.function);
    f->file = xstrdup(c, s.file);
    f->line = s.line;
    f->module = xstrdup(c, s.module);
    f->module_offset = s.module_offset;
}

/* The frames of a site, runtime frames trimmed so #0 is the caller of the
 * intercepted function. */
static void site_frames(struct fsan_builder *c, const struct fsan_trace *t, uint32_t site_id, struct fsan_location *loc)
{
    const struct fsan_trace_site *s = fsan_trace_site(t, site_id);
    if (!s || s->nframes == 0)
        return;
    loc->frames = calloc(s->nframes, sizeof *loc->frames);
    if (!loc->frames) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < s->nframes; i++) {
        struct fsan_frame *f = &loc->frames[loc->nframes];
        symbolize_frame(c, t, s->frames[i], 1, f);
        if (loc->nframes == 0 && is_runtime_module(f->module)) {
            fsan_frame_free(f);
            continue;
        }
        loc->nframes++;
    }
}

const struct fsan_rec_thread *thread_by_tid(const struct fsan_trace *t, uint32_t tid)
{
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].tid == tid)
            return &t->threads[i];
    return NULL;
}

/* The name users know a thread by: the Python name of a THREAD PYREF when
 * there is one (threading.Thread.name, e.g. "lock-holder"), else the
 * native name. */
const char *thread_name(const struct fsan_trace *t, uint32_t tid)
{
    const struct fsan_trace_pyref *r = fsan_trace_pyref(t, FSAN_PYREF_THREAD, tid);
    if (r && r->name[0])
        return r->name;
    const struct fsan_rec_thread *th = thread_by_tid(t, tid);
    return th && th->name[0] ? th->name : NULL;
}

/* The Python stack a PYREF attaches to (what, key), or NULL when there is
 * none or it has no frames. */
const struct fsan_trace_pysite *python_stack(const struct fsan_trace *t, uint32_t what, uint64_t key)
{
    const struct fsan_trace_pyref *r = fsan_trace_pyref(t, what, key);
    const struct fsan_trace_pysite *ps = r ? fsan_trace_pysite(t, r->pysite) : NULL;
    return ps && ps->nframes ? ps : NULL;
}

static char *nonempty_dup(struct fsan_builder *c, const char *s)
{
    return s && *s ? xstrdup(c, s) : NULL;
}

static struct fsan_location *add_location(struct fsan_builder *c, struct fsan_finding *f, enum fsan_role role)
{
    struct fsan_location *p = realloc(f->locations, (f->nlocations + 1) * sizeof *p);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    f->locations = p;
    struct fsan_location *loc = &p[f->nlocations++];
    memset(loc, 0, sizeof *loc);
    loc->role = fsan_role_name(role);
    return loc;
}

void set_thread(struct fsan_builder *c, struct fsan_location *loc, const struct fsan_trace *t, uint32_t tid)
{
    if (!loc || tid == 0)
        return;
    loc->has_thread = 1;
    loc->tid = (int)tid;
    loc->thread_name = xstrdup(c, thread_name(t, tid));
}

struct fsan_location *site_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                                    enum fsan_role role, uint32_t tid, uint32_t site, char *description)
{
    struct fsan_location *loc = add_location(c, f, role);
    if (!loc) {
        free(description);
        return NULL;
    }
    set_thread(c, loc, t, tid);
    loc->description = description;
    site_frames(c, t, site, loc);
    return loc;
}

/* The site's stack was captured for another lock taken at the same call
 * instruction (a lock wrapper, or CPython's one acquire function for every
 * Python lock): keep only the innermost frame, which is certain, and say so
 * rather than show somebody else's callers. */
static void trim_shared(struct fsan_builder *c, struct fsan_location *loc)
{
    if (!loc || loc->nframes <= 1)
        return;
    for (size_t i = 1; i < loc->nframes; i++)
        fsan_frame_free(&loc->frames[i]);
    loc->nframes = 1;
    const char *base = loc->description ? loc->description : "at:";
    size_t n = strlen(base);
    if (n && base[n - 1] == ':')
        n--;
    char *desc = xprintf(c, "%.*s (a call site shared by several locks: only the innermost frame is certain):",
                         (int)n, base);
    free(loc->description);
    loc->description = desc;
}

/* Puts the Python stack ps before the location's native frames, or in
 * their place (see fsan_analyze_options). */
static void attach_python(struct fsan_builder *c, struct fsan_location *loc, const struct fsan_trace_pysite *ps)
{
    size_t keep = c->native_frames ? loc->nframes : 0;
    struct fsan_frame *frames = calloc(ps->nframes + keep, sizeof *frames);
    if (!frames) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < ps->nframes; i++) {
        const struct fsan_trace_pyframe *pf = &ps->frames[i];
        frames[i].language = "python";
        frames[i].function = nonempty_dup(c, pf->function);
        frames[i].file = nonempty_dup(c, pf->file);
        frames[i].line = pf->line > INT_MAX ? 0 : (int)pf->line;
    }
    if (keep)
        memcpy(frames + ps->nframes, loc->frames, keep * sizeof *frames);
    for (size_t i = keep; i < loc->nframes; i++)
        fsan_frame_free(&loc->frames[i]);
    free(loc->frames);
    loc->frames = frames;
    loc->nframes = ps->nframes + keep;
}

/* The last step of every location that can have Python frames: the
 * shared-site trim (which concerns the native stack only, so it is skipped
 * when that stack is not shown) and the Python frames of (what, key). */
void finish_location(struct fsan_builder *c, struct fsan_location *loc, const struct fsan_trace *t,
                     uint32_t what, uint64_t key, int shared)
{
    if (!loc)
        return;
    const struct fsan_trace_pysite *ps = python_stack(t, what, key);
    if (shared && (!ps || c->native_frames))
        trim_shared(c, loc);
    if (ps)
        attach_python(c, loc, ps);
}

void fork_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t)
{
    /* os.fork() has a Python call site even when the native one is libc's. */
    int python = python_stack(t, FSAN_PYREF_FORK, 0) != NULL;
    const char *how = t->proc.fork_site || python ? "fork called at:" : "fork made inside libc (no call site recorded):";
    struct fsan_location *loc = site_location(c, f, t, FSAN_ROLE_FORK, t->proc.forking_tid, t->proc.fork_site, xstrdup(c, how));
    finish_location(c, loc, t, FSAN_PYREF_FORK, 0, 0);
}

/* ---- fingerprints and merging --------------------------------------------- */

static uint64_t hash_frame(uint64_t h, const struct fsan_frame *fr)
{
    char buf[64];
    /* A Python frame has no module or address to fall back on: its names
     * and line are its identity even when one of them is unknown. */
    int python = fr->language && strcmp(fr->language, "python") == 0;
    if (python || (fr->function && fr->file)) {
        h = fsan_fnv1a(fsan_fnv1a(h, fr->function), fr->file);
        snprintf(buf, sizeof buf, ":%d", fr->line);
    } else if (fr->module) {
        h = fsan_fnv1a(h, basename_of(fr->module));
        snprintf(buf, sizeof buf, "+%llx", (unsigned long long)fr->module_offset);
    } else {
        snprintf(buf, sizeof buf, "@%llx", (unsigned long long)fr->address);
    }
    return fsan_fnv1a(h, buf);
}

/* Rule + the innermost frame of every identifying location + thread names.
 * Returns the hash the fingerprint spells. */
static uint64_t fingerprint(struct fsan_finding *f)
{
    uint64_t h = fsan_fnv1a(FSAN_FNV_SEED, f->rule);
    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *loc = &f->locations[i];
        h = fsan_fnv1a(fsan_fnv1a(h, "|"), loc->role);
        if (strcmp(loc->role, fsan_role_name(FSAN_ROLE_THREAD)) == 0) {
            /* A vanished thread is the same thread in every child of a pool
             * whatever line it happened to be on at each fork: identify it
             * by name and by the outermost frame (where it started). */
            if (loc->thread_name)
                h = fsan_fnv1a(h, loc->thread_name);
            /* Where it started, not where it is now: the outermost
             * frame's line moves with the thread (a main thread's
             * <module> is at whatever line it had reached). */
            if (loc->nframes) {
                const struct fsan_frame *outer = &loc->frames[loc->nframes - 1];
                if (outer->function || outer->file)
                    h = fsan_fnv1a(fsan_fnv1a(h, outer->function), outer->file);
                else
                    h = hash_frame(h, outer);
            }
            continue;
        }
        if (loc->nframes)
            h = hash_frame(h, &loc->frames[0]);
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016llx", (unsigned long long)h);
    return h;
}

/* ---- committing ---- */

/* Counts the process (a life of the analysis, or a pid that wrote no
 * trace) once per finding: a pool's hundred thousand children make one
 * finding seen in a hundred thousand processes, so asking each pid list
 * whether it holds a pid would be quadratic. */
static void add_member(struct fsan_builder *c, size_t index, const struct fsan_trace *t, int pid)
{
    uint64_t who = t ? (uint64_t)t->life : (1ull << 31) | (uint32_t)pid;
    uint64_t key = (uint64_t)index << 32 | who;
    if (fsan_keymap_get(&c->members, key, NULL))
        return;
    struct fsan_finding *f = &c->r->findings[index];
    int *p = realloc(f->pids, (f->npids + 1) * sizeof *p);
    if (!p || fsan_keymap_put(&c->members, key, 1) < 0) {
        if (p)
            f->pids = p;
        c->oom = 1;
        return;
    }
    f->pids = p;
    f->pids[f->npids++] = pid;
    f->count = (unsigned)f->npids;
}

static struct fsan_finding *finding_by_hash(struct fsan_builder *c, uint64_t h)
{
    uint64_t index;
    return fsan_keymap_get(&c->findings, h, &index) ? &c->r->findings[index] : NULL;
}

void commit_finding_pid(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t, int pid)
{
    uint64_t h = fingerprint(f);
    struct fsan_report *r = c->r;
    struct fsan_finding *kept = finding_by_hash(c, h);
    if (kept) {
        if (f->severity > kept->severity) {
            /* The most severe instance speaks for the group: its message
             * and locations say why it is that severe. */
            int *pids = kept->pids;
            size_t npids = kept->npids;
            kept->pids = NULL;
            kept->npids = 0;
            fsan_finding_free(kept);
            *kept = *f;
            kept->pids = pids;
            kept->npids = npids;
            kept->count = (unsigned)npids;
        } else {
            fsan_finding_free(f);
        }
        add_member(c, (size_t)(kept - r->findings), t, pid);
        return;
    }
    if (r->nfindings == c->findings_cap) {
        size_t cap = c->findings_cap ? c->findings_cap * 2 : 16;
        struct fsan_finding *p = realloc(r->findings, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            fsan_finding_free(f);
            return;
        }
        r->findings = p;
        c->findings_cap = cap;
    }
    if (fsan_keymap_put(&c->findings, h, r->nfindings) < 0) {
        c->oom = 1;
        fsan_finding_free(f);
        return;
    }
    f->pids = NULL;
    f->npids = 0;
    r->findings[r->nfindings++] = *f;
    add_member(c, r->nfindings - 1, t, pid);
}

void commit_finding(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t)
{
    commit_finding_pid(c, f, t, (int)t->proc.pid);
}

void start_finding(struct fsan_finding *f, enum fsan_rule_index rule, enum fsan_severity sev, char *message)
{
    memset(f, 0, sizeof *f);
    f->rule = fsan_rule_info(rule)->id;
    f->severity = sev;
    f->message = message;
}

/* ---- facts about a child ------------------------------------------------------ */

int child_execed(const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    return t->later_image || (t->has_exec && t->exec_failed == 0);
}

char *thread_label(struct fsan_builder *c, const struct fsan_trace *t, uint32_t tid)
{
    const char *name = thread_name(t, tid);
    if (name)
        return xprintf(c, "thread %u \"%s\"", tid, name);
    return xprintf(c, "thread %u", tid);
}

/* ---- more locations ----------------------------------------------------------- */

void thread_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                     const struct fsan_rec_thread *th)
{
    char *start = NULL;
    if (th->start_routine) {
        struct fsan_frame fr;
        symbolize_frame(c, t, th->start_routine, 0, &fr);
        start = fr.function ? xstrdup(c, fr.function) : xprintf(c, "0x%llx", (unsigned long long)th->start_routine);
        fsan_frame_free(&fr);
    }
    /* A Python thread's stack at fork says what it was doing (and which
     * line of the program started it); the native start routine of every
     * Python thread is the interpreter's, so it is named only beside the
     * native frames. */
    int python = th->tid != 0 && python_stack(t, FSAN_PYREF_THREAD, th->tid) != NULL;
    char *desc = th->tid == 0 ? xprintf(c, "vanished thread, created but not yet running at fork, start routine %s, created at:", start ? start : "unknown")
               : python && !c->native_frames ? xprintf(c, "vanished thread %u, running at fork:", th->tid)
               : python ? xprintf(c, "vanished thread %u, start routine %s; running at fork (Python frames), created at (native frames):",
                                  th->tid, start ? start : "unknown")
               : start ? xprintf(c, "vanished thread %u, start routine %s, created at:", th->tid, start)
                       : xprintf(c, "vanished thread %u (not created through pthread_create; the main thread or a thread started before forksan)", th->tid);
    free(start);
    struct fsan_location *loc = site_location(c, f, t, FSAN_ROLE_THREAD, th->tid, th->create_site, desc);
    if (python)
        finish_location(c, loc, t, FSAN_PYREF_THREAD, th->tid, 0);
}

/* A location from a native site plus, when recorded, a Python stack. */
struct fsan_location *loop_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                                    enum fsan_role role, uint32_t tid, uint32_t site, uint32_t pysite,
                                    char *description)
{
    struct fsan_location *loc = site_location(c, f, t, role, tid, site, description);
    const struct fsan_trace_pysite *ps = pysite ? fsan_trace_pysite(t, pysite) : NULL;
    if (loc && ps)
        attach_python(c, loc, ps);
    return loc;
}

/* ---- processes ---------------------------------------------------------------- */

static const char *exit_how(uint32_t how)
{
    switch (how) {
    case FSAN_EXIT_EXIT: return "exit";
    case FSAN_EXIT__EXIT: return "_exit";
    case FSAN_EXIT_DESTRUCTOR: return "return";
    case FSAN_EXIT_STRICT: return "strict";
    }
    return "unknown";
}

/* "function file:line" (or module+offset) of a site's innermost frame. */
static char *site_summary(struct fsan_builder *c, const struct fsan_trace *t, uint32_t site_id)
{
    /* The process tree names the fork call by its innermost Python frame
     * when there is one: that is the line the programmer wrote. */
    const struct fsan_trace_pysite *ps = python_stack(t, FSAN_PYREF_FORK, 0);
    if (ps) {
        const struct fsan_trace_pyframe *pf = &ps->frames[0];
        return xprintf(c, "%s %s:%u", pf->function && pf->function[0] ? pf->function : "<unknown>",
                       pf->file && pf->file[0] ? pf->file : "<unknown>", pf->line);
    }
    struct fsan_location loc;
    memset(&loc, 0, sizeof loc);
    site_frames(c, t, site_id, &loc);
    char *text = NULL;
    if (loc.nframes) {
        const struct fsan_frame *f = &loc.frames[0];
        if (f->function && f->file)
            text = xprintf(c, "%s %s:%d", f->function, f->file, f->line);
        else if (f->module)
            text = xprintf(c, "%s+0x%llx", basename_of(f->module), (unsigned long long)f->module_offset);
        else
            text = xprintf(c, "0x%llx", (unsigned long long)f->address);
    }
    fsan_location_free(&loc);
    return text;
}

static int cmp_pid_key(const void *key, const void *elem)
{
    uint32_t pid = *(const uint32_t *)key, other = (*(const struct fsan_trace *const *)elem)->proc.pid;
    return (pid > other) - (pid < other);
}

const struct fsan_trace *const *traces_of_pid(const struct fsan_builder *c, uint32_t pid, size_t *n)
{
    *n = 0;
    const struct fsan_trace *const *hit = c->ntraces ? bsearch(&pid, c->by_pid, c->ntraces, sizeof *c->by_pid, cmp_pid_key) : NULL;
    if (!hit)
        return NULL;
    const struct fsan_trace *const *lo = hit, *const *hi = hit + 1;
    while (lo > c->by_pid && lo[-1]->proc.pid == pid)
        lo--;
    while (hi < c->by_pid + c->ntraces && (*hi)->proc.pid == pid)
        hi++;
    *n = (size_t)(hi - lo);
    return lo;
}

static void add_process(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    struct fsan_process *p = &c->r->processes[t->life];
    int first = p->pid == 0;
    p->pid = (int)t->proc.pid;
    if (!p->start_ns)
        p->start_ns = t->proc.time_ns;
    if (t->proc.kind == FSAN_PROC_FORK) {
        p->is_fork_child = 1;
        p->forked_by_tid = (int)t->proc.forking_tid;
        p->threads_at_fork = (int)t->nthreads;
        p->ppid = (int)t->proc.ppid;
        p->start_ns = t->proc.time_ns;
        if (!p->fork_site)
            p->fork_site = site_summary(c, t, t->proc.fork_site);
    } else if (first) {
        p->ppid = (int)t->proc.ppid;
    }
    if (t->exe && (t->proc.kind == FSAN_PROC_START || !p->exe)) {
        free(p->exe);
        p->exe = xstrdup(c, t->exe);
    }
    if (child_execed(set, t) || (t->proc.kind == FSAN_PROC_START && p->is_fork_child))
        p->execed = 1;
    if (t->has_exit) {
        p->exit.known = 1;
        p->exit.how = exit_how(t->exit.how);
        p->exit.status = t->exit.status;
    }
}

/* Marks how the processes with this pid ended, when their own traces do
 * not say: those whose parent is parent, or (a reaper that is not the
 * parent) every one of them. */
static void mark_killed(struct fsan_builder *c, uint32_t pid, uint32_t parent, int signo)
{
    size_t n;
    const struct fsan_trace *const *of_pid = traces_of_pid(c, pid, &n);
    int any_child = 0;
    for (size_t i = 0; i < n; i++)
        any_child |= c->r->processes[of_pid[i]->life].ppid == (int)parent;
    for (size_t i = 0; i < n; i++) {
        struct fsan_process *p = &c->r->processes[of_pid[i]->life];
        if (p->exit.known || (any_child && p->ppid != (int)parent))
            continue;
        p->exit.known = 1;
        p->exit.how = "signal";
        p->exit.status = signo;
    }
}

/* A child that a signal ended cannot say so; its parent, which reaped it,
 * or the process that killed it, can.  The child's own trace wins. */
static void signal_deaths(struct fsan_builder *c, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->nreaped; i++)
        mark_killed(c, t->reaped[i].pid, t->proc.pid, (int)t->reaped[i].signo);
    for (size_t i = 0; i < t->nsignals; i++)
        mark_killed(c, t->signals[i].rec.target, t->proc.pid, (int)t->signals[i].rec.signo);
}

void build_processes(struct fsan_builder *c, const struct fsan_trace_set *set)
{
    struct fsan_report *r = c->r;
    r->processes = calloc(c->nlives ? c->nlives : 1, sizeof *r->processes);
    if (!r->processes) {
        c->oom = 1;
        return;
    }
    r->nprocesses = c->nlives;
    for (size_t i = 0; i < set->ntraces; i++)
        add_process(c, set, &set->traces[i]);
    for (size_t i = 0; i < set->ntraces; i++)
        signal_deaths(c, &set->traces[i]);
}

/* The command that forksan run started, with the status forksan saw: it
 * writes a trace only when it has something to say, and waitpid knows
 * its end best.  It goes first when it wrote no trace. */
int fsan_processes_add_root(struct fsan_report *r, int pid, int ppid, const char *exe, int exit_status)
{
    if (pid <= 0)
        return 0;
    struct fsan_process *p = NULL;
    for (size_t i = 0; i < r->nprocesses; i++)
        if (r->processes[i].pid == pid)
            p = &r->processes[i];
    if (!p) {
        struct fsan_process *grown = realloc(r->processes, (r->nprocesses + 1) * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        r->processes = grown;
        memmove(grown + 1, grown, r->nprocesses * sizeof *grown);
        r->nprocesses++;
        p = &grown[0];
        memset(p, 0, sizeof *p);
        p->pid = pid;
        p->ppid = ppid;
        p->exe = strdup(exe);
        if (!p->exe)
            return -ENOMEM;
    }
    p->exit.known = 1;
    p->exit.how = exit_status > 128 && exit_status < 128 + 65 ? "signal" : "exit";
    p->exit.status = exit_status > 128 && exit_status < 128 + 65 ? exit_status - 128 : exit_status;
    return 0;
}

/* ---- order and pending severities ----------------------------------------------- */

static struct fsan_finding *finding_by_fingerprint(struct fsan_report *r, const char *fingerprint)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].fingerprint, fingerprint) == 0)
            return &r->findings[i];
    return NULL;
}

static struct fsan_downgrade *downgrade_of(struct fsan_report *r, const char *fingerprint)
{
    for (size_t i = 0; i < r->ndowngrades; i++)
        if (strcmp(r->downgrades[i].fingerprint, fingerprint) == 0)
            return &r->downgrades[i];
    return NULL;
}

static void drop_downgrade(struct fsan_report *r, struct fsan_downgrade *d)
{
    if (!d)
        return;
    free(d->unless);
    fsan_finding_free(&d->note);
    *d = r->downgrades[--r->ndowngrades];
}

/* Adds the fingerprints unless[0..n) to d->unless, each once. */
static void add_unless(struct fsan_builder *c, struct fsan_downgrade *d, char (*unless)[17], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t j = 0; j < d->nunless && !known; j++)
            known = strcmp(d->unless[j], unless[i]) == 0;
        if (known)
            continue;
        char (*grown)[17] = realloc(d->unless, (d->nunless + 1) * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            return;
        }
        d->unless = grown;
        memcpy(d->unless[d->nunless++], unless[i], sizeof *grown);
    }
}

/* commit_finding for a finding that has its severity only while one of the
 * findings unless[0..nunless) is still reported (none: unconditionally);
 * without them it becomes a note saying note_message (taken over).  A
 * group of merged findings keeps its severity when any member keeps it:
 * an unconditional member makes the whole group unconditional, and the
 * conditions of members of the same severity add up.  A group that falls
 * back to a note is what its first member says as a note, as if no member
 * had been more severe. */
void commit_downgradable(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                         char (*unless)[17], size_t nunless, char *note_message)
{
    struct fsan_report *r = c->r;
    struct fsan_finding *kept = finding_by_hash(c, fingerprint(f));
    struct fsan_downgrade *d = downgrade_of(r, f->fingerprint);
    if (!kept || f->severity > kept->severity) {
        /* f will speak for the group, with its own condition. */
        drop_downgrade(r, d);
        struct fsan_downgrade *grown = nunless ? realloc(r->downgrades, (r->ndowngrades + 1) * sizeof *grown) : NULL;
        if (grown) {
            r->downgrades = grown;
            d = &grown[r->ndowngrades++];
            memset(d, 0, sizeof *d);
            memcpy(d->fingerprint, f->fingerprint, sizeof d->fingerprint);
            d->note.severity = FSAN_SEV_NOTE;
            if (kept) {
                /* The group's first member was a note: as a note, the
                 * group is what that member says.  commit_finding frees
                 * what is left of it. */
                d->note.message = kept->message;
                d->note.locations = kept->locations;
                d->note.nlocations = kept->nlocations;
                kept->message = NULL;
                kept->locations = NULL;
                kept->nlocations = 0;
            } else {
                d->note.message = note_message;
                note_message = NULL;
            }
            add_unless(c, d, unless, nunless);
        } else if (nunless) {
            c->oom = 1;
        }
    } else if (f->severity == kept->severity && d) {
        if (nunless)
            add_unless(c, d, unless, nunless);
        else
            drop_downgrade(r, d);
    }
    free(note_message);
    commit_finding(c, f, t);
}

int fsan_apply_downgrades(struct fsan_report *r)
{
    for (size_t i = 0; i < r->ndowngrades; i++) {
        struct fsan_downgrade *d = &r->downgrades[i];
        struct fsan_finding *f = finding_by_fingerprint(r, d->fingerprint);
        int keep = f == NULL;
        for (size_t j = 0; j < d->nunless && !keep; j++)
            keep = finding_by_fingerprint(r, d->unless[j]) != NULL;
        if (keep)
            continue;
        f->severity = d->note.severity;
        free(f->message);
        f->message = d->note.message;
        d->note.message = NULL;
        if (d->note.nlocations) {
            for (size_t j = 0; j < f->nlocations; j++)
                fsan_location_free(&f->locations[j]);
            free(f->locations);
            f->locations = d->note.locations;
            f->nlocations = d->note.nlocations;
            d->note.locations = NULL;
            d->note.nlocations = 0;
        }
        /* Only its severity fell: move it later, past what now sorts
         * before it, and leave every other finding where it was. */
        size_t at = (size_t)(f - r->findings);
        while (at + 1 < r->nfindings && fsan_finding_cmp(&r->findings[at], &r->findings[at + 1]) > 0) {
            struct fsan_finding tmp = r->findings[at];
            r->findings[at] = r->findings[at + 1];
            r->findings[at + 1] = tmp;
            at++;
        }
    }
    return 0;
}

const struct fsan_frame_glob *fsan_frame_glob_find(const struct fsan_frame_glob *table, size_t n,
                                                   const char *function, const char *file)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(table[i].function, function, 0) == 0 && fnmatch(table[i].file, file, 0) == 0)
            return &table[i];
    return NULL;
}

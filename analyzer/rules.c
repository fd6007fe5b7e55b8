/* rules.c — the rules that the trace of a fork child decides:
 * child-deadlock, orphaned-lock, inherited-held-lock, threads-at-fork; and
 * the process tree.
 *
 * DESIGN
 * The runtime records facts (the fork snapshot, what the child did with the
 * locks it inherited, a deadlock it caught before blocking); the verdicts
 * are made here, offline, where a mistake costs nothing at run time and the
 * rules can be tested on synthetic traces.  Precision first: a lock the
 * child released, re-initialised or destroyed is not reported, a child that
 * execs leaves its inherited locks behind, a process-shared lock is never
 * orphaned (another process can release it), and a latent finding about a
 * lock is dropped when the same lock already produced a child-deadlock in
 * that child.  threads-at-fork is a warning only when a vanished thread left
 * a lock behind: a multi-threaded fork whose threads held nothing (the
 * pthread_atfork idiom makes exactly that true) is a note, so that an
 * atfork-protected program produces nothing above note.
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

#include "analyze.h"

struct ctx {
    struct fsan_symbolizer *sym;
    struct fsan_report *r;
    size_t findings_cap;
    int oom;
    int native_frames;          /* fsan_analyze_options.native_frames */
    const struct fsan_analyze_options *opts;
    const char **py_reasons;    /* PYINFO reasons already noticed (the traces' strings) */
    size_t npy_reasons;
};

static char *xstrdup(struct ctx *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        c->oom = 1;
    return d;
}

static char *xvprintf(struct ctx *c, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
        c->oom = 1;
    }
    return s;
}

static char *xprintf(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(c, fmt, ap);
    va_end(ap);
    return s;
}

static const char *basename_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

static int is_runtime_module(const char *module)
{
    const char *b = basename_of(module);
    return b && strncmp(b, "libforksan", 10) == 0;
}

static void symbolize_frame(struct ctx *c, const struct fsan_trace *t, uint64_t addr, int is_ret,
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

static void free_frame(struct fsan_frame *f)
{
    free(f->function);
    free(f->file);
    free(f->module);
}

/* The frames of a site, runtime frames trimmed so #0 is the caller of the
 * intercepted function. */
static void site_frames(struct ctx *c, const struct fsan_trace *t, uint32_t site_id, struct fsan_location *loc)
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
            free_frame(f);
            continue;
        }
        loc->nframes++;
    }
}

static const struct fsan_rec_thread *thread_by_tid(const struct fsan_trace *t, uint32_t tid)
{
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].tid == tid)
            return &t->threads[i];
    return NULL;
}

/* The name users know a thread by: the Python name of a THREAD PYREF when
 * there is one (threading.Thread.name, e.g. "lock-holder"), else the
 * native name. */
static const char *thread_name(const struct fsan_trace *t, uint32_t tid)
{
    const struct fsan_trace_pyref *r = fsan_trace_pyref(t, FSAN_PYREF_THREAD, tid);
    if (r && r->name[0])
        return r->name;
    const struct fsan_rec_thread *th = thread_by_tid(t, tid);
    return th && th->name[0] ? th->name : NULL;
}

/* The Python stack a PYREF attaches to (what, key), or NULL when there is
 * none or it has no frames. */
static const struct fsan_trace_pysite *python_stack(const struct fsan_trace *t, uint32_t what, uint64_t key)
{
    const struct fsan_trace_pyref *r = fsan_trace_pyref(t, what, key);
    const struct fsan_trace_pysite *ps = r ? fsan_trace_pysite(t, r->pysite) : NULL;
    return ps && ps->nframes ? ps : NULL;
}

static char *nonempty_dup(struct ctx *c, const char *s)
{
    return s && *s ? xstrdup(c, s) : NULL;
}

static struct fsan_location *add_location(struct ctx *c, struct fsan_finding *f, const char *role)
{
    struct fsan_location *p = realloc(f->locations, (f->nlocations + 1) * sizeof *p);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    f->locations = p;
    struct fsan_location *loc = &p[f->nlocations++];
    memset(loc, 0, sizeof *loc);
    loc->role = role;
    return loc;
}

static void set_thread(struct ctx *c, struct fsan_location *loc, const struct fsan_trace *t, uint32_t tid)
{
    if (!loc || tid == 0)
        return;
    loc->has_thread = 1;
    loc->tid = (int)tid;
    loc->thread_name = xstrdup(c, thread_name(t, tid));
}

static struct fsan_location *site_location(struct ctx *c, struct fsan_finding *f, const struct fsan_trace *t,
                                           const char *role, uint32_t tid, uint32_t site, char *description)
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
static void trim_shared(struct ctx *c, struct fsan_location *loc)
{
    if (!loc || loc->nframes <= 1)
        return;
    for (size_t i = 1; i < loc->nframes; i++)
        free_frame(&loc->frames[i]);
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
static void attach_python(struct ctx *c, struct fsan_location *loc, const struct fsan_trace_pysite *ps)
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
        free_frame(&loc->frames[i]);
    free(loc->frames);
    loc->frames = frames;
    loc->nframes = ps->nframes + keep;
}

/* The last step of every location that can have Python frames: the
 * shared-site trim (which concerns the native stack only, so it is skipped
 * when that stack is not shown) and the Python frames of (what, key). */
static void finish_location(struct ctx *c, struct fsan_location *loc, const struct fsan_trace *t,
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

static void fork_location(struct ctx *c, struct fsan_finding *f, const struct fsan_trace *t)
{
    /* os.fork() has a Python call site even when the native one is libc's. */
    int python = python_stack(t, FSAN_PYREF_FORK, 0) != NULL;
    const char *how = t->proc.fork_site || python ? "fork called at:" : "fork made inside libc (no call site recorded):";
    struct fsan_location *loc = site_location(c, f, t, "fork", t->proc.forking_tid, t->proc.fork_site, xstrdup(c, how));
    finish_location(c, loc, t, FSAN_PYREF_FORK, 0, 0);
}

static void free_location(struct fsan_location *loc)
{
    for (size_t i = 0; i < loc->nframes; i++)
        free_frame(&loc->frames[i]);
    free(loc->frames);
    free(loc->thread_name);
    free(loc->description);
}

static void free_finding(struct fsan_finding *f)
{
    for (size_t i = 0; i < f->nlocations; i++)
        free_location(&f->locations[i]);
    free(f->locations);
    free(f->message);
    free(f->pids);
}

/* ---- fingerprints and merging --------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t hash_frame(uint64_t h, const struct fsan_frame *fr)
{
    char buf[64];
    /* A Python frame has no module or address to fall back on: its names
     * and line are its identity even when one of them is unknown. */
    int python = fr->language && strcmp(fr->language, "python") == 0;
    if (python || (fr->function && fr->file)) {
        h = fnv1a(fnv1a(h, fr->function), fr->file);
        snprintf(buf, sizeof buf, ":%d", fr->line);
    } else if (fr->module) {
        h = fnv1a(h, basename_of(fr->module));
        snprintf(buf, sizeof buf, "+%llx", (unsigned long long)fr->module_offset);
    } else {
        snprintf(buf, sizeof buf, "@%llx", (unsigned long long)fr->address);
    }
    return fnv1a(h, buf);
}

/* Rule + the innermost frame of every identifying location + thread names. */
static void fingerprint(struct fsan_finding *f)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, f->rule);
    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *loc = &f->locations[i];
        h = fnv1a(fnv1a(h, "|"), loc->role);
        if (strcmp(loc->role, "thread") == 0) {
            /* A vanished thread is the same thread in every child of a pool
             * whatever line it happened to be on at each fork: identify it
             * by name and by the outermost frame (where it started). */
            if (loc->thread_name)
                h = fnv1a(h, loc->thread_name);
            /* Where it started, not where it is now: the outermost
             * frame's line moves with the thread (a main thread's
             * <module> is at whatever line it had reached). */
            if (loc->nframes) {
                const struct fsan_frame *outer = &loc->frames[loc->nframes - 1];
                if (outer->function || outer->file)
                    h = fnv1a(fnv1a(h, outer->function), outer->file);
                else
                    h = hash_frame(h, outer);
            }
            continue;
        }
        if (loc->nframes)
            h = hash_frame(h, &loc->frames[0]);
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016llx", (unsigned long long)h);
}

static int add_pid(struct fsan_finding *f, int pid)
{
    for (size_t i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return 0;
    int *p = realloc(f->pids, (f->npids + 1) * sizeof *p);
    if (!p)
        return -ENOMEM;
    f->pids = p;
    f->pids[f->npids++] = pid;
    f->count = (unsigned)f->npids;
    return 0;
}

static void commit_finding(struct ctx *c, struct fsan_finding *f, int pid)
{
    fingerprint(f);
    struct fsan_report *r = c->r;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (strcmp(r->findings[i].fingerprint, f->fingerprint) == 0) {
            struct fsan_finding *kept = &r->findings[i];
            if (f->severity > kept->severity) {
                /* The most severe instance speaks for the group: its
                 * message and locations say why it is that severe. */
                int *pids = kept->pids;
                size_t npids = kept->npids;
                kept->pids = NULL;
                kept->npids = 0;
                free_finding(kept);
                *kept = *f;
                kept->pids = pids;
                kept->npids = npids;
                kept->count = (unsigned)npids;
                f = NULL;
            }
            if (add_pid(kept, pid) < 0)
                c->oom = 1;
            if (f)
                free_finding(f);
            return;
        }
    }
    if (r->nfindings == c->findings_cap) {
        size_t cap = c->findings_cap ? c->findings_cap * 2 : 16;
        struct fsan_finding *p = realloc(r->findings, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            free_finding(f);
            return;
        }
        r->findings = p;
        c->findings_cap = cap;
    }
    if (add_pid(f, pid) < 0)
        c->oom = 1;
    r->findings[r->nfindings++] = *f;
}

static void start_finding(struct fsan_finding *f, const char *rule, enum fsan_severity sev, char *message)
{
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = sev;
    f->message = message;
}

/* ---- facts about a child ----------------------------------------------------- */

static const char *lock_noun(uint16_t type)
{
    switch (type) {
    case FSAN_LOCK_MUTEX: return "mutex";
    case FSAN_LOCK_RWLOCK: return "rwlock";
    case FSAN_LOCK_SEM: return "semaphore";
    }
    return "lock";
}

static const char *mutex_kind_word(uint16_t type, uint32_t kind)
{
    if (type != FSAN_LOCK_MUTEX)
        return "";
    switch (kind & FSAN_KIND_TYPE_MASK) {
    case FSAN_KIND_RECURSIVE: return "recursive ";
    case FSAN_KIND_ERRORCHECK: return "error-checking ";
    }
    return "";
}

/* The child dealt with the lock: released, re-initialised or destroyed it. */
static int child_cleared(const struct fsan_trace *t, uint64_t addr)
{
    for (size_t i = 0; i < t->nlock_events; i++)
        if (t->lock_events[i].ev.lock_addr == addr)
            return 1;
    return 0;
}

static int child_deadlocked_on(const struct fsan_trace *t, uint64_t addr)
{
    for (size_t i = 0; i < t->ndeadlocks; i++)
        if (t->deadlocks[i].lock_addr == addr)
            return 1;
    return 0;
}

/* The image with this pid that came after t (an exec), if any. */
static int has_later_image(const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    for (size_t i = 0; i < set->ntraces; i++) {
        const struct fsan_trace *o = &set->traces[i];
        if (o != t && o->proc.pid == t->proc.pid && o->proc.kind == FSAN_PROC_START &&
            o->proc.time_ns >= t->proc.time_ns)
            return 1;
    }
    return 0;
}

static int child_execed(const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    return has_later_image(set, t) || (t->has_exec && t->exec_failed == 0);
}

static char *thread_label(struct ctx *c, const struct fsan_trace *t, uint32_t tid)
{
    const char *name = thread_name(t, tid);
    if (name)
        return xprintf(c, "thread %u \"%s\"", tid, name);
    return xprintf(c, "thread %u", tid);
}

/* ---- the rules ------------------------------------------------------------- */

static void rule_child_deadlock(struct ctx *c, const struct fsan_trace *t, const struct fsan_rec_deadlock *d)
{
    struct fsan_finding f;
    char *holder = d->holder_tid ? thread_label(c, t, d->holder_tid) : NULL;
    char *msg;
    const char *noun = lock_noun(d->lock_type);
    const char *kw = mutex_kind_word(d->lock_type, d->kind);
    switch (d->form) {
    case FSAN_DL_VANISHED_HOLDER:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: it was held at fork by %s, which does not exist in the child",
                      kw, noun, (unsigned long long)d->lock_addr, holder ? holder : "another thread");
        break;
    case FSAN_DL_FORKER_REACQUIRE:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: the forking thread held it at fork and the child takes it again",
                      kw, noun, (unsigned long long)d->lock_addr);
        break;
    default:
        msg = xprintf(c, "forked child blocks forever on %s%s 0x%llx: its owner, thread %u, does not exist in the child, so nobody can release it",
                      kw, noun, (unsigned long long)d->lock_addr, d->holder_tid);
        break;
    }
    start_finding(&f, "child-deadlock", FSAN_SEV_ERROR, msg);
    struct fsan_location *attempt = site_location(c, &f, t, "attempt", d->tid, d->attempt_site,
                                                  xprintf(c, "the child tries to take the %s at:", noun));
    finish_location(c, attempt, t, FSAN_PYREF_ATTEMPT, d->lock_addr, (d->flags & FSAN_DLF_ATTEMPT_SITE_SHARED) != 0);
    if (d->acquire_site || (d->holder_tid && d->form != FSAN_DL_OWNER_GONE)) {
        char *desc = d->form == FSAN_DL_VANISHED_HOLDER
                         ? xprintf(c, "held at fork by %s (vanished in the child), acquired at:", holder ? holder : "a thread")
                         : xprintf(c, "held at fork by the forking thread, acquired at:");
        struct fsan_location *loc = site_location(c, &f, t, "acquired", d->holder_tid, d->acquire_site, desc);
        if (loc && d->form == FSAN_DL_FORKER_REACQUIRE)
            set_thread(c, loc, t, 0);
        /* Where the holder took this lock: the snapshot's HELD of it. */
        finish_location(c, loc, t, FSAN_PYREF_HELD, d->lock_addr, (d->flags & FSAN_DLF_ACQUIRE_SITE_SHARED) != 0);
    }
    fork_location(c, &f, t);
    free(holder);
    commit_finding(c, &f, (int)t->proc.pid);
}

/* ---- locks a runtime abandons in the child -------------------------------- */

struct runtime_lock {
    const char *function;
    const char *file;
    const char *what;
};
#define FSAN_RUNTIME_LOCK(fn, file, what) {fn, file, what},
static const struct runtime_lock runtime_locks[] = {
#include "runtimelocks.def"
};
#undef FSAN_RUNTIME_LOCK

/* Was the lock taken where a language runtime takes a lock it replaces in
 * the child (runtimelocks.def, by the innermost Python frame only)? */
static int runtime_abandons(const struct fsan_trace *t, uint64_t addr)
{
    const struct fsan_trace_pysite *ps = python_stack(t, FSAN_PYREF_HELD, addr);
    if (!ps || !ps->frames[0].function || !ps->frames[0].file)
        return 0;
    for (size_t i = 0; i < sizeof runtime_locks / sizeof runtime_locks[0]; i++)
        if (fnmatch(runtime_locks[i].function, ps->frames[0].function, 0) == 0 &&
            fnmatch(runtime_locks[i].file, ps->frames[0].file, 0) == 0)
            return 1;
    return 0;
}

static void rule_held(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t,
                      const struct fsan_rec_held *h, int *vanished_left_lock)
{
    if ((h->kind & FSAN_KIND_PSHARED) || (h->flags & (FSAN_HELD_SELF_WAIT | FSAN_HELD_FORK_CALL | FSAN_HELD_AVAILABLE)) ||
        runtime_abandons(t, h->lock_addr) || child_cleared(t, h->lock_addr) ||
        child_deadlocked_on(t, h->lock_addr) || child_execed(set, t))
        return;
    const struct fsan_rec_thread *holder = thread_by_tid(t, h->holder_tid);
    int by_forker = holder && (holder->flags & FSAN_THREAD_FORKER);
    const char *noun = lock_noun(h->lock_type);
    const char *kw = mutex_kind_word(h->lock_type, h->kind);
    struct fsan_finding f;
    if (by_forker) {
        start_finding(&f, "inherited-held-lock", FSAN_SEV_NOTE,
                      xprintf(c, "%s%s 0x%llx was held by the forking thread at fork and is still held in the child (%s)",
                              kw, noun, (unsigned long long)h->lock_addr,
                              /* A mutex records its owner by tid, which the child's
                               * thread no longer has; a semaphore records none, and a
                               * recursive lock built on one (CPython's RLock) still
                               * belongs to the thread that forked. */
                              h->lock_type == FSAN_LOCK_SEM
                                  ? "a plain lock taken again there deadlocks; a recursive one the thread owns, such as CPython's RLock, does not"
                                  : "taking it again there deadlocks"));
        struct fsan_location *loc = site_location(c, &f, t, "acquired", h->holder_tid, h->acquire_site,
                                                  xprintf(c, "acquired by the forking thread at:"));
        finish_location(c, loc, t, FSAN_PYREF_HELD, h->lock_addr, (h->flags & FSAN_HELD_SITE_SHARED) != 0);
    } else {
        char *label = thread_label(c, t, h->holder_tid);
        /* Readers still get into a read-held rwlock; a writer waits for
         * the vanished reader forever. */
        int read_held = h->lock_type == FSAN_LOCK_RWLOCK && h->mode == FSAN_MODE_READ;
        start_finding(&f, "orphaned-lock", FSAN_SEV_WARNING,
                      xprintf(c, "%s%s 0x%llx was held at fork by %s, which does not exist in the child; the child never re-initialised it, so the first attempt to take it %sthere hangs",
                              kw, noun, (unsigned long long)h->lock_addr, label ? label : "a thread",
                              read_held ? "for writing " : ""));
        struct fsan_location *loc = site_location(c, &f, t, "acquired", h->holder_tid, h->acquire_site,
                                                  xprintf(c, "acquired by %s at:", label ? label : "the vanished thread"));
        finish_location(c, loc, t, FSAN_PYREF_HELD, h->lock_addr, (h->flags & FSAN_HELD_SITE_SHARED) != 0);
        free(label);
    }
    fork_location(c, &f, t);
    if (!by_forker && !(c->opts && c->opts->is_suppressed && c->opts->is_suppressed(c->opts->suppress_ctx, &f)))
        *vanished_left_lock = 1;
    commit_finding(c, &f, (int)t->proc.pid);
}

static void thread_location(struct ctx *c, struct fsan_finding *f, const struct fsan_trace *t,
                            const struct fsan_rec_thread *th)
{
    char *start = NULL;
    if (th->start_routine) {
        struct fsan_frame fr;
        symbolize_frame(c, t, th->start_routine, 0, &fr);
        start = fr.function ? xstrdup(c, fr.function) : xprintf(c, "0x%llx", (unsigned long long)th->start_routine);
        free_frame(&fr);
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
    struct fsan_location *loc = site_location(c, f, t, "thread", th->tid, th->create_site, desc);
    if (python)
        finish_location(c, loc, t, FSAN_PYREF_THREAD, th->tid, 0);
}

static void rule_threads_at_fork(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t,
                                 int vanished_left_lock)
{
    size_t vanished = 0;
    for (size_t i = 0; i < t->nthreads; i++)
        vanished += (t->threads[i].flags & FSAN_THREAD_VANISHED) != 0;
    if (vanished == 0)
        return;
    /* Fork-then-exec is the safe pattern: the vanished threads matter only
     * until the exec, and what the child may call until then is the
     * business of a linter, not of this run. */
    if (child_execed(set, t))
        return;
    enum fsan_severity sev = vanished_left_lock ? FSAN_SEV_WARNING : FSAN_SEV_NOTE;
    /* Say what was observed, no more: forksan sees pthread locks and
     * semaphores, not locks built directly on futexes. */
    const char *why = vanished_left_lock ? "; at least one of them left a lock held that the child never released"
                                         : "; none of them left a lock held that the child could still take (forksan sees pthread locks and semaphores, not locks built directly on futexes)";
    struct fsan_finding f;
    start_finding(&f, "threads-at-fork", sev,
                  xprintf(c, "%zu other thread%s alive at fork and vanished in the child%s", vanished,
                          vanished == 1 ? " was" : "s were", why));
    fork_location(c, &f, t);
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].flags & FSAN_THREAD_VANISHED)
            thread_location(c, &f, t, &t->threads[i]);
    commit_finding(c, &f, (int)t->proc.pid);
}

/* ---- event loops -------------------------------------------------------------- */

/* A location from a native site plus, when recorded, a Python stack. */
static struct fsan_location *loop_location(struct ctx *c, struct fsan_finding *f, const struct fsan_trace *t,
                                           const char *role, uint32_t tid, uint32_t site, uint32_t pysite,
                                           char *description)
{
    struct fsan_location *loc = site_location(c, f, t, role, tid, site, description);
    const struct fsan_trace_pysite *ps = pysite ? fsan_trace_pysite(t, pysite) : NULL;
    if (loc && ps)
        attach_python(c, loc, ps);
    return loc;
}

static const struct fsan_rec_loop_use *first_use(const struct fsan_trace *t, int32_t epfd, uint32_t kind)
{
    for (size_t i = 0; i < t->nloop_uses; i++)
        if (t->loop_uses[i].epfd == epfd && t->loop_uses[i].kind == kind)
            return &t->loop_uses[i];
    return NULL;
}

static void loop_common_locations(struct ctx *c, struct fsan_finding *f, const struct fsan_trace *t,
                                  const struct fsan_trace_loop *l)
{
    char *creator = thread_label(c, t, l->rec.creator_tid);
    loop_location(c, f, t, "created", l->rec.creator_tid, l->rec.create_site, l->rec.create_pysite,
                  xprintf(c, "the epoll instance (fd %d) was created by %s at:", l->rec.epfd, creator ? creator : "a thread"));
    free(creator);
    if (l->rec.flags & FSAN_LOOP_DRIVER_VANISHED) {
        const struct fsan_rec_thread *th = thread_by_tid(t, l->rec.driver_tid);
        if (th)
            thread_location(c, f, t, th);
    }
    fork_location(c, f, t);
}

static const char *use_words(uint32_t kind)
{
    switch (kind) {
    case FSAN_LOOPUSE_CTL: return "changes the parent's interest list (epoll_ctl) at:";
    case FSAN_LOOPUSE_WAIT: return "waits on the parent's epoll instance at:";
    default: return "wakes the loop (writes to its wake-up descriptor) at:";
    }
}

static void rule_loops(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (child_execed(set, t))
        return;
    for (size_t i = 0; i < t->nloops; i++) {
        const struct fsan_trace_loop *l = &t->loops[i];
        int stranded = (l->rec.flags & FSAN_LOOP_DRIVER_VANISHED) != 0;
        const struct fsan_rec_loop_use *uses[] = {first_use(t, l->rec.epfd, FSAN_LOOPUSE_CTL),
                                                  first_use(t, l->rec.epfd, FSAN_LOOPUSE_WAIT),
                                                  first_use(t, l->rec.epfd, FSAN_LOOPUSE_WAKE)};
        for (int k = 0; k < 2; k++) { /* shared-loop: the kernel object is the parent's */
            if (!uses[k])
                continue;
            struct fsan_finding f;
            start_finding(&f, "shared-loop", FSAN_SEV_ERROR,
                          xprintf(c, "the forked child %s epoll instance fd %d, which is the parent's own kernel object: %s",
                                  k == 0 ? "edits the interest list of" : "waits on", l->rec.epfd,
                                  k == 0 ? "the parent's loop now watches (or stops watching) what the child says"
                                         : "the child steals events meant for the parent"));
            loop_location(c, &f, t, "use", uses[k]->tid, uses[k]->site, uses[k]->pysite,
                          xprintf(c, "the child %s", use_words(uses[k]->kind)));
            loop_common_locations(c, &f, t, l);
            commit_finding(c, &f, (int)t->proc.pid);
        }
        if (!stranded)
            continue;
        const struct fsan_rec_loop_use *use = uses[2] ? uses[2] : uses[1];
        /* A loop the child never wakes or waits on costs it nothing: the
         * child that builds its own loop (closing the old one or not) is
         * the correct pattern, and threads-at-fork already names the
         * vanished driver. */
        if (!use)
            continue;
        struct fsan_finding f;
        char *driver = thread_label(c, t, l->rec.driver_tid);
        start_finding(&f, "stranded-loop", FSAN_SEV_ERROR,
                      xprintf(c, "the forked child %s the event loop on epoll fd %d, whose driving %s does not exist in the child: nobody will ever run what it asks",
                              use->kind == FSAN_LOOPUSE_WAKE ? "wakes" : "waits on", l->rec.epfd, driver ? driver : "thread"));
        free(driver);
        loop_location(c, &f, t, "use", use->tid, use->site, use->pysite, xprintf(c, "the child %s", use_words(use->kind)));
        loop_common_locations(c, &f, t, l);
        commit_finding(c, &f, (int)t->proc.pid);
    }
}

/* ---- buffers and exit handlers ------------------------------------------------------ */

/* An exit handler's name: its Python name, or its symbol (or address);
 * NULL when neither is known. */
static char *handler_name(struct ctx *c, const struct fsan_trace *t, uint64_t addr, const char *pyname)
{
    if (pyname)
        return xstrdup(c, pyname);
    if (!addr)
        return NULL;
    struct fsan_frame fr;
    symbolize_frame(c, t, addr, 0, &fr);
    char *name = fr.function ? xstrdup(c, fr.function) : xprintf(c, "0x%llx", (unsigned long long)addr);
    free_frame(&fr);
    return name;
}

/* Appends "; " and the formatted text to *out. */
static void append_clause(struct ctx *c, char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *clause = xvprintf(c, fmt, ap);
    va_end(ap);
    char *joined = xprintf(c, "%s; %s", *out ? *out : "", clause ? clause : "");
    free(clause);
    free(*out);
    *out = joined;
}

/* "; N exit handlers it registered after the fork never run (first: F)". */
static void append_handlers(struct ctx *c, char **out, uint32_t n, const char *kind, const char *first)
{
    if (n)
        append_clause(c, out, "%u %s handler%s it registered after the fork never run%s%s%s%s", n, kind,
                      n == 1 ? "" : "s", n == 1 ? "s" : "", first ? " (first: " : "", first ? first : "",
                      first ? ")" : "");
}

/* Exit handlers whose skipping loses nothing (atexit.def). */
#define FSAN_HARMLESS_ATEXIT(name, why) name,
static const char *const harmless_atexit[] = {
#include "atexit.def"
};
#undef FSAN_HARMLESS_ATEXIT

/* The handlers a child's end skips, once the harmless one is left out
 * when it is the only one. */
static uint32_t handlers_lost(uint32_t count, const char *first)
{
    if (count != 1 || !first)
        return count;
    for (size_t i = 0; i < sizeof harmless_atexit / sizeof harmless_atexit[0]; i++)
        if (strcmp(first, harmless_atexit[i]) == 0)
            return 0;
    return count;
}

/* The same for C exit handlers, known by the address of the first. */
static uint32_t c_handlers_lost(struct ctx *c, const struct fsan_trace *t, uint32_t count, uint64_t first)
{
    char *name = count == 1 ? handler_name(c, t, first, NULL) : NULL;
    uint32_t lost = handlers_lost(count, name);
    free(name);
    return lost;
}

/* What a child ending without its exit path loses, as "; A; B; C". */
static char *losses_text(struct ctx *c, const struct fsan_trace *t, uint32_t handlers, uint64_t handler_addr,
                         uint32_t py_handlers, const char *py_name, uint64_t pending, int fd)
{
    char *out = xstrdup(c, "");
    char *handler = handlers ? handler_name(c, t, handler_addr, NULL) : NULL;
    append_handlers(c, &out, handlers, "exit", handler);
    free(handler);
    append_handlers(c, &out, py_handlers, "Python atexit", py_name);
    if (pending && fd >= 0)
        append_clause(c, &out, "%llu byte%s it buffered after the fork on fd %d are never written",
                      (unsigned long long)pending, pending == 1 ? "" : "s", fd);
    else if (pending)
        append_clause(c, &out, "%llu byte%s it buffered after the fork are never written",
                      (unsigned long long)pending, pending == 1 ? "" : "s");
    return out;
}

static void rule_cleanups(struct ctx *c, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->ncleanups; i++) {
        const struct fsan_rec_cleanup *r = &t->cleanups[i].rec;
        struct fsan_finding f;
        if (r->kind == FSAN_CLEANUP_STDIO_DUP) {
            start_finding(&f, "stdio-duplicate", FSAN_SEV_WARNING,
                          xprintf(c, "the forked child writes %llu byte%s that were still buffered (unflushed) on fd %d when the parent forked: the parent writes them too, so they appear twice",
                                  (unsigned long long)r->bytes, r->bytes == 1 ? "" : "s", r->fd));
            loop_location(c, &f, t, "exit", 0, r->site, r->pysite, xprintf(c, "the child flushes them (fflush, fclose or exit) at:"));
        } else if (r->kind == FSAN_CLEANUP_DUP_HANDLERS) {
            char *handler = handler_name(c, t, r->handler, NULL);
            char *did = r->py_count == FSAN_EFFECT_REMOVE
                            ? xprintf(c, "removes '%s'", t->cleanups[i].name ? t->cleanups[i].name : "a file")
                            : xprintf(c, "writes %llu byte%s to fd %d, which the child shares with its parent",
                                      (unsigned long long)r->bytes, r->bytes == 1 ? "" : "s", r->fd);
            start_finding(&f, "duplicated-cleanup", FSAN_SEV_WARNING,
                          xprintf(c, "the forked child runs an exit handler its parent registered, %s, and it %s: the parent's cleanup happens twice",
                                  handler ? handler : "(unknown)", did));
            free(did);
            free(handler);
            loop_location(c, &f, t, "exit", 0, r->site, r->pysite,
                          xprintf(c, r->site || r->pysite ? "the child calls exit() at:" : "the child ends (exit handlers run) at:"));
        } else if (r->kind == FSAN_CLEANUP_COW) {
            int python = t->has_pyinfo && t->py_state == FSAN_PY_ACTIVE;
            start_finding(&f, "cow-amplification", FSAN_SEV_NOTE,
                          xprintf(c, "the forked child ended with %.1f MiB of private dirty memory, %u%% of what it could share with its parent: copy-on-write copied most of what it inherited%s",
                                  (double)r->bytes / (1024.0 * 1024.0), r->count,
                                  python ? " (in CPython, merely reading objects writes their reference counts)" : ""));
            loop_location(c, &f, t, "exit", 0, r->site, r->pysite, xprintf(c, "measured when the child ended, at:"));
        } else {
            uint32_t py_lost = handlers_lost(r->py_count, t->cleanups[i].name);
            uint32_t c_lost = c_handlers_lost(c, t, r->count, r->handler);
            if (!c_lost && !py_lost && !r->bytes)
                continue; /* only handlers whose skipping loses nothing */
            char *lost = losses_text(c, t, c_lost, r->handler, py_lost, t->cleanups[i].name, r->bytes, r->fd);
            start_finding(&f, "skipped-cleanup", FSAN_SEV_WARNING,
                          xprintf(c, "the forked child ends with _exit(), which flushes nothing and runs no handler%s", lost));
            free(lost);
            loop_location(c, &f, t, "exit", 0, r->site, r->pysite, xprintf(c, "the child calls _exit() at:"));
        }
        fork_location(c, &f, t);
        commit_finding(c, &f, (int)t->proc.pid);
    }
}

/* The trace of fork child pid (its last image), NULL when it wrote none. */
static const struct fsan_trace *child_trace(const struct fsan_trace_set *set, uint32_t pid)
{
    const struct fsan_trace *found = NULL;
    for (size_t i = 0; i < set->ntraces; i++)
        if (set->traces[i].proc.pid == pid && set->traces[i].proc.kind == FSAN_PROC_FORK)
            found = &set->traces[i];
    return found;
}

/* Python's own library: the interpreter's lib/pythonX.Y, not the
 * packages installed into it, and the frozen modules. */
static int python_stdlib_file(const char *file)
{
    if (!file)
        return 0;
    if (strncmp(file, "<frozen ", 8) == 0)
        return 1;
    return strstr(file, "/lib/python3") != NULL && strstr(file, "-packages/") == NULL;
}

/* Is a killed child's Python stack a multiprocessing worker between
 * tasks?  Its innermost frames, up to the first one in multiprocessing,
 * are all Python's own library (a worker waiting for its next task, or
 * one still running the after-fork hooks): no task of the user's runs.
 * So is a whole stack (shorter than the runtime's limit, so nothing was
 * cut off) of nothing but Python's own library. */
static int multiprocessing_idle(const struct fsan_trace_pysite *ps)
{
    for (size_t i = 0; i < ps->nframes; i++) {
        const char *file = ps->frames[i].file;
        if (file && strstr(file, "/multiprocessing/"))
            return 1;
        if (!python_stdlib_file(file))
            return 0;
    }
    return ps->nframes > 0 && ps->nframes < FSAN_PY_MAX_FRAMES;
}

/* Does a stack read from another process name at least one frame?  (A
 * frame read in passing can come out as "?".) */
static int readable_stack(const struct fsan_trace_pysite *ps)
{
    for (size_t i = 0; i < ps->nframes; i++)
        if (ps->frames[i].file && strcmp(ps->frames[i].file, "?") != 0)
            return 1;
    return 0;
}

/* Was the killed child still at its fork call (its innermost frame is the
 * line that forked, as its own trace recorded it): killed before it began
 * anything, such as a fork-then-exec child killed before its exec? */
static int still_at_fork(const struct fsan_trace *child, const struct fsan_trace_pysite *running)
{
    const struct fsan_trace_pysite *fork = child ? python_stack(child, FSAN_PYREF_FORK, 0) : NULL;
    if (!fork || !running->nframes)
        return 0;
    const struct fsan_trace_pyframe *a = &running->frames[0], *b = &fork->frames[0];
    /* A stack read from another process may lack line numbers. */
    return (a->line == b->line || !a->line) && a->function && b->function && strcmp(a->function, b->function) == 0 &&
           a->file && b->file && strcmp(a->file, b->file) == 0;
}

/* A fork child killed by a signal this process sent (SIGNAL records). */
static void rule_signals(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->nsignals; i++) {
        const struct fsan_rec_signal *r = &t->signals[i].rec;
        const struct fsan_trace *child = child_trace(set, r->target);
        if (child && child->ndeadlocks)
            continue; /* a hung child put down: child-deadlock says why */
        const char *signame = sigabbrev_np((int)r->signo);
        const struct fsan_trace_pysite *running = r->child_pysite ? fsan_trace_pysite(t, r->child_pysite) : NULL;
        if (running && !readable_stack(running))
            running = NULL; /* read while the child was between frames: unknown, not busy */
        int idle = running && (multiprocessing_idle(running) || still_at_fork(child, running));
        /* Nothing registered, nothing buffered, and a multiprocessing
         * worker between tasks (waiting for one, or still starting up):
         * the kill costs nothing known, which is what Pool.terminate()
         * is for.  Not a finding. */
        uint32_t py_lost = handlers_lost(r->py_handlers, t->signals[i].name);
        uint32_t c_lost = c_handlers_lost(c, t, r->handlers, r->handler);
        int lost_nothing = !c_lost && !py_lost && !r->pending && (idle || !running);
        if (lost_nothing && idle)
            continue;
        char *lost = losses_text(c, t, c_lost, r->handler, py_lost, t->signals[i].name, r->pending, -1);
        struct fsan_finding f;
        start_finding(&f, "skipped-cleanup", lost_nothing ? FSAN_SEV_NOTE : FSAN_SEV_WARNING,
                      xprintf(c, "the forked child %u is killed by SIG%s sent by process %u: it runs none of its exit path (exit handlers, finally blocks, buffered output)%s%s",
                              r->target, signame ? signame : "?", t->proc.pid,
                              running && !idle ? " and the work it was doing is lost" : "", lost));
        free(lost);
        loop_location(c, &f, t, "sender", r->tid, r->site, r->pysite, xprintf(c, "the signal is sent at:"));
        if (running)
            loop_location(c, &f, t, "child", 0, 0, r->child_pysite,
                          xprintf(c, "the child was running (Python, innermost first):"));
        if (child)
            fork_location(c, &f, child);
        commit_finding(c, &f, (int)r->target);
    }
}

/* A semaphore this process never created, opened or inherited. */
static void rule_foreign(struct ctx *c, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->nforeigns; i++) {
        const struct fsan_rec_foreign *r = &t->foreigns[i];
        struct fsan_finding f;
        start_finding(&f, "foreign-handle", FSAN_SEV_ERROR,
                      xprintf(c, "process %u uses semaphore 0x%llx, which it never created, opened or inherited: the handle came from another process across an exec%s",
                              t->proc.pid, (unsigned long long)r->addr,
                              (r->flags & FSAN_FOREIGN_UNMAPPED) ? "; the address is not mapped here, so the call crashes the process (SIGSEGV)" : ""));
        loop_location(c, &f, t, "use", r->tid, r->site, r->pysite, xprintf(c, "used at:"));
        commit_finding(c, &f, (int)t->proc.pid);
    }
}

/* ---- pid checks ------------------------------------------------------------------ */

struct pid_knowledge {
    const char *function;
    const char *file;
    const char *what;
};
#define FSAN_PIDCHECK(fn, file, what) {fn, file, what},
static const struct pid_knowledge pid_knowledge[] = {
#include "pidchecks.def"
};
#undef FSAN_PIDCHECK

static const struct pid_knowledge *known_pidcheck(const struct fsan_location *loc)
{
    if (!loc || !loc->nframes || !loc->frames[0].function)
        return NULL;
    const char *file = loc->frames[0].file ? loc->frames[0].file : "";
    for (size_t i = 0; i < sizeof pid_knowledge / sizeof pid_knowledge[0]; i++)
        if (fnmatch(pid_knowledge[i].function, loc->frames[0].function, 0) == 0 &&
            fnmatch(pid_knowledge[i].file, file, 0) == 0)
            return &pid_knowledge[i];
    return NULL;
}

/* "function@file" of a location's innermost frame, NULL when unknown. */
static char *innermost_function(struct ctx *c, const struct fsan_location *loc)
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

static void rule_pidchecks(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (child_execed(set, t) || !t->npidchecks)
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
            start_finding(&f, "cleared-cache", FSAN_SEV_NOTE, NULL);
            struct fsan_location *loc = loop_location(c, &f, t, "check", 0, p->rec.site, p->rec.pysite,
                                                      p->name ? xprintf(c, "the child drops it at:")
                                                              : xprintf(c, "the pid check (read before the fork here too) at:"));
            char *fn = innermost_function(c, loc);
            const struct pid_knowledge *k = p->name ? NULL : known_pidcheck(loc);
            /* A pid check whose effect is unknown is not reported: most
             * merely print or log the pid, and a note that says "maybe"
             * a hundred times is noise.  What is reported is a drop that
             * is known (the knowledge table) or declared by the library. */
            if (!p->name && (!k || seen_before(seen, nseen, fn))) {
                free(fn);
                free_finding(&f);
                continue;
            }
            seen[nseen++] = fn;
            if (p->name) {
                f.severity = FSAN_SEV_WARNING;
                f.message = xprintf(c, "the forked child threw away %s that the parent built (declared with forksan_cache_dropped)", p->name);
                if (p->rec.built_site)
                    site_location(c, &f, t, "built", 0, p->rec.built_site,
                                  xprintf(c, "the parent built it (forksan_cache_declare) at:"));
            } else {
                f.severity = FSAN_SEV_WARNING;
                f.message = xprintf(c, "a pid check trips in the forked child and state built in the parent is dropped: %s", k->what);
            }
            fork_location(c, &f, t);
            commit_finding(c, &f, (int)t->proc.pid);
        }
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
}

static void analyze_child(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->ndeadlocks; i++)
        rule_child_deadlock(c, t, &t->deadlocks[i]);
    int vanished_left_lock = 0;
    for (size_t i = 0; i < t->nheld; i++) {
        const struct fsan_rec_held *h = &t->held[i];
        const struct fsan_rec_thread *holder = thread_by_tid(t, h->holder_tid);
        if (!(h->kind & FSAN_KIND_PSHARED) && holder && (holder->flags & FSAN_THREAD_VANISHED) &&
            child_deadlocked_on(t, h->lock_addr))
            vanished_left_lock = 1;
        rule_held(c, set, t, h, &vanished_left_lock);
    }
    for (size_t i = 0; i < t->ndeadlocks; i++)
        if (t->deadlocks[i].form == FSAN_DL_VANISHED_HOLDER)
            vanished_left_lock = 1;
    rule_threads_at_fork(c, set, t, vanished_left_lock);
    rule_loops(c, set, t);
    rule_cleanups(c, t);
    rule_pidchecks(c, set, t);
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
static char *site_summary(struct ctx *c, const struct fsan_trace *t, uint32_t site_id)
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
    free_location(&loc);
    return text;
}

static struct fsan_process *process_for(struct ctx *c, int pid)
{
    struct fsan_report *r = c->r;
    for (size_t i = 0; i < r->nprocesses; i++)
        if (r->processes[i].pid == pid)
            return &r->processes[i];
    struct fsan_process *p = realloc(r->processes, (r->nprocesses + 1) * sizeof *p);
    if (!p) {
        c->oom = 1;
        return NULL;
    }
    r->processes = p;
    memset(&p[r->nprocesses], 0, sizeof *p);
    p[r->nprocesses].pid = pid;
    return &p[r->nprocesses++];
}

static void add_process(struct ctx *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    struct fsan_process *p = process_for(c, (int)t->proc.pid);
    if (!p)
        return;
    int first = p->exe == NULL && !p->is_fork_child && p->ppid == 0;
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

/* A child that a signal ended cannot say so; its parent, which reaped it,
 * or the process that killed it, can.  The child's own trace wins. */
static void signal_deaths(struct ctx *c, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->nreaped + t->nsignals; i++) {
        int pid = (int)(i < t->nreaped ? t->reaped[i].pid : t->signals[i - t->nreaped].rec.target);
        int signo = (int)(i < t->nreaped ? t->reaped[i].signo : t->signals[i - t->nreaped].rec.signo);
        for (size_t j = 0; j < c->r->nprocesses; j++) {
            struct fsan_process *p = &c->r->processes[j];
            if (p->pid == pid && !p->exit.known) {
                p->exit.known = 1;
                p->exit.how = "signal";
                p->exit.status = signo;
            }
        }
    }
}

/* ---- entry point -------------------------------------------------------------- */

static int cmp_findings(const void *a, const void *b)
{
    const struct fsan_finding *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int r = strcmp(x->rule, y->rule);
    if (r)
        return r;
    return (x->pids ? x->pids[0] : 0) - (y->pids ? y->pids[0] : 0);
}

static int cmp_traces(const void *a, const void *b)
{
    const struct fsan_trace *x = a, *y = b;
    if (x->proc.time_ns != y->proc.time_ns)
        return x->proc.time_ns < y->proc.time_ns ? -1 : 1;
    if (x->proc.pid != y->proc.pid)
        return (int)x->proc.pid - (int)y->proc.pid;
    /* One pid, one start: the fork child's image before what it exec'd. */
    return (x->proc.kind == FSAN_PROC_FORK ? 0 : 1) - (y->proc.kind == FSAN_PROC_FORK ? 0 : 1);
}

static void add_set_notice(struct ctx *c, struct fsan_trace_set *set, char *n)
{
    char **p = n ? realloc(set->notices, (set->nnotices + 1) * sizeof *p) : NULL;
    if (p) {
        set->notices = p;
        set->notices[set->nnotices++] = n;
    } else {
        free(n);
        c->oom = 1;
    }
}

/* A process whose interpreter the runtime found but could not read: its
 * findings have native frames only, and the reader should know why.  Once
 * per distinct reason, naming the first such process: a pool of a thousand
 * workers with the same unsupported Python needs one line, not a thousand. */
static void python_notice(struct ctx *c, struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (!t->has_pyinfo || t->py_state != FSAN_PY_UNAVAILABLE)
        return;
    const char *reason = t->py_reason && *t->py_reason ? t->py_reason : "no reason recorded";
    for (size_t i = 0; i < c->npy_reasons; i++)
        if (strcmp(c->py_reasons[i], reason) == 0)
            return;
    const char **p = realloc(c->py_reasons, (c->npy_reasons + 1) * sizeof *p);
    if (!p) {
        c->oom = 1;
        return;
    }
    c->py_reasons = p;
    c->py_reasons[c->npy_reasons++] = reason;
    add_set_notice(c, set, xprintf(c, "Python frames unavailable in pid %u: %s", t->proc.pid, reason));
}

int fsan_analyze(struct fsan_trace_set *set, struct fsan_symbolizer *sym, struct fsan_report *out)
{
    return fsan_analyze_opts(set, sym, NULL, out);
}

int fsan_analyze_opts(struct fsan_trace_set *set, struct fsan_symbolizer *sym,
                      const struct fsan_analyze_options *opts, struct fsan_report *out)
{
    struct ctx c = {sym, out, 0, 0, opts ? opts->native_frames : 0, opts, NULL, 0};
    if (set->ntraces)
        qsort(set->traces, set->ntraces, sizeof *set->traces, cmp_traces);
    for (size_t i = 0; i < set->ntraces; i++) {
        const struct fsan_trace *t = &set->traces[i];
        add_process(&c, set, t);
        if (t->proc.kind == FSAN_PROC_FORK)
            analyze_child(&c, set, t);
        rule_signals(&c, set, t);
        rule_foreign(&c, t);
        if (t->stats.lost_bytes || t->stats.thread_overflow || t->stats.site_overflow) {
            char *n = xprintf(&c, "process %u: %llu trace bytes lost, %u threads and %u call sites not tracked (tables full)",
                              t->proc.pid, (unsigned long long)t->stats.lost_bytes, t->stats.thread_overflow,
                              t->stats.site_overflow);
            add_set_notice(&c, set, n);
        }
        if (t->stats.held_overflow && t->proc.kind == FSAN_PROC_FORK) {
            char *n = xprintf(&c, "process %u: at its fork, %u thread%s held more locks than forksan records per thread (%d), so the snapshot may lack some of them (tables full)",
                              t->proc.pid, t->stats.held_overflow, t->stats.held_overflow == 1 ? "" : "s", FSAN_MAX_HELD_LOCKS);
            add_set_notice(&c, set, n);
        }
        python_notice(&c, set, t);
    }
    for (size_t i = 0; i < set->ntraces; i++)
        signal_deaths(&c, &set->traces[i]);
    free(c.py_reasons);
    if (out->nfindings)
        qsort(out->findings, out->nfindings, sizeof *out->findings, cmp_findings);
    out->notices = set->notices;
    out->nnotices = set->nnotices;
    set->notices = NULL;
    set->nnotices = 0;
    return c.oom ? -ENOMEM : 0;
}

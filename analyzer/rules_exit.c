/* rules_exit.c — the rules about how a fork child ends (the runtime's
 * probes/cleanup.c, probes/stdio.c and probes/signals.c): stdio-duplicate
 * (buffered output written by both), duplicated-cleanup (the parent's exit
 * handlers run again in the child), skipped-cleanup (a child ending with
 * _exit() or killed by a signal loses its own cleanup) and
 * cow-amplification (the child copied most of what it inherited).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "rules.h"

/* An exit handler's name: its Python name, or its symbol (or address);
 * NULL when neither is known. */
static char *handler_name(struct fsan_builder *c, const struct fsan_trace *t, uint64_t addr, const char *pyname)
{
    if (pyname)
        return xstrdup(c, pyname);
    if (!addr)
        return NULL;
    struct fsan_frame fr;
    symbolize_frame(c, t, addr, 0, &fr);
    char *name = fr.function ? xstrdup(c, fr.function) : xprintf(c, "0x%llx", (unsigned long long)addr);
    fsan_frame_free(&fr);
    return name;
}

/* Appends "; " and the formatted text to *out. */
static void append_clause(struct fsan_builder *c, char **out, const char *fmt, ...)
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
static void append_handlers(struct fsan_builder *c, char **out, uint32_t n, const char *kind, const char *first)
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
static uint32_t c_handlers_lost(struct fsan_builder *c, const struct fsan_trace *t, uint32_t count, uint64_t first)
{
    char *name = count == 1 ? handler_name(c, t, first, NULL) : NULL;
    uint32_t lost = handlers_lost(count, name);
    free(name);
    return lost;
}

/* What a child ending without its exit path loses, as "; A; B; C". */
static char *losses_text(struct fsan_builder *c, const struct fsan_trace *t, uint32_t handlers, uint64_t handler_addr,
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

static void rule_cleanups(struct fsan_builder *c, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->ncleanups; i++) {
        const struct fsan_rec_cleanup *r = &t->cleanups[i].rec;
        struct fsan_finding f;
        if (r->kind == FSAN_CLEANUP_STDIO_DUP) {
            start_finding(&f, FSAN_RULE_STDIO_DUPLICATE, FSAN_SEV_WARNING,
                          xprintf(c, "the forked child writes %llu byte%s that were still buffered (unflushed) on fd %d when the parent forked: the parent writes them too, so they appear twice",
                                  (unsigned long long)r->bytes, r->bytes == 1 ? "" : "s", r->fd));
            loop_location(c, &f, t, FSAN_ROLE_EXIT, 0, r->site, r->pysite, xprintf(c, "the child flushes them (fflush, fclose or exit) at:"));
        } else if (r->kind == FSAN_CLEANUP_DUP_HANDLERS) {
            char *handler = handler_name(c, t, r->handler, NULL);
            char *did = r->py_count == FSAN_EFFECT_REMOVE
                            ? xprintf(c, "removes '%s'", t->cleanups[i].name ? t->cleanups[i].name : "a file")
                            : xprintf(c, "writes %llu byte%s to fd %d, which the child shares with its parent",
                                      (unsigned long long)r->bytes, r->bytes == 1 ? "" : "s", r->fd);
            start_finding(&f, FSAN_RULE_DUPLICATED_CLEANUP, FSAN_SEV_WARNING,
                          xprintf(c, "the forked child runs an exit handler its parent registered, %s, and it %s: the parent's cleanup happens twice",
                                  handler ? handler : "(unknown)", did));
            free(did);
            free(handler);
            loop_location(c, &f, t, FSAN_ROLE_EXIT, 0, r->site, r->pysite,
                          xprintf(c, r->site || r->pysite ? "the child calls exit() at:" : "the child ends (exit handlers run) at:"));
        } else if (r->kind == FSAN_CLEANUP_COW) {
            int python = t->has_pyinfo && t->py_state == FSAN_PY_ACTIVE;
            start_finding(&f, FSAN_RULE_COW_AMPLIFICATION, FSAN_SEV_NOTE,
                          xprintf(c, "the forked child ended with %.1f MiB of private dirty memory, %u%% of what it could share with its parent: copy-on-write copied most of what it inherited%s",
                                  (double)r->bytes / (1024.0 * 1024.0), r->count,
                                  python ? " (in CPython, merely reading objects writes their reference counts)" : ""));
            loop_location(c, &f, t, FSAN_ROLE_EXIT, 0, r->site, r->pysite, xprintf(c, "measured when the child ended, at:"));
        } else {
            uint32_t py_lost = handlers_lost(r->py_count, t->cleanups[i].name);
            uint32_t c_lost = c_handlers_lost(c, t, r->count, r->handler);
            if (!c_lost && !py_lost && !r->bytes)
                continue; /* only handlers whose skipping loses nothing */
            char *lost = losses_text(c, t, c_lost, r->handler, py_lost, t->cleanups[i].name, r->bytes, r->fd);
            start_finding(&f, FSAN_RULE_SKIPPED_CLEANUP, FSAN_SEV_WARNING,
                          xprintf(c, "the forked child ends with _exit(), which flushes nothing and runs no handler%s", lost));
            free(lost);
            loop_location(c, &f, t, FSAN_ROLE_EXIT, 0, r->site, r->pysite, xprintf(c, "the child calls _exit() at:"));
        }
        fork_location(c, &f, t);
        commit_finding(c, &f, t);
    }
}

/* The trace of fork child pid of process parent (its fork image), NULL
 * when it wrote none.  A recycled pid has several: the last one parent
 * forked, else (a child whose recorded parent is another, as after a
 * reparenting) the last one of any parent. */
static const struct fsan_trace *child_trace(const struct fsan_builder *c, uint32_t pid, uint32_t parent)
{
    size_t n;
    const struct fsan_trace *const *of_pid = traces_of_pid(c, pid, &n);
    const struct fsan_trace *mine = NULL, *any = NULL;
    for (size_t i = 0; i < n; i++) {
        if (of_pid[i]->proc.kind != FSAN_PROC_FORK)
            continue;
        any = of_pid[i];
        if (of_pid[i]->proc.ppid == parent)
            mine = of_pid[i];
    }
    return mine ? mine : any;
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
static void rule_signals(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    for (size_t i = 0; i < t->nsignals; i++) {
        const struct fsan_rec_signal *r = &t->signals[i].rec;
        const struct fsan_trace *child = child_trace(c, r->target, t->proc.pid);
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
        start_finding(&f, FSAN_RULE_SKIPPED_CLEANUP, lost_nothing ? FSAN_SEV_NOTE : FSAN_SEV_WARNING,
                      xprintf(c, "the forked child %u is killed by SIG%s sent by process %u: it runs none of its exit path (exit handlers, finally blocks, buffered output)%s%s",
                              r->target, signame ? signame : "?", t->proc.pid,
                              running && !idle ? " and the work it was doing is lost" : "", lost));
        free(lost);
        loop_location(c, &f, t, FSAN_ROLE_SENDER, r->tid, r->site, r->pysite, xprintf(c, "the signal is sent at:"));
        if (running)
            loop_location(c, &f, t, FSAN_ROLE_CHILD, 0, 0, r->child_pysite,
                          xprintf(c, "the child was running (Python, innermost first):"));
        if (child)
            fork_location(c, &f, child);
        commit_finding_pid(c, &f, child, (int)r->target);
    }
}

void fsan_rules_exit(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (t->proc.kind == FSAN_PROC_FORK)
        rule_cleanups(c, t);
    rule_signals(c, set, t);
}

/* render_text.c — the human-readable report (`--format text`, the default).
 *
 * The report has the shape people already know from AddressSanitizer and
 * ThreadSanitizer, so that eyes and existing log scrapers find their way:
 *
 *   ==4242==ERROR: forksan: child-deadlock: <message>
 *     rule: child-deadlock — forked child blocks forever on a lock or a condition variable  (forksan explain child-deadlock)
 *     seen in 3 processes: pid 101, 102, 103
 *     acquired at:
 *       thread T17 "worker"
 *       #0 0x401136 in take_lock worker.c:12
 *       #1 0x7f3a12094ac3 in start_thread (/lib/x86_64-linux-gnu/libc.so.6+0x94ac3)
 *     the child's attempt:
 *       File "app.py", line 7, in handler
 *
 *   ==4242==NOTE: forksan: <notice>
 *   findings by rule:
 *     child-deadlock: 1 (error)
 *     inherited-held-lock: 2 (note)
 *   SUMMARY: forksan: 1 error, 0 warnings, 2 notes in 3 processes
 *
 * One block per finding, in the order the analyzer sorted them (most severe
 * first), each followed by a blank line; then, with --baseline, the findings
 * the baseline had and this run has not ("fixed"); then the analyzer's
 * notices and the suppression entries that matched nothing; then the count
 * per rule and always exactly one SUMMARY line, which is what CI logs grep
 * for.  With --baseline each headline ends in [new] or [unchanged]; with
 * --tree a process tree (who forked whom, where, how each ended) comes
 * first.
 *
 * DESIGN
 * Frames follow the compiler-rt conventions exactly: "#N 0xADDR in FUNCTION
 * FILE:LINE" when debug information gave a file, "in FUNCTION
 * (MODULE+0xOFF)" without it, and "(MODULE+0xOFF)" alone without a symbol,
 * because that last form is what offline symbolizers (addr2line,
 * asan_symbolize.py) take as input.  Python frames use Python's own
 * traceback line instead, because a Python programmer's editor and eyes
 * match that line, not a C frame.  A native frame is numbered by its index
 * in the location's frame array, so "#3" here is frames[3] in the JSON
 * report; interleaved Python frames therefore leave gaps in the numbering,
 * which also shows where the interpreter's C frames were.  Text from the
 * watched program (messages, names, paths) is printed with control
 * characters escaped: a thread name containing a newline or a terminal
 * escape must neither break the line-oriented report nor drive the
 * terminal of the person reading it.  The rule line points at `forksan
 * explain` so the short report can stay short.  Colour (--color) only ever
 * wraps words this file wrote itself, never the program's text, and never
 * touches the SUMMARY line, so that `grep '^SUMMARY:'` of a coloured log
 * still finds it; the per-rule block and the baseline
 * and suppression lines come before SUMMARY for the same reason: SUMMARY
 * stays the last line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "model.h"
#include "render.h"
#include "textesc.h"

/* A finding merged from a thousand pool workers lists only the first few
 * pids; the count says how many there were. */
#define MAX_PIDS_SHOWN 8

/* The process tree is printed recursively; a deeper chain of forks is
 * still listed, flat, below this depth. */
#define MAX_TREE_DEPTH 32

/* ANSI SGR sequences, as the sanitizers use them. */
#define SGR_RESET "\033[0m"
#define SGR_RED "\033[1;31m"
#define SGR_MAGENTA "\033[1;35m"
#define SGR_CYAN "\033[1;36m"
#define SGR_GREEN "\033[1;32m"
#define SGR_YELLOW "\033[1;33m"

static const struct fsan_text_options default_options = {.color = 0, .tree = 0};

/* ---- small helpers ------------------------------------------------------- */

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Writes untrusted text in the scheme of textesc.h, so that what reaches
 * the terminal is exactly what the reader sees.  `quoted`: the text is
 * printed between double quotes, which then must be escaped too. */
static void put_text(FILE *out, const char *s, int quoted)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        char esc[FSAN_TEXT_ESC_MAX];
        size_t n;
        p += fsan_text_escape(p, (size_t)(end - p), quoted, esc, &n);
        fwrite(esc, 1, n, out);
    }
}

static const char *severity_word(enum fsan_severity s)
{
    switch (s) {
    case FSAN_SEV_ERROR:
        return "ERROR";
    case FSAN_SEV_WARNING:
        return "WARNING";
    case FSAN_SEV_NOTE:
    case FSAN_SEV_NONE:
        break;
    }
    /* The analyzer never gives a finding FSAN_SEV_NONE (it exists only for
     * --fail-on), so the mildest word is the honest fallback. */
    return "NOTE";
}

/* ---- frames -------------------------------------------------------------- */

/* The "(MODULE+0xOFF)" form; an address outside every mapping says so the
 * way the sanitizers do. */
static void write_module_offset(FILE *out, const struct fsan_frame *f)
{
    if (f->module == NULL) {
        fputs(" (<unknown module>)", out);
        return;
    }
    fputs(" (", out);
    put_text(out, f->module, 0);
    fprintf(out, "+0x%" PRIx64 ")", f->module_offset);
}

/* A frame with a name and no address is a place in a file, not in a
 * process (forksan lint's "this module loads that library"): no "0x0". */
static void write_native_frame(FILE *out, size_t index, const struct fsan_frame *f)
{
    if (f->address == 0 && f->function != NULL)
        fprintf(out, "    #%zu", index);
    else
        fprintf(out, "    #%zu 0x%" PRIx64, index, f->address);
    if (f->function == NULL) {
        write_module_offset(out, f);
        fputc('\n', out);
        return;
    }
    fputs(" in ", out);
    put_text(out, f->function, 0);
    if (f->file == NULL) {
        write_module_offset(out, f);
        fputc('\n', out);
        return;
    }
    fputc(' ', out);
    put_text(out, f->file, 0);
    if (f->line > 0)
        fprintf(out, ":%d", f->line);
    fputc('\n', out);
}

/* Python's traceback line.  Unknown parts print as Python itself would
 * leave them to a reader: a placeholder, not an empty string. */
static void write_python_frame(FILE *out, const struct fsan_frame *f)
{
    fputs("    File \"", out);
    put_text(out, f->file != NULL ? f->file : "<unknown>", 1);
    if (f->line > 0)
        fprintf(out, "\", line %d, in ", f->line);
    else
        fputs("\", line ?, in ", out);
    put_text(out, f->function != NULL ? f->function : "<unknown>", 0);
    fputc('\n', out);
}

static int is_python_frame(const struct fsan_frame *f)
{
    return f->language != NULL && strcmp(f->language, "python") == 0;
}

/* ---- locations ----------------------------------------------------------- */

static void write_heading(FILE *out, const struct fsan_location *l)
{
    if (l->description != NULL) {
        fputs("  ", out);
        put_text(out, l->description, 0);
        fputc('\n', out);
        return;
    }
    if (l->role == NULL) {
        fputs("  location:\n", out);
        return;
    }
    /* The heading of a location without a description comes from the
     * roles table (common/model.c), shared with the HTML report. */
    const char *heading = fsan_role_heading(l->role);
    if (heading != NULL) {
        fprintf(out, "  %s\n", heading);
        return;
    }
    /* A role the table in common/model.c does not know still reads
     * sensibly as "role:". */
    fprintf(out, "  %s:\n", l->role);
}

static void write_thread(FILE *out, const struct fsan_location *l)
{
    if (!l->has_thread)
        return;
    fprintf(out, "    thread T%d", l->tid);
    if (l->thread_name != NULL) {
        fputs(" \"", out);
        put_text(out, l->thread_name, 1);
        fputc('"', out);
    }
    fputc('\n', out);
}

static void write_location(FILE *out, const struct fsan_location *l)
{
    write_heading(out, l);
    write_thread(out, l);
    if (l->nframes == 0)
        fputs("    (no stack recorded)\n", out);
    for (size_t i = 0; i < l->nframes; i++) {
        if (is_python_frame(&l->frames[i]))
            write_python_frame(out, &l->frames[i]);
        else
            write_native_frame(out, i, &l->frames[i]);
    }
}

/* ---- findings ------------------------------------------------------------ */

static const char *severity_color(enum fsan_severity s)
{
    return s == FSAN_SEV_ERROR ? SGR_RED : s == FSAN_SEV_WARNING ? SGR_MAGENTA : SGR_CYAN;
}

/* Writes s wrapped in the colour when colour is on. */
static void put_colored(FILE *out, const struct fsan_text_options *o, const char *sgr, const char *s)
{
    if (o->color)
        fputs(sgr, out);
    fputs(s, out);
    if (o->color)
        fputs(SGR_RESET, out);
}

static void write_headline(FILE *out, const struct fsan_finding *f, int forksan_pid,
                           const struct fsan_text_options *o)
{
    fprintf(out, "==%d==", forksan_pid);
    put_colored(out, o, severity_color(f->severity), severity_word(f->severity));
    fprintf(out, ": forksan: %s", f->rule != NULL ? f->rule : "unknown-rule");
    if (f->message != NULL) {
        fputs(": ", out);
        put_text(out, f->message, 0);
    }
    if (f->baseline != NULL) {
        int is_new = strcmp(f->baseline, "new") == 0;
        fputc(' ', out);
        put_colored(out, o, is_new ? SGR_YELLOW : SGR_GREEN, is_new ? "[new]" : "[unchanged]");
    }
    fputc('\n', out);
}

/* Only rules in the catalogue get the line: an id it does not know has no
 * title to show and nothing for `forksan explain` to say. */
static void write_rule_line(FILE *out, const struct fsan_finding *f)
{
    const struct fsan_rule_info *info = f->rule != NULL ? fsan_rule_find(f->rule) : NULL;

    if (info == NULL)
        return;
    fprintf(out, "  rule: %s — %s  (forksan explain %s)\n", info->id, info->title, info->id);
}

/* "seen in N processes: pid …".  The count can exceed the pids the analyzer
 * kept; the larger of the two is the truth about how many processes. */
static void write_seen_in(FILE *out, const struct fsan_finding *f)
{
    size_t total = f->count > f->npids ? f->count : f->npids;
    size_t shown = f->npids < MAX_PIDS_SHOWN ? f->npids : MAX_PIDS_SHOWN;

    if (f->count <= 1 && f->npids == 0)
        return;
    fprintf(out, "  seen in %zu %s", total, plural(total, "process", "processes"));
    for (size_t i = 0; i < shown; i++)
        fprintf(out, "%s%d", i == 0 ? ": pid " : ", ", f->pids[i]);
    if (shown > 0 && total > shown)
        fprintf(out, " (and %zu more)", total - shown);
    fputc('\n', out);
}

static void write_finding(FILE *out, const struct fsan_finding *f, int forksan_pid,
                          const struct fsan_text_options *o)
{
    write_headline(out, f, forksan_pid, o);
    write_rule_line(out, f);
    write_seen_in(out, f);
    for (size_t i = 0; i < f->nlocations; i++)
        write_location(out, &f->locations[i]);
    fputc('\n', out);
}

/* ---- the process tree ---------------------------------------------------- */

static void write_exit_info(FILE *out, const struct fsan_process *p)
{
    if (p->execed && !p->exit.known) {
        fputs(", exec'd", out);
        return;
    }
    if (!p->exit.known) {
        fputs(", end unknown", out);
        return;
    }
    if (p->exit.how != NULL && strcmp(p->exit.how, "signal") == 0)
        fprintf(out, ", killed by signal %d", p->exit.status);
    else if (p->exit.how != NULL && strcmp(p->exit.how, "exec") == 0)
        fputs(", exec'd", out);
    else
        fprintf(out, ", %s %d", p->exit.how != NULL ? p->exit.how : "exit", p->exit.status);
}

static void write_tree_line(FILE *out, const struct fsan_process *p, int depth)
{
    fputs("  ", out);
    for (int i = 1; i < depth; i++)
        fputs("   ", out);
    if (depth > 0)
        fputs("`- ", out);
    fprintf(out, "pid %d ", p->pid);
    put_text(out, p->exe != NULL ? p->exe : "<unknown executable>", 0);
    if (p->is_fork_child || p->fork_site != NULL) {
        fputs(", forked", out);
        if (p->forked_by_tid != 0)
            fprintf(out, " by thread %d", p->forked_by_tid);
        fputs(" at ", out);
        put_text(out, p->fork_site != NULL ? p->fork_site : "an unknown site", 0);
    }
    write_exit_info(out, p);
    fputc('\n', out);
}

static int is_child_of(const struct fsan_process *child, const struct fsan_process *parent)
{
    return child->ppid == parent->pid && child != parent;
}

/* Children in the order they started (then by pid, when times are
 * unknown), which is the order a reader follows a program. */
static int starts_before(const struct fsan_process *a, const struct fsan_process *b)
{
    if (a->start_ns != b->start_ns && a->start_ns != 0 && b->start_ns != 0)
        return a->start_ns < b->start_ns;
    return a->pid < b->pid;
}

static void write_subtree(FILE *out, const struct fsan_report *r, size_t index, int depth, char *shown)
{
    shown[index] = 1;
    write_tree_line(out, &r->processes[index], depth);
    for (;;) {
        size_t next = r->nprocesses;
        for (size_t i = 0; i < r->nprocesses; i++)
            if (!shown[i] && is_child_of(&r->processes[i], &r->processes[index]) &&
                (next == r->nprocesses || starts_before(&r->processes[i], &r->processes[next])))
                next = i;
        if (next == r->nprocesses)
            return;
        write_subtree(out, r, next, depth < MAX_TREE_DEPTH ? depth + 1 : depth, shown);
    }
}

static int has_parent_in_report(const struct fsan_report *r, const struct fsan_process *p)
{
    for (size_t i = 0; i < r->nprocesses; i++)
        if (is_child_of(p, &r->processes[i]))
            return 1;
    return 0;
}

/* Roots are the processes whose parent is not in the report (the command
 * itself, whose parent is forksan); a process whose parent chain loops
 * (pid reuse) is still printed, as a root, by the second pass. */
static void write_tree(FILE *out, const struct fsan_report *r)
{
    if (r->nprocesses == 0)
        return;
    char *shown = calloc(r->nprocesses, 1);
    if (shown == NULL)
        return;
    fputs("process tree:\n", out);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->nprocesses; i++)
            if (!shown[i] && (pass == 1 || !has_parent_in_report(r, &r->processes[i])))
                write_subtree(out, r, i, 0, shown);
    fputc('\n', out);
    free(shown);
}

/* ---- baseline and suppressions ------------------------------------------- */

static void write_fixed(FILE *out, const struct fsan_report *r, const struct fsan_text_options *o)
{
    if (!r->has_baseline || r->nfixed == 0)
        return;
    fprintf(out, "fixed since the baseline (%zu):\n", r->nfixed);
    for (size_t i = 0; i < r->nfixed; i++) {
        const struct fsan_fixed_finding *f = &r->fixed[i];
        fputs("  ", out);
        put_colored(out, o, SGR_GREEN, "[fixed]");
        fputc(' ', out);
        put_text(out, f->rule != NULL ? f->rule : "unknown-rule", 0);
        fprintf(out, " (%s) %s", fsan_severity_name(f->severity), f->fingerprint);
        if (f->message != NULL) {
            fputs(": ", out);
            put_text(out, f->message, 0);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void write_unmatched(FILE *out, const struct fsan_report *r, int forksan_pid)
{
    for (size_t i = 0; i < r->nunmatched; i++) {
        fprintf(out, "==%d==NOTE: forksan: suppression matched nothing (remove it if it is stale): ", forksan_pid);
        put_text(out, r->unmatched_suppressions[i] != NULL ? r->unmatched_suppressions[i] : "", 0);
        fputc('\n', out);
    }
}

/* ---- trailer ------------------------------------------------------------- */

/* One line per (rule, severity), in report order: the findings are sorted
 * by severity, then rule, so each pair is counted at its first finding. */
static void write_rule_counts(FILE *out, const struct fsan_report *r)
{
    if (r->nfindings == 0)
        return;
    fputs("findings by rule:\n", out);
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct fsan_finding *f = &r->findings[i];
        const char *rule = f->rule != NULL ? f->rule : "unknown-rule";
        int seen = 0;
        size_t n = 0;
        for (size_t j = 0; j < r->nfindings; j++) {
            const char *other = r->findings[j].rule != NULL ? r->findings[j].rule : "unknown-rule";
            if (r->findings[j].severity != f->severity || strcmp(other, rule) != 0)
                continue;
            if (j < i)
                seen = 1;
            n++;
        }
        if (!seen)
            fprintf(out, "  %s: %zu (%s)\n", rule, n, fsan_severity_name(f->severity));
    }
}

static void write_baseline_counts(FILE *out, const struct fsan_report *r)
{
    size_t fresh = 0, unchanged = 0;
    if (!r->has_baseline)
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (r->findings[i].baseline != NULL && strcmp(r->findings[i].baseline, "unchanged") == 0)
            unchanged++;
        else
            fresh++;
    }
    fprintf(out, "baseline: %zu new, %zu unchanged, %zu fixed\n", fresh, unchanged, r->nfixed);
}

static void write_suppressed_count(FILE *out, const struct fsan_report *r)
{
    if (r->nsuppressed > 0)
        fprintf(out, "suppressed: %zu %s\n", r->nsuppressed, plural(r->nsuppressed, "finding", "findings"));
}

static void write_notices(FILE *out, const struct fsan_report *r, int forksan_pid)
{
    for (size_t i = 0; i < r->nnotices; i++) {
        fprintf(out, "==%d==NOTE: forksan: ", forksan_pid);
        put_text(out, r->notices[i] != NULL ? r->notices[i] : "", 0);
        fputc('\n', out);
    }
}

/* Counts findings (merged across processes), as the JSON summary does. */
static void write_summary(FILE *out, const struct fsan_report *r)
{
    size_t count[FSAN_SEV_ERROR + 1] = {0};
    /* forksan lint reports on files, the other commands on processes. */
    size_t np = r->lint ? r->files : r->nprocesses;
    const char *one = r->lint ? "file" : "process", *many = r->lint ? "files" : "processes";

    if (r->nfindings == 0) {
        fprintf(out, "SUMMARY: forksan: no fork hazards found in %zu %s", np, plural(np, one, many));
        if (r->incomplete)
            fprintf(out, ", but %zu %s incomplete", r->incomplete, plural(r->incomplete, "trace is", "traces are"));
        if (r->unreadable)
            fprintf(out, ", but %zu %s not be read", r->unreadable, plural(r->unreadable, "file could", "files could"));
        fputc('\n', out);
        return;
    }
    for (size_t i = 0; i < r->nfindings; i++)
        if ((unsigned)r->findings[i].severity <= FSAN_SEV_ERROR)
            count[r->findings[i].severity]++;
    fprintf(out, "SUMMARY: forksan: %zu %s, %zu %s, %zu %s in %zu %s",
            count[FSAN_SEV_ERROR], plural(count[FSAN_SEV_ERROR], "error", "errors"),
            count[FSAN_SEV_WARNING], plural(count[FSAN_SEV_WARNING], "warning", "warnings"),
            count[FSAN_SEV_NOTE], plural(count[FSAN_SEV_NOTE], "note", "notes"),
            np, plural(np, one, many));
    if (r->incomplete)
        fprintf(out, ", %zu incomplete %s", r->incomplete, plural(r->incomplete, "trace", "traces"));
    if (r->unreadable)
        fprintf(out, ", %zu unreadable %s", r->unreadable, plural(r->unreadable, "file", "files"));
    fputc('\n', out);
}

int fsan_render_text(FILE *out, const struct fsan_report *r, int forksan_pid)
{
    return fsan_render_text_opts(out, r, forksan_pid, &default_options);
}

int fsan_render_text_opts(FILE *out, const struct fsan_report *r, int forksan_pid,
                          const struct fsan_text_options *opts)
{
    const struct fsan_text_options *o = opts != NULL ? opts : &default_options;

    if (out == NULL || r == NULL)
        return -EINVAL;
    if (o->tree)
        write_tree(out, r);
    for (size_t i = 0; i < r->nfindings; i++)
        write_finding(out, &r->findings[i], forksan_pid, o);
    write_fixed(out, r, o);
    write_notices(out, r, forksan_pid);
    write_unmatched(out, r, forksan_pid);
    write_rule_counts(out, r);
    write_baseline_counts(out, r);
    write_suppressed_count(out, r);
    write_summary(out, r);
    /* Flushing here turns a full disk or a closed pipe into a return value
     * instead of a report that silently ends early. */
    errno = 0;
    if (fflush(out) == EOF)
        return errno ? -errno : -EIO;
    return ferror(out) ? -EIO : 0;
}

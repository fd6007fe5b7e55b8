/* render_html.c — the report as one self-contained web page (`--format html`).
 *
 * The text report answers "what went wrong and where in the code"; what it
 * cannot show well is *when* and *in which process*: with a pool of forked
 * workers, a child that exec'd and one that hung, the shape of the process
 * tree is half of the diagnosis.  This page adds that picture and keeps
 * everything else the text report has:
 *
 *   header     the command, its exit status, and the same summary counts
 *   picture    an inline SVG timeline: one row per process in tree order,
 *              a bar from its start time to the right edge, an arrow from
 *              the parent's bar to the child's at the fork, a mark on the
 *              bar for every finding (a link to the finding below), and how
 *              the process ended at the right when the trace says so
 *   table      the same processes as text (pid, ppid, exe, start, fork site,
 *              exit), for reading, copying and screen readers
 *   findings   one section per finding, in the analyzer's order, with the
 *              rule title, the pids, and every location's stack printed
 *              exactly as the text report prints it ("#N 0xADDR in FUNCTION
 *              FILE:LINE", Python frames as Python's own traceback line)
 *   notices    the analyzer's notices, then baseline and suppression notes
 *
 * Class names are part of the interface for tests and for people who
 * post-process the page: every drawn process is an element of class
 * "process" (id "proc-PID"), every finding has exactly one element of class
 * "finding-mark" in the picture (further processes where the same finding
 * happened get class "finding-also"), fork arrows are "fork-edge", known
 * exits "exit-mark", and each finding's section is "finding" (id
 * "finding-N", N counted from 1).
 *
 * DESIGN
 * The file must open anywhere a report gets attached — a CI artifact, a
 * mail, an air-gapped machine — so it is one file with no external
 * resource: inline CSS, inline SVG, no script at all (tooltips are SVG
 * <title> elements, navigation is plain #anchors).  A Content-Security-
 * Policy meta tag forbids every load besides the inline style, so a future
 * edit that slips in a URL fails loudly in the browser console (which
 * tests/html checks) instead of phoning home.  Everything that came from
 * the watched program — paths, thread names, messages, symbol names — is
 * hostile text: it goes through put_html(), which escapes the five HTML
 * metacharacters (enough for both element content and double-quoted
 * attributes, in HTML and in inline SVG alike) and shows control
 * characters as \n / \xNN as the text report does, because a raw control
 * character is a parse error in HTML and invisible to the reader anyway.
 * The geometry is computed here, not in a browser: rows in depth-first tree
 * order (children by start time), x by start time on a linear scale when
 * at least two start times are known and by tree depth otherwise.  The
 * picture has no timestamps for findings or exits, so marks sit in a row
 * after the bar's start and exits at the right edge; pretending to a
 * precision the trace does not have would mislead.  A run with thousands
 * of workers draws the first MAX_ROWS processes; findings of the rest
 * share one final row, so the count of marks still equals the count of
 * findings and none silently disappears.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalogue.h"
#include "model.h"
#include "render.h"

#define MAX_ROWS 400
#define MAX_PIDS_SHOWN 32

/* Picture geometry, in SVG user units (= CSS pixels at 100%). */
#define SVG_WIDTH 1200
#define ROW_H 34
#define AXIS_H 40
#define LABEL_W 300   /* process labels on the left */
#define TIME_X0 320   /* earliest start */
#define TIME_X1 860   /* latest start; the rest of the bar holds the marks */
#define BAR_X1 1070   /* bars end here; exits are written to the right */
#define BAR_H 14
#define MARK_R 6

/* ---- escaping ------------------------------------------------------------ */

static void put_control(FILE *out, unsigned char c)
{
    switch (c) {
    case '\n':
        fputs("\\n", out);
        return;
    case '\t':
        fputs("\\t", out);
        return;
    case '\r':
        fputs("\\r", out);
        return;
    }
    fprintf(out, "\\x%02x", c);
}

/* Writes untrusted text for element content or a double-quoted attribute.
 * `quoted` also backslash-escapes '"' and '\' for text the report shows
 * between double quotes (thread names, Python file names), as the text
 * report does, so the closing quote stays unambiguous. */
static void put_html_q(FILE *out, const char *s, int quoted)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (quoted && (*p == '"' || *p == '\\'))
            fputc('\\', out);
        switch (*p) {
        case '&': fputs("&amp;", out); continue;
        case '<': fputs("&lt;", out); continue;
        case '>': fputs("&gt;", out); continue;
        case '"': fputs("&quot;", out); continue;
        case '\'': fputs("&#39;", out); continue;
        }
        if (*p < 0x20 || *p == 0x7f)
            put_control(out, *p);
        else
            fputc(*p, out);
    }
}

static void put_html(FILE *out, const char *s)
{
    put_html_q(out, s != NULL ? s : "", 0);
}

/* The last path component, for labels where the full path would not fit. */
static const char *base_name(const char *path)
{
    const char *slash = path != NULL ? strrchr(path, '/') : NULL;

    if (path == NULL)
        return "?";
    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* Writes at most `max` bytes of s, never cutting a UTF-8 sequence in two,
 * with an ellipsis when it had to cut. */
static void put_html_clipped(FILE *out, const char *s, size_t max)
{
    size_t n = strlen(s);
    char buf[256];

    if (n <= max || max >= sizeof buf) {
        put_html(out, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    memcpy(buf, s, max);
    buf[max] = '\0';
    put_html(out, buf);
    fputs("…", out);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static const char *severity_class(enum fsan_severity s)
{
    switch (s) {
    case FSAN_SEV_ERROR:
        return "error";
    case FSAN_SEV_WARNING:
        return "warning";
    case FSAN_SEV_NOTE:
    case FSAN_SEV_NONE:
        break;
    }
    return "note";
}

/* ---- the process tree ---------------------------------------------------- */

/* One drawn row: which process, how deep in the tree, where its bar starts. */
struct row {
    const struct fsan_process *p;
    int depth;
    int parent_row; /* -1 for a root */
    double x;
};

struct layout {
    struct row *rows;
    size_t nrows;
    size_t hidden;     /* processes beyond MAX_ROWS */
    int other_row;     /* 1 when findings need the "other processes" row */
    uint64_t t0, t1;   /* known start times, t0 <= t1; 0 when none known */
};

static int find_process(const struct fsan_report *r, int pid)
{
    for (size_t i = 0; i < r->nprocesses; i++)
        if (r->processes[i].pid == pid)
            return (int)i;
    return -1;
}

/* Children are visited in start order (unknown starts last, then by pid), so
 * rows read top to bottom as the run unfolded. */
static int earlier(const struct fsan_process *a, const struct fsan_process *b)
{
    if (a->start_ns != b->start_ns) {
        if (a->start_ns == 0 || b->start_ns == 0)
            return a->start_ns != 0;
        return a->start_ns < b->start_ns;
    }
    return a->pid < b->pid;
}

static int is_root(const struct fsan_report *r, const struct fsan_process *p)
{
    return p->ppid == p->pid || find_process(r, p->ppid) < 0;
}

/* Appends p and, depth first, its descendants.  `seen` guards against a
 * pid-reuse cycle in a damaged trace, which would otherwise recurse forever. */
static void visit(const struct fsan_report *r, struct layout *l, char *seen, size_t i, int depth,
                  int parent_row)
{
    const struct fsan_process *p = &r->processes[i];
    int me = (int)l->nrows;

    seen[i] = 1;
    if (l->nrows < MAX_ROWS)
        l->rows[l->nrows++] = (struct row){p, depth, parent_row, 0};
    else
        l->hidden++;
    for (;;) {
        size_t next = r->nprocesses;
        for (size_t j = 0; j < r->nprocesses; j++) {
            const struct fsan_process *c = &r->processes[j];
            if (seen[j] || c->ppid != p->pid || c->pid == p->pid)
                continue;
            if (next == r->nprocesses || earlier(c, &r->processes[next]))
                next = j;
        }
        if (next == r->nprocesses)
            return;
        visit(r, l, seen, next, depth + 1, me < MAX_ROWS ? me : -1);
    }
}

/* Roots in start order, then anything a cycle left unvisited. */
static void order_rows(const struct fsan_report *r, struct layout *l, char *seen)
{
    for (int pass = 0; pass < 2; pass++) {
        for (;;) {
            size_t next = r->nprocesses;
            for (size_t j = 0; j < r->nprocesses; j++) {
                if (seen[j] || (pass == 0 && !is_root(r, &r->processes[j])))
                    continue;
                if (next == r->nprocesses || earlier(&r->processes[j], &r->processes[next]))
                    next = j;
            }
            if (next == r->nprocesses)
                break;
            visit(r, l, seen, next, 0, -1);
        }
    }
}

static void time_range(const struct fsan_report *r, struct layout *l)
{
    l->t0 = l->t1 = 0;
    for (size_t i = 0; i < r->nprocesses; i++) {
        uint64_t t = r->processes[i].start_ns;
        if (t == 0)
            continue;
        if (l->t0 == 0 || t < l->t0)
            l->t0 = t;
        if (t > l->t1)
            l->t1 = t;
    }
}

/* x by start time when the trace gives a span of times; a process without
 * a known start sits just right of its parent, and without any span the
 * picture falls back to indenting by depth. */
static void place_rows(struct layout *l)
{
    int timed = l->t1 > l->t0;

    for (size_t i = 0; i < l->nrows; i++) {
        struct row *w = &l->rows[i];
        double parent_x = w->parent_row >= 0 ? l->rows[w->parent_row].x : TIME_X0;
        if (timed && w->p->start_ns != 0)
            w->x = TIME_X0 + (double)(w->p->start_ns - l->t0) * (TIME_X1 - TIME_X0) / (double)(l->t1 - l->t0);
        else if (timed)
            w->x = w->parent_row >= 0 ? parent_x + 12 : TIME_X0;
        else
            w->x = TIME_X0 + 24.0 * w->depth;
        if (w->x > TIME_X1)
            w->x = TIME_X1;
    }
}

static int row_of_pid(const struct layout *l, int pid)
{
    for (size_t i = 0; i < l->nrows; i++)
        if (l->rows[i].p->pid == pid)
            return (int)i;
    return -1;
}

/* The row a finding's mark goes on: its first pid that is drawn, or the
 * "other processes" row. */
static int mark_row(const struct layout *l, const struct fsan_finding *f)
{
    for (size_t i = 0; i < f->npids; i++) {
        int row = row_of_pid(l, f->pids[i]);
        if (row >= 0)
            return row;
    }
    return (int)l->nrows;
}

static int build_layout(const struct fsan_report *r, struct layout *l)
{
    char *seen = calloc(r->nprocesses + 1, 1);

    memset(l, 0, sizeof *l);
    l->rows = calloc(r->nprocesses < MAX_ROWS ? r->nprocesses + 1 : MAX_ROWS, sizeof *l->rows);
    if (seen == NULL || l->rows == NULL) {
        free(seen);
        free(l->rows);
        return -ENOMEM;
    }
    order_rows(r, l, seen);
    free(seen);
    time_range(r, l);
    place_rows(l);
    for (size_t i = 0; i < r->nfindings; i++)
        if (mark_row(l, &r->findings[i]) == (int)l->nrows)
            l->other_row = 1;
    return 0;
}

/* ---- the picture --------------------------------------------------------- */

static double row_y(size_t row)
{
    return AXIS_H + ROW_H * (double)row + ROW_H / 2.0;
}

/* "1.25 ms"; ns resolution is noise for a picture, so three digits do. */
static void put_duration(FILE *out, uint64_t ns)
{
    if (ns < 1000)
        fprintf(out, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        fprintf(out, "%.3g µs", ns / 1e3);
    else if (ns < 1000000000)
        fprintf(out, "%.3g ms", ns / 1e6);
    else
        fprintf(out, "%.4g s", ns / 1e9);
}

static void write_axis(FILE *out, const struct layout *l)
{
    fprintf(out, "<text class=\"axis-title\" x=\"8\" y=\"16\">process (pid, program)</text>\n");
    if (l->t1 <= l->t0) {
        fprintf(out, "<text class=\"axis-title\" x=\"%d\" y=\"16\">in fork order (too few start times "
                "recorded for a time scale)</text>\n",
                TIME_X0);
        return;
    }
    fprintf(out, "<text class=\"axis-title\" x=\"%d\" y=\"16\">start time, after the first process</text>\n",
            TIME_X0);
    for (int k = 0; k <= 4; k++) {
        double x = TIME_X0 + (TIME_X1 - TIME_X0) * k / 4.0;
        fprintf(out, "<line class=\"tick\" x1=\"%.1f\" y1=\"24\" x2=\"%.1f\" y2=\"%.1f\"/>", x, x,
                row_y(l->nrows + (size_t)l->other_row) - ROW_H / 2.0);
        fprintf(out, "<text class=\"tick-label\" x=\"%.1f\" y=\"34\">+", x + 3);
        put_duration(out, (l->t1 - l->t0) / 4 * (uint64_t)k);
        fputs("</text>\n", out);
    }
}

static void write_exit_text(FILE *out, const struct fsan_exit_info *e)
{
    if (strcmp(e->how, "signal") == 0)
        fprintf(out, "signal %d", e->status);
    else if (strcmp(e->how, "exec") == 0)
        fputs("exec", out);
    else if (e->status >= 0)
        fprintf(out, "%s %d", e->how, e->status);
    else
        put_html(out, e->how);
}

static void write_exit(FILE *out, const struct fsan_process *p, double y)
{
    if (!p->exit.known || p->exit.how == NULL) {
        fprintf(out, "<text class=\"exit-unknown\" x=\"%d\" y=\"%.1f\">no exit seen"
                "<title>the trace has no record of how this process ended (still running, "
                "killed, or ended before writing it)</title></text>\n",
                BAR_X1 + 8, y + 4);
        return;
    }
    fprintf(out, "<g class=\"exit-mark\"><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
            "<text x=\"%d\" y=\"%.1f\">", BAR_X1, y - BAR_H / 2.0 - 2, BAR_X1, y + BAR_H / 2.0 + 2,
            BAR_X1 + 8, y + 4);
    write_exit_text(out, &p->exit);
    fputs("</text></g>\n", out);
}

static void write_process_row(FILE *out, const struct layout *l, size_t i)
{
    const struct row *w = &l->rows[i];
    const struct fsan_process *p = w->p;
    double y = row_y(i);

    fprintf(out, "<g class=\"process\" id=\"proc-%d\"><title>pid %d, parent %d: ", p->pid, p->pid,
            p->ppid);
    put_html(out, p->exe != NULL ? p->exe : "(program unknown)");
    if (p->fork_site != NULL) {
        fputs("\nforked at ", out);
        put_html(out, p->fork_site);
    }
    fputs("</title>\n", out);
    fprintf(out, "<text class=\"label\" x=\"%d\" y=\"%.1f\"><tspan class=\"pid\">%d</tspan> ",
            8 + 14 * (w->depth < 12 ? w->depth : 12), y + 4, p->pid);
    put_html_clipped(out, base_name(p->exe), 28);
    fputs("</text>\n", out);
    fprintf(out, "<rect class=\"bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"3\"/>\n",
            p->is_fork_child ? " child" : "", w->x, y - BAR_H / 2.0, BAR_X1 - w->x, BAR_H);
    write_exit(out, p, y);
    fputs("</g>\n", out);
}

/* Parent's bar down to the child's bar, at the child's start. */
static void write_fork_edge(FILE *out, const struct layout *l, size_t i)
{
    const struct row *w = &l->rows[i];

    if (w->parent_row < 0)
        return;
    fprintf(out, "<path class=\"fork-edge\" d=\"M%.1f %.1f V%.1f\" marker-end=\"url(#arrow)\">"
            "<title>pid %d forked pid %d", w->x, row_y((size_t)w->parent_row) + BAR_H / 2.0,
            row_y(i) - BAR_H / 2.0 - 1, w->p->ppid, w->p->pid);
    if (w->p->forked_by_tid != 0)
        fprintf(out, " (thread %d", w->p->forked_by_tid);
    if (w->p->threads_at_fork > 1)
        fprintf(out, ", %d threads alive", w->p->threads_at_fork);
    if (w->p->forked_by_tid != 0)
        fputc(')', out);
    if (w->p->fork_site != NULL) {
        fputs(" at ", out);
        put_html(out, w->p->fork_site);
    }
    fputs("</title></path>\n", out);
}

static void write_other_row(FILE *out, const struct layout *l)
{
    double y = row_y(l->nrows);

    if (!l->other_row)
        return;
    fprintf(out, "<text class=\"label other\" x=\"8\" y=\"%.1f\">", y + 4);
    if (l->hidden > 0)
        fprintf(out, "%zu more %s, not drawn", l->hidden, plural(l->hidden, "process", "processes"));
    else
        fputs("process not in the trace", out);
    fprintf(out, "</text>\n<line class=\"other-line\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
            TIME_X0, y, BAR_X1, y);
}

/* One circle; `cls` tells the first (counted) mark of a finding from the
 * repeats on other processes. */
static void write_mark(FILE *out, const struct fsan_finding *f, size_t index, double x, double y,
                       const char *cls)
{
    fprintf(out, "<a href=\"#finding-%zu\"><circle class=\"%s sev-%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\">"
            "<title>%s: ", index + 1, cls, severity_class(f->severity), x, y, MARK_R,
            fsan_severity_name(f->severity));
    put_html(out, f->rule);
    fputs(": ", out);
    put_html(out, f->message);
    fputs("</title></circle></a>\n", out);
}

/* Marks sit in a row along the bar after its start, spaced closer when a
 * process has many, so they never run past the bar's end. */
static double mark_x(const struct layout *l, int row, unsigned k, unsigned total)
{
    double x0 = row < (int)l->nrows ? l->rows[row].x : TIME_X0;
    double room = BAR_X1 - x0 - 3 * MARK_R;
    double step = total > 1 && room / (total - 1) < 2.5 * MARK_R ? room / (total - 1) : 2.5 * MARK_R;

    return x0 + 2 * MARK_R + step * k;
}

static void write_marks(FILE *out, const struct fsan_report *r, const struct layout *l)
{
    size_t nslots = l->nrows + 1;
    unsigned *total = calloc(nslots, sizeof *total);
    unsigned *used = calloc(nslots, sizeof *used);

    if (total == NULL || used == NULL) {
        free(total);
        free(used);
        return;
    }
    /* First count the marks per row, so the spacing is known, then draw. */
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct fsan_finding *f = &r->findings[i];
        int first = mark_row(l, f);
        total[first]++;
        for (size_t j = 0; j < f->npids; j++) {
            int row = row_of_pid(l, f->pids[j]);
            if (row >= 0 && row != first)
                total[row]++;
        }
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct fsan_finding *f = &r->findings[i];
        int first = mark_row(l, f);
        write_mark(out, f, i, mark_x(l, first, used[first], total[first]), row_y((size_t)first),
                   "finding-mark");
        used[first]++;
        for (size_t j = 0; j < f->npids; j++) {
            int row = row_of_pid(l, f->pids[j]);
            if (row < 0 || row == first)
                continue;
            write_mark(out, f, i, mark_x(l, row, used[row], total[row]), row_y((size_t)row), "finding-also");
            used[row]++;
        }
    }
    free(total);
    free(used);
}

static void write_picture(FILE *out, const struct fsan_report *r, const struct layout *l)
{
    double height = row_y(l->nrows + (size_t)l->other_row) - ROW_H / 2.0 + 10;

    fputs("<section id=\"timeline\"><h2>Processes</h2>\n", out);
    fprintf(out, "<svg class=\"timeline\" role=\"img\" "
            "aria-label=\"process tree and timeline\" viewBox=\"0 0 %d %.0f\" width=\"%d\" height=\"%.0f\">\n",
            SVG_WIDTH, height, SVG_WIDTH, height);
    fputs("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
          "markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" class=\"arrow-head\"/>"
          "</marker></defs>\n", out);
    write_axis(out, l);
    for (size_t i = 0; i < l->nrows; i++)
        write_process_row(out, l, i);
    write_other_row(out, l);
    for (size_t i = 0; i < l->nrows; i++)
        write_fork_edge(out, l, i);
    write_marks(out, r, l);
    fputs("</svg>\n", out);
    fputs("<p class=\"legend\"><span class=\"dot sev-error\"></span> error "
          "<span class=\"dot sev-warning\"></span> warning <span class=\"dot sev-note\"></span> note "
          "&nbsp;— a mark is a finding in that process (click it for the stacks); an arrow is a fork; "
          "the text at the right says how the process ended.</p>\n", out);
}

/* ---- the process table --------------------------------------------------- */

static void write_start(FILE *out, const struct fsan_process *p, const struct layout *l)
{
    if (p->start_ns == 0) {
        fputs("?", out);
        return;
    }
    fputc('+', out);
    put_duration(out, p->start_ns - l->t0);
}

static void write_table(FILE *out, const struct fsan_report *r, const struct layout *l)
{
    fputs("<table class=\"procs\"><thead><tr><th>pid</th><th>parent</th><th>program</th>"
          "<th>started</th><th>fork site</th><th>threads at fork</th><th>ended</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < r->nprocesses; i++) {
        const struct fsan_process *p = &r->processes[i];
        fprintf(out, "<tr><td>%d</td><td>%d</td><td class=\"path\">", p->pid, p->ppid);
        put_html(out, p->exe != NULL ? p->exe : "?");
        fputs("</td><td>", out);
        write_start(out, p, l);
        fputs("</td><td class=\"path\">", out);
        put_html(out, p->fork_site != NULL ? p->fork_site : (p->is_fork_child ? "?" : "—"));
        fputs("</td><td>", out);
        if (p->is_fork_child)
            fprintf(out, "%d", p->threads_at_fork);
        fputs("</td><td>", out);
        if (p->exit.known && p->exit.how != NULL)
            write_exit_text(out, &p->exit);
        else
            fputs("?", out);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table></section>\n", out);
}

/* ---- findings ------------------------------------------------------------ */

static int is_python_frame(const struct fsan_frame *f)
{
    return f->language != NULL && strcmp(f->language, "python") == 0;
}

static void write_module_offset(FILE *out, const struct fsan_frame *f)
{
    if (f->module == NULL) {
        fputs(" <span class=\"mod\">(&lt;unknown module&gt;)</span>", out);
        return;
    }
    fputs(" <span class=\"mod\">(", out);
    put_html(out, f->module);
    fprintf(out, "+0x%" PRIx64 ")</span>", f->module_offset);
}

/* Same three forms as the text report (see render_text.c), marked up. */
static void write_native_frame(FILE *out, size_t index, const struct fsan_frame *f)
{
    fprintf(out, "<span class=\"frame\">#%zu 0x%" PRIx64, index, f->address);
    if (f->function != NULL) {
        fputs(" in <span class=\"fn\">", out);
        put_html(out, f->function);
        fputs("</span>", out);
    }
    if (f->function == NULL || f->file == NULL) {
        write_module_offset(out, f);
    } else {
        fputs(" <span class=\"src\">", out);
        put_html(out, f->file);
        if (f->line > 0)
            fprintf(out, ":%d", f->line);
        fputs("</span>", out);
    }
    fputs("</span>\n", out);
}

static void write_python_frame(FILE *out, const struct fsan_frame *f)
{
    fputs("<span class=\"frame py\">File \"<span class=\"src\">", out);
    put_html_q(out, f->file != NULL ? f->file : "<unknown>", 1);
    if (f->line > 0)
        fprintf(out, "</span>\", line %d, in <span class=\"fn\">", f->line);
    else
        fputs("</span>\", line ?, in <span class=\"fn\">", out);
    put_html(out, f->function != NULL ? f->function : "<unknown>");
    fputs("</span></span>\n", out);
}

static void write_heading(FILE *out, const struct fsan_location *l)
{
    fputs("<h4>", out);
    if (l->description != NULL) {
        put_html(out, l->description);
        fputs("</h4>\n", out);
        return;
    }
    /* The same headings as the text report's (common/model.c). */
    const char *heading = fsan_role_heading(l->role);
    if (heading != NULL) {
        fprintf(out, "%s</h4>\n", heading);
        return;
    }
    /* A role the table in common/model.c does not know still reads
     * sensibly as "role:". */
    put_html(out, l->role != NULL ? l->role : "location");
    fputs(":</h4>\n", out);
}

static void write_location(FILE *out, const struct fsan_location *l)
{
    fputs("<div class=\"location\">", out);
    write_heading(out, l);
    if (l->has_thread) {
        fprintf(out, "<p class=\"thread\">thread T%d", l->tid);
        if (l->thread_name != NULL) {
            fputs(" \"", out);
            put_html_q(out, l->thread_name, 1);
            fputc('"', out);
        }
        fputs("</p>\n", out);
    }
    fputs("<pre class=\"stack\">", out);
    if (l->nframes == 0)
        fputs("(no stack recorded)\n", out);
    for (size_t i = 0; i < l->nframes; i++) {
        if (is_python_frame(&l->frames[i]))
            write_python_frame(out, &l->frames[i]);
        else
            write_native_frame(out, i, &l->frames[i]);
    }
    fputs("</pre></div>\n", out);
}

/* A pid links to its process in the picture when it has one there. */
static void write_pids(FILE *out, const struct fsan_report *r, const struct fsan_finding *f)
{
    size_t total = f->count > f->npids ? f->count : f->npids;
    size_t shown = f->npids < MAX_PIDS_SHOWN ? f->npids : MAX_PIDS_SHOWN;

    if (total == 0)
        return;
    fprintf(out, "<p class=\"seen\">seen in %zu %s", total, plural(total, "process", "processes"));
    for (size_t i = 0; i < shown; i++)
    {
        fputs(i == 0 ? ": pid " : ", ", out);
        if (find_process(r, f->pids[i]) >= 0)
            fprintf(out, "<a href=\"#proc-%d\">%d</a>", f->pids[i], f->pids[i]);
        else
            fprintf(out, "%d", f->pids[i]);
    }
    if (shown > 0 && total > shown)
        fprintf(out, " (and %zu more)", total - shown);
    fputs("</p>\n", out);
}

static void write_finding(FILE *out, const struct fsan_report *r, const struct fsan_finding *f, size_t index)
{
    const struct fsan_rule_info *info = f->rule != NULL ? fsan_rule_find(f->rule) : NULL;
    const char *sev = severity_class(f->severity);

    fprintf(out, "<section class=\"finding sev-%s\" id=\"finding-%zu\">\n<h3><span class=\"badge sev-%s\">%s</span> ",
            sev, index + 1, sev, fsan_severity_name(f->severity));
    put_html(out, f->rule != NULL ? f->rule : "unknown-rule");
    if (f->baseline != NULL) {
        fputs(" <span class=\"baseline\">", out);
        put_html(out, f->baseline);
        fputs("</span>", out);
    }
    fputs("</h3>\n<p class=\"message\">", out);
    put_html(out, f->message);
    fputs("</p>\n", out);
    if (info != NULL) {
        fputs("<p class=\"rule\">", out);
        put_html(out, info->title);
        fputs(" — <code>forksan explain ", out);
        put_html(out, info->id);
        fputs("</code></p>\n", out);
    }
    write_pids(out, r, f);
    fprintf(out, "<p class=\"fingerprint\">fingerprint %s</p>\n", f->fingerprint);
    for (size_t i = 0; i < f->nlocations; i++)
        write_location(out, &f->locations[i]);
    fputs("</section>\n", out);
}

/* ---- the document -------------------------------------------------------- */

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:16px 24px;"
    "max-width:1240px;color:#1d2430;background:#fff}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #d8dde6}\n"
    "h3{font-size:16px;margin:0 0 6px}h4{font-size:14px;margin:10px 0 2px;font-weight:600}\n"
    "code,pre,.path,.cmd{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}\n"
    ".cmd{background:#f3f5f8;padding:2px 6px;border-radius:3px;word-break:break-all}\n"
    ".summary{font-weight:600}\n"
    "svg.timeline{display:block;max-width:100%;height:auto;border:1px solid #d8dde6;border-radius:4px;background:#fbfcfd}\n"
    "svg text{font-family:system-ui,sans-serif;font-size:13px;fill:#1d2430}\n"
    "svg .axis-title{font-size:12px;fill:#5b6575;font-weight:600}\n"
    "svg .tick{stroke:#e3e7ee;stroke-width:1}svg .tick-label{font-size:11px;fill:#5b6575}\n"
    "svg .pid{font-weight:700}svg .label.other{fill:#5b6575;font-style:italic}\n"
    "svg .bar{fill:#cfe0f5;stroke:#4d79b3;stroke-width:1}svg .bar.child{fill:#dcefdc;stroke:#4c8c4a}\n"
    "svg .other-line{stroke:#b8c0cc;stroke-dasharray:4 3}\n"
    "svg .fork-edge{stroke:#4c8c4a;stroke-width:2;fill:none}svg .arrow-head{fill:#4c8c4a}\n"
    "svg .exit-mark line{stroke:#1d2430;stroke-width:3}svg .exit-unknown{fill:#8a93a3;font-style:italic}\n"
    "svg circle{stroke:#fff;stroke-width:1.5;cursor:pointer}\n"
    "svg circle.finding-also{opacity:.55}\n"
    ".sev-error{fill:#c62828;background:#c62828}.sev-warning{fill:#e08a00;background:#e08a00}"
    ".sev-note{fill:#2f6db5;background:#2f6db5}\n"
    ".legend{color:#5b6575;font-size:13px}.dot{display:inline-block;width:10px;height:10px;border-radius:50%}\n"
    "table.procs{border-collapse:collapse;margin-top:12px;width:100%}\n"
    "table.procs th,table.procs td{border-bottom:1px solid #e3e7ee;padding:3px 8px;text-align:left;vertical-align:top}\n"
    "table.procs td.path{word-break:break-all}\n"
    "section.finding{border:1px solid #d8dde6;border-left-width:6px;border-radius:4px;padding:10px 14px;margin:12px 0;background:#fff}\n"
    "section.finding.sev-error{border-left-color:#c62828}section.finding.sev-warning{border-left-color:#e08a00}"
    "section.finding.sev-note{border-left-color:#2f6db5}section.finding:target{box-shadow:0 0 0 3px #ffd54f}\n"
    ".badge{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;text-transform:uppercase;vertical-align:1px}\n"
    ".baseline{font-size:12px;color:#5b6575;border:1px solid #b8c0cc;border-radius:3px;padding:0 5px}\n"
    ".message{margin:0 0 4px;font-weight:600;word-break:break-word}.rule,.seen,.fingerprint,.thread{margin:2px 0;color:#3b4452}\n"
    ".fingerprint{font-size:12px;color:#8a93a3}\n"
    "pre.stack{margin:2px 0 4px;padding:6px 10px;background:#f3f5f8;border-radius:3px;overflow-x:auto;white-space:pre}\n"
    ".fn{color:#7a2f8f;font-weight:600}.src{color:#1f6b3a}.mod{color:#6b7280}\n"
    ".notice{color:#5b6575}\n";

static void write_head(FILE *out, const struct fsan_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", out);
    /* No load of any kind, so the file is the whole report. */
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n", out);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>forksan report", out);
    if (r->ncommand > 0) {
        fputs(": ", out);
        put_html(out, base_name(r->command[0]));
    }
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", STYLE);
}

static void write_command(FILE *out, const struct fsan_report *r)
{
    if (r->ncommand == 0)
        return;
    fputs("<p>command: <span class=\"cmd\">", out);
    for (size_t i = 0; i < r->ncommand; i++) {
        if (i > 0)
            fputc(' ', out);
        put_html(out, r->command[i]);
    }
    fputs("</span>", out);
    if (r->exit_status >= 0)
        fprintf(out, " — exit status %d", r->exit_status);
    fputs("</p>\n", out);
}

static void write_started(FILE *out, const struct layout *l)
{
    time_t secs = (time_t)(l->t0 / 1000000000u);
    struct tm tm;
    char when[64];

    if (l->t0 == 0 || gmtime_r(&secs, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        return;
    fprintf(out, "<p>first recorded start: %s UTC</p>\n", when);
}

static void write_summary(FILE *out, const struct fsan_report *r)
{
    size_t count[FSAN_SEV_ERROR + 1] = {0};
    size_t np = r->nprocesses;

    fputs("<p class=\"summary\">", out);
    if (r->nfindings == 0) {
        fprintf(out, "no fork hazards found in %zu %s</p>\n", np, plural(np, "process", "processes"));
        return;
    }
    for (size_t i = 0; i < r->nfindings; i++)
        if ((unsigned)r->findings[i].severity <= FSAN_SEV_ERROR)
            count[r->findings[i].severity]++;
    fprintf(out, "%zu %s, %zu %s, %zu %s in %zu %s</p>\n", count[FSAN_SEV_ERROR],
            plural(count[FSAN_SEV_ERROR], "error", "errors"), count[FSAN_SEV_WARNING],
            plural(count[FSAN_SEV_WARNING], "warning", "warnings"), count[FSAN_SEV_NOTE],
            plural(count[FSAN_SEV_NOTE], "note", "notes"), np, plural(np, "process", "processes"));
}

static void write_notes(FILE *out, const struct fsan_report *r)
{
    if (r->nnotices == 0 && r->nfixed == 0 && r->nsuppressed == 0 && r->nunmatched == 0)
        return;
    fputs("<section id=\"notices\"><h2>Notes</h2><ul>\n", out);
    for (size_t i = 0; i < r->nnotices; i++) {
        fputs("<li class=\"notice\">", out);
        put_html(out, r->notices[i]);
        fputs("</li>\n", out);
    }
    for (size_t i = 0; i < r->nfixed; i++) {
        fprintf(out, "<li class=\"notice fixed\">fixed since the baseline: %s ", fsan_severity_name(r->fixed[i].severity));
        put_html(out, r->fixed[i].rule);
        fputs(": ", out);
        put_html(out, r->fixed[i].message);
        fputs("</li>\n", out);
    }
    if (r->nsuppressed > 0)
        fprintf(out, "<li class=\"notice\">%zu %s suppressed</li>\n", r->nsuppressed,
                plural(r->nsuppressed, "finding", "findings"));
    for (size_t i = 0; i < r->nunmatched; i++) {
        fputs("<li class=\"notice\">suppression matched nothing: ", out);
        put_html(out, r->unmatched_suppressions[i]);
        fputs("</li>\n", out);
    }
    fputs("</ul></section>\n", out);
}

int fsan_render_html(FILE *out, const struct fsan_report *r)
{
    struct layout l;
    int rc;

    if (out == NULL || r == NULL)
        return -EINVAL;
    rc = build_layout(r, &l);
    if (rc < 0)
        return rc;
    write_head(out, r);
    fprintf(out, "<header><h1>forksan report</h1>\n");
    write_command(out, r);
    write_started(out, &l);
    write_summary(out, r);
    fputs("</header>\n", out);
    write_picture(out, r, &l);
    write_table(out, r, &l);
    fprintf(out, "<section id=\"findings\"><h2>Findings (%zu)</h2>\n", r->nfindings);
    for (size_t i = 0; i < r->nfindings; i++)
        write_finding(out, r, &r->findings[i], i);
    fputs("</section>\n", out);
    write_notes(out, r);
    fprintf(out, "<footer class=\"notice\"><p>forksan %s</p></footer>\n</body>\n</html>\n",
            r->tool_version != NULL ? r->tool_version : "");
    free(l.rows);
    errno = 0;
    if (fflush(out) == EOF)
        return errno ? -errno : -EIO;
    return ferror(out) ? -EIO : 0;
}

/* pipeline.c — from a trace directory to a written report, each step
 * once and in this order: load the traces, apply the rules (which also
 * build the process list, which the command forksan run started then
 * joins), add what the runtime said live while the command ran (forksan
 * run's supervisor FIFO) and the children its watchdog found hung (or,
 * for forksan report, kept in the directory: hangfile.c),
 * compare with the --baseline report, remove the suppressed findings and
 * settle the severities that depended on them, and render.  `forksan
 * run` and `forksan report` both end here; `forksan lint` (lint.c) builds
 * its findings from ELF files and joins at fsan_finish_report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "baseline.h"
#include "cli.h"
#include "finding.h"
#include "render.h"
#include "supervise.h"
#include "suppress.h"
#include "watchdog.h"

static FILE *open_output(const char *output)
{
    if (!output)
        return stderr;
    if (strcmp(output, "-") == 0)
        return stdout;
    FILE *f = fopen(output, "w");
    if (!f)
        fprintf(stderr, "forksan: cannot write the report to '%s': %s\n", output, strerror(errno));
    return f;
}

/* --color auto colours only a terminal, and never when NO_COLOR is set to
 * anything non-empty (https://no-color.org); always and never are taken at
 * their word. */
static int want_color(int mode, FILE *out)
{
    if (mode == FSAN_COLOR_ALWAYS)
        return 1;
    if (mode == FSAN_COLOR_NEVER)
        return 0;
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        return 0;
    return isatty(fileno(out));
}

static int add_notice(struct fsan_report *r, const char *text)
{
    char **p = realloc(r->notices, (r->nnotices + 1) * sizeof *p);
    if (!p)
        return -ENOMEM;
    r->notices = p;
    if (!(p[r->nnotices] = strdup(text)))
        return -ENOMEM;
    r->nnotices++;
    return 0;
}

static int copy_command(struct fsan_cli *cli, struct fsan_report *r)
{
    if (cli->argc <= 0)
        return 0;
    r->command = calloc((size_t)cli->argc, sizeof *r->command);
    if (!r->command)
        return -ENOMEM;
    for (int i = 0; i < cli->argc; i++) {
        r->command[i] = strdup(cli->argv[i]);
        if (!r->command[i])
            return -ENOMEM;
        r->ncommand++;
    }
    return 0;
}

/* The common end of forksan run, report and lint: compare with the
 * baseline, suppress, settle the downgrades, render.  *worst receives the
 * highest severity that can fail the run. */
int fsan_finish_report(struct fsan_cli *cli, struct fsan_report *report, enum fsan_severity *worst)
{
    int rc = 0;
    /* The baseline is compared before suppressing, so that a baseline
     * finding which is now only suppressed is not called fixed. */
    if (rc == 0 && cli->base)
        rc = fsan_baseline_apply(cli->base, report);
    if (rc == 0 && cli->supp)
        rc = fsan_suppressions_apply(cli->supp, report);
    /* A threads-at-fork whose orphaned-lock findings were all suppressed
     * (a runtime's internal lock) is a note, not a warning. */
    if (rc == 0)
        rc = fsan_apply_downgrades(report);
    if (rc == 0)
        rc = fsan_watchdog_annotate(report);
    struct fsan_text_options text_opts = {.color = 0, .tree = cli->tree};
    FILE *out = rc == 0 ? open_output(cli->output) : NULL;
    if (out)
        text_opts.color = want_color(cli->color, out);
    if (rc < 0)
        fprintf(stderr, "forksan: analysis failed: %s\n", strerror(-rc));
    if (out) {
        rc = cli->format == FSAN_FORMAT_JSON    ? fsan_render_json(out, report)
             : cli->format == FSAN_FORMAT_SARIF ? fsan_render_sarif(out, report)
             : cli->format == FSAN_FORMAT_HTML  ? fsan_render_html(out, report)
                                                : fsan_render_text_opts(out, report, (int)getpid(), &text_opts);
        if (fflush(out) != 0 || rc < 0)
            rc = rc < 0 ? rc : -EIO;
        if (out != stderr && out != stdout)
            rc = fclose(out) != 0 && rc == 0 ? -EIO : rc;
        if (rc < 0)
            fprintf(stderr, "forksan: writing the report failed: %s\n", strerror(-rc));
    } else if (rc == 0) {
        rc = -EIO;
    }
    /* With a baseline, only new findings can fail the run: that is what
     * lets a project adopt forksan without fixing everything first. */
    for (size_t i = 0; i < report->nfindings; i++)
        if (report->findings[i].severity > *worst &&
            (report->findings[i].baseline == NULL || strcmp(report->findings[i].baseline, "new") == 0))
            *worst = report->findings[i].severity;
    return rc;
}

int fsan_report_dir(struct fsan_cli *cli, const char *dir, int exit_status, enum fsan_severity *worst)
{
    struct fsan_trace_set set = {0};
    char err[1024];
    int rc = fsan_load_dir(dir, &set, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "forksan: %s\n", err);
        return rc;
    }
    struct fsan_report report = {0};
    report.tool_version = FORKSAN_VERSION;
    report.exit_status = exit_status;
    struct fsan_symbolizer *sym = fsan_symbolizer_new();
    struct fsan_analyze_options analyze_opts = {.native_frames = cli->native_frames};
    /* The rules, over the traces. */
    rc = sym ? fsan_analyze_opts(&set, sym, &analyze_opts, &report) : -ENOMEM;
    if (rc == 0)
        rc = copy_command(cli, &report);
    /* The command itself joins the process list built by the rules. */
    if (rc == 0 && cli->root_pid > 0)
        rc = fsan_processes_add_root(&report, cli->root_pid, (int)getpid(),
                                     cli->root_exe ? cli->root_exe : cli->argv[0], exit_status);
    if (rc == 0 && cli->unwatched[0])
        rc = add_notice(&report, cli->unwatched);
    if (rc == 0 && cli->sup)
        rc = fsan_supervisor_apply(cli->sup, &report);
    /* The children the watchdog found hung: those of this run, or, for
     * forksan report, those forksan run kept in the directory. */
    if (rc == 0 && cli->watchdog)
        rc = fsan_watchdog_apply(cli->watchdog, sym, &report);
    else if (rc == 0)
        rc = fsan_hangs_apply_dir(dir, sym, &report);
    if (rc < 0)
        fprintf(stderr, "forksan: analysis failed: %s\n", strerror(-rc));
    else
        rc = fsan_finish_report(cli, &report, worst);
    fsan_report_free(&report);
    fsan_symbolizer_free(sym);
    fsan_trace_set_free(&set);
    return rc;
}

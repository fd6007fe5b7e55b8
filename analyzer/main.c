/* main.c — the forksan command: argument parsing and dispatch.
 *
 *   forksan run [OPTIONS] [--] CMD [ARGS...]
 *   forksan report [OPTIONS] DIR
 *   forksan lint [OPTIONS] [--python PYTHON] FILE|DIR...
 *   forksan explain [RULE]
 *
 * DESIGN
 * GNU-style long options, parsed with getopt_long in "+" mode so that the
 * watched command's own options are never taken for ours.  Usage errors
 * exit 2 with one line naming the problem and the fix, like the tools this
 * one sits beside (sanitizers, valgrind, strace).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "cli.h"
#include "lint.h"
#include "options.h"
#include "watchdog.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: forksan run [OPTIONS] [--] CMD [ARGS...]\n"
            "       forksan report [OPTIONS] TRACE_DIR\n"
            "       forksan lint [OPTIONS] [--python PYTHON] [FILE|DIR...]\n"
            "       forksan explain [RULE]\n"
            "\n"
            "forksan finds fork hazards: locks held by threads that vanish at fork,\n"
            "children that deadlock on them, threads lost at fork.\n"
            "\n"
            "Commands:\n"
            "  run       run CMD with the forksan runtime preloaded, then report\n"
            "  report    report on the traces a run left in TRACE_DIR\n"
            "  lint      find fork hazards in ELF programs and shared objects without\n"
            "            running them (directories are searched)\n"
            "  explain   describe a rule (all rules without an argument)\n"
            "\n"
            "Options:\n"
            "  --format text|json|sarif|html\n"
            "                          report format (default: text)\n"
            "  -o, --output FILE       write the report to FILE ('-' = stdout; default: stderr)\n"
            "  --fail-on error|warning|note|never\n"
            "                          exit with --exitcode when a finding is at least this\n"
            "                          severe (default: error)\n"
            "  --exitcode N            that exit status (default: 66)\n"
            "  --mode observe|strict|safe\n"
            "                          observe: never change the program (default);\n"
            "                          strict: a child about to deadlock reports and exits,\n"
            "                          a hung child is ended (--hang-timeout);\n"
            "                          safe: remedy what can be remedied (each remedy is a\n"
            "                          'remedied' note), end the rest like strict\n"
            "  --hang-timeout SECONDS  report a fork child whose threads have all been blocked,\n"
            "                          in waits only it could end, this long (default: 10;\n"
            "                          0: no watchdog)\n"
            "  --trace-dir DIR         keep the traces in DIR (created if missing)\n"
            "  --keep-traces           keep the temporary trace directory and print its name\n"
            "  --suppressions FILE     hide the findings FILE's entries match (repeatable;\n"
            "                          default: FORKSAN_OPTIONS=suppressions=FILE)\n"
            "  --no-builtin-suppressions\n"
            "                          also show what the built-in list hides (runtime locks)\n"
            "  --baseline OLD.json     mark findings new or unchanged against an earlier JSON\n"
            "                          report, list fixed ones; --fail-on counts new ones only\n"
            "  --color auto|always|never\n"
            "                          colour the text report (auto: a terminal, NO_COLOR unset)\n"
            "  --tree                  text report: show the process tree first\n"
            "  --native-frames         where a stack has Python frames, also show the\n"
            "                          native frames after them (default: Python only)\n"
            "  --python PYTHON         lint: also the extension modules on PYTHON's import\n"
            "                          path that link code creating threads\n"
            "  -j, --jobs N            lint: examine N files at a time (default: one per CPU)\n"
            "  -h, --help              this help\n"
            "  --version               print the version\n"
            "\n"
            "Exit status: CMD's own status, or --exitcode when findings reach --fail-on;\n"
            "2 for usage errors, 127 when CMD cannot be found.  lint: 0, --exitcode when\n"
            "findings reach --fail-on, else 74 when a file could not be read.\n"
            "Runtime options go in FORKSAN_OPTIONS (FORKSAN_OPTIONS=help=1 lists them).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "forksan: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'forksan --help' for more information.\n");
    return FSAN_EXIT_USAGE;
}

/* Suppression, baseline and text-report options (numbered apart so the
 * list above can grow without renumbering these). */
enum { OPT_SUPPRESSIONS = 512, OPT_NO_BUILTIN_SUPP, OPT_BASELINE, OPT_COLOR, OPT_TREE, OPT_NATIVE_FRAMES };

/* The hang watchdog's option. */
enum { OPT_HANG_TIMEOUT = 768 };

/* lint's own options. */
enum { OPT_PYTHON = 1024 };

enum { OPT_FORMAT = 256, OPT_FAIL_ON, OPT_EXITCODE, OPT_MODE, OPT_TRACE_DIR, OPT_KEEP, OPT_VERSION };

static const struct option long_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"exitcode", required_argument, NULL, OPT_EXITCODE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"trace-dir", required_argument, NULL, OPT_TRACE_DIR},
    {"keep-traces", no_argument, NULL, OPT_KEEP},
    {"suppressions", required_argument, NULL, OPT_SUPPRESSIONS},
    {"no-builtin-suppressions", no_argument, NULL, OPT_NO_BUILTIN_SUPP},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"color", required_argument, NULL, OPT_COLOR},
    {"tree", no_argument, NULL, OPT_TREE},
    {"native-frames", no_argument, NULL, OPT_NATIVE_FRAMES},
    {"hang-timeout", required_argument, NULL, OPT_HANG_TIMEOUT},
    {"python", required_argument, NULL, OPT_PYTHON},
    {"jobs", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* --suppressions may be given several times; the list lives as long as the
 * process, so it is never freed. */
static int add_suppressions(struct fsan_cli *cli, const char *path)
{
    const char **grown = realloc(cli->suppressions, ((size_t)cli->nsuppressions + 1) * sizeof *grown);
    if (!grown) {
        fprintf(stderr, "forksan: out of memory\n");
        return 1;
    }
    cli->suppressions = grown;
    grown[cli->nsuppressions++] = path;
    return -1;
}

/* Returns -1 to go on, else an exit status. */
static int parse_option(struct fsan_cli *cli, int opt, const char *arg)
{
    char *end;
    switch (opt) {
    case OPT_FORMAT:
        if (strcmp(arg, "text") == 0)
            cli->format = FSAN_FORMAT_TEXT;
        else if (strcmp(arg, "json") == 0)
            cli->format = FSAN_FORMAT_JSON;
        else if (strcmp(arg, "sarif") == 0)
            cli->format = FSAN_FORMAT_SARIF;
        else if (strcmp(arg, "html") == 0)
            cli->format = FSAN_FORMAT_HTML;
        else
            return usage_error("unknown --format '%s' (expected text, json, sarif or html)", arg);
        return -1;
    case 'o': cli->output = arg; return -1;
    case OPT_FAIL_ON:
        if (fsan_severity_parse(arg, &cli->fail_on) < 0)
            return usage_error("unknown --fail-on '%s' (expected error, warning, note or never)", arg);
        return -1;
    case OPT_EXITCODE:
        cli->exitcode = (int)strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || cli->exitcode < 0 || cli->exitcode > 255)
            return usage_error("bad --exitcode '%s' (expected 0..255)", arg);
        return -1;
    case OPT_MODE:
        if (strcmp(arg, "observe") == 0)
            cli->mode = FSAN_MODE_OBSERVE;
        else if (strcmp(arg, "strict") == 0)
            cli->mode = FSAN_MODE_STRICT;
        else if (strcmp(arg, "safe") == 0)
            cli->mode = FSAN_MODE_SAFE;
        else
            return usage_error("unknown --mode '%s' (expected observe, strict or safe)", arg);
        return -1;
    case OPT_TRACE_DIR: cli->trace_dir = arg; return -1;
    case OPT_KEEP: cli->keep_traces = 1; return -1;
    case OPT_SUPPRESSIONS: return add_suppressions(cli, arg);
    case OPT_NO_BUILTIN_SUPP: cli->no_builtin_suppressions = 1; return -1;
    case OPT_BASELINE: cli->baseline = arg; return -1;
    case OPT_COLOR:
        if (strcmp(arg, "auto") == 0)
            cli->color = FSAN_COLOR_AUTO;
        else if (strcmp(arg, "always") == 0)
            cli->color = FSAN_COLOR_ALWAYS;
        else if (strcmp(arg, "never") == 0)
            cli->color = FSAN_COLOR_NEVER;
        else
            return usage_error("unknown --color '%s' (expected auto, always or never)", arg);
        return -1;
    case OPT_TREE: cli->tree = 1; return -1;
    case OPT_NATIVE_FRAMES: cli->native_frames = 1; return -1;
    case OPT_HANG_TIMEOUT: {
        long seconds = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || seconds < 0 || seconds > 86400)
            return usage_error("bad --hang-timeout '%s' (expected seconds, 0..86400; 0 turns the watchdog off)", arg);
        cli->hang_timeout = (int)seconds;
        return -1;
    }
    case OPT_PYTHON:
        if (*arg == '\0')
            return usage_error("%s", "--python needs an interpreter: --python /usr/bin/python3");
        cli->lint_python = arg;
        return -1;
    case 'j': {
        long jobs = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || jobs < 1 || jobs > 1024)
            return usage_error("bad --jobs '%s' (expected a number of files at a time, 1..1024)", arg);
        cli->lint_jobs = (int)jobs;
        return -1;
    }
    case 'h': usage(stdout); return 0;
    case OPT_VERSION: printf("forksan %s\n", FORKSAN_VERSION); return 0;
    }
    fprintf(stderr, "Try 'forksan --help' for more information.\n");
    return FSAN_EXIT_USAGE;
}

/* `forksan explain [RULE]`: without RULE, one line per rule of the
 * catalogue (id, default severity, title); with it, the rule's id, default
 * severity and title, then the sections "What happens", "Fix (C)",
 * "Fix (Python)" and "Example", the same texts and headings as forksan(7)
 * and the SARIF rule help, all from common/rules.def.  Prose is wrapped to
 * fit 80 columns, keeping the catalogue's paragraphs (a blank line); the
 * example keeps its own lines, indented like the prose so it stands apart
 * from the headings. */
static int explain(int argc, char **argv)
{
    enum { INDENT = 4, WIDTH = 78 };

    if (argc <= 0) {
        for (int i = 0; i < FSAN_RULE_COUNT; i++) {
            const struct fsan_rule_info *r = fsan_rule_info((enum fsan_rule_index)i);
            printf("%-22s %-8s %s\n", r->id, fsan_severity_name(r->default_severity), r->title);
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc > 1)
        return usage_error("explain takes one rule, not '%s' as well", argv[1]);
    const struct fsan_rule_info *r = fsan_rule_find(argv[0]);
    if (!r)
        return usage_error("unknown rule '%s' ('forksan explain' lists the rules)", argv[0]);

    const struct {
        const char *heading, *text;
        int is_code;
    } sections[] = {
        {"What happens", r->explanation, 0},
        {"Fix (C)", r->fix_c, 0},
        {"Fix (Python)", r->fix_python, 0},
        {"Example", r->example, 1},
    };
    printf("%s (default severity: %s)\n  %s\n", r->id, fsan_severity_name(r->default_severity), r->title);
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        const char *p = sections[s].text;
        printf("\n%s\n", sections[s].heading);
        if (sections[s].is_code) {
            while (*p) {
                size_t len = strcspn(p, "\n");
                if (len > 0)
                    printf("%*s%.*s", INDENT, "", (int)len, p);
                putchar('\n');
                p += len + (p[len] == '\n');
            }
            continue;
        }
        /* Greedy word wrap; a word longer than the line gets a line of its own. */
        size_t col = 0;
        while (*p) {
            if (p[0] == '\n' && p[1] == '\n') {
                if (col > 0)
                    putchar('\n');
                putchar('\n');
                col = 0;
                while (*p == '\n')
                    p++;
                continue;
            }
            if (*p == ' ' || *p == '\n') {
                p++;
                continue;
            }
            size_t len = strcspn(p, " \n");
            if (col > 0 && col + 1 + len > WIDTH) {
                putchar('\n');
                col = 0;
            }
            col += col == 0 ? (size_t)printf("%*s", INDENT, "") : (size_t)printf(" ");
            col += (size_t)printf("%.*s", (int)len, p);
            p += len;
        }
        if (col > 0)
            putchar('\n');
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct fsan_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.format = FSAN_FORMAT_TEXT;
    cli.fail_on = FSAN_SEV_ERROR;
    cli.mode = FSAN_MODE_OBSERVE;
    cli.exitcode = 66;
    cli.hang_timeout = FSAN_HANG_TIMEOUT_DEFAULT;
    if (argc < 2) {
        usage(stderr);
        return FSAN_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("forksan %s\n", FORKSAN_VERSION);
        return 0;
    }
    if (strcmp(cmd, "explain") == 0)
        return explain(argc - 2, argv + 2);
    int lint = strcmp(cmd, "lint") == 0;
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "report") != 0 && !lint)
        return usage_error("unknown command '%s' (expected run, report, lint or explain)", cmd);

    optind = 2;
    opterr = 1;
    int opt;
    /* lint takes options after its files too; run must not take CMD's. */
    while ((opt = getopt_long(argc, argv, lint ? "o:hj:" : "+o:h", long_options, NULL)) != -1) {
        int rc = parse_option(&cli, opt, optarg);
        if (rc >= 0)
            return rc;
    }
    if (!lint && (cli.lint_python || cli.lint_jobs))
        return usage_error("%s is an option of forksan lint only", cli.lint_python ? "--python" : "--jobs");
    if (strcmp(cmd, "report") == 0) {
        if (optind != argc - 1)
            return usage_error("%s", "report needs exactly one TRACE_DIR");
        int status = fsan_cmd_report(&cli, argv[optind]);
        fsan_free_filters(&cli);
        return status;
    }
    if (lint) {
        if (optind >= argc && !cli.lint_python)
            return usage_error("%s", "lint needs at least one FILE or DIR, or --python PYTHON: forksan lint "
                                     "[OPTIONS] FILE|DIR...");
        int status = fsan_cmd_lint(&cli, argv + optind, argc - optind);
        fsan_free_filters(&cli);
        return status;
    }
    if (optind >= argc)
        return usage_error("%s", "run needs a command: forksan run [OPTIONS] -- CMD [ARGS...]");
    cli.argv = argv + optind;
    cli.argc = argc - optind;
    int status = fsan_cmd_run(&cli);
    fsan_free_filters(&cli);
    return status;
}

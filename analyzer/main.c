/* main.c — the forksan command: argument parsing and dispatch.
 *
 *   forksan run [OPTIONS] [--] CMD [ARGS...]
 *   forksan report [OPTIONS] DIR
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
#include "options.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: forksan run [OPTIONS] [--] CMD [ARGS...]\n"
            "       forksan report [OPTIONS] TRACE_DIR\n"
            "       forksan explain [RULE]\n"
            "\n"
            "forksan finds fork hazards: locks held by threads that vanish at fork,\n"
            "children that deadlock on them, threads lost at fork.\n"
            "\n"
            "Commands:\n"
            "  run       run CMD with the forksan runtime preloaded, then report\n"
            "  report    report on the traces a run left in TRACE_DIR\n"
            "  explain   describe a rule (all rules without an argument)\n"
            "\n"
            "Options:\n"
            "  --format text|json      report format (default: text)\n"
            "  -o, --output FILE       write the report to FILE ('-' = stdout; default: stderr)\n"
            "  --fail-on error|warning|note|never\n"
            "                          exit with --exitcode when a finding is at least this\n"
            "                          severe (default: error)\n"
            "  --exitcode N            that exit status (default: 66)\n"
            "  --mode observe|strict   observe: never change the program (default);\n"
            "                          strict: a child about to deadlock reports and exits\n"
            "  --trace-dir DIR         keep the traces in DIR (created if missing)\n"
            "  --keep-traces           keep the temporary trace directory and print its name\n"
            "  -h, --help              this help\n"
            "  --version               print the version\n"
            "\n"
            "Exit status: CMD's own status, or --exitcode when findings reach --fail-on;\n"
            "2 for usage errors, 127 when CMD cannot be found.\n"
            "Runtime options go in FORKSAN_OPTIONS (FORKSAN_OPTIONS=help=1 lists them).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "forksan: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'forksan --help' for more information.\n");
    return FSAN_EXIT_USAGE;
}

enum { OPT_FORMAT = 256, OPT_FAIL_ON, OPT_EXITCODE, OPT_MODE, OPT_TRACE_DIR, OPT_KEEP, OPT_VERSION };

static const struct option long_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"exitcode", required_argument, NULL, OPT_EXITCODE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"trace-dir", required_argument, NULL, OPT_TRACE_DIR},
    {"keep-traces", no_argument, NULL, OPT_KEEP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

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
        else
            return usage_error("unknown --format '%s' (expected text or json)", arg);
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
        else
            return usage_error("unknown --mode '%s' (expected observe or strict)", arg);
        return -1;
    case OPT_TRACE_DIR: cli->trace_dir = arg; return -1;
    case OPT_KEEP: cli->keep_traces = 1; return -1;
    case 'h': usage(stdout); return 0;
    case OPT_VERSION: printf("forksan %s\n", FORKSAN_VERSION); return 0;
    }
    fprintf(stderr, "Try 'forksan --help' for more information.\n");
    return FSAN_EXIT_USAGE;
}

static int explain(int argc, char **argv)
{
    if (argc <= 0) {
        for (int i = 0; i < FSAN_RULE_COUNT; i++) {
            const struct fsan_rule_info *r = fsan_rule_info((enum fsan_rule_index)i);
            printf("%-22s %-8s %s\n", r->id, fsan_severity_name(r->default_severity), r->title);
        }
        return 0;
    }
    const struct fsan_rule_info *r = fsan_rule_find(argv[0]);
    if (!r)
        return usage_error("unknown rule '%s' ('forksan explain' lists the rules)", argv[0]);
    printf("%s (default severity: %s)\n  %s\n\n%s\n", r->id, fsan_severity_name(r->default_severity), r->title,
           r->explanation);
    return 0;
}

int main(int argc, char **argv)
{
    struct fsan_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.format = FSAN_FORMAT_TEXT;
    cli.fail_on = FSAN_SEV_ERROR;
    cli.mode = FSAN_MODE_OBSERVE;
    cli.exitcode = 66;
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
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "report") != 0)
        return usage_error("unknown command '%s' (expected run, report or explain)", cmd);

    optind = 2;
    opterr = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+o:h", long_options, NULL)) != -1) {
        int rc = parse_option(&cli, opt, optarg);
        if (rc >= 0)
            return rc;
    }
    if (strcmp(cmd, "report") == 0) {
        if (optind != argc - 1)
            return usage_error("%s", "report needs exactly one TRACE_DIR");
        return fsan_cmd_report(&cli, argv[optind]);
    }
    if (optind >= argc)
        return usage_error("%s", "run needs a command: forksan run [OPTIONS] -- CMD [ARGS...]");
    cli.argv = argv + optind;
    cli.argc = argc - optind;
    return fsan_cmd_run(&cli);
}

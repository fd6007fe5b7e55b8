/* cli.h — the forksan command's pieces. */
#ifndef FSAN_CLI_H
#define FSAN_CLI_H

#include "model.h"

enum fsan_format { FSAN_FORMAT_TEXT, FSAN_FORMAT_JSON, FSAN_FORMAT_SARIF, FSAN_FORMAT_HTML };

struct fsan_supervisor;
struct fsan_watchdog;

struct fsan_cli {
    enum fsan_format format;
    const char *output;        /* NULL: stderr; "-": stdout */
    enum fsan_severity fail_on;
    int mode;                  /* FSAN_MODE_OBSERVE / STRICT */
    int exitcode;
    const char *trace_dir;     /* --trace-dir */
    int keep_traces;
    char **argv;               /* run: the command; lint: the files and directories */
    int argc;
    int root_pid;              /* run: the command's pid, once launched */
    const char *root_exe;      /* run: the resolved command path */
    char unwatched[512];       /* run: why the command itself could not be watched, or "" */
    /* Suppressions and baselines (suppress.c, baseline.c). */
    const char **suppressions; /* --suppressions FILE, in order (NULL-free, nsuppressions long) */
    int nsuppressions;
    int no_builtin_suppressions;
    const char *baseline;      /* --baseline OLD.json */
    int color;                 /* FSAN_COLOR_* */
    int tree;                  /* --tree */
    int native_frames;         /* --native-frames: native frames beside Python ones */
    struct fsan_suppressions *supp; /* loaded by fsan_load_filters, or NULL */
    struct fsan_baseline *base;     /* loaded by fsan_load_filters, or NULL */
    struct fsan_supervisor *sup;    /* run: what the runtime said while it ran, or NULL */
    int hang_timeout;               /* run: --hang-timeout seconds, 0: no watchdog */
    struct fsan_watchdog *watchdog; /* run: the hangs it found, or NULL */
    const char *lint_python;        /* lint: --python PYTHON, or NULL */
    int lint_jobs;                  /* lint: -j N, 0: one per CPU */
};

/* Both return the process exit status for forksan. */
int fsan_cmd_run(struct fsan_cli *cli);
int fsan_cmd_report(struct fsan_cli *cli, const char *dir);

/* Reads the suppression files (--suppressions, else FORKSAN_OPTIONS
 * suppressions=, plus the built-in list) and the --baseline report, before
 * anything runs.  Returns 0, or FSAN_EXIT_USAGE after printing the problem. */
int fsan_load_filters(struct fsan_cli *cli);
void fsan_free_filters(struct fsan_cli *cli);

/* Analyze dir and render (pipeline.c); *worst receives the highest
 * severity found. */
int fsan_report_dir(struct fsan_cli *cli, const char *dir, int exit_status, enum fsan_severity *worst);
/* The end every command shares (pipeline.c): baseline, suppressions,
 * downgrades, rendering; *worst as above.  0, or a negative errno after
 * printing the problem. */
int fsan_finish_report(struct fsan_cli *cli, struct fsan_report *report, enum fsan_severity *worst);

#define FSAN_EXIT_USAGE 2

/* --color */
enum { FSAN_COLOR_AUTO, FSAN_COLOR_ALWAYS, FSAN_COLOR_NEVER };

#endif

/* model.h — the analyzer's result: processes and findings, ready to render.
 *
 * The rules (rules.c) build it from traces; the renderers in reports/ only
 * read it.  Every string is owned by the report (freed by
 * fsan_report_free) so renderers never allocate or free.
 */
#ifndef FSAN_MODEL_H
#define FSAN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fsan_severity {
    FSAN_SEV_NONE = 0, /* for --fail-on never */
    FSAN_SEV_NOTE = 1,
    FSAN_SEV_WARNING = 2,
    FSAN_SEV_ERROR = 3,
};

const char *fsan_severity_name(enum fsan_severity s); /* "note", "warning", "error" */
int fsan_severity_parse(const char *text, enum fsan_severity *out); /* also "never" */

struct fsan_frame {
    char *function;   /* NULL when unknown */
    char *file;       /* NULL when unknown */
    int line;         /* 0 when unknown */
    char *module;     /* NULL when unknown */
    uint64_t address; /* runtime address (return address for callers) */
    uint64_t module_offset;
    const char *language; /* "c" or "python" (static string) */
};

struct fsan_location {
    const char *role;  /* acquired|attempt|fork|thread|created|use|check|exit (static) */
    int has_thread;
    int tid;
    char *thread_name; /* may be NULL */
    char *description; /* one sentence for humans, may be NULL */
    struct fsan_frame *frames; /* innermost first */
    size_t nframes;
};

struct fsan_finding {
    const char *rule;            /* stable rule id (static string) */
    enum fsan_severity severity;
    char *message;               /* one line */
    char fingerprint[17];        /* 16 hex digits */
    unsigned count;              /* processes in which it happened */
    int *pids;
    size_t npids;
    struct fsan_location *locations;
    size_t nlocations;
    const char *baseline;        /* NULL without --baseline, else "new" or "unchanged" (static) */
};

/* A finding of the baseline that this run no longer has (--baseline). */
struct fsan_fixed_finding {
    char *rule;
    enum fsan_severity severity;
    char *message;
    char fingerprint[17];
};

struct fsan_exit_info {
    int known;
    const char *how;  /* "exit", "_exit", "return", "strict", "signal", "exec" (static) */
    int status;       /* exit status, or signal number for "signal" */
};

struct fsan_process {
    int pid;
    int ppid;
    char *exe;
    int forked_by_tid;   /* 0 when not a fork child */
    int threads_at_fork; /* threads alive in the parent at the fork, incl. the forker; 0 when not a fork child */
    int is_fork_child;
    int execed;
    struct fsan_exit_info exit;
    uint64_t start_ns;  /* CLOCK_REALTIME of the fork or start, 0 when unknown */
    char *fork_site;    /* "function file:line" of the fork call, NULL when unknown */
};

struct fsan_report {
    const char *tool_version;
    char **command;     /* argv of the watched command (may be empty for `report`) */
    size_t ncommand;
    int exit_status;    /* the command's own exit status, -1 unknown */
    struct fsan_process *processes;
    size_t nprocesses;
    struct fsan_finding *findings; /* sorted: severity desc, then rule, then first pid */
    size_t nfindings;
    char **notices;     /* reader/analyzer warnings worth printing (e.g. truncated trace) */
    size_t nnotices;
    size_t incomplete;  /* processes whose traces could not be written whole (forksan run) */
    /* --baseline */
    int has_baseline;
    struct fsan_fixed_finding *fixed;
    size_t nfixed;
    /* --suppressions (and the built-in ones) */
    size_t nsuppressed;          /* findings removed by a suppression */
    char **unmatched_suppressions; /* "FILE:LINE: TEXT" of entries that matched nothing */
    size_t nunmatched;
};

/* Text report options. */
struct fsan_text_options {
    int color; /* ANSI colour */
    int tree;  /* also print the process tree */
};

void fsan_report_free(struct fsan_report *r);

/* Renderers (reports/).  Return 0 or a negative errno. */
int fsan_render_text(FILE *out, const struct fsan_report *r, int forksan_pid);
int fsan_render_text_opts(FILE *out, const struct fsan_report *r, int forksan_pid,
                          const struct fsan_text_options *opts);
int fsan_render_json(FILE *out, const struct fsan_report *r);
int fsan_render_sarif(FILE *out, const struct fsan_report *r);
int fsan_render_html(FILE *out, const struct fsan_report *r);

#endif

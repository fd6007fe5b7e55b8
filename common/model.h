/* model.h — the analyzer's result: processes and findings, ready to render.
 *
 * The analyzer's rules (analyzer/rules*.c, through analyzer/finding.c) build it from traces; the renderers in reports/ only
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

/* What a location is in its finding.  The name (fsan_role_name) is what
 * the JSON and SARIF reports print, a public interface; the heading
 * (fsan_role_heading) is what the text and HTML reports show when the
 * location has no description of its own. */
enum fsan_role {
    FSAN_ROLE_ACQUIRED, /* where a held lock was taken */
    FSAN_ROLE_ATTEMPT,  /* where the child tries to take it */
    FSAN_ROLE_FORK,     /* the fork call */
    FSAN_ROLE_THREAD,   /* a thread that vanished at the fork */
    FSAN_ROLE_CREATED,  /* where an object (an epoll instance) was created */
    FSAN_ROLE_USE,      /* where the child uses it */
    FSAN_ROLE_CHECK,    /* a pid check */
    FSAN_ROLE_EXIT,     /* how the child ends */
    FSAN_ROLE_SENDER,   /* where a signal was sent */
    FSAN_ROLE_CHILD,    /* what a killed child was running */
    FSAN_ROLE_BUILT,    /* where dropped state was built */
    FSAN_ROLE_LIVE,     /* a finding the runtime reported while it ran */
    FSAN_ROLE_SIGNALLED,/* where a condition variable was signalled */
    FSAN_ROLE_COUNT
};

const char *fsan_role_name(enum fsan_role role);  /* "acquired", ... (static) */
/* The heading for a role name, or NULL when the name is not a role. */
const char *fsan_role_heading(const char *role);

struct fsan_location {
    const char *role;  /* fsan_role_name() of its role (static) */
    int has_thread;
    int tid;
    char *thread_name; /* may be NULL */
    char *description; /* one sentence for humans, may be NULL */
    struct fsan_frame *frames; /* innermost first */
    size_t nframes;
};

struct fsan_finding {
    const char *rule;            /* stable rule id: the catalogue's (rules.def) id of the rule (static string) */
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
    /* forksan lint: the report is about files, not processes. */
    int lint;
    size_t files;       /* files examined */
    size_t unreadable;  /* files that could not be read (named in the notices) */
    /* --baseline */
    int has_baseline;
    struct fsan_fixed_finding *fixed;
    size_t nfixed;
    /* --suppressions (and the built-in ones) */
    size_t nsuppressed;          /* findings removed by a suppression */
    char **unmatched_suppressions; /* "FILE:LINE: TEXT" of entries that matched nothing */
    size_t nunmatched;
    /* The analysis's pending downgrades (see struct fsan_downgrade). */
    struct fsan_downgrade *downgrades;
    size_t ndowngrades;
};

/* A finding whose severity waits for the suppressions: threads-at-fork is
 * a warning because of the orphaned-lock findings of the same processes,
 * and becomes a note when suppressions removed every one of them.  Kept
 * by the analysis, applied after the suppressions, never rendered. */
struct fsan_downgrade {
    char fingerprint[17];      /* the finding that may change */
    char (*unless)[17];        /* fingerprints of the findings that keep it as it is */
    size_t nunless;
    /* What it becomes without them: severity and message, and locations
     * when another instance speaks for it then (nlocations 0: its own). */
    struct fsan_finding note;
};

void fsan_report_free(struct fsan_report *r);

/* Free what one frame, location or finding owns (not the struct itself). */
void fsan_frame_free(struct fsan_frame *f);
/* Frees each of the n strings, then the array (NULL: nothing). */
void fsan_free_strings(char **strings, size_t n);
void fsan_location_free(struct fsan_location *l);
void fsan_finding_free(struct fsan_finding *f);
/* The fingerprints' hash: FNV-1a over the string s (NULL: nothing),
 * continuing from h; start from FSAN_FNV_SEED. */
#define FSAN_FNV_SEED 0xcbf29ce484222325ull
uint64_t fsan_fnv1a(uint64_t h, const char *s);
/* The same over n bytes (which may hold NULs). */
uint64_t fsan_fnv1a_bytes(uint64_t h, const void *data, size_t n);
/* The report's order (qsort): severity descending, then rule, then first pid. */
int fsan_finding_cmp(const void *a, const void *b);

#endif

/* finding.h — the analyzer's internal API for building a report
 * (finding.c): what every rule family (rules_*.c) uses to make locations
 * and findings, and what the driver (rules.c) and the pipeline
 * (pipeline.c) use to build the process list and settle severities that
 * wait for the suppressions.  Not a public interface: only the analyzer
 * includes it.
 */
#ifndef FSAN_FINDING_H
#define FSAN_FINDING_H

#include <stdarg.h>
#include <stdint.h>

#include "analyze.h"
#include "catalogue.h"
#include "keymap.h"

/* The state of one analysis: the report being built and how. */
struct fsan_builder {
    struct fsan_symbolizer *sym;
    struct fsan_report *r;
    size_t findings_cap;
    int oom;                    /* an allocation failed: the report is partial */
    int native_frames;          /* fsan_analyze_options.native_frames */
    const char **py_reasons;    /* PYINFO reasons already noticed (the traces' strings) */
    size_t npy_reasons;
    /* Indexes, built once (rules.c, finding.c). */
    const struct fsan_trace **by_pid; /* every trace, by pid, then process, then image */
    size_t ntraces;
    size_t nlives;                    /* processes: t->life is in [0, nlives) */
    struct fsan_keymap findings;      /* fingerprint -> index in r->findings */
    struct fsan_keymap members;       /* (finding index, process) pairs counted */
};

/* ---- text (NULL and c->oom set when memory runs out) ---- */
char *xstrdup(struct fsan_builder *c, const char *s);
char *xvprintf(struct fsan_builder *c, const char *fmt, va_list ap);
char *xprintf(struct fsan_builder *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *basename_of(const char *path);

/* ---- facts from a trace ---- */
void symbolize_frame(struct fsan_builder *c, const struct fsan_trace *t, uint64_t addr, int is_ret,
                     struct fsan_frame *f);
const struct fsan_rec_thread *thread_by_tid(const struct fsan_trace *t, uint32_t tid);
/* The name users know a thread by (Python name first), NULL when none. */
const char *thread_name(const struct fsan_trace *t, uint32_t tid);
/* "thread TID "NAME"" or "thread TID". */
char *thread_label(struct fsan_builder *c, const struct fsan_trace *t, uint32_t tid);
/* The Python stack a PYREF attaches to (what, key), NULL when none. */
const struct fsan_trace_pysite *python_stack(const struct fsan_trace *t, uint32_t what, uint64_t key);
/* The fork child t exec'd (a later image of its pid, or a successful exec). */
int child_execed(const struct fsan_trace_set *set, const struct fsan_trace *t);

/* ---- locations ---- */
/* A location of role at a native site (runtime frames trimmed), taking
 * over description; NULL when memory ran out. */
struct fsan_location *site_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                                    enum fsan_role role, uint32_t tid, uint32_t site, char *description);
/* site_location plus the Python stack pysite (0: none). */
struct fsan_location *loop_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                                    enum fsan_role role, uint32_t tid, uint32_t site, uint32_t pysite,
                                    char *description);
/* Gives the location thread tid (0: none). */
void set_thread(struct fsan_builder *c, struct fsan_location *loc, const struct fsan_trace *t, uint32_t tid);
/* The last step of a location that can have Python frames: those of the
 * PYREF (what, key), and the shared-site trim when shared is set. */
void finish_location(struct fsan_builder *c, struct fsan_location *loc, const struct fsan_trace *t,
                     uint32_t what, uint64_t key, int shared);
/* Where t's fork was called. */
void fork_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t);
/* A thread that vanished at t's fork. */
void thread_location(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                     const struct fsan_rec_thread *th);

/* ---- findings ---- */
/* Starts f (zeroed) as a finding of rule, taking over message. */
void start_finding(struct fsan_finding *f, enum fsan_rule_index rule, enum fsan_severity sev, char *message);
/* Fingerprints f and adds it to the report for the process of trace t,
 * merged with an identical finding when there is one.  Takes over what f
 * owns. */
void commit_finding(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t);
/* commit_finding for a process named by pid, whose trace t may be NULL
 * (it wrote none). */
void commit_finding_pid(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t, int pid);
/* commit_finding for a finding that keeps its severity only while one of
 * the findings whose fingerprints are unless[0..nunless) is still
 * reported; without them it becomes a note saying note_message (taken
 * over).  nunless 0: its severity is unconditional. */
void commit_downgradable(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                         char (*unless)[17], size_t nunless, char *note_message);
/* After the suppressions: each pending downgrade (commit_downgradable)
 * whose findings were all removed happens, and the finding moves to its
 * place in the order.  Returns 0. */
int fsan_apply_downgrades(struct fsan_report *r);

/* ---- the process list ---- */
/* One process per life (t->life) from the traces, with how each ended. */
void build_processes(struct fsan_builder *c, const struct fsan_trace_set *set);
/* The traces of pid: *n of them from the returned pointer, in process
 * then image order (NULL, 0 when there are none). */
const struct fsan_trace *const *traces_of_pid(const struct fsan_builder *c, uint32_t pid, size_t *n);
/* The command forksan run started (pid, its parent ppid, its path exe),
 * with the exit status forksan saw.  0 or -ENOMEM. */
int fsan_processes_add_root(struct fsan_report *r, int pid, int ppid, const char *exe, int exit_status);

/* ---- knowledge tables ---- */
/* A line of a knowledge table (runtimelocks.def, pidchecks.def): glob
 * patterns (fnmatch) for a Python frame's function and file, and what the
 * match means, in words for the report. */
struct fsan_frame_glob {
    const char *function;
    const char *file;
    const char *what;
};
/* The first entry of table[0..n) matching function and file, or NULL. */
const struct fsan_frame_glob *fsan_frame_glob_find(const struct fsan_frame_glob *table, size_t n,
                                                   const char *function, const char *file);

#endif

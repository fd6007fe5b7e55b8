/* tracefile.h — reading one trace file (format: common/trace_format.h,
 * man/forksan-trace.5) into memory. */
#ifndef FSAN_TRACEFILE_H
#define FSAN_TRACEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "trace_format.h"

/* The most a trace file may hold: a runtime writes a few hundred KiB
 * (its address space text and records); more is not a forksan trace. */
#define FSAN_TRACE_MAX_BYTES (256 << 20)

struct fsan_trace_site {
    uint32_t id;
    uint16_t language;
    uint16_t nframes;
    uint64_t *frames;
};

/* A Python frame of a PYSITE.  file and function are NUL-terminated copies
 * of the record's bytes (which hold no NUL); "" when the record's length was
 * 0.  line 0 is unknown. */
struct fsan_trace_pyframe {
    uint32_t line;
    char *file;
    char *function;
};

/* An interned Python stack (PYSITE), innermost frame first.  Python site
 * ids are a space of their own, apart from native SITE ids. */
struct fsan_trace_pysite {
    uint32_t id;
    uint16_t nframes;
    struct fsan_trace_pyframe *frames;
};

/* A PYREF: the Python stack (and for THREAD, the Python thread name) of
 * something another record describes, found by (what, key). */
struct fsan_trace_pyref {
    uint32_t what;   /* enum fsan_pyref_what */
    uint32_t pysite; /* 0: no stack (a THREAD may still carry a name) */
    uint64_t key;
    char name[33];   /* the record's 32 bytes, always NUL-terminated */
};

struct fsan_trace_lock_event {
    struct fsan_rec_lock_event ev;
    uint32_t seq; /* record number in the file, to order against RESUMED */
};

struct fsan_trace_loop {
    struct fsan_rec_loop rec;
    int32_t *fds; /* rec.nfds descriptors registered in it */
};

struct fsan_trace_cleanup {
    struct fsan_rec_cleanup rec;
    char *name; /* the first handler's Python name, NULL if none */
};

struct fsan_trace_signal {
    struct fsan_rec_signal rec;
    char *name; /* the first Python atexit handler the child loses, NULL if none */
};

struct fsan_trace_pidcheck {
    struct fsan_rec_pidcheck rec;
    char *name; /* declared cache, NULL for a pid read */
};

/* A thread of a hung child (a .hang file): name is the tail, what it
 * waits for; rec.name is its comm. */
struct fsan_trace_hang_thread {
    struct fsan_rec_hang_thread rec;
    char *name;
};

struct fsan_trace {
    char *path;
    int later_image; /* set by the analysis: a later image of this process (it exec'd) */
    uint32_t life;   /* set by the analysis: which process it is an image of */
    int has_process;
    struct fsan_rec_process proc;
    char *exe;
    char *maps;
    size_t maps_len;
    int maps_shared; /* maps belongs to the trace set (one copy per distinct text) */
    struct fsan_trace_site *sites; /* sorted by id, one entry per id */
    size_t nsites;
    uint32_t resumed_seq; /* 0 = fork never returned through the interposer */
    int has_exec;
    char *exec_path;
    int exec_failed; /* exec attempts that returned */
    int has_exit;
    struct fsan_rec_exit exit;
    struct fsan_rec_stats stats;
    struct fsan_trace_pysite *pysites; /* sorted by id, one entry per id */
    size_t npysites;
    struct fsan_trace_pyref *pyrefs;   /* in file order */
    size_t npyrefs;
    int has_pyinfo;                     /* the last PYINFO record wins */
    uint32_t py_state;                  /* enum fsan_pyinfo_state */
    uint32_t py_hexversion;
    char *py_reason;                    /* never NULL when has_pyinfo */
    int has_hang;                       /* a .hang file: the last HANG record wins */
    struct fsan_rec_hang hang;
    char *hang_note;                    /* its tail: why there are no stacks; never NULL when has_hang */
    /* One array and its count for each FSAN_REC_ARRAY line of records.def,
     * in file order: threads/nthreads, held/nheld, lock_events/nlock_events,
     * deadlocks/ndeadlocks, loops/nloops, loop_uses/nloop_uses,
     * cleanups/ncleanups, pidchecks/npidchecks, foreigns/nforeigns,
     * signals/nsignals (fork children this process killed), reaped/nreaped
     * (children it reaped that a signal ended), remedies/nremedies,
     * hang_threads/nhang_threads (a .hang file). */
#define FSAN_REC_ARRAY(NAME, payload, since, keeps, element, array, count, noun) \
    element *array;                                                           \
    size_t count;
#include "records.def"
    int truncated;
    uint64_t truncated_offset;
};

/* Parse a trace held in memory.  Returns 0 on success; 1 when the trace was
 * usable but truncated (err holds a warning naming file and offset); a
 * negative errno when the trace cannot be used (err holds the reason, with
 * the file and the offset).  *out must be zeroed by the caller and is
 * released with fsan_trace_free in every case. */
int fsan_trace_parse(const char *name, const unsigned char *data, size_t len, struct fsan_trace *out,
                     char *err, size_t errlen);

/* The same, reading the file first. */
int fsan_trace_read(const char *path, struct fsan_trace *out, char *err, size_t errlen);

void fsan_trace_free(struct fsan_trace *t);

/* The site with this id, or NULL. */
const struct fsan_trace_site *fsan_trace_site(const struct fsan_trace *t, uint32_t id);

/* The Python stack with this id, or NULL. */
const struct fsan_trace_pysite *fsan_trace_pysite(const struct fsan_trace *t, uint32_t id);

/* The first PYREF with this role and key, or NULL.  Its stack may still be
 * missing (pysite 0, or a PYSITE lost to truncation): ask fsan_trace_pysite. */
const struct fsan_trace_pyref *fsan_trace_pyref(const struct fsan_trace *t, uint32_t what, uint64_t key);

#endif

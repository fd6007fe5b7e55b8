/* test_tracefile.c — the trace writer (probes/trace.c) and reader
 * (analyzer/tracefile.c): round trip, lazy creation and permissions, and
 * every way a trace can be bad: truncated, foreign, from another version,
 * damaged — a clear error naming file and offset, never a crash. */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsan.h"
#include "tracefile.h"

/* What trace.c needs from the rest of the runtime. */
struct fsan__process fsan__proc;
struct fsan__thread fsan__threads[FSAN_MAX_THREADS];
_Atomic uint32_t fsan__threads_hwm;
_Atomic uint32_t fsan__thread_overflow;
_Atomic uint32_t fsan__site_overflow;
_Atomic uint32_t fsan__cond_overflow;

/* The runtime's own symbol lookup (hooks.c), as the loader does it. */
void *fsan__hooks_symbol(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/fsan-test-trace.XXXXXX");
    assert_non_null(mkdtemp(dir));
    fsan__options_defaults(&fsan__proc.opts);
    snprintf(fsan__proc.opts.trace_dir, sizeof fsan__proc.opts.trace_dir, "%s", dir);
    fsan__proc.initialized = 1;
    fsan__trace_after_fork_child(); /* a fresh writer */
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void trace_file(char *out, size_t len)
{
    snprintf(out, len, "%s/forksan.%d.trace", dir, (int)getpid());
}

/* Writes a small fork-child trace: process, thread, held lock, site. */
static void write_sample(void)
{
    fsan__trace_open_process(FSAN_PROC_FORK, 77, 5);
    fsan__trace_mark_needed();
    struct fsan_rec_thread th = {.tid = 77, .flags = FSAN_THREAD_FORKER, .start_routine = 0x1234, .create_site = 5};
    strcpy(th.name, "worker");
    fsan__trace_record(FSAN_REC_THREAD, &th, sizeof th, NULL, 0);
    struct fsan_rec_held h = {.lock_addr = 0xabc0, .holder_tid = 77, .acquire_site = 5, .lock_type = FSAN_LOCK_MUTEX, .depth = 1};
    fsan__trace_record(FSAN_REC_HELD, &h, sizeof h, NULL, 0);
    uint64_t frames[3] = {0x1000, 0x2000, 0x3000};
    struct fsan_rec_site s = {5, FSAN_LANG_C, 3};
    fsan__trace_record(FSAN_REC_SITE, &s, sizeof s, frames, sizeof frames);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_tracefile_roundtrip(void **state)
{
    write_sample();
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    assert_int_equal(t.proc.kind, FSAN_PROC_FORK);
    assert_int_equal(t.proc.forking_tid, 77);
    assert_int_equal(t.proc.fork_site, 5);
    assert_int_equal(t.proc.pid, getpid());
    assert_int_equal(t.nthreads, 1);
    assert_string_equal(t.threads[0].name, "worker");
    assert_int_equal(t.nheld, 1);
    assert_int_equal(t.held[0].lock_addr, 0xabc0);
    const struct fsan_trace_site *s = fsan_trace_site(&t, 5);
    assert_non_null(s);
    assert_int_equal(s->nframes, 3);
    assert_int_equal(s->frames[2], 0x3000);
    assert_null(fsan_trace_site(&t, 6));
    fsan_trace_free(&t);
}

static void test_tracefile_created_lazily_0600(void **state)
{
    write_sample();
    char path[300];
    trace_file(path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), -1); /* nothing on disk before a flush */
    fsan__trace_flush();
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* An image with nothing to say (a clean fork child) leaves no file. */
static void test_tracefile_clean_image_writes_nothing(void **state)
{
    fsan__trace_open_process(FSAN_PROC_FORK, 77, 0);
    struct fsan_rec_exit e = {FSAN_EXIT__EXIT, 0, 0, 77};
    fsan__trace_record(FSAN_REC_EXIT, &e, sizeof e, NULL, 0);
    fsan__trace_flush();
    char path[300];
    trace_file(path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    fsan__trace_mark_needed(); /* something worth saying after all */
    fsan__trace_flush();
    assert_int_equal(stat(path, &st), 0);
}

static void test_tracefile_second_image_gets_new_name(void **state)
{
    write_sample();
    fsan__trace_flush();
    fsan__trace_after_fork_child();
    write_sample(); /* same pid, as after exec */
    fsan__trace_flush();
    char path[300];
    snprintf(path, sizeof path, "%s/forksan.%d.1.trace", dir, (int)getpid());
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
}

static void test_tracefile_unwritable_dir_loses_events_not_program(void **state)
{
    snprintf(fsan__proc.opts.trace_dir, sizeof fsan__proc.opts.trace_dir, "%s/missing/sub", dir);
    write_sample();
    fsan__trace_flush(); /* must warn and return */
    fsan__trace_flush();
    char path[300];
    snprintf(path, sizeof path, "%s/missing", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
}

static void write_and_load(unsigned char **data, size_t *len)
{
    write_sample();
    fsan__trace_flush();
    char path[300];
    trace_file(path, sizeof path);
    *data = slurp(path, len);
}

static void test_tracefile_truncated_keeps_prefix(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load(&data, &len);
    struct fsan_trace t = {0};
    char err[512];
    /* Cut the last record (the site: 8 + 8 + 24 bytes) in its middle. */
    size_t cut = len - 10;
    assert_int_equal(fsan_trace_parse("x.trace", data, cut, &t, err, sizeof err), 1);
    assert_non_null(strstr(err, "truncated at offset"));
    assert_non_null(strstr(err, "x.trace"));
    assert_int_equal(t.nheld, 1);              /* what came before survives */
    assert_null(fsan_trace_site(&t, 5));       /* the cut record does not */
    fsan_trace_free(&t);
    free(data);
}

static void test_tracefile_bad_magic(void **state)
{
    const char text[] = "#!/bin/sh\necho not a trace\n";
    struct fsan_trace t = {0};
    char err[512];
    assert_true(fsan_trace_parse("s.trace", (const unsigned char *)text, sizeof text, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot read trace 's.trace': not a forksan trace (bad magic at offset 0)"));
    fsan_trace_free(&t);
}

static void test_tracefile_short_file(void **state)
{
    struct fsan_trace t = {0};
    char err[512];
    assert_true(fsan_trace_parse("e.trace", (const unsigned char *)"FSAN", 4, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, "too short"));
    fsan_trace_free(&t);
}

static void test_tracefile_other_version(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load(&data, &len);
    uint32_t v = 99;
    memcpy(data + 8, &v, 4);
    struct fsan_trace t = {0};
    char err[512];
    assert_true(fsan_trace_parse("v.trace", data, len, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, "format version 99 at offset 8"));
    fsan_trace_free(&t);
    free(data);
}

static void test_tracefile_unknown_record_type(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load(&data, &len);
    uint16_t type = 99;
    memcpy(data + 16, &type, 2); /* the first record */
    struct fsan_trace t = {0};
    char err[512];
    assert_true(fsan_trace_parse("u.trace", data, len, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, "unknown record type 99 at offset 16"));
    fsan_trace_free(&t);
    free(data);
}

static void test_tracefile_impossible_size(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load(&data, &len);
    uint32_t size = 3; /* smaller than a process record */
    memcpy(data + 20, &size, 4);
    struct fsan_trace t = {0};
    char err[512];
    assert_true(fsan_trace_parse("z.trace", data, len, &t, err, sizeof err) < 0);
    assert_non_null(strstr(err, "impossible size 3"));
    fsan_trace_free(&t);
    free(data);
}

/* Random damage anywhere never crashes the reader and never yields
 * success with garbage: either a clean parse, a truncation, or an error. */
static void test_tracefile_random_damage_no_crash(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load(&data, &len);
    srand(1234);
    unsigned char *copy = malloc(len);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 1 + rand() % 4; k++)
            copy[rand() % len] = (unsigned char)rand();
        size_t cut = (round % 3 == 0) ? (size_t)rand() % (len + 1) : len;
        struct fsan_trace t = {0};
        char err[512];
        err[0] = '\0';
        int rc = fsan_trace_parse("r.trace", copy, cut, &t, err, sizeof err);
        if (rc != 0)
            assert_non_null(strstr(err, "r.trace"));
        fsan_trace_free(&t);
    }
    free(copy);
    free(data);
}

/* ---- Python records (PYSITE, PYREF, PYINFO) ------------------------------ */

struct pyf {
    uint32_t line;
    const char *file, *function;
};

/* Writes a PYSITE the way the format says: the fixed part, then each frame's
 * header followed by its file and function bytes. */
static void write_pysite(uint32_t id, const struct pyf *frames, size_t n)
{
    unsigned char tail[1024];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        struct fsan_rec_pyframe fr = {frames[i].line, (uint16_t)strlen(frames[i].file),
                                      (uint16_t)strlen(frames[i].function)};
        memcpy(tail + len, &fr, sizeof fr);
        len += sizeof fr;
        memcpy(tail + len, frames[i].file, fr.file_len);
        len += fr.file_len;
        memcpy(tail + len, frames[i].function, fr.function_len);
        len += fr.function_len;
    }
    struct fsan_rec_pysite rec = {.id = id, .nframes = (uint16_t)n};
    fsan__trace_record(FSAN_REC_PYSITE, &rec, sizeof rec, tail, len);
}

static void write_pyref(uint32_t what, uint32_t pysite, uint64_t key, const char *name)
{
    struct fsan_rec_pyref r;
    memset(&r, 0, sizeof r);
    r.what = what;
    r.pysite = pysite;
    r.key = key;
    strncpy(r.name, name, sizeof r.name); /* NUL padded; 32 bytes need no NUL */
    fsan__trace_record(FSAN_REC_PYREF, &r, sizeof r, NULL, 0);
}

static void write_pyinfo(uint32_t state, uint32_t hexversion, const char *reason)
{
    struct fsan_rec_pyinfo r = {state, hexversion};
    fsan__trace_record(FSAN_REC_PYINFO, &r, sizeof r, reason, strlen(reason));
}

/* The sample plus a Python program's records.  The FORK PYREF names a
 * PYSITE written after it, which the reader must accept (it resolves stacks
 * only when asked). */
static void write_python_sample(void)
{
    write_sample();
    const struct pyf holder[] = {{12, "/app/worker.py", "hold"}, {40, "/app/main.py", "<module>"}};
    write_pysite(1, holder, 2);
    write_pyref(FSAN_PYREF_HELD, 1, 0xabc0, "");
    write_pyref(FSAN_PYREF_THREAD, 1, 77, "lock-holder");
    write_pyref(FSAN_PYREF_FORK, 2, 0, "");
    const struct pyf forker[] = {{7, "/app/main.py", "spawn"}};
    write_pysite(2, forker, 1);
    write_pyinfo(FSAN_PY_ACTIVE, 0x030b04f0, "");
}

static void write_and_load_python(unsigned char **data, size_t *len)
{
    write_python_sample();
    fsan__trace_flush();
    char path[300];
    trace_file(path, sizeof path);
    *data = slurp(path, len);
}

/* The offset of the nth (from 0) record of this type, found by walking the
 * record headers as the reader does. */
static size_t record_offset(const unsigned char *data, size_t len, uint16_t type, int nth)
{
    size_t off = sizeof(struct fsan_trace_file_header);
    while (off + sizeof(struct fsan_rec_header) <= len) {
        struct fsan_rec_header h;
        memcpy(&h, data + off, sizeof h);
        if (h.type == type && nth-- == 0)
            return off;
        off += sizeof h + h.size;
    }
    fail_msg("no record of type %u", type);
    return 0;
}

static void test_tracefile_python_roundtrip(void **state)
{
    write_python_sample();
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    const struct fsan_trace_pysite *ps = fsan_trace_pysite(&t, 1);
    assert_non_null(ps);
    assert_int_equal(ps->nframes, 2);
    assert_int_equal(ps->frames[0].line, 12);
    assert_string_equal(ps->frames[0].file, "/app/worker.py");
    assert_string_equal(ps->frames[0].function, "hold");
    assert_int_equal(ps->frames[1].line, 40);
    assert_string_equal(ps->frames[1].file, "/app/main.py");
    assert_string_equal(ps->frames[1].function, "<module>");
    /* Python site ids are their own space: native site 5 is not a PYSITE. */
    assert_null(fsan_trace_pysite(&t, 5));
    assert_null(fsan_trace_pysite(&t, 3));
    assert_int_equal(t.npyrefs, 3);
    const struct fsan_trace_pyref *held = fsan_trace_pyref(&t, FSAN_PYREF_HELD, 0xabc0);
    assert_non_null(held);
    assert_int_equal(held->pysite, 1);
    assert_string_equal(held->name, "");
    const struct fsan_trace_pyref *th = fsan_trace_pyref(&t, FSAN_PYREF_THREAD, 77);
    assert_non_null(th);
    assert_string_equal(th->name, "lock-holder");
    assert_null(fsan_trace_pyref(&t, FSAN_PYREF_ATTEMPT, 0xabc0)); /* roles are not mixed up */
    const struct fsan_trace_pyref *fork = fsan_trace_pyref(&t, FSAN_PYREF_FORK, 0);
    assert_non_null(fork);
    ps = fsan_trace_pysite(&t, fork->pysite); /* written after its PYREF */
    assert_non_null(ps);
    assert_int_equal(ps->nframes, 1);
    assert_string_equal(ps->frames[0].function, "spawn");
    assert_true(t.has_pyinfo);
    assert_int_equal(t.py_state, FSAN_PY_ACTIVE);
    assert_int_equal(t.py_hexversion, 0x030b04f0);
    assert_string_equal(t.py_reason, "");
    fsan_trace_free(&t);
}

/* A Python thread name may fill all 32 bytes, without a NUL. */
static void test_tracefile_pyref_name_fills_field(void **state)
{
    write_sample();
    const char *name = "a-python-thread-name-32-bytes-xy";
    assert_int_equal(strlen(name), 32);
    write_pyref(FSAN_PYREF_THREAD, 0, 77, name);
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    assert_string_equal(fsan_trace_pyref(&t, FSAN_PYREF_THREAD, 77)->name, name);
    fsan_trace_free(&t);
}

static void test_tracefile_pyinfo_unavailable_reason(void **state)
{
    write_sample();
    write_pyinfo(FSAN_PY_UNAVAILABLE, 0x030e00f0, "no debug offsets for this Python");
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    assert_true(t.has_pyinfo);
    assert_int_equal(t.py_state, FSAN_PY_UNAVAILABLE);
    assert_int_equal(t.py_hexversion, 0x030e00f0);
    assert_string_equal(t.py_reason, "no debug offsets for this Python");
    fsan_trace_free(&t);
}

/* Parses a damaged copy and checks the error names the file, the record's
 * type and offset, and the reason. */
static void expect_malformed(const unsigned char *data, size_t len, uint16_t type, size_t off, const char *why)
{
    struct fsan_trace t = {0};
    char err[512], want[256];
    assert_true(fsan_trace_parse("p.trace", data, len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want, "cannot read trace 'p.trace': malformed record type %u at offset %zu (%s)", type, off, why);
    assert_string_equal(err, want);
    fsan_trace_free(&t);
}

/* Exit paths and foreign handles (trace v6): CLEANUP and SIGNAL carry an
 * optional Python handler name as their tail, FOREIGN is fixed. */
static void write_exit_sample(void)
{
    write_sample();
    struct fsan_rec_cleanup skipped = {FSAN_CLEANUP_SKIPPED, 7, 15, 5, 1, 0x4000, 2, 0};
    fsan__trace_record(FSAN_REC_CLEANUP, &skipped, sizeof skipped, "save_results", 12);
    struct fsan_rec_cleanup dup = {FSAN_CLEANUP_STDIO_DUP, 1, 16, 5, 0, 0, 0, 0};
    fsan__trace_record(FSAN_REC_CLEANUP, &dup, sizeof dup, NULL, 0);
    struct fsan_rec_signal sig = {4242, 15, 77, 5, 0, 1, 0x4000, 9, 1, 0};
    fsan__trace_record(FSAN_REC_SIGNAL, &sig, sizeof sig, "Worker.flush", 12);
    struct fsan_rec_foreign fh = {0x7f0000001000, FSAN_LOCK_SEM, FSAN_OP_SEM_TRYWAIT, 77, 5, 0, FSAN_FOREIGN_UNMAPPED, 0};
    fsan__trace_record(FSAN_REC_FOREIGN, &fh, sizeof fh, NULL, 0);
}

static void test_tracefile_exit_records_roundtrip(void **state)
{
    write_exit_sample();
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    assert_int_equal(t.ncleanups, 2);
    assert_int_equal(t.cleanups[0].rec.kind, FSAN_CLEANUP_SKIPPED);
    assert_int_equal(t.cleanups[0].rec.py_count, 2);
    assert_string_equal(t.cleanups[0].name, "save_results");
    assert_null(t.cleanups[1].name);
    assert_int_equal(t.cleanups[1].rec.bytes, 16);
    assert_int_equal(t.nsignals, 1);
    assert_int_equal(t.signals[0].rec.target, 4242);
    assert_int_equal(t.signals[0].rec.signo, 15);
    assert_int_equal(t.signals[0].rec.pending, 9);
    assert_string_equal(t.signals[0].name, "Worker.flush");
    assert_int_equal(t.nforeigns, 1);
    assert_int_equal(t.foreigns[0].addr, 0x7f0000001000);
    assert_int_equal(t.foreigns[0].op, FSAN_OP_SEM_TRYWAIT);
    fsan_trace_free(&t);
}

static void test_tracefile_exit_records_malformed(void **state)
{
    write_exit_sample();
    fsan__trace_flush();
    char path[300];
    trace_file(path, sizeof path);
    size_t len;
    unsigned char *data = slurp(path, &len);
    size_t off = record_offset(data, len, FSAN_REC_SIGNAL, 0);
    uint32_t bad = 0; /* signal number 0 */
    memcpy(data + off + 8 + offsetof(struct fsan_rec_signal, signo), &bad, sizeof bad);
    expect_malformed(data, len, FSAN_REC_SIGNAL, off, "a signal record has a bad signal number");
    memcpy(data + off + 8 + offsetof(struct fsan_rec_signal, signo), &(uint32_t){15}, sizeof bad);
    off = record_offset(data, len, FSAN_REC_FOREIGN, 0);
    assert_int_equal(off + 8 + sizeof(struct fsan_rec_foreign), len); /* the last record */
    uint32_t size = sizeof(struct fsan_rec_foreign) + 4; /* a tail it must not have */
    memcpy(data + off + 4, &size, sizeof size);
    memset(data + len, 0, 4);
    expect_malformed(data, len + 4, FSAN_REC_FOREIGN, off, "a foreign-handle record has the wrong size");
    free(data);
}

/* DEADLOCK: the condition variable form (version 10) is read; a form the
 * reader does not know, or the condition variable form on a lock (and a
 * lock form on a condition variable), is refused. */
static void test_tracefile_deadlock_forms(void **state)
{
    write_sample();
    struct fsan_rec_deadlock d = {.lock_addr = 0xc0d0, .lock_type = FSAN_LOCK_COND, .op = FSAN_OP_COND_WAIT,
                                  .form = FSAN_DL_COND_VANISHED_SIGNALLER, .tid = 78, .holder_tid = 79, .kind = 1};
    fsan__trace_record(FSAN_REC_DEADLOCK, &d, sizeof d, NULL, 0);
    fsan__trace_flush();
    char path[300], err[512];
    trace_file(path, sizeof path);
    struct fsan_trace t = {0};
    assert_int_equal(fsan_trace_read(path, &t, err, sizeof err), 0);
    assert_int_equal(t.ndeadlocks, 1);
    assert_int_equal(t.deadlocks[0].form, FSAN_DL_COND_VANISHED_SIGNALLER);
    assert_int_equal(t.deadlocks[0].holder_tid, 79);
    fsan_trace_free(&t);
    size_t len;
    unsigned char *data = slurp(path, &len);
    size_t off = record_offset(data, len, FSAN_REC_DEADLOCK, 0);
    const char *why = "a deadlock record has an unknown form, or a form that does not fit its lock type";
    uint16_t mutex = FSAN_LOCK_MUTEX;
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, lock_type), &mutex, sizeof mutex);
    expect_malformed(data, len, FSAN_REC_DEADLOCK, off, why);
    uint32_t form = FSAN_DL_VANISHED_HOLDER;
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, form), &form, sizeof form);
    uint16_t cond = FSAN_LOCK_COND;
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, lock_type), &cond, sizeof cond);
    expect_malformed(data, len, FSAN_REC_DEADLOCK, off, why);
    form = FSAN_DL_FORM_MAX + 1;
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, form), &form, sizeof form);
    expect_malformed(data, len, FSAN_REC_DEADLOCK, off, why);
    /* The holder-unrecorded form is a PyMutex's only (version 11). */
    form = FSAN_DL_HOLDER_UNRECORDED;
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, form), &form, sizeof form);
    memcpy(data + off + 8 + offsetof(struct fsan_rec_deadlock, lock_type), &mutex, sizeof mutex);
    expect_malformed(data, len, FSAN_REC_DEADLOCK, off, why);
    free(data);
}

/* Field offsets in the first PYSITE (id 1): its record header, the fixed
 * part, then frame 0 {line, file_len, function_len}, "/app/worker.py", "hold". */
#define PYSITE_ID(off) ((off) + 8)
#define PYSITE_NFRAMES(off) ((off) + 12)
#define PYSITE_FRAME0_FILE_LEN(off) ((off) + 16 + 4)

static void test_tracefile_pysite_name_overruns_record(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYSITE, 0);
    uint16_t file_len = 0xffff; /* far past the record, inside the file */
    memcpy(data + PYSITE_FRAME0_FILE_LEN(off), &file_len, 2);
    expect_malformed(data, len, FSAN_REC_PYSITE, off,
                     "a Python frame's file or function name runs past the end of the record");
    free(data);
}

static void test_tracefile_pysite_frames_overrun_record(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYSITE, 0);
    uint16_t nframes = 3; /* two are there */
    memcpy(data + PYSITE_NFRAMES(off), &nframes, 2);
    expect_malformed(data, len, FSAN_REC_PYSITE, off, "a Python frame runs past the end of the record");
    free(data);
}

static void test_tracefile_pysite_bytes_left_over(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYSITE, 0);
    uint16_t nframes = 1; /* two are there */
    memcpy(data + PYSITE_NFRAMES(off), &nframes, 2);
    expect_malformed(data, len, FSAN_REC_PYSITE, off, "bytes left over after the last Python frame");
    free(data);
}

static void test_tracefile_pysite_id_zero(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYSITE, 1);
    uint32_t id = 0;
    memcpy(data + PYSITE_ID(off), &id, 4);
    expect_malformed(data, len, FSAN_REC_PYSITE, off, "Python site id out of range");
    free(data);
}

static void test_tracefile_pysite_nul_in_name(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYSITE, 0);
    data[PYSITE_FRAME0_FILE_LEN(off) + 4 + 4] = '\0'; /* inside "/app/worker.py" */
    expect_malformed(data, len, FSAN_REC_PYSITE, off, "a NUL byte in a Python frame's file or function name");
    free(data);
}

static void test_tracefile_pyref_unknown_role(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYREF, 1);
    uint32_t what = FSAN_PYREF_HANG + 1;
    memcpy(data + off + 8, &what, 4);
    expect_malformed(data, len, FSAN_REC_PYREF, off, "unknown PYREF role");
    free(data);
}

static void test_tracefile_pyref_fork_with_key(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYREF, 2); /* the FORK one */
    uint64_t key = 77;
    memcpy(data + off + 8 + 8, &key, 8);
    expect_malformed(data, len, FSAN_REC_PYREF, off, "a FORK PYREF with a key other than 0");
    free(data);
}

/* A HANG PYREF (a .hang file's thread) is keyed by a thread id. */
static void test_tracefile_pyref_hang_key_not_a_tid(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYREF, 1);
    uint32_t what = FSAN_PYREF_HANG;
    uint64_t key = (uint64_t)1 << 40;
    memcpy(data + off + 8, &what, 4);
    memcpy(data + off + 8 + 8, &key, 8);
    expect_malformed(data, len, FSAN_REC_PYREF, off, "a THREAD or HANG PYREF whose key is not a thread id");
    free(data);
}

static void test_tracefile_pyinfo_unknown_state(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYINFO, 0);
    uint32_t st = 3;
    memcpy(data + off + 8, &st, 4);
    expect_malformed(data, len, FSAN_REC_PYINFO, off, "unknown PYINFO state");
    free(data);
}

/* A PYREF is 48 bytes; a record header claiming fewer is refused before
 * the payload is read. */
static void test_tracefile_pyref_too_short(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t off = record_offset(data, len, FSAN_REC_PYREF, 0);
    uint32_t size = sizeof(struct fsan_rec_pyref) - 1;
    memcpy(data + off + 4, &size, 4);
    struct fsan_trace t = {0};
    char err[512], want[200];
    assert_true(fsan_trace_parse("p.trace", data, len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want, "record type 14 at offset %zu has an impossible size 47", off);
    assert_non_null(strstr(err, want));
    fsan_trace_free(&t);
    free(data);
}

/* As test_tracefile_random_damage_no_crash, over the variable-length
 * Python records (run under ASan, an overread would be caught). */
static void test_tracefile_python_random_damage_no_crash(void **state)
{
    unsigned char *data;
    size_t len;
    write_and_load_python(&data, &len);
    size_t first = record_offset(data, len, FSAN_REC_PYSITE, 0);
    srand(4321);
    unsigned char *copy = malloc(len);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 1 + rand() % 4; k++)
            copy[first + (size_t)rand() % (len - first)] = (unsigned char)rand();
        size_t cut = (round % 3 == 0) ? first + (size_t)rand() % (len - first + 1) : len;
        struct fsan_trace t = {0};
        char err[512];
        err[0] = '\0';
        int rc = fsan_trace_parse("r.trace", copy, cut, &t, err, sizeof err);
        if (rc != 0)
            assert_non_null(strstr(err, "r.trace"));
        fsan_trace_free(&t);
    }
    free(copy);
    free(data);
}

/* Traces of earlier format versions, built byte by byte as that
 * version's writer laid them out. */
struct old_trace {
    unsigned char bytes[1024];
    size_t len;
};

static void old_header(struct old_trace *o, uint32_t version)
{
    struct fsan_trace_file_header fh;
    memcpy(fh.magic, FSAN_TRACE_MAGIC, sizeof fh.magic);
    fh.version = version;
    fh.header_size = sizeof fh;
    memcpy(o->bytes, &fh, sizeof fh);
    o->len = sizeof fh;
}

/* Appends a record; returns its offset. */
static size_t old_record(struct old_trace *o, uint16_t type, const void *payload, size_t size, const char *tail)
{
    size_t off = o->len, tail_len = tail ? strlen(tail) : 0;
    struct fsan_rec_header h = {type, 0, (uint32_t)(size + tail_len)};
    assert_true(o->len + sizeof h + size + tail_len <= sizeof o->bytes);
    memcpy(o->bytes + o->len, &h, sizeof h);
    memcpy(o->bytes + o->len + sizeof h, payload, size);
    if (tail_len)
        memcpy(o->bytes + o->len + sizeof h + size, tail, tail_len);
    o->len += sizeof h + size + tail_len;
    return off;
}

static void old_process(struct old_trace *o, uint32_t version)
{
    old_header(o, version);
    struct fsan_rec_process proc = {.pid = 4242, .ppid = 4241, .kind = FSAN_PROC_FORK, .forking_tid = 4241,
                                    .time_ns = 1000, .fork_site = 3, .mode = 0, .start_ticks = 77, .image_ns = 88};
    /* Before version 8, PROCESS ended at mode: the path came at offset 32. */
    old_record(o, FSAN_REC_PROCESS, &proc, version < 8 ? offsetof(struct fsan_rec_process, start_ticks) : sizeof proc,
               "/usr/bin/old");
}

/* Version 6: the layouts of today, without REAPED. */
static void test_tracefile_reads_version_6(void **state)
{
    struct old_trace o;
    old_process(&o, 6);
    struct fsan_rec_thread th = {.tid = 4243, .flags = FSAN_THREAD_VANISHED, .start_routine = 0x401000,
                                 .create_site = 1, .last_site = 2, .name = "writer"};
    old_record(&o, FSAN_REC_THREAD, &th, sizeof th, NULL);
    struct fsan_rec_held held = {.lock_addr = 0x7f0010, .holder_tid = 4243, .acquire_site = 2,
                                 .lock_type = FSAN_LOCK_MUTEX, .mode = FSAN_MODE_EXCL, .depth = 1};
    old_record(&o, FSAN_REC_HELD, &held, sizeof held, NULL);
    struct fsan_rec_cleanup cl = {.kind = FSAN_CLEANUP_SKIPPED, .fd = 1, .bytes = 17, .site = 4, .count = 1,
                                  .handler = 0x402000, .py_count = 2, .pysite = 0};
    old_record(&o, FSAN_REC_CLEANUP, &cl, sizeof cl, "save_results");
    struct fsan_rec_pidcheck pc = {.site = 5, .declared = 1, .built_site = 6};
    old_record(&o, FSAN_REC_PIDCHECK, &pc, sizeof pc, "session_cache");

    struct fsan_trace t = {0};
    char err[512];
    assert_int_equal(fsan_trace_parse("v6.trace", o.bytes, o.len, &t, err, sizeof err), 0);
    assert_int_equal(t.proc.pid, 4242);
    assert_int_equal(t.proc.kind, FSAN_PROC_FORK);
    assert_int_equal(t.proc.fork_site, 3);
    assert_int_equal(t.proc.start_ticks, 0); /* unknown before version 8 */
    assert_int_equal(t.proc.image_ns, 0);
    assert_string_equal(t.exe, "/usr/bin/old");
    assert_int_equal(t.nthreads, 1);
    assert_int_equal(t.threads[0].tid, 4243);
    assert_int_equal(t.threads[0].flags, FSAN_THREAD_VANISHED);
    assert_int_equal(t.threads[0].start_routine, 0x401000);
    assert_string_equal(t.threads[0].name, "writer");
    assert_int_equal(t.nheld, 1);
    assert_int_equal(t.held[0].lock_addr, 0x7f0010);
    assert_int_equal(t.held[0].holder_tid, 4243);
    assert_int_equal(t.held[0].depth, 1);
    assert_int_equal(t.ncleanups, 1);
    assert_int_equal(t.cleanups[0].rec.kind, FSAN_CLEANUP_SKIPPED);
    assert_int_equal(t.cleanups[0].rec.bytes, 17);
    assert_int_equal(t.cleanups[0].rec.handler, 0x402000);
    assert_int_equal(t.cleanups[0].rec.py_count, 2);
    assert_string_equal(t.cleanups[0].name, "save_results");
    assert_int_equal(t.npidchecks, 1);
    assert_int_equal(t.pidchecks[0].rec.built_site, 6);
    assert_string_equal(t.pidchecks[0].name, "session_cache");
    fsan_trace_free(&t);

    /* REAPED came with version 7: in a version 6 file it is unknown. */
    struct fsan_rec_reaped r = {.pid = 4300, .signo = 9};
    size_t off = old_record(&o, FSAN_REC_REAPED, &r, sizeof r, NULL);
    memset(&t, 0, sizeof t);
    assert_true(fsan_trace_parse("v6.trace", o.bytes, o.len, &t, err, sizeof err) < 0);
    char want[200];
    snprintf(want, sizeof want, "unknown record type 22 at offset %zu", off);
    assert_non_null(strstr(err, want));
    fsan_trace_free(&t);
}

/* Version 8: PROCESS says who the process is (start_ticks) and when the
 * image began (image_ns), and the path follows them. */
static void test_tracefile_reads_version_8_process(void **state)
{
    struct old_trace o;
    old_process(&o, 8);
    struct fsan_trace t = {0};
    char err[512];
    assert_int_equal(fsan_trace_parse("v8.trace", o.bytes, o.len, &t, err, sizeof err), 0);
    assert_int_equal(t.proc.pid, 4242);
    assert_int_equal(t.proc.start_ticks, 77);
    assert_int_equal(t.proc.image_ns, 88);
    assert_string_equal(t.exe, "/usr/bin/old");
    fsan_trace_free(&t);
}

/* Sites are found by id whatever order they come in, a repeated id is the
 * later stack, and a child whose parent interned thousands of sites holds
 * only the few it names (no table as long as the largest id). */
static void test_tracefile_sites_by_id(void **state)
{
    struct old_trace o;
    old_process(&o, FSAN_TRACE_VERSION);
    const uint32_t ids[] = {3855, 1530, 3855, 7};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        unsigned char rec[sizeof(struct fsan_rec_site) + sizeof(uint64_t)];
        struct fsan_rec_site site = {.id = ids[i], .language = FSAN_LANG_C, .nframes = 1};
        uint64_t frame = 0x1000 + i;
        memcpy(rec, &site, sizeof site);
        memcpy(rec + sizeof site, &frame, sizeof frame);
        old_record(&o, FSAN_REC_SITE, rec, sizeof rec, NULL);
    }
    struct fsan_trace t = {0};
    char err[512];
    assert_int_equal(fsan_trace_parse("s.trace", o.bytes, o.len, &t, err, sizeof err), 0);
    assert_int_equal(t.nsites, 3);
    assert_int_equal(fsan_trace_site(&t, 7)->frames[0], 0x1003);
    assert_int_equal(fsan_trace_site(&t, 1530)->frames[0], 0x1001);
    assert_int_equal(fsan_trace_site(&t, 3855)->frames[0], 0x1002); /* the later of the two */
    assert_null(fsan_trace_site(&t, 8));
    assert_null(fsan_trace_site(&t, 0));
    fsan_trace_free(&t);
}

/* Version 5: CLEANUP was 32 bytes with no tail (py_count and pysite read
 * as 0), and FOREIGN and SIGNAL did not exist. */
static void test_tracefile_reads_version_5(void **state)
{
    struct old_trace o;
    old_process(&o, 5);
    struct fsan_rec_cleanup cl = {.kind = FSAN_CLEANUP_STDIO_DUP, .fd = 1, .bytes = 12, .site = 4,
                                  .py_count = 99, .pysite = 98};
    old_record(&o, FSAN_REC_CLEANUP, &cl, offsetof(struct fsan_rec_cleanup, py_count), NULL);

    struct fsan_trace t = {0};
    char err[512], want[200];
    assert_int_equal(fsan_trace_parse("v5.trace", o.bytes, o.len, &t, err, sizeof err), 0);
    assert_int_equal(t.ncleanups, 1);
    assert_int_equal(t.cleanups[0].rec.kind, FSAN_CLEANUP_STDIO_DUP);
    assert_int_equal(t.cleanups[0].rec.bytes, 12);
    assert_int_equal(t.cleanups[0].rec.site, 4);
    assert_int_equal(t.cleanups[0].rec.py_count, 0);
    assert_int_equal(t.cleanups[0].rec.pysite, 0);
    assert_null(t.cleanups[0].name);
    fsan_trace_free(&t);

    /* A version 5 CLEANUP of today's size is not what that writer wrote. */
    struct old_trace bad;
    old_process(&bad, 5);
    size_t off = old_record(&bad, FSAN_REC_CLEANUP, &cl, sizeof cl, NULL);
    memset(&t, 0, sizeof t);
    assert_true(fsan_trace_parse("v5.trace", bad.bytes, bad.len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want, "malformed record type 18 at offset %zu (a cleanup record has the wrong size)", off);
    assert_non_null(strstr(err, want));
    fsan_trace_free(&t);

    struct fsan_rec_foreign fr = {.addr = 0x1000, .lock_type = FSAN_LOCK_SEM, .op = FSAN_OP_SEM_WAIT};
    off = old_record(&o, FSAN_REC_FOREIGN, &fr, sizeof fr, NULL);
    memset(&t, 0, sizeof t);
    assert_true(fsan_trace_parse("v5.trace", o.bytes, o.len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want, "unknown record type 20 at offset %zu", off);
    assert_non_null(strstr(err, want));
    fsan_trace_free(&t);
}

/* A trace from a newer forksan, or one older than this reader reads, is
 * refused with its version and the versions this reader knows. */
static void test_tracefile_version_out_of_range(void **state)
{
    struct old_trace o;
    old_process(&o, FSAN_TRACE_VERSION + 2);
    struct fsan_trace t = {0};
    char err[512], want[200];
    assert_true(fsan_trace_parse("new.trace", o.bytes, o.len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want,
             "cannot read trace 'new.trace': format version %u at offset 8: written by a newer forksan; "
             "this one reads versions %u to %u",
             FSAN_TRACE_VERSION + 2, FSAN_TRACE_VERSION_MIN, FSAN_TRACE_VERSION);
    assert_string_equal(err, want);
    fsan_trace_free(&t);

    old_process(&o, FSAN_TRACE_VERSION_MIN - 1);
    memset(&t, 0, sizeof t);
    assert_true(fsan_trace_parse("old.trace", o.bytes, o.len, &t, err, sizeof err) < 0);
    snprintf(want, sizeof want, "format version %u at offset 8: written by an older forksan", FSAN_TRACE_VERSION_MIN - 1);
    assert_non_null(strstr(err, want));
    fsan_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tracefile_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_created_lazily_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_clean_image_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_second_image_gets_new_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_unwritable_dir_loses_events_not_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_truncated_keeps_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_short_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_other_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_unknown_record_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_impossible_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_random_damage_no_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_python_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyref_name_fills_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyinfo_unavailable_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pysite_name_overruns_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pysite_frames_overrun_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pysite_bytes_left_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pysite_id_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pysite_nul_in_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyref_unknown_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyref_fork_with_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyref_hang_key_not_a_tid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyinfo_unknown_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_pyref_too_short, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_python_random_damage_no_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_exit_records_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_deadlock_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracefile_exit_records_malformed, setup, teardown),
        cmocka_unit_test(test_tracefile_reads_version_6),
        cmocka_unit_test(test_tracefile_reads_version_8_process),
        cmocka_unit_test(test_tracefile_sites_by_id),
        cmocka_unit_test(test_tracefile_reads_version_5),
        cmocka_unit_test(test_tracefile_version_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

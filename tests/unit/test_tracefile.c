/* test_tracefile.c — the trace writer (probes/trace.c) and reader
 * (analyzer/tracefile.c): round trip, lazy creation and permissions, and
 * every way a trace can be bad: truncated, foreign, from another version,
 * damaged — a clear error naming file and offset, never a crash. */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

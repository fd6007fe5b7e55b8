/* test_suppress.c — unit tests for suppression files (analyzer/suppress.c):
 * the parser's accepted forms and its FILE:LINE errors, the matcher (rule,
 * function, file, module, thread name, fingerprint; globs over any frame of
 * any location), and applying a list to a report (findings removed and
 * counted, unmatched user entries listed, built-in entries never listed).
 *
 * DESIGN
 * Findings are built by hand with heap-owned strings, as the analyzer leaves
 * them, so that applying suppressions (which frees the removed findings)
 * and fsan_report_free() together run clean under AddressSanitizer's leak
 * checker: a removed finding that is not freed, or freed twice, fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "suppress.h"

static char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    assert_non_null(copy);
    return copy;
}

/* A finding with one location holding the given frames (function, file
 * pairs) on a thread with the given name. */
static void make_finding(struct fsan_finding *f, const char *rule, const char *fingerprint, const char *thread,
                         const char *function, const char *file)
{
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = FSAN_SEV_ERROR;
    f->message = xstrdup("a message");
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", fingerprint);
    f->count = 1;
    f->nlocations = 2;
    f->locations = calloc(2, sizeof *f->locations);
    assert_non_null(f->locations);
    /* The interesting data sits in the second location and its second
     * frame, so "any location, any frame" is what is tested. */
    struct fsan_location *l = &f->locations[1];
    l->role = "acquired";
    l->has_thread = thread != NULL;
    l->tid = 17;
    l->thread_name = xstrdup(thread);
    l->nframes = 2;
    l->frames = calloc(2, sizeof *l->frames);
    assert_non_null(l->frames);
    l->frames[0].function = xstrdup("pthread_mutex_lock");
    l->frames[0].module = xstrdup("/lib/libc.so.6");
    l->frames[1].function = xstrdup(function);
    l->frames[1].file = xstrdup(file);
    l->frames[1].module = xstrdup("/usr/bin/app");
    f->locations[0].role = "fork";
}

static struct fsan_report two_findings(void)
{
    struct fsan_report r = {0};
    r.nfindings = 2;
    r.findings = calloc(2, sizeof *r.findings);
    assert_non_null(r.findings);
    make_finding(&r.findings[0], "child-deadlock", "00000000000000aa", "worker-3", "cache_refill",
                 "/src/lib/cache.c");
    make_finding(&r.findings[1], "orphaned-lock", "00000000000000bb", "logger", "log_write", "/src/log.c");
    return r;
}

static int parse(struct fsan_suppressions *s, const char *text, char *err, size_t errlen)
{
    return fsan_suppressions_parse(s, "my.supp", text, 0, err, errlen);
}

/* Parses one entry (which must parse) and says whether it matches f. */
static int entry_matches(const char *line, const struct fsan_finding *f)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    int rc = parse(&s, line, err, sizeof err);
    if (rc != 0)
        fail_msg("'%s' did not parse: %s", line, err);
    assert_int_equal(s.nentries, 1);
    int m = fsan_suppression_matches(&s.entries[0], f);
    fsan_suppressions_free(&s);
    return m;
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_suppress_parse_skips_comments_and_blank_lines(void **state)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, "# a comment\n\n   \n  # indented comment\nchild-deadlock:*\r\n*:thread:w*", err,
                           sizeof err),
                     0);
    assert_int_equal(s.nentries, 2);
    assert_string_equal(s.entries[0].rule, "child-deadlock");
    assert_int_equal(s.entries[0].kind, FSAN_SUPP_ANY);
    assert_string_equal(s.entries[0].origin, "my.supp:5: child-deadlock:*");
    assert_null(s.entries[1].rule);
    assert_int_equal(s.entries[1].kind, FSAN_SUPP_THREAD);
    assert_string_equal(s.entries[1].pattern, "w*");
    fsan_suppressions_free(&s);
}

static void test_suppress_parse_pattern_keeps_colons(void **state)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, "orphaned-lock:function:ns::Pool::*", err, sizeof err), 0);
    assert_string_equal(s.entries[0].pattern, "ns::Pool::*");
    fsan_suppressions_free(&s);
}

/* Each mistake: rc -EINVAL, the message starts with FILE:LINE and names the
 * offending text. */
static void expect_error(const char *text, const char *where, const char *needle)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, text, err, sizeof err), -EINVAL);
    if (strncmp(err, where, strlen(where)) != 0 || strstr(err, needle) == NULL)
        fail_msg("error '%s' does not start with '%s' and mention '%s'", err, where, needle);
    assert_int_equal(s.nentries, 0);
    fsan_suppressions_free(&s);
}

static void test_suppress_parse_errors_name_file_and_line(void **state)
{
    expect_error("# ok\nno-such-rule:*\n", "my.supp:2: ", "unknown rule 'no-such-rule'");
    expect_error("\n\nchild-deadlock:lock:0x1\n", "my.supp:3: ", "unknown suppression kind 'lock'");
    expect_error("child-deadlock:function:\n", "my.supp:1: ", "needs a pattern");
    expect_error("child-deadlock:function\n", "my.supp:1: ", "needs a pattern");
    expect_error("just-words\n", "my.supp:1: ", "'just-words' is not a suppression");
    expect_error("*:fingerprint:12345\n", "my.supp:1: ", "fingerprint '12345' is not 16 hex digits");
}

/* An error on a later line leaves the entries of the earlier lines, which
 * the caller frees; nothing leaks (ASan checks). */
static void test_suppress_parse_error_after_good_lines_does_not_leak(void **state)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, "child-deadlock:*\nbad\n", err, sizeof err), -EINVAL);
    assert_int_equal(s.nentries, 1);
    fsan_suppressions_free(&s);
}

static void test_suppress_load_missing_file_names_it(void **state)
{
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(fsan_suppressions_load(&s, "/nonexistent/x.supp", err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "'/nonexistent/x.supp'"));
    fsan_suppressions_free(&s);
}

static void test_suppress_load_reads_a_file(void **state)
{
    char path[] = "/tmp/test_suppress.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "child-deadlock:*\norphaned-lock:file:*.c\nbroken line\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct fsan_suppressions s = {0};
    char err[512] = "", want[600];
    assert_int_equal(fsan_suppressions_load(&s, path, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s:3: ", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    unlink(path);
    fsan_suppressions_free(&s);
}

/* ---- matching --------------------------------------------------------------- */

static void test_suppress_match_by_rule(void **state)
{
    struct fsan_report r = two_findings();
    assert_true(entry_matches("child-deadlock:*", &r.findings[0]));
    assert_false(entry_matches("child-deadlock:*", &r.findings[1]));
    assert_true(entry_matches("*:*", &r.findings[1]));
    fsan_report_free(&r);
}

static void test_suppress_match_function_glob_in_any_frame(void **state)
{
    struct fsan_report r = two_findings();
    assert_true(entry_matches("child-deadlock:function:cache_*", &r.findings[0]));
    assert_true(entry_matches("*:function:pthread_mutex_lock", &r.findings[0]));
    assert_false(entry_matches("child-deadlock:function:cache", &r.findings[0]));
    assert_false(entry_matches("orphaned-lock:function:cache_*", &r.findings[0]));
    fsan_report_free(&r);
}

static void test_suppress_match_file_glob_full_path_or_base_name(void **state)
{
    struct fsan_report r = two_findings();
    assert_true(entry_matches("*:file:/src/lib/*", &r.findings[0]));
    assert_true(entry_matches("*:file:cache.c", &r.findings[0]));
    assert_true(entry_matches("*:file:cach?.c", &r.findings[0]));
    assert_false(entry_matches("*:file:lib/cache.c", &r.findings[0])); /* with '/', the whole path */
    assert_false(entry_matches("*:file:/src/lib/*", &r.findings[1]));
    fsan_report_free(&r);
}

static void test_suppress_match_module_and_fingerprint(void **state)
{
    struct fsan_report r = two_findings();
    assert_true(entry_matches("*:module:libc.so*", &r.findings[0]));
    assert_false(entry_matches("*:module:libssl*", &r.findings[0]));
    assert_true(entry_matches("*:fingerprint:00000000000000BB", &r.findings[1]));
    assert_false(entry_matches("*:fingerprint:00000000000000bb", &r.findings[0]));
    fsan_report_free(&r);
}

static void test_suppress_match_thread_name_glob(void **state)
{
    struct fsan_report r = two_findings();
    assert_true(entry_matches("*:thread:worker-*", &r.findings[0]));
    assert_false(entry_matches("*:thread:worker-*", &r.findings[1]));
    /* A location without a thread never matches a thread pattern, not even '*'. */
    free(r.findings[1].locations[1].thread_name);
    r.findings[1].locations[1].thread_name = NULL;
    r.findings[1].locations[1].has_thread = 0;
    assert_false(entry_matches("*:thread:*", &r.findings[1]));
    fsan_report_free(&r);
}

/* ---- applying --------------------------------------------------------------- */

static void test_suppress_apply_removes_counts_and_lists_unmatched(void **state)
{
    struct fsan_report r = two_findings();
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, "child-deadlock:function:cache_*\n# gone\nthreads-at-fork:*\n", err, sizeof err), 0);
    assert_int_equal(fsan_suppressions_apply(&s, &r), 0);
    assert_int_equal(r.nfindings, 1);
    assert_string_equal(r.findings[0].rule, "orphaned-lock");
    assert_int_equal(r.nsuppressed, 1);
    assert_int_equal(r.nunmatched, 1);
    assert_string_equal(r.unmatched_suppressions[0], "my.supp:3: threads-at-fork:*");
    assert_int_equal(s.entries[0].hits, 1);
    fsan_suppressions_free(&s);
    fsan_report_free(&r);
}

/* Two entries matching one finding are both credited: neither is stale. */
static void test_suppress_apply_credits_every_matching_entry(void **state)
{
    struct fsan_report r = two_findings();
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(parse(&s, "child-deadlock:*\n*:thread:worker-3\n", err, sizeof err), 0);
    assert_int_equal(fsan_suppressions_apply(&s, &r), 0);
    assert_int_equal(r.nsuppressed, 1);
    assert_int_equal(r.nunmatched, 0);
    fsan_suppressions_free(&s);
    fsan_report_free(&r);
}

static void test_suppress_builtin_entries_are_never_unmatched(void **state)
{
    struct fsan_report r = two_findings();
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(fsan_suppressions_parse(&s, FSAN_BUILTIN_SUPP_NAME, "threads-at-fork:*\n", 1, err, sizeof err), 0);
    assert_int_equal(parse(&s, "inherited-held-lock:*\n", err, sizeof err), 0);
    assert_int_equal(fsan_suppressions_apply(&s, &r), 0);
    assert_int_equal(r.nfindings, 2);
    assert_int_equal(r.nunmatched, 1);
    assert_string_equal(r.unmatched_suppressions[0], "my.supp:1: inherited-held-lock:*");
    fsan_suppressions_free(&s);
    fsan_report_free(&r);
}

/* The compiled-in list parses, is marked built-in, and hides CPython's
 * import lock (taken by os.fork() itself) but not a user's lock. */
static void test_suppress_builtin_list_parses_and_hides_the_import_lock(void **state)
{
    struct fsan_report r = {0};
    r.nfindings = 2;
    r.findings = calloc(2, sizeof *r.findings);
    assert_non_null(r.findings);
    make_finding(&r.findings[0], "inherited-held-lock", "00000000000000cc", "python3", "_PyImport_AcquireLock",
                 NULL);
    make_finding(&r.findings[1], "inherited-held-lock", "00000000000000dd", "python3", "user_take_lock", "app.c");
    struct fsan_suppressions s = {0};
    char err[512] = "";
    assert_int_equal(fsan_suppressions_add_builtin(&s, err, sizeof err), 0);
    assert_true(s.nentries > 0);
    for (size_t i = 0; i < s.nentries; i++)
        assert_true(s.entries[i].builtin);
    assert_int_equal(fsan_suppressions_apply(&s, &r), 0);
    assert_int_equal(r.nfindings, 1);
    assert_string_equal(r.findings[0].fingerprint, "00000000000000dd");
    assert_int_equal(r.nunmatched, 0);
    fsan_suppressions_free(&s);
    fsan_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suppress_parse_skips_comments_and_blank_lines),
        cmocka_unit_test(test_suppress_parse_pattern_keeps_colons),
        cmocka_unit_test(test_suppress_parse_errors_name_file_and_line),
        cmocka_unit_test(test_suppress_parse_error_after_good_lines_does_not_leak),
        cmocka_unit_test(test_suppress_load_missing_file_names_it),
        cmocka_unit_test(test_suppress_load_reads_a_file),
        cmocka_unit_test(test_suppress_match_by_rule),
        cmocka_unit_test(test_suppress_match_function_glob_in_any_frame),
        cmocka_unit_test(test_suppress_match_file_glob_full_path_or_base_name),
        cmocka_unit_test(test_suppress_match_module_and_fingerprint),
        cmocka_unit_test(test_suppress_match_thread_name_glob),
        cmocka_unit_test(test_suppress_apply_removes_counts_and_lists_unmatched),
        cmocka_unit_test(test_suppress_apply_credits_every_matching_entry),
        cmocka_unit_test(test_suppress_builtin_entries_are_never_unmatched),
        cmocka_unit_test(test_suppress_builtin_list_parses_and_hides_the_import_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

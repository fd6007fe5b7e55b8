/* test_baseline.c — unit tests for --baseline (analyzer/baseline.c): the
 * strict JSON reader (what it accepts, and errors that name the file and the
 * byte offset), the checks that the document is a forksan report, and the
 * comparison (new, unchanged, fixed).
 *
 * DESIGN
 * Baselines here are small literal documents, so each test shows exactly
 * the byte an offset points at.  One test feeds the reader a report written
 * by the real JSON renderer, so the reader and the writer cannot drift
 * apart.
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

#include "baseline.h"
#include "model.h"
#include "render.h"

#define REPORT_HEAD "{\"tool\": {\"name\": \"forksan\", \"version\": \"0.1.0\"}, \"findings\": ["
#define FINDING(rule, sev, fp) \
    "{\"rule\": \"" rule "\", \"severity\": \"" sev "\", \"message\": \"m " fp "\", \"fingerprint\": \"" fp "\"}"

static int parse(struct fsan_baseline *b, const char *text, char *err, size_t errlen)
{
    return fsan_baseline_parse(b, "old.json", text, strlen(text), err, errlen);
}

/* The parse must fail with an error naming old.json and `needle`. */
static void expect_error(const char *text, const char *needle)
{
    struct fsan_baseline b = {0};
    char err[512] = "";
    assert_int_equal(parse(&b, text, err, sizeof err), -EINVAL);
    if (strncmp(err, "old.json: ", 10) != 0 || strstr(err, needle) == NULL)
        fail_msg("error '%s' does not name old.json and mention '%s'", err, needle);
    assert_int_equal(b.nfindings, 0);
    fsan_baseline_free(&b);
}

/* ---- the JSON reader -------------------------------------------------------- */

static void test_baseline_reads_findings(void **state)
{
    struct fsan_baseline b = {0};
    char err[512] = "";
    const char *text = REPORT_HEAD FINDING("child-deadlock", "error", "00000000000000aa") ", "
                                   FINDING("orphaned-lock", "warning", "00000000000000bb")
                       "], \"exit_status\": null, \"x\": [1, -2.5e+3, 0.0, true, false, {}], "
                       "\"s\": \"\\u00e9\\ud83d\\ude00\\n\\\"\"}\n";
    assert_int_equal(parse(&b, text, err, sizeof err), 0);
    assert_int_equal(b.nfindings, 2);
    assert_string_equal(b.findings[0].rule, "child-deadlock");
    assert_int_equal(b.findings[0].severity, FSAN_SEV_ERROR);
    assert_string_equal(b.findings[0].message, "m 00000000000000aa");
    assert_string_equal(b.findings[1].fingerprint, "00000000000000bb");
    assert_int_equal(b.findings[1].severity, FSAN_SEV_WARNING);
    fsan_baseline_free(&b);
}

static void test_baseline_syntax_errors_give_the_offset(void **state)
{
    /* offset 13 is the '}' after the trailing comma */
    expect_error("{\"a\": [1, 2],}", "invalid JSON at offset 13: trailing comma");
    expect_error("{\"a\": 1 \"b\": 2}", "invalid JSON at offset 8: expected ',' or '}'");
    expect_error("{\"a\": 01}", "invalid JSON at offset 7: expected ',' or '}'");
    expect_error("{\"a\": tru}", "invalid JSON at offset 6: unexpected 't'");
    expect_error("{\"a\": \"x", "invalid JSON at offset 8: unterminated string");
    expect_error("{\"a\": \"\t\"}", "invalid JSON at offset 7: control character 0x09");
    expect_error("{\"a\": \"\\x\"}", "invalid JSON at offset 8: unknown escape");
    expect_error("{\"a\": \"\\udc00\"}", "lone low surrogate");
    expect_error("{} {}", "invalid JSON at offset 3: unexpected '{' after the end");
    expect_error("", "invalid JSON at offset 0: unexpected end of file");
    expect_error("{'a': 1}", "invalid JSON at offset 1: expected a member name");
    expect_error("[1, -]", "invalid JSON at offset 5: a number needs digits");
}

static void test_baseline_nesting_is_capped(void **state)
{
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 99);
    deep[199] = '\0';
    expect_error(deep, "nested deeper than 64 levels");
}

static void test_baseline_must_be_a_forksan_report(void **state)
{
    expect_error("[]", "not a forksan JSON report: the top level is not an object");
    expect_error("{\"version\": \"2.1.0\", \"runs\": []}", "not a forksan JSON report: no \"tool\"");
    expect_error("{\"tool\": {\"name\": \"forksan\"}}", "no \"findings\" array");
    expect_error(REPORT_HEAD "{\"rule\": \"child-deadlock\", \"severity\": \"error\"}]}",
                 "findings[0] has no 16-hex-digit \"fingerprint\"");
    expect_error(REPORT_HEAD FINDING("child-deadlock", "error", "00000000000000aa") ", "
                     FINDING("child-deadlock", "fatal", "00000000000000bb") "]}",
                 "findings[1] has no \"severity\"");
}

static void test_baseline_load_missing_file_names_it(void **state)
{
    struct fsan_baseline b = {0};
    char err[512] = "";
    assert_int_equal(fsan_baseline_load(&b, "/nonexistent/old.json", err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "'/nonexistent/old.json'"));
}

/* ---- comparing -------------------------------------------------------------- */

static struct fsan_report report_with(size_t n, const char *const *fingerprints)
{
    struct fsan_report r = {0};
    r.nfindings = n;
    r.findings = calloc(n, sizeof *r.findings);
    assert_non_null(r.findings);
    for (size_t i = 0; i < n; i++) {
        r.findings[i].rule = "child-deadlock";
        r.findings[i].severity = FSAN_SEV_ERROR;
        snprintf(r.findings[i].fingerprint, sizeof r.findings[i].fingerprint, "%s", fingerprints[i]);
    }
    return r;
}

static void test_baseline_marks_new_unchanged_and_fixed(void **state)
{
    struct fsan_baseline b = {0};
    char err[512] = "";
    const char *text = REPORT_HEAD FINDING("child-deadlock", "error", "00000000000000aa") ", "
                                   FINDING("orphaned-lock", "warning", "00000000000000bb") "]}";
    assert_int_equal(parse(&b, text, err, sizeof err), 0);
    const char *const now[] = {"00000000000000AA", "00000000000000cc"};
    struct fsan_report r = report_with(2, now);
    assert_int_equal(fsan_baseline_apply(&b, &r), 0);
    assert_true(r.has_baseline);
    assert_string_equal(r.findings[0].baseline, "unchanged");
    assert_string_equal(r.findings[1].baseline, "new");
    assert_int_equal(r.nfixed, 1);
    assert_string_equal(r.fixed[0].rule, "orphaned-lock");
    assert_string_equal(r.fixed[0].fingerprint, "00000000000000bb");
    assert_int_equal(r.fixed[0].severity, FSAN_SEV_WARNING);
    assert_string_equal(r.fixed[0].message, "m 00000000000000bb");
    /* The fixed finding moved to the report: freeing both frees it once. */
    fsan_baseline_free(&b);
    fsan_report_free(&r);
}

static void test_baseline_empty_baseline_makes_everything_new(void **state)
{
    struct fsan_baseline b = {0};
    char err[512] = "";
    assert_int_equal(parse(&b, REPORT_HEAD "]}", err, sizeof err), 0);
    const char *const now[] = {"00000000000000aa"};
    struct fsan_report r = report_with(1, now);
    assert_int_equal(fsan_baseline_apply(&b, &r), 0);
    assert_string_equal(r.findings[0].baseline, "new");
    assert_int_equal(r.nfixed, 0);
    fsan_baseline_free(&b);
    fsan_report_free(&r);
}

/* What render_json writes, the reader reads back. */
static void test_baseline_reads_what_render_json_writes(void **state)
{
    const char *const now[] = {"0123456789abcdef"};
    struct fsan_report r = report_with(1, now);
    r.tool_version = "0.1.0";
    r.exit_status = -1;
    r.findings[0].message = strdup("a \"quoted\"\nmessage \x01");
    assert_non_null(r.findings[0].message);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(fsan_render_json(out, &r), 0);
    fclose(out);
    struct fsan_baseline b = {0};
    char err[512] = "";
    if (fsan_baseline_parse(&b, "rendered.json", text, len, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(b.nfindings, 1);
    assert_string_equal(b.findings[0].fingerprint, "0123456789abcdef");
    assert_string_equal(b.findings[0].message, "a \"quoted\"\nmessage \x01");
    free(text);
    fsan_baseline_free(&b);
    fsan_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_reads_findings),
        cmocka_unit_test(test_baseline_syntax_errors_give_the_offset),
        cmocka_unit_test(test_baseline_nesting_is_capped),
        cmocka_unit_test(test_baseline_must_be_a_forksan_report),
        cmocka_unit_test(test_baseline_load_missing_file_names_it),
        cmocka_unit_test(test_baseline_marks_new_unchanged_and_fixed),
        cmocka_unit_test(test_baseline_empty_baseline_makes_everything_new),
        cmocka_unit_test(test_baseline_reads_what_render_json_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

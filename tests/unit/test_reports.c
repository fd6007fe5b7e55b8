/* test_reports.c — unit tests for the report model helpers (common/model.c),
 * the JSON writer (reports/jsonw.c) and the text and JSON renderers.
 *
 * Every test builds its report by hand, with each owned string and array on
 * the heap exactly as the analyzer would leave them, renders it into a
 * memory stream and frees it with fsan_report_free(), so that running this
 * binary under valgrind also checks that the free function releases exactly
 * what the model says a report owns.
 *
 * DESIGN
 * Text output is checked line by line (a whole line must match), because a
 * substring match would pass on a frame line that has extra text glued to
 * it.  JSON output is checked by Python's json module, not by string
 * matching alone: it is a strict parser (it rejects control characters in
 * strings, and invalid UTF-8 when told the encoding), so it proves the
 * document is valid, and evaluating an expression over the parsed document
 * checks values and types (null versus 0, strings versus numbers) instead of
 * spellings.  Python answers with json.dumps(), whose output is ASCII and
 * fully determined, so a test compares it with one expected string.  The
 * JSON writer's own tests compare exact bytes, since there the spelling
 * (escapes, indentation) is the behaviour under test.
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
#include <sys/wait.h>
#include <unistd.h>

#include "jsonw.h"
#include "model.h"
#include "render.h"

#define FORKSAN_PID 4242

/* ---- building reports ----------------------------------------------------- */

static char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    assert_non_null(copy);
    return copy;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    assert_non_null(p);
    return p;
}

static char **string_list(size_t n, ...)
{
    char **list = xcalloc(n, sizeof *list);
    va_list ap;

    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        list[i] = xstrdup(va_arg(ap, const char *));
    va_end(ap);
    return list;
}

static struct fsan_frame c_frame(const char *function, const char *file, int line,
                                 const char *module, uint64_t address, uint64_t offset)
{
    struct fsan_frame f = {
        .function = xstrdup(function),
        .file = xstrdup(file),
        .line = line,
        .module = xstrdup(module),
        .address = address,
        .module_offset = offset,
        .language = "c",
    };
    return f;
}

static struct fsan_frame py_frame(const char *function, const char *file, int line)
{
    struct fsan_frame f = {
        .function = xstrdup(function),
        .file = xstrdup(file),
        .line = line,
        .language = "python",
    };
    return f;
}

static void set_finding(struct fsan_finding *f, const char *rule, enum fsan_severity severity,
                        const char *message, const char *fingerprint, unsigned count)
{
    f->rule = rule;
    f->severity = severity;
    f->message = xstrdup(message);
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", fingerprint);
    f->count = count;
}

/* The locations of a child-deadlock: who acquired the lock (a named thread
 * with C frames in every fallback form), the child's attempt (a Python
 * frame above a C frame), and the fork site, of which no stack survived. */
static struct fsan_location *deadlock_locations(size_t *n)
{
    struct fsan_location *l = xcalloc(3, sizeof *l);

    l[0].role = "acquired";
    l[0].has_thread = 1;
    l[0].tid = 17;
    l[0].thread_name = xstrdup("worker");
    l[0].nframes = 4;
    l[0].frames = xcalloc(4, sizeof *l[0].frames);
    l[0].frames[0] = c_frame("take_lock", "worker.c", 12, "/usr/bin/app", 0x401136, 0x1136);
    l[0].frames[1] = c_frame("start_thread", NULL, 0, "/lib/x86_64-linux-gnu/libc.so.6",
                             0x7f3a12094ac3, 0x94ac3);
    l[0].frames[2] = c_frame(NULL, NULL, 0, "/lib/x86_64-linux-gnu/libc.so.6",
                             0x7f3a12126850, 0x126850);
    l[0].frames[3] = c_frame(NULL, NULL, 0, NULL, 0xdead, 0);

    l[1].role = "attempt";
    l[1].description = xstrdup("the child tried to take it here:");
    l[1].nframes = 2;
    l[1].frames = xcalloc(2, sizeof *l[1].frames);
    l[1].frames[0] = py_frame("handler", "app.py", 7);
    l[1].frames[1] = c_frame("PyObject_Call", NULL, 0, "/usr/lib/libpython3.11.so.1.0",
                             0x7f3a13000010, 0x10);

    l[2].role = "fork";
    *n = 3;
    return l;
}

/* A report with one error, no warnings and two notes in three processes:
 * a root process, a fork child with an unknown exe and exit, and a child
 * that exec'ed and was killed.  The second note's rule is not in the
 * catalogue, and the first note was merged from twelve processes of which
 * ten pids were kept. */
static struct fsan_report sample_report(void)
{
    struct fsan_report r = {0};

    r.tool_version = "0.1.0";
    r.command = string_list(2, "app", "--serve");
    r.ncommand = 2;
    r.exit_status = -1;

    r.nprocesses = 3;
    r.processes = xcalloc(3, sizeof *r.processes);
    r.processes[0] = (struct fsan_process){100, 1, xstrdup("/usr/bin/app"), 0, 0, 0, 0, {1, "exit", 0}, 0, NULL};
    r.processes[1] = (struct fsan_process){101, 100, NULL, 100, 3, 1, 0, {0, NULL, 0}, 0, NULL};
    r.processes[2] = (struct fsan_process){102, 100, xstrdup("/bin/true"), 100, 3, 1, 1, {1, "signal", 9}, 0, NULL};

    r.nfindings = 3;
    r.findings = xcalloc(3, sizeof *r.findings);
    set_finding(&r.findings[0], "child-deadlock", FSAN_SEV_ERROR,
                "child blocks forever on mutex 0x5555deadbeef", "0123456789abcdef", 1);
    r.findings[0].npids = 1;
    r.findings[0].pids = xcalloc(1, sizeof(int));
    r.findings[0].pids[0] = 101;
    r.findings[0].locations = deadlock_locations(&r.findings[0].nlocations);

    set_finding(&r.findings[1], "inherited-held-lock", FSAN_SEV_NOTE,
                "lock held by the forking thread is still held", "fedcba9876543210", 12);
    r.findings[1].npids = 10;
    r.findings[1].pids = xcalloc(10, sizeof(int));
    for (int i = 0; i < 10; i++)
        r.findings[1].pids[i] = 201 + i;

    set_finding(&r.findings[2], "not-a-catalogued-rule", FSAN_SEV_NOTE, "re-initialised mutex 0x5555deadbeef",
                "00000000000000ff", 1);

    r.nnotices = 1;
    r.notices = string_list(1, "trace of pid 102 was truncated");
    return r;
}

/* A report of one process in which nothing was found. */
static struct fsan_report empty_report(void)
{
    struct fsan_report r = {0};

    r.tool_version = "0.1.0";
    r.exit_status = 0;
    r.nprocesses = 1;
    r.processes = xcalloc(1, sizeof *r.processes);
    r.processes[0] = (struct fsan_process){100, 1, xstrdup("/usr/bin/app"), 0, 0, 0, 0, {1, "exit", 0}, 0, NULL};
    return r;
}

/* ---- rendering ------------------------------------------------------------ */

/* The helpers that return an open_memstream() buffer are kept out of line:
 * when GCC 12 inlines them at -O3 it believes the returned pointer may point
 * at the helper's own local `buf` (whose address open_memstream() took) and
 * -Wdangling-pointer fails the build. */
#define MEMSTREAM_HELPER __attribute__((noinline))

MEMSTREAM_HELPER static char *render_text(const struct fsan_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    assert_int_equal(fsan_render_text(out, r, FORKSAN_PID), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

MEMSTREAM_HELPER static char *render_json(const struct fsan_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    assert_int_equal(fsan_render_json(out, r), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

/* True when `line` is one whole line of `text`. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line)) {
        int starts_line = p == text || p[-1] == '\n';
        if (starts_line && p[n] == '\n')
            return 1;
    }
    return 0;
}

/* Shows the whole report when a line is missing: the diff is then obvious. */
#define assert_has_line(text, line)                                                    \
    do {                                                                               \
        if (!has_line((text), (line)))                                                 \
            fail_msg("line not found: \"%s\"\n--- output ---\n%s", (line), (text)); \
    } while (0)

/* Runs the Python expression `query` over the parsed JSON document `json`
 * (bound to `d`) and returns json.dumps() of its value, or NULL when
 * python3 failed, which includes json.load() rejecting the document. */
static char *json_query(const char *json, const char *query)
{
    char path[] = "/tmp/fsan-test-reports-XXXXXX";
    int fd = mkstemp(path);
    char cmd[512], *line = NULL;
    size_t cap = 0;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    assert_int_equal(close(fd), 0);
    /* The query travels in the environment, so no shell quoting can alter it. */
    assert_int_equal(setenv("FSAN_TEST_QUERY", query, 1), 0);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,os,sys; d=json.load(open(sys.argv[1], encoding=\"utf-8\"));"
             " print(json.dumps(eval(os.environ[\"FSAN_TEST_QUERY\"])))' %s",
             path);
    FILE *py = popen(cmd, "r");
    assert_non_null(py);
    ssize_t n = getline(&line, &cap, py);
    int status = pclose(py);
    unlink(path);
    if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\n")] = '\0';
    return line;
}

/* Checks json.dumps(query) == expected, and names the query on failure. */
static void assert_json_query(const char *json, const char *query, const char *expected)
{
    char *got = json_query(json, query);

    if (got == NULL)
        fail_msg("python3 could not parse the report or evaluate %s\n%s", query, json);
    if (strcmp(got, expected) != 0) {
        print_error("%s: expected %s, got %s\n", query, expected, got);
        free(got);
        fail();
    }
    free(got);
}

/* ---- severities ------------------------------------------------------------ */

static void test_reports_severity_names(void **state)
{
    assert_string_equal(fsan_severity_name(FSAN_SEV_NOTE), "note");
    assert_string_equal(fsan_severity_name(FSAN_SEV_WARNING), "warning");
    assert_string_equal(fsan_severity_name(FSAN_SEV_ERROR), "error");
    assert_string_equal(fsan_severity_name(FSAN_SEV_NONE), "none");
}

static void test_reports_severity_parse_round_trips(void **state)
{
    enum fsan_severity all[] = {FSAN_SEV_NOTE, FSAN_SEV_WARNING, FSAN_SEV_ERROR, FSAN_SEV_NONE};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        /* Start from a different value so a parse that writes nothing fails. */
        enum fsan_severity parsed = all[i] == FSAN_SEV_ERROR ? FSAN_SEV_NOTE : FSAN_SEV_ERROR;
        assert_int_equal(fsan_severity_parse(fsan_severity_name(all[i]), &parsed), 0);
        assert_int_equal(parsed, all[i]);
    }
}

static void test_reports_severity_parse_accepts_never(void **state)
{
    enum fsan_severity parsed = FSAN_SEV_ERROR;

    assert_int_equal(fsan_severity_parse("never", &parsed), 0);
    assert_int_equal(parsed, FSAN_SEV_NONE);
}

static void test_reports_severity_parse_rejects_unknown_words(void **state)
{
    const char *bad[] = {"fatal", "", "Error", "errors", "warn", "never "};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum fsan_severity parsed = FSAN_SEV_WARNING;
        assert_int_equal(fsan_severity_parse(bad[i], &parsed), -EINVAL);
        assert_int_equal(parsed, FSAN_SEV_WARNING); /* untouched on failure */
    }
    enum fsan_severity parsed = FSAN_SEV_WARNING;
    assert_int_equal(fsan_severity_parse(NULL, &parsed), -EINVAL);
}

/* ---- freeing ---------------------------------------------------------------- */

/* Valgrind (--leak-check=full) is what proves that everything was freed;
 * the asserts prove the report is left empty and safe to free again. */
static void test_reports_free_releases_everything(void **state)
{
    struct fsan_report r = sample_report();

    fsan_report_free(&r);
    assert_null(r.command);
    assert_null(r.processes);
    assert_null(r.findings);
    assert_null(r.notices);
    assert_int_equal(r.nfindings, 0);
    fsan_report_free(&r);
    fsan_report_free(NULL);
}

/* An analysis that failed half-way leaves NULL arrays and NULL strings. */
static void test_reports_free_accepts_partial_report(void **state)
{
    struct fsan_report r = {0};

    r.nfindings = 1;
    r.findings = xcalloc(1, sizeof *r.findings);
    r.findings[0].rule = "child-deadlock";
    r.findings[0].nlocations = 1;
    r.findings[0].locations = xcalloc(1, sizeof *r.findings[0].locations);
    r.nprocesses = 1;
    r.processes = xcalloc(1, sizeof *r.processes);
    fsan_report_free(&r);
    assert_null(r.findings);
}

/* ---- JSON writer ------------------------------------------------------------- */

/* The exact bytes the writer produces for one top-level string. */
MEMSTREAM_HELPER static char *jsonw_string_output(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct fsan_json w;

    assert_non_null(out);
    fsan_json_init(&w, out);
    fsan_json_string(&w, s);
    assert_int_equal(fsan_json_finish(&w), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

static void assert_jsonw_string(const char *in, const char *expected)
{
    char *got = jsonw_string_output(in);

    assert_string_equal(got, expected);
    free(got);
}

#define FFFD "\xef\xbf\xbd"

static void test_reports_jsonw_escapes_quotes_backslashes_and_controls(void **state)
{
    assert_jsonw_string("a\"b\\c", "\"a\\\"b\\\\c\"\n");
    assert_jsonw_string("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"\n");
    assert_jsonw_string("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"\n");
}

static void test_reports_jsonw_passes_valid_utf8_through(void **state)
{
    /* é (2 bytes), € (3), U+10FFFF (4, the largest), 😀 (4). */
    assert_jsonw_string("\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80",
                        "\"\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80\"\n");
}

/* One U+FFFD per maximal subpart, as Python's decoder with
 * errors="replace" does. */
static void test_reports_jsonw_replaces_invalid_utf8(void **state)
{
    assert_jsonw_string("a\xff" "b", "\"a" FFFD "b\"\n");           /* never a lead byte */
    assert_jsonw_string("\x80", "\"" FFFD "\"\n");                  /* lone continuation */
    assert_jsonw_string("\xc0\xaf", "\"" FFFD FFFD "\"\n");         /* overlong '/' */
    assert_jsonw_string("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"\n"); /* UTF-16 surrogate */
    assert_jsonw_string("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"\n"); /* > U+10FFFF */
    assert_jsonw_string("\xe2\x82", "\"" FFFD "\"\n");              /* truncated at the end */
    assert_jsonw_string("\xe2\x82" "A", "\"" FFFD "A\"\n");         /* truncated mid-string */
}

static void test_reports_jsonw_indents_and_separates(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct fsan_json w;

    assert_non_null(out);
    fsan_json_init(&w, out);
    fsan_json_begin_object(&w);
    fsan_json_key(&w, "a");
    fsan_json_begin_array(&w);
    fsan_json_int(&w, -1);
    fsan_json_uint(&w, 18446744073709551615ull);
    fsan_json_bool(&w, 1);
    fsan_json_null(&w);
    fsan_json_end_array(&w);
    fsan_json_key(&w, "b");
    fsan_json_begin_object(&w);
    fsan_json_end_object(&w);
    fsan_json_key(&w, "c");
    fsan_json_hex(&w, 0xdeadbeefcafeull);
    fsan_json_end_object(&w);
    assert_int_equal(fsan_json_finish(&w), 0);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(buf, "{\n"
                             "  \"a\": [\n"
                             "    -1,\n"
                             "    18446744073709551615,\n"
                             "    true,\n"
                             "    null\n"
                             "  ],\n"
                             "  \"b\": {},\n"
                             "  \"c\": \"0xdeadbeefcafe\"\n"
                             "}\n");
    free(buf);
}

/* Runs one writer misuse on a scratch stream and returns what finish says. */
static int jsonw_finish_after(void (*misuse)(struct fsan_json *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct fsan_json w;

    assert_non_null(out);
    fsan_json_init(&w, out);
    misuse(&w);
    int rc = fsan_json_finish(&w);
    fclose(out);
    free(buf);
    return rc;
}

static void value_without_key(struct fsan_json *w)
{
    fsan_json_begin_object(w);
    fsan_json_int(w, 1);
    fsan_json_end_object(w);
}

static void key_in_array(struct fsan_json *w)
{
    fsan_json_begin_array(w);
    fsan_json_key(w, "k");
    fsan_json_int(w, 1);
    fsan_json_end_array(w);
}

static void unclosed_object(struct fsan_json *w)
{
    fsan_json_begin_object(w);
}

static void mismatched_end(struct fsan_json *w)
{
    fsan_json_begin_array(w);
    fsan_json_end_object(w);
}

static void two_roots(struct fsan_json *w)
{
    fsan_json_int(w, 1);
    fsan_json_int(w, 2);
}

static void nothing_written(struct fsan_json *w)
{
}

static void test_reports_jsonw_reports_misuse(void **state)
{
    assert_int_equal(jsonw_finish_after(value_without_key), -EINVAL);
    assert_int_equal(jsonw_finish_after(key_in_array), -EINVAL);
    assert_int_equal(jsonw_finish_after(unclosed_object), -EINVAL);
    assert_int_equal(jsonw_finish_after(mismatched_end), -EINVAL);
    assert_int_equal(jsonw_finish_after(two_roots), -EINVAL);
    assert_int_equal(jsonw_finish_after(nothing_written), -EINVAL);
}

/* ---- JSON report --------------------------------------------------------------- */

static void test_reports_json_parses_with_documented_top_level(void **state)
{
    struct fsan_report r = sample_report();
    char *json = render_json(&r);

    assert_json_query(json, "sorted(d)",
                      "[\"command\", \"exit_status\", \"findings\", \"fixed\", \"notices\", \"processes\", "
                      "\"summary\", \"suppressions\", \"tool\"]");
    assert_json_query(json, "d[\"tool\"]", "{\"name\": \"forksan\", \"version\": \"0.1.0\"}");
    assert_json_query(json, "d[\"command\"]", "[\"app\", \"--serve\"]");
    assert_json_query(json, "d[\"notices\"]", "[\"trace of pid 102 was truncated\"]");
    free(json);
    fsan_report_free(&r);
}

/* Exactly the documented keys, no more and no fewer, at every level. */
static void test_reports_json_objects_have_exactly_the_schema_keys(void **state)
{
    struct fsan_report r = sample_report();
    char *json = render_json(&r);

    assert_json_query(json, "sorted(d[\"processes\"][0])",
                      "[\"exe\", \"execed\", \"exit\", \"forked_by_tid\", \"pid\", \"ppid\", "
                      "\"threads_at_fork\"]");
    assert_json_query(json, "sorted(d[\"processes\"][0][\"exit\"])", "[\"how\", \"status\"]");
    assert_json_query(json, "sorted(d[\"findings\"][0])",
                      "[\"baseline\", \"count\", \"fingerprint\", \"locations\", \"message\", \"pids\", "
                      "\"rule\", \"severity\"]");
    assert_json_query(json, "sorted(d[\"findings\"][0][\"locations\"][0])",
                      "[\"description\", \"frames\", \"role\", \"thread\"]");
    assert_json_query(json, "sorted(d[\"findings\"][0][\"locations\"][0][\"thread\"])",
                      "[\"name\", \"tid\"]");
    assert_json_query(json, "sorted(d[\"findings\"][0][\"locations\"][0][\"frames\"][0])",
                      "[\"address\", \"file\", \"function\", \"language\", \"line\", "
                      "\"module\", \"module_offset\"]");
    assert_json_query(json, "sorted(d[\"summary\"])", "[\"error\", \"incomplete_traces\", \"note\", \"warning\"]");
    free(json);
    fsan_report_free(&r);
}

static void test_reports_json_finding_carries_rule_severity_and_site(void **state)
{
    struct fsan_report r = sample_report();
    char *json = render_json(&r);

    assert_json_query(json, "d[\"findings\"][0][\"rule\"]", "\"child-deadlock\"");
    assert_json_query(json, "d[\"findings\"][0][\"severity\"]", "\"error\"");
    assert_json_query(json, "d[\"findings\"][1][\"severity\"]", "\"note\"");
    assert_json_query(json, "d[\"findings\"][0][\"fingerprint\"]", "\"0123456789abcdef\"");
    assert_json_query(json, "d[\"findings\"][0][\"count\"]", "1");
    assert_json_query(json, "d[\"findings\"][0][\"pids\"]", "[101]");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"frames\"][0]",
                      "{\"function\": \"take_lock\", \"file\": \"worker.c\", \"line\": 12, "
                      "\"module\": \"/usr/bin/app\", \"address\": \"0x401136\", "
                      "\"module_offset\": \"0x1136\", \"language\": \"c\"}");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"thread\"]",
                      "{\"tid\": 17, \"name\": \"worker\"}");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][1][\"frames\"][0][\"language\"]",
                      "\"python\"");
    free(json);
    fsan_report_free(&r);
}

/* Unknown values are null, never 0 or "": a consumer must be able to tell
 * "not a fork child" from "forked by tid 0". */
static void test_reports_json_unknowns_are_null(void **state)
{
    struct fsan_report r = sample_report();
    char *json = render_json(&r);

    assert_json_query(json, "d[\"exit_status\"]", "null");
    assert_json_query(json, "d[\"processes\"][0][\"forked_by_tid\"]", "null");
    assert_json_query(json, "d[\"processes\"][1][\"forked_by_tid\"]", "100");
    assert_json_query(json, "d[\"processes\"][1][\"exe\"]", "null");
    assert_json_query(json, "d[\"processes\"][1][\"exit\"]", "null");
    assert_json_query(json, "d[\"processes\"][2][\"exit\"]", "{\"how\": \"signal\", \"status\": 9}");
    assert_json_query(json, "d[\"processes\"][2][\"execed\"]", "true");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"description\"]", "null");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][1][\"thread\"]", "null");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"frames\"][1][\"file\"]", "null");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"frames\"][1][\"line\"]", "null");
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"frames\"][2][\"function\"]", "null");
    free(json);
    fsan_report_free(&r);
}

/* 0 is a real exit status; only -1 means unknown. */
static void test_reports_json_exit_status_zero_is_a_number(void **state)
{
    struct fsan_report r = empty_report();
    char *json = render_json(&r);

    assert_json_query(json, "d[\"exit_status\"]", "0");
    free(json);
    fsan_report_free(&r);
}

static void test_reports_json_escapes_a_hostile_thread_name(void **state)
{
    struct fsan_report r = sample_report();
    struct fsan_location *l = &r.findings[0].locations[0];

    free(l->thread_name);
    l->thread_name = xstrdup("say \"hi\"\nthen\x01 \xff" " end");
    char *json = render_json(&r);

    /* The raw bytes: short escapes, \u00XX, and U+FFFD as UTF-8. */
    assert_non_null(strstr(json, "\"name\": \"say \\\"hi\\\"\\nthen\\u0001 " FFFD " end\""));
    /* And what a strict parser reads back. */
    assert_json_query(json, "d[\"findings\"][0][\"locations\"][0][\"thread\"][\"name\"]",
                      "\"say \\\"hi\\\"\\nthen\\u0001 \\ufffd end\"");
    free(json);
    fsan_report_free(&r);
}

static void test_reports_json_summary_counts_findings_by_severity(void **state)
{
    struct fsan_report r = sample_report();
    char *json = render_json(&r);

    assert_json_query(json, "d[\"summary\"]", "{\"error\": 1, \"warning\": 0, \"note\": 2, \"incomplete_traces\": 0}");
    free(json);
    fsan_report_free(&r);
}

static void test_reports_json_empty_report_has_empty_lists(void **state)
{
    struct fsan_report r = empty_report();
    char *json = render_json(&r);
    size_t len = strlen(json);

    assert_non_null(strstr(json, "\n  \"command\": [],\n"));
    assert_non_null(strstr(json, "\n  \"findings\": [],\n"));
    assert_true(len >= 2 && strcmp(json + len - 2, "}\n") == 0);
    assert_json_query(json, "[d[\"findings\"], d[\"notices\"], d[\"summary\"]]",
                      "[[], [], {\"error\": 0, \"warning\": 0, \"note\": 0, \"incomplete_traces\": 0}]");
    free(json);
    fsan_report_free(&r);
}

/* ---- text report ------------------------------------------------------------ */

static void test_reports_text_headline_per_finding(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "==4242==ERROR: forksan: child-deadlock: "
                          "child blocks forever on mutex 0x5555deadbeef");
    assert_has_line(text, "==4242==NOTE: forksan: inherited-held-lock: "
                          "lock held by the forking thread is still held");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_rule_line_only_for_catalogued_rules(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "  rule: child-deadlock — forked child blocks forever on a lock or a condition variable"
                          "  (forksan explain child-deadlock)");
    assert_has_line(text, "==4242==NOTE: forksan: not-a-catalogued-rule: re-initialised mutex 0x5555deadbeef");
    assert_null(strstr(text, "rule: not-a-catalogued-rule"));
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_frame_with_file_and_line(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "    #0 0x401136 in take_lock worker.c:12");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_frame_falls_back_to_module_offset(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "    #1 0x7f3a12094ac3 in start_thread "
                          "(/lib/x86_64-linux-gnu/libc.so.6+0x94ac3)");
    assert_has_line(text, "    #2 0x7f3a12126850 (/lib/x86_64-linux-gnu/libc.so.6+0x126850)");
    assert_has_line(text, "    #3 0xdead (<unknown module>)");
    free(text);
    fsan_report_free(&r);
}

/* The native frame after a Python frame keeps its array index. */
static void test_reports_text_python_frame_uses_traceback_style(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "    File \"app.py\", line 7, in handler");
    assert_has_line(text, "    #1 0x7f3a13000010 in PyObject_Call "
                          "(/usr/lib/libpython3.11.so.1.0+0x10)");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_location_headings_and_threads(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "  acquired at:");
    assert_has_line(text, "    thread T17 \"worker\"");
    assert_has_line(text, "  the child tried to take it here:");
    assert_has_line(text, "  fork called at:");
    assert_has_line(text, "    (no stack recorded)");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_seen_in_lists_at_most_eight_pids(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);

    assert_has_line(text, "  seen in 12 processes: pid 201, 202, 203, 204, 205, 206, 207, 208 "
                          "(and 4 more)");
    assert_has_line(text, "  seen in 1 process: pid 101");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_escapes_control_characters(void **state)
{
    struct fsan_report r = sample_report();
    struct fsan_location *l = &r.findings[0].locations[0];

    free(l->thread_name);
    l->thread_name = xstrdup("say \"hi\"\nthen\x01 \xff" " end");
    char *text = render_text(&r);

    assert_has_line(text, "    thread T17 \"say \\\"hi\\\"\\nthen\\x01 \\xff end\"");
    free(text);
    fsan_report_free(&r);
}

/* Unquoted text too: C1 controls (raw and as UTF-8), DEL, a backslash, a
 * bidirectional override and broken UTF-8 all come out as escapes; well
 * formed UTF-8 comes out as it is. */
static void test_reports_text_escapes_c1_bidi_and_invalid_utf8(void **state)
{
    struct fsan_report r = sample_report();
    struct fsan_location *l = &r.findings[0].locations[0];

    free(l->thread_name);
    l->thread_name = xstrdup("a\x9b" "b\xc2\x9b" "c\x7f" "d\\e\xe2\x80\xae" "f\xc3\xa9\xe6\x97\xa5" "g\xc0\xaf" "h\xe2\x82");
    char *text = render_text(&r);

    assert_has_line(text, "    thread T17 \"a\\x9bb\\u009bc\\x7fd\\\\e\\u202ef\xc3\xa9\xe6\x97\xa5" "g\\xc0\\xafh\\xe2\\x82\"");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_notices_and_summary(void **state)
{
    struct fsan_report r = sample_report();
    char *text = render_text(&r);
    size_t len = strlen(text);
    const char *summary = "SUMMARY: forksan: 1 error, 0 warnings, 2 notes in 3 processes\n";

    assert_has_line(text, "==4242==NOTE: forksan: trace of pid 102 was truncated");
    assert_true(len >= strlen(summary));
    assert_string_equal(text + len - strlen(summary), summary); /* the last line */
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_summary_uses_singulars(void **state)
{
    struct fsan_report r = empty_report();

    r.nfindings = 2;
    r.findings = xcalloc(2, sizeof *r.findings);
    set_finding(&r.findings[0], "orphaned-lock", FSAN_SEV_WARNING, "lock orphaned", "1111111111111111", 1);
    set_finding(&r.findings[1], "inherited-held-lock", FSAN_SEV_NOTE, "lock inherited", "2222222222222222", 1);
    char *text = render_text(&r);

    assert_has_line(text, "SUMMARY: forksan: 0 errors, 1 warning, 1 note in 1 process");
    free(text);
    fsan_report_free(&r);
}

static void test_reports_text_empty_report_says_no_hazards(void **state)
{
    struct fsan_report r = empty_report();
    char *text = render_text(&r);

    assert_string_equal(text, "SUMMARY: forksan: no fork hazards found in 1 process\n");
    free(text);
    fsan_report_free(&r);
}

/* The whole block for one finding, to pin down order and blank lines. */
static void test_reports_text_full_layout(void **state)
{
    struct fsan_report r = empty_report();

    r.nfindings = 1;
    r.findings = xcalloc(1, sizeof *r.findings);
    set_finding(&r.findings[0], "orphaned-lock", FSAN_SEV_WARNING, "mutex 0x10 orphaned",
                "3333333333333333", 1);
    r.findings[0].nlocations = 1;
    r.findings[0].locations = xcalloc(1, sizeof *r.findings[0].locations);
    r.findings[0].locations[0].role = "acquired";
    r.findings[0].locations[0].nframes = 1;
    r.findings[0].locations[0].frames = xcalloc(1, sizeof(struct fsan_frame));
    r.findings[0].locations[0].frames[0] = c_frame("f", "f.c", 3, "/a.out", 0x10, 0x10);
    char *text = render_text(&r);

    assert_string_equal(text,
                        "==4242==WARNING: forksan: orphaned-lock: mutex 0x10 orphaned\n"
                        "  rule: orphaned-lock — lock held at fork by a thread that vanished"
                        "  (forksan explain orphaned-lock)\n"
                        "  acquired at:\n"
                        "    #0 0x10 in f f.c:3\n"
                        "\n"
                        "findings by rule:\n"
                        "  orphaned-lock: 1 (warning)\n"
                        "SUMMARY: forksan: 0 errors, 1 warning, 0 notes in 1 process\n");
    free(text);
    fsan_report_free(&r);
}

/* ---- errors ------------------------------------------------------------------- */

/* A stream that cannot be written must make both renderers fail, not
 * pretend the report went out. */
static void test_reports_renderers_report_write_errors(void **state)
{
    struct fsan_report r = sample_report();
    FILE *readonly = fopen("/dev/null", "r");

    assert_non_null(readonly);
    assert_true(fsan_render_text(readonly, &r, FORKSAN_PID) < 0);
    clearerr(readonly);
    assert_true(fsan_render_json(readonly, &r) < 0);
    fclose(readonly);
    assert_int_equal(fsan_render_text(stdout, NULL, FORKSAN_PID), -EINVAL);
    assert_int_equal(fsan_render_json(NULL, &r), -EINVAL);
    fsan_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_severity_names),
        cmocka_unit_test(test_reports_severity_parse_round_trips),
        cmocka_unit_test(test_reports_severity_parse_accepts_never),
        cmocka_unit_test(test_reports_severity_parse_rejects_unknown_words),
        cmocka_unit_test(test_reports_free_releases_everything),
        cmocka_unit_test(test_reports_free_accepts_partial_report),
        cmocka_unit_test(test_reports_jsonw_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_reports_jsonw_passes_valid_utf8_through),
        cmocka_unit_test(test_reports_jsonw_replaces_invalid_utf8),
        cmocka_unit_test(test_reports_jsonw_indents_and_separates),
        cmocka_unit_test(test_reports_jsonw_reports_misuse),
        cmocka_unit_test(test_reports_json_parses_with_documented_top_level),
        cmocka_unit_test(test_reports_json_objects_have_exactly_the_schema_keys),
        cmocka_unit_test(test_reports_json_finding_carries_rule_severity_and_site),
        cmocka_unit_test(test_reports_json_unknowns_are_null),
        cmocka_unit_test(test_reports_json_exit_status_zero_is_a_number),
        cmocka_unit_test(test_reports_json_escapes_a_hostile_thread_name),
        cmocka_unit_test(test_reports_json_summary_counts_findings_by_severity),
        cmocka_unit_test(test_reports_json_empty_report_has_empty_lists),
        cmocka_unit_test(test_reports_text_headline_per_finding),
        cmocka_unit_test(test_reports_text_rule_line_only_for_catalogued_rules),
        cmocka_unit_test(test_reports_text_frame_with_file_and_line),
        cmocka_unit_test(test_reports_text_frame_falls_back_to_module_offset),
        cmocka_unit_test(test_reports_text_python_frame_uses_traceback_style),
        cmocka_unit_test(test_reports_text_location_headings_and_threads),
        cmocka_unit_test(test_reports_text_seen_in_lists_at_most_eight_pids),
        cmocka_unit_test(test_reports_text_escapes_control_characters),
        cmocka_unit_test(test_reports_text_escapes_c1_bidi_and_invalid_utf8),
        cmocka_unit_test(test_reports_text_notices_and_summary),
        cmocka_unit_test(test_reports_text_summary_uses_singulars),
        cmocka_unit_test(test_reports_text_empty_report_says_no_hazards),
        cmocka_unit_test(test_reports_text_full_layout),
        cmocka_unit_test(test_reports_renderers_report_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

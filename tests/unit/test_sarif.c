/* test_sarif.c — unit tests for the SARIF renderer (reports/render_sarif.c).
 *
 * `make sarif-check` already runs a real scenario through the real command
 * and validates the result; these tests cover what one scenario cannot
 * reach: findings with no source file or no frames at all, paths that need
 * percent-encoding or a %SRCROOT% base, the primary-location fallbacks of
 * each rule, baselines, notices and an unknown exit status.
 *
 * DESIGN
 * Each test builds a report by hand (owned strings on the heap, freed by
 * fsan_report_free, so leaks show under AddressSanitizer), renders it into
 * a memory stream, and checks it twice through python3: once against the
 * vendored SARIF 2.1.0 schemas with the jsonschema validator, so every shape
 * the renderer can produce is proven valid and not only the common one, and
 * once per value with a Python expression over the parsed document, whose
 * json.dumps() is compared with one expected string (types and nulls
 * included, not spellings).  The tests run from the top of the tree, as
 * `make unit` does, and find the schema there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalogue.h"
#include "model.h"
#include "render.h"

/* Both vendored schemas, separated by ':' (see tests/sarif/README). */
#define SCHEMAS "tests/sarif/sarif-schema-2.1.0.json:tests/sarif/sarif-schema-2.1.0-rtm.5.json"

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

static struct fsan_frame frame(const char *function, const char *file, int line)
{
    struct fsan_frame f = {
        .function = xstrdup(function),
        .file = xstrdup(file),
        .line = line,
        .module = xstrdup("/usr/bin/app"),
        .address = 0x401000 + (uint64_t)line,
        .module_offset = 0x1000 + (uint64_t)line,
        .language = "c",
    };
    return f;
}

/* A location with the given frames (function, file, line triples). */
static void set_location(struct fsan_location *l, const char *role, const char *description,
                         size_t nframes, ...)
{
    va_list ap;

    l->role = role;
    l->description = xstrdup(description);
    l->has_thread = 1;
    l->tid = 100;
    l->nframes = nframes;
    l->frames = nframes ? xcalloc(nframes, sizeof *l->frames) : NULL;
    va_start(ap, nframes);
    for (size_t i = 0; i < nframes; i++) {
        const char *function = va_arg(ap, const char *);
        const char *file = va_arg(ap, const char *);
        int line = va_arg(ap, int);
        l->frames[i] = frame(function, file, line);
    }
    va_end(ap);
}

static struct fsan_finding *add_finding(struct fsan_report *r, const char *rule,
                                        enum fsan_severity severity, size_t nlocations)
{
    struct fsan_finding *f;

    r->findings = realloc(r->findings, (r->nfindings + 1) * sizeof *r->findings);
    assert_non_null(r->findings);
    f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = severity;
    f->message = xstrdup("a message");
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016zx", r->nfindings);
    f->count = 1;
    f->npids = 1;
    f->pids = xcalloc(1, sizeof *f->pids);
    f->pids[0] = 4000 + (int)r->nfindings;
    f->nlocations = nlocations;
    f->locations = nlocations ? xcalloc(nlocations, sizeof *f->locations) : NULL;
    return f;
}

static void init_report(struct fsan_report *r)
{
    memset(r, 0, sizeof *r);
    r->tool_version = "0.1.0";
    r->exit_status = -1;
}

static char *render(const struct fsan_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);

    assert_non_null(m);
    assert_int_equal(fsan_render_sarif(m, r), 0);
    assert_int_equal(fclose(m), 0);
    return text;
}

/* ---- asking python3 ------------------------------------------------------- */

/* Runs python3 with `program` over the document (bound to d, the parsed
 * JSON) and returns its first output line, or NULL when it failed. */
static char *python(const char *json, const char *program, const char *arg)
{
    char path[] = "/tmp/fsan-test-sarif-XXXXXX";
    int fd = mkstemp(path);
    char cmd[256], *line = NULL;
    size_t cap = 0;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    assert_int_equal(close(fd), 0);
    /* Program and argument travel in the environment, so no shell quoting
     * can alter them. */
    assert_int_equal(setenv("FSAN_TEST_PROGRAM", program, 1), 0);
    assert_int_equal(setenv("FSAN_TEST_ARG", arg, 1), 0);
    snprintf(cmd, sizeof cmd, "python3 -c 'import os; exec(os.environ[\"FSAN_TEST_PROGRAM\"])' %s", path);
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

static const char validate_program[] =
    "import json, os, sys\n"
    "from jsonschema import validators\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "errors = []\n"
    "for path in os.environ['FSAN_TEST_ARG'].split(':'):\n"
    "    schema = json.load(open(path))\n"
    "    cls = validators.validator_for(schema)\n"
    "    errors += ['%s: %s: %s' % (os.path.basename(path), '/'.join(map(str, e.absolute_path)),\n"
    "                               e.message[:160]) for e in cls(schema).iter_errors(d)]\n"
    "print('; '.join(errors[:3]) if errors else 'valid')\n";

/* The document must validate against both SARIF 2.1.0 schemas. */
static void assert_sarif_valid(const char *json)
{
    char *got = python(json, validate_program, SCHEMAS);

    if (got == NULL)
        fail_msg("python3 could not validate (is jsonschema installed, and %s there?)\n%s", SCHEMAS, json);
    if (strcmp(got, "valid") != 0) {
        print_error("schema errors: %s\n%s\n", got, json);
        free(got);
        fail();
    }
    free(got);
}

static const char query_program[] =
    "import json, os, sys\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "run = d['runs'][0]\n"
    "print(json.dumps(eval(os.environ['FSAN_TEST_ARG'])))\n";

/* Checks json.dumps(query) == expected; `run` is d["runs"][0]. */
static void assert_query(const char *json, const char *query, const char *expected)
{
    char *got = python(json, query_program, query);

    if (got == NULL)
        fail_msg("python3 could not parse the report or evaluate %s\n%s", query, json);
    if (strcmp(got, expected) != 0) {
        print_error("%s: expected %s, got %s\n", query, expected, got);
        free(got);
        fail();
    }
    free(got);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_sarif_empty_report_describes_every_rule(void **state)
{
    struct fsan_report r;
    char ids[2048] = "[";

    (void)state;
    init_report(&r);
    char *json = render(&r);
    assert_sarif_valid(json);
    for (int i = 0; i < FSAN_RULE_COUNT; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%s\"", i ? ", " : "",
                 fsan_rule_info((enum fsan_rule_index)i)->id);
    strcat(ids, "]");
    assert_query(json, "[x['id'] for x in run['tool']['driver']['rules']]", ids);
    assert_query(json, "d['version']", "\"2.1.0\"");
    assert_query(json, "run['results']", "[]");
    assert_query(json, "run['tool']['driver']['rules'][0]['name']", "\"ChildDeadlock\"");
    assert_query(json, "run['tool']['driver']['rules'][0]['defaultConfiguration']", "{\"level\": \"error\"}");
    assert_query(json, "'Fix in C:' in run['tool']['driver']['rules'][0]['help']['text']", "true");
    assert_query(json, "'pthread\\\\_atfork' in run['tool']['driver']['rules'][0]['help']['markdown']",
                 "true");
    /* An unknown exit status is left out rather than made up. */
    assert_query(json, "'exitCode' in run['invocations'][0]", "false");
    assert_query(json, "run['invocations'][0]['executionSuccessful']", "true");
    free(json);
    fsan_report_free(&r);
}

/* The primary location is the innermost frame WITH a file of the attempt;
 * the others become related locations, with their descriptions. */
static void test_sarif_child_deadlock_points_at_attempt(void **state)
{
    struct fsan_report r;

    (void)state;
    init_report(&r);
    struct fsan_finding *f = add_finding(&r, "child-deadlock", FSAN_SEV_ERROR, 3);
    set_location(&f->locations[0], "acquired", "acquired at:", 1, "take", "worker.c", 12);
    set_location(&f->locations[1], "attempt", "the child tries to take it at:", 2,
                 "pthread_mutex_lock", NULL, 0, "child_main", "child.c", 40);
    set_location(&f->locations[2], "fork", "fork called at:", 1, "main", "main.c", 7);
    char *json = render(&r);
    assert_sarif_valid(json);
    assert_query(json, "run['results'][0]['locations'][0]['physicalLocation']",
                 "{\"artifactLocation\": {\"uri\": \"child.c\"}, \"region\": {\"startLine\": 40}}");
    assert_query(json, "run['results'][0]['locations'][0]['message']['text']",
                 "\"the child tries to take it at\"");
    assert_query(json, "[(x['id'], x['physicalLocation']['artifactLocation']['uri'], "
                       "x['physicalLocation']['region']['startLine'], x['message']['text']) "
                       "for x in run['results'][0]['relatedLocations']]",
                 "[[1, \"worker.c\", 12, \"acquired at\"], [2, \"main.c\", 7, \"fork called at\"]]");
    assert_query(json, "run['results'][0]['ruleIndex']", "0");
    assert_query(json, "run['results'][0]['level']", "\"error\"");
    assert_query(json, "run['results'][0]['partialFingerprints']", "{\"forksan/v1\": \"0000000000000001\"}");
    assert_query(json, "run['results'][0]['properties']", "{\"count\": 1, \"pids\": [4001]}");
    assert_query(json, "[len(s['frames']) for s in run['results'][0]['stacks']]", "[1, 2, 1]");
    free(json);
    fsan_report_free(&r);
}

/* Without child-deadlock's attempt: acquired, then fork, then the first
 * location that has frames. */
static void test_sarif_primary_location_fallbacks(void **state)
{
    struct fsan_report r;

    (void)state;
    init_report(&r);
    struct fsan_finding *f = add_finding(&r, "orphaned-lock", FSAN_SEV_WARNING, 2);
    set_location(&f->locations[0], "fork", "fork", 1, "main", "main.c", 7);
    set_location(&f->locations[1], "acquired", "acquired", 1, "take", "worker.c", 12);
    f = add_finding(&r, "threads-at-fork", FSAN_SEV_NOTE, 2);
    set_location(&f->locations[0], "thread", "thread", 1, "spawn", "pool.c", 3);
    set_location(&f->locations[1], "fork", "fork", 1, "main", "main.c", 8);
    f = add_finding(&r, "child-deadlock", FSAN_SEV_ERROR, 2);
    set_location(&f->locations[0], "check", "check", 0);
    set_location(&f->locations[1], "use", "use", 1, "use_it", "use.c", 5);
    char *json = render(&r);
    assert_sarif_valid(json);
    assert_query(json, "[x['locations'][0]['physicalLocation']['region']['startLine'] for x in run['results']]",
                 "[12, 8, 5]");
    assert_query(json, "run['results'][1]['level']", "\"note\"");
    free(json);
    fsan_report_free(&r);
}

/* A finding without any file still gets a result: located by function
 * name when one is known, with no location at all otherwise. */
static void test_sarif_finding_without_files(void **state)
{
    struct fsan_report r;

    (void)state;
    init_report(&r);
    struct fsan_finding *f = add_finding(&r, "threads-at-fork", FSAN_SEV_WARNING, 1);
    set_location(&f->locations[0], "fork", NULL, 2, NULL, NULL, 0, "main", NULL, 0);
    f = add_finding(&r, "no-such-rule", FSAN_SEV_NOTE, 1);
    set_location(&f->locations[0], "fork", "fork", 0);
    char *json = render(&r);
    assert_sarif_valid(json);
    assert_query(json, "run['results'][0]['locations']",
                 "[{\"logicalLocations\": [{\"name\": \"main\", \"kind\": \"function\"}], "
                 "\"message\": {\"text\": \"fork\"}}]");
    assert_query(json, "sorted(run['results'][1].keys())",
                 "[\"level\", \"message\", \"partialFingerprints\", \"properties\", \"ruleId\"]");
    free(json);
    fsan_report_free(&r);
}

/* Absolute paths under the working directory become %SRCROOT%-relative;
 * other absolute paths become file:// URIs; unsafe bytes are escaped. */
static void test_sarif_paths_become_uris(void **state)
{
    struct fsan_report r;
    char cwd[PATH_MAX], inside[PATH_MAX + 32], expected[PATH_MAX + 64];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(inside, sizeof inside, "%s/src/a b.c", cwd);
    init_report(&r);
    struct fsan_finding *f = add_finding(&r, "orphaned-lock", FSAN_SEV_WARNING, 3);
    set_location(&f->locations[0], "acquired", "acquired", 1, "take", inside, 1);
    set_location(&f->locations[1], "fork", "fork", 1, "main", "/usr/include/x#y%.h", 2);
    set_location(&f->locations[2], "use", "use", 1, "use", "c:odd/é.c", 3);
    char *json = render(&r);
    assert_sarif_valid(json);
    assert_query(json, "run['results'][0]['locations'][0]['physicalLocation']['artifactLocation']",
                 "{\"uri\": \"src/a%20b.c\", \"uriBaseId\": \"%SRCROOT%\"}");
    snprintf(expected, sizeof expected, "\"file://%s/\"", cwd);
    assert_query(json, "run['originalUriBaseIds']['%SRCROOT%']['uri']", expected);
    assert_query(json, "[x['physicalLocation']['artifactLocation'] for x in run['results'][0]['relatedLocations']]",
                 "[{\"uri\": \"file:///usr/include/x%23y%25.h\"}, {\"uri\": \"c%3Aodd/%C3%A9.c\"}]");
    free(json);
    fsan_report_free(&r);
}

static void test_sarif_baseline_notices_and_exit_status(void **state)
{
    struct fsan_report r;

    (void)state;
    init_report(&r);
    r.exit_status = 3;
    r.nnotices = 1;
    r.notices = xcalloc(1, sizeof *r.notices);
    r.notices[0] = xstrdup("trace of pid 102 was truncated");
    r.has_baseline = 1;
    r.nfixed = 1;
    r.fixed = xcalloc(1, sizeof *r.fixed);
    r.fixed[0].rule = xstrdup("orphaned-lock");
    r.fixed[0].severity = FSAN_SEV_WARNING;
    r.fixed[0].message = xstrdup("gone");
    snprintf(r.fixed[0].fingerprint, sizeof r.fixed[0].fingerprint, "%s", "00000000000000ff");
    r.nsuppressed = 2;
    struct fsan_finding *f = add_finding(&r, "child-deadlock", FSAN_SEV_ERROR, 1);
    set_location(&f->locations[0], "attempt", "attempt", 1, "main", "main.c", 9);
    f->baseline = "new";
    char *json = render(&r);
    assert_sarif_valid(json);
    assert_query(json, "run['invocations'][0]['exitCode']", "3");
    assert_query(json, "run['invocations'][0]['toolExecutionNotifications']",
                 "[{\"level\": \"warning\", \"message\": {\"text\": \"trace of pid 102 was truncated\"}}]");
    assert_query(json, "run['results'][0]['baselineState']", "\"new\"");
    assert_query(json, "run['results'][0]['properties']['baseline']", "\"new\"");
    assert_query(json, "run['properties']",
                 "{\"suppressed\": 2, \"unmatchedSuppressions\": [], \"fixed\": [{\"ruleId\": "
                 "\"orphaned-lock\", \"level\": \"warning\", \"message\": \"gone\", \"fingerprint\": "
                 "\"00000000000000ff\"}]}");
    free(json);
    fsan_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sarif_empty_report_describes_every_rule),
        cmocka_unit_test(test_sarif_child_deadlock_points_at_attempt),
        cmocka_unit_test(test_sarif_primary_location_fallbacks),
        cmocka_unit_test(test_sarif_finding_without_files),
        cmocka_unit_test(test_sarif_paths_become_uris),
        cmocka_unit_test(test_sarif_baseline_notices_and_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

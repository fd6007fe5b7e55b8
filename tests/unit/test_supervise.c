/* test_supervise.c — unit tests for what forksan run makes of the
 * runtime's messages on its FIFO (analyzer/supervise.c): the incomplete
 * traces notice, a live finding rebuilt with its stacks, a message as a
 * notice, no duplicate of a finding the traces have, and a damaged stream
 * that is dropped rather than guessed at.
 *
 * DESIGN
 * The messages are built here byte for byte as the runtime writes them
 * (struct fsan_sup_header, then text), so a change of the framing on one
 * side fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "supervise.h"
#include "trace_format.h"

static void add_message(struct fsan_supervisor *s, uint32_t pid, uint32_t kind, const char *text)
{
    struct fsan_sup_header h = {(uint32_t)strlen(text), pid, kind};
    s->buf = realloc(s->buf, s->len + sizeof h + h.size);
    assert_non_null(s->buf);
    memcpy(s->buf + s->len, &h, sizeof h);
    memcpy(s->buf + s->len + sizeof h, text, h.size);
    s->len += sizeof h + h.size;
}

#define LIVE_DEADLOCK                                                                                  \
    "==41==ERROR: forksan: child-deadlock: the forked child is about to block forever on mutex 0x10\n"  \
    "  the forking thread held it at fork; the child's thread has a new identity\n"                    \
    "  the child's attempt:\n"                                                                       \
    "    #0 0x5000 (/bin/prog+0x1295)\n"                                                              \
    "    File \"/app/w.py\", line 12, in work\n"                                                       \
    "  fork was called at:\n"                                                                        \
    "    (call site not recorded)\n"                                                                  \
    "SUMMARY: forksan: child-deadlock\n"

static void test_supervise_live_finding_and_incomplete_notice(void **state)
{
    struct fsan_supervisor s = {.rfd = -1, .wfd = -1};
    struct fsan_report r = {0};
    add_message(&s, 41, FSAN_SUP_INCOMPLETE, "28 /t/forksan.41.trace");
    add_message(&s, 41, FSAN_SUP_FINDING, LIVE_DEADLOCK);
    add_message(&s, 41, FSAN_SUP_MESSAGE, "==41==WARNING: forksan: something else\n");
    assert_int_equal(fsan_supervisor_apply(&s, &r), 0);

    assert_int_equal(r.incomplete, 1);
    assert_int_equal(r.nnotices, 2);
    assert_non_null(strstr(r.notices[0], "incomplete traces: 1 process"));
    assert_non_null(strstr(r.notices[0], "pid 41 (No space left on device)"));
    assert_string_equal(r.notices[1], "runtime of process 41: something else");

    assert_int_equal(r.nfindings, 1);
    const struct fsan_finding *f = &r.findings[0];
    assert_string_equal(f->rule, "child-deadlock");
    assert_int_equal(f->severity, FSAN_SEV_ERROR);
    assert_int_equal(f->npids, 1);
    assert_int_equal(f->pids[0], 41);
    assert_non_null(strstr(f->message, "block forever on mutex 0x10; the forking thread held it"));
    assert_int_equal(f->nlocations, 2);
    assert_string_equal(f->locations[0].description, "the child's attempt:");
    assert_int_equal(f->locations[0].nframes, 2);
    assert_string_equal(f->locations[0].frames[0].module, "/bin/prog");
    assert_int_equal(f->locations[0].frames[0].module_offset, 0x1295);
    assert_string_equal(f->locations[0].frames[1].language, "python");
    assert_string_equal(f->locations[0].frames[1].file, "/app/w.py");
    assert_int_equal(f->locations[0].frames[1].line, 12);
    assert_string_equal(f->locations[0].frames[1].function, "work");
    assert_string_equal(f->locations[1].description, "fork was called at:");
    assert_int_equal(f->locations[1].nframes, 0);
    assert_int_equal(strlen(f->fingerprint), 16);

    fsan_report_free(&r);
    fsan_supervisor_free(&s);
}

/* The traces have the finding: the live report adds nothing. */
static void test_supervise_no_duplicate_of_a_traced_finding(void **state)
{
    struct fsan_supervisor s = {.rfd = -1, .wfd = -1};
    struct fsan_report r = {0};
    r.findings = calloc(1, sizeof *r.findings);
    r.findings[0].rule = "child-deadlock";
    r.findings[0].severity = FSAN_SEV_ERROR;
    r.findings[0].pids = malloc(sizeof(int));
    r.findings[0].pids[0] = 41;
    r.findings[0].npids = 1;
    r.nfindings = 1;
    add_message(&s, 41, FSAN_SUP_FINDING, LIVE_DEADLOCK);
    assert_int_equal(fsan_supervisor_apply(&s, &r), 0);
    assert_int_equal(r.nfindings, 1);
    assert_int_equal(r.incomplete, 0);
    assert_int_equal(r.nnotices, 0);
    fsan_report_free(&r);
    fsan_supervisor_free(&s);
}

/* A header claiming more than one message can hold, or more than was read,
 * ends the parse; what came before it stays. */
static void test_supervise_damaged_stream_is_not_guessed_at(void **state)
{
    struct fsan_supervisor s = {.rfd = -1, .wfd = -1};
    struct fsan_report r = {0};
    add_message(&s, 7, FSAN_SUP_INCOMPLETE, "5 /t/forksan.7.trace");
    struct fsan_sup_header bad = {FSAN_SUP_MSG_MAX + 1, 8, FSAN_SUP_FINDING};
    s.buf = realloc(s.buf, s.len + sizeof bad);
    memcpy(s.buf + s.len, &bad, sizeof bad);
    s.len += sizeof bad;
    add_message(&s, 9, FSAN_SUP_FINDING, LIVE_DEADLOCK);
    add_message(&s, 9, FSAN_SUP_FINDING, "==9==ERROR: forksan: no-such-rule: x\n");
    assert_int_equal(fsan_supervisor_apply(&s, &r), 0);
    assert_int_equal(r.incomplete, 1);
    assert_non_null(strstr(r.notices[0], "pid 7 (Input/output error)"));
    assert_int_equal(r.nfindings, 0);
    fsan_report_free(&r);
    fsan_supervisor_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supervise_live_finding_and_incomplete_notice),
        cmocka_unit_test(test_supervise_no_duplicate_of_a_traced_finding),
        cmocka_unit_test(test_supervise_damaged_stream_is_not_guessed_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

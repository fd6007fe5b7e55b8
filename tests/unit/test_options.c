/* test_options.c — the FORKSAN_OPTIONS parser (common/options.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static int unknown_calls;
static char unknown_key[64];

static void on_unknown(const char *key, size_t len)
{
    unknown_calls++;
    snprintf(unknown_key, sizeof unknown_key, "%.*s", (int)len, key);
}

static int parse(struct fsan__options *o, const char *text, char *err)
{
    fsan__options_defaults(o);
    unknown_calls = 0;
    unknown_key[0] = '\0';
    err[0] = '\0';
    return fsan__options_parse(o, text, err, 256, on_unknown);
}

static void test_options_defaults(void **state)
{
    struct fsan__options o;
    fsan__options_defaults(&o);
    assert_int_equal(o.mode, FSAN_MODE_OBSERVE);
    assert_int_equal(o.exitcode, 66);
    assert_int_equal(o.child_report, 1);
    assert_string_equal(o.trace_dir, "");
}

static void test_options_parse_pairs(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, "mode=strict:exitcode=3:trace_dir=/tmp/a b,c:child_report=0", err), 0);
    assert_int_equal(o.mode, FSAN_MODE_STRICT);
    assert_int_equal(o.exitcode, 3);
    assert_string_equal(o.trace_dir, "/tmp/a b,c"); /* paths end only at ':' */
    assert_int_equal(o.child_report, 0);
}

static void test_options_other_separators(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, " verbosity=2, strict_grace_ms=5 ", err), 0);
    assert_int_equal(o.verbosity, 2);
    assert_int_equal(o.strict_grace_ms, 5);
}

static void test_options_bad_value_is_fatal(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, "mode=loud", err), -EINVAL);
    assert_non_null(strstr(err, "invalid value 'loud' for 'mode'"));
    assert_non_null(strstr(err, "observe, strict or safe"));
    assert_int_equal(parse(&o, "mode=safe", err), 0);
    assert_int_equal(o.mode, FSAN_MODE_SAFE);
    assert_int_equal(parse(&o, "safe_quiesce_ms=ten", err), -EINVAL);
    assert_non_null(strstr(err, "invalid value 'ten' for 'safe_quiesce_ms'"));
    assert_int_equal(parse(&o, "safe_quiesce_ms=10001", err), -EINVAL);
    assert_non_null(strstr(err, "0 to 10000"));
    assert_int_equal(parse(&o, "exitcode=300", err), -EINVAL);
    assert_non_null(strstr(err, "0 to 255"));
    assert_int_equal(parse(&o, "exitcode=12x", err), -EINVAL);
    assert_int_equal(parse(&o, "help=maybe", err), -EINVAL);
}

static void test_options_missing_value(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, "mode", err), -EINVAL);
    assert_non_null(strstr(err, "has no value"));
}

static void test_options_unknown_key_warns_only(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, "colour=1:exitcode=9", err), 0);
    assert_int_equal(unknown_calls, 1);
    assert_string_equal(unknown_key, "colour");
    assert_int_equal(o.exitcode, 9);
}

static void test_options_empty_and_null(void **state)
{
    struct fsan__options o;
    char err[256];
    assert_int_equal(parse(&o, "", err), 0);
    assert_int_equal(parse(&o, NULL, err), 0);
    assert_int_equal(parse(&o, ":::", err), 0);
    assert_int_equal(o.exitcode, 66);
}

static void test_options_path_too_long(void **state)
{
    struct fsan__options o;
    char err[256], text[FSAN_OPTION_PATH_MAX + 32];
    memset(text, 'a', sizeof text);
    memcpy(text, "trace_dir=", 10);
    text[sizeof text - 1] = '\0';
    assert_int_equal(parse(&o, text, err), -EINVAL);
}

static int help_lines;
static int help_mentions_every_option;

static void on_help(const char *line)
{
    help_lines++;
    if (strstr(line, "strict_grace_ms") || strstr(line, "trace_dir"))
        help_mentions_every_option++;
}

static void test_options_help_lists_options(void **state)
{
    struct fsan__options o;
    fsan__options_defaults(&o);
    help_lines = 0;
    help_mentions_every_option = 0;
    fsan__options_help(&o, on_help);
    assert_true(help_lines >= 9); /* a heading and one line per option */
    assert_int_equal(help_mentions_every_option, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_options_parse_pairs),
        cmocka_unit_test(test_options_other_separators),
        cmocka_unit_test(test_options_bad_value_is_fatal),
        cmocka_unit_test(test_options_missing_value),
        cmocka_unit_test(test_options_unknown_key_warns_only),
        cmocka_unit_test(test_options_empty_and_null),
        cmocka_unit_test(test_options_path_too_long),
        cmocka_unit_test(test_options_help_lists_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pywalk.c — the CPython frame walker (common/pywalk.c) over
 * synthetic interpreter memory: the layout chosen by version, the line
 * tables of 3.10 and 3.11+ (tables and expected lines taken from real
 * interpreters: co_linetable and co_lines() of the same function), frames
 * with 3.12's entry frames skipped, 3.13's _Py_DebugOffsets. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pyremote.h"
#include "pywalk.h"

/* Reads this process's memory, as the runtime's plain reader does. */
static int read_here(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    if (addr < 4096)
        return -EFAULT;
    memcpy(dst, (const void *)(uintptr_t)addr, n);
    return 0;
}

static const struct fsan_py_mem here = {read_here, 0};

static void put64(unsigned char *base, uint32_t off, uint64_t v)
{
    memcpy(base + off, &v, sizeof v);
}

static void test_pywalk_layout_by_version(void **state)
{
    assert_int_equal(fsan_py_layout_for(0x030a0df0)->minor, 10);
    assert_int_equal(fsan_py_layout_for(0x030b02f0)->minor, 11);
    assert_int_equal(fsan_py_layout_for(0x030c01f0)->minor, 12);
    assert_int_equal(fsan_py_layout_for(0x030d00f0)->minor, 13);
    assert_null(fsan_py_layout_for(0x030900f0));
    assert_int_equal(fsan_py_layout_for(0x030e0af0)->minor, 14);
    assert_int_equal(fsan_py_layout_for(0x030f02f0)->minor, 15);
    assert_null(fsan_py_layout_for(0x031000f0));
    assert_null(fsan_py_layout_for(0x020700f0));
    assert_null(fsan_py_layout_for(0));
}

/* A code object whose line table is a bytes object, in a buffer laid out
 * as layout L says. */
static unsigned char code_obj[4096], bytes_obj[4096];

static uint64_t fake_code(const struct fsan_py_layout *L, int first, const unsigned char *table, size_t n)
{
    memset(code_obj, 0, sizeof code_obj);
    memset(bytes_obj, 0, sizeof bytes_obj);
    int32_t firstlineno = first;
    memcpy(code_obj + L->code_firstlineno, &firstlineno, sizeof firstlineno);
    put64(code_obj, L->code_linetable, (uint64_t)(uintptr_t)bytes_obj);
    put64(bytes_obj, L->bytes_size, n);
    memcpy(bytes_obj + L->bytes_sval, table, n);
    return (uint64_t)(uintptr_t)code_obj;
}

struct range {
    int start, end, line;
};

static void check_lines(const struct fsan_py_layout *L, uint64_t code, const struct range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int off = r[i].start; off < r[i].end; off += 2)
            assert_int_equal(fsan_py_code_line(L, &here, code, off), r[i].line);
}

/* def f(x):              (line 1)
 *     y = x + 1
 *     if y:
 *         z = [i
 *              for i in range(y)]
 *     return (y,
 *
 *             z)                                                 */
static void test_pywalk_line_table_311(void **state)
{
    static const unsigned char table[] = {
        0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xd8, 0x07, 0x08, 0xf0, 0x00, 0x02, 0x05,
        0x20, 0xf0, 0x02, 0x01, 0x0d, 0x20, 0xf0, 0x00, 0x01, 0x0d, 0x20, 0xdd, 0x16, 0x1b, 0x98, 0x41, 0x91, 0x68,
        0x94, 0x68, 0xf0, 0x03, 0x01, 0x0d, 0x20, 0xf1, 0x00, 0x01, 0x0d, 0x20, 0xf4, 0x00, 0x01, 0x0d, 0x20, 0x88,
        0x01, 0xe0, 0x0c, 0x0d, 0xe0, 0x0c, 0x0d, 0xf0, 0x05, 0x02, 0x0c, 0x0f, 0xf0, 0x00, 0x02, 0x05, 0x0f};
    static const struct range lines[] = {
        {0, 2, 1},   {2, 12, 2},  {12, 16, 3}, {16, 20, 4}, {20, 48, 5},
        {48, 66, 4}, {66, 68, 6}, {68, 70, 8}, {70, 74, 6},
    };
    const struct fsan_py_layout *L = fsan_py_layout_for(0x030b02f0);
    uint64_t code = fake_code(L, 1, table, sizeof table);
    check_lines(L, code, lines, sizeof lines / sizeof lines[0]);
    assert_int_equal(fsan_py_code_line(L, &here, code, 74), 0); /* past the table */
    assert_int_equal(fsan_py_code_line(L, &here, code, -1), 0);
    assert_int_equal(fsan_py_code_line(L, &here, 0, 4), 0);
}

static void test_pywalk_line_table_310(void **state)
{
    static const unsigned char table[] = {0x08, 0x01, 0x04, 0x01, 0x06, 0x01, 0x06, 0x01,
                                          0x06, 0xff, 0x02, 0x02, 0x02, 0x02, 0x04, 0xfe};
    static const struct range lines[] = {
        {0, 8, 2}, {8, 12, 3}, {12, 18, 4}, {18, 24, 5}, {24, 30, 4}, {30, 32, 6}, {32, 34, 8}, {34, 38, 6},
    };
    const struct fsan_py_layout *L = fsan_py_layout_for(0x030a0df0);
    uint64_t code = fake_code(L, 1, table, sizeof table);
    check_lines(L, code, lines, sizeof lines / sizeof lines[0]);
    assert_int_equal(fsan_py_code_line(L, &here, code, 38), 0);
}

/* 3.12: tstate->cframe->current_frame is the interpreter's entry frame
 * (owner FRAME_OWNED_BY_CSTACK): the walker starts at its caller, and
 * skips such frames between callers too. */
static void test_pywalk_frames_skip_entry_frames(void **state)
{
    const struct fsan_py_layout *L = fsan_py_layout_for(0x030c01f0);
    static unsigned char tstate[1024], cframe[64], shim[128], f1[128], shim2[128], f2[128], code[512], type[8];
    uint64_t code_type = (uint64_t)(uintptr_t)type;
    put64(code, L->obj_type, code_type);
    put64(tstate, L->tstate_frame, (uint64_t)(uintptr_t)cframe);
    put64(cframe, L->cframe_current, (uint64_t)(uintptr_t)shim);
    shim[L->frame_owner] = (unsigned char)L->owner_cstack;
    put64(shim, L->frame_previous, (uint64_t)(uintptr_t)f1);
    put64(f1, L->frame_previous, (uint64_t)(uintptr_t)shim2);
    shim2[L->frame_owner] = (unsigned char)L->owner_cstack;
    put64(shim2, L->frame_previous, (uint64_t)(uintptr_t)f2);
    put64(f1, L->frame_code, (uint64_t)(uintptr_t)code);
    put64(f1, L->frame_instr, (uint64_t)(uintptr_t)code + L->code_adaptive + 3 * L->codeunit_size);

    uint64_t frame = fsan_py_thread_frame(L, &here, (uint64_t)(uintptr_t)tstate);
    assert_ptr_equal((void *)(uintptr_t)frame, f1);
    struct fsan_py_frame_ref ref;
    fsan_py_frame_read(L, &here, frame, code_type, &ref);
    assert_ptr_equal((void *)(uintptr_t)ref.code, code);
    assert_int_equal(ref.offset, 3 * L->codeunit_size);
    frame = fsan_py_frame_caller(L, &here, frame);
    assert_ptr_equal((void *)(uintptr_t)frame, f2);
    assert_int_equal(fsan_py_frame_caller(L, &here, frame), 0);
    /* Not a code object (3.13's entry frame holds None): no code, no offset. */
    fsan_py_frame_read(L, &here, (uint64_t)(uintptr_t)f1, code_type + 1, &ref);
    assert_int_equal(ref.code, 0);
    assert_int_equal(ref.offset, -1);
}

/* 3.13: the offsets _Py_DebugOffsets states replace the table's; a runtime
 * without the cookie, naming another version or free-threaded is refused. */
static void test_pywalk_debug_offsets(void **state)
{
    const struct fsan_py_layout *L = fsan_py_layout_for(0x030d00f0);
    static unsigned char runtime[4096];
    memset(runtime, 0, sizeof runtime);
    memcpy(runtime, "xdebugpy", 8);
    put64(runtime, L->debug_version, 0x030d00f0);
    put64(runtime, L->debug_tstate_frame, 1234);
    put64(runtime, L->debug_frame_instr, 99);
    struct fsan_py_layout out;
    const char *why = NULL;
    uint64_t at = (uint64_t)(uintptr_t)runtime;
    assert_int_equal(fsan_py_layout_adopt(L, &here, at, 0x030d00f0, &out, &why), 0);
    assert_int_equal(out.tstate_frame, 1234);
    assert_int_equal(out.frame_instr, 99);
    assert_int_equal(out.interp_atexit_callbacks, L->interp_atexit_callbacks); /* not stated there: kept */

    assert_int_equal(fsan_py_layout_adopt(L, &here, at, 0x030e00f0, &out, &why), -EINVAL);
    assert_non_null(strstr(why, "another CPython version"));
    put64(runtime, L->debug_free_threaded, 1);
    assert_int_equal(fsan_py_layout_adopt(L, &here, at, 0x030d00f0, &out, &why), -EINVAL);
    assert_non_null(strstr(why, "free-threaded"));
    runtime[0] = 'y';
    assert_int_equal(fsan_py_layout_adopt(L, &here, at, 0x030d00f0, &out, &why), -EINVAL);
    assert_non_null(strstr(why, "cookie"));
}

/* Compact strings of each kind come out as UTF-8, cut to the buffer. */
static void test_pywalk_read_str(void **state)
{
    const struct fsan_py_layout *L = fsan_py_layout_for(0x030c01f0);
    static unsigned char obj[256];
    int64_t length = 5;
    uint32_t ascii_state = (1u << 2) | (1u << 5) | (1u << 6); /* kind 1, compact, ascii */
    memcpy(obj + L->str_length, &length, sizeof length);
    memcpy(obj + L->str_state, &ascii_state, sizeof ascii_state);
    memcpy(obj + L->sizeof_ascii, "hello", 5);
    char buf[16];
    assert_int_equal(fsan_py_read_str(L, &here, (uint64_t)(uintptr_t)obj, buf, sizeof buf), 5);
    assert_string_equal(buf, "hello");
    assert_int_equal(fsan_py_read_str(L, &here, (uint64_t)(uintptr_t)obj, buf, 4), 3);
    assert_string_equal(buf, "hel");

    uint32_t ucs2_state = (2u << 2) | (1u << 5); /* kind 2, compact, not ascii */
    static const uint16_t text[] = {'T', 0xe9, 0x4e2d};
    length = 3;
    memcpy(obj + L->str_length, &length, sizeof length);
    memcpy(obj + L->str_state, &ucs2_state, sizeof ucs2_state);
    memcpy(obj + L->sizeof_compact, text, sizeof text);
    assert_int_equal(fsan_py_read_str(L, &here, (uint64_t)(uintptr_t)obj, buf, sizeof buf), 6);
    assert_string_equal(buf, "T\xc3\xa9\xe4\xb8\xad");

    uint32_t legacy = 1u << 2; /* not compact */
    memcpy(obj + L->str_state, &legacy, sizeof legacy);
    assert_int_equal(fsan_py_read_str(L, &here, (uint64_t)(uintptr_t)obj, buf, sizeof buf), -1);
}

/* ---- a live interpreter, walked from outside (the hang watchdog's way) ---- */

struct collected {
    int n;
    char function[8][64];
    int line[8];
};

static void collect(void *ctx, const char *file, const char *function, int line)
{
    struct collected *c = ctx;
    if (c->n < 8) {
        snprintf(c->function[c->n], sizeof c->function[0], "%s", function);
        c->line[c->n] = line;
    }
    c->n++;
}

/* Runs python on a script that sleeps in a function, finds the
 * interpreter in it (analyzer/pyremote.c) and walks its main thread from
 * this process through process_vm_readv: the function, its line, its
 * caller, and the interpreter's minor version. */
static void walk_python(const char *python, int minor)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        execl(python, python, "-c",
              "import sys, time\n"
              "def sleeper():\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(30)\n" /* line 4 */
              "sleeper()\n",          /* line 5 */
              (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char ready[8] = "";
    assert_true(read(pipefd[0], ready, sizeof ready) > 0);
    usleep(100 * 1000); /* from print() into time.sleep */
    struct fsan_py_remote r;
    const char *why = NULL;
    int rc = fsan_py_remote_open(pid, &r, &why);
    struct collected c = {0};
    int n = rc == 0 ? fsan_py_walk_thread(&r.layout, &r.mem, r.runtime, r.code_type, pid, 8, collect, &c) : rc;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    assert_int_equal(rc, 0);
    assert_int_equal((r.hexversion >> 16) & 0xff, minor);
    assert_int_equal(n, 2);
    assert_string_equal(c.function[0], "sleeper");
    assert_int_equal(c.line[0], 4);
    assert_string_equal(c.function[1], "<module>");
    assert_int_equal(c.line[1], 5);
}

/* pyenv's CPython 3.minor: CPython in libpython3.minor.so. */
static void walk_live(int minor)
{
    char pattern[256], python[512];
    const char *root = getenv("PYENV_ROOT") ? getenv("PYENV_ROOT") : "/root/.pyenv";
    snprintf(pattern, sizeof pattern, "%s/versions/3.%d.*/bin/python3.%d", root, minor, minor);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0) {
        printf("skip: no pyenv build of CPython 3.%d (%s)\n", minor, pattern);
        skip();
    }
    snprintf(python, sizeof python, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    walk_python(python, minor);
}

/* Debian's python3 (3.11): CPython in the executable itself. */
static void test_pywalk_live_debian(void **state)
{
    if (access("/usr/bin/python3.11", X_OK) != 0) {
        printf("skip: no /usr/bin/python3.11\n");
        skip();
    }
    walk_python("/usr/bin/python3.11", 11);
}

static void test_pywalk_live_310(void **state)
{
    walk_live(10);
}

static void test_pywalk_live_311(void **state)
{
    walk_live(11);
}

static void test_pywalk_live_312(void **state)
{
    walk_live(12);
}

static void test_pywalk_live_313(void **state)
{
    walk_live(13);
}

/* Debian sid's CPython 3.minor as tests/install-pythons.sh leaves it (run
 * by its own suite's loader): tagged frame references. */
static void walk_fetched(int minor)
{
    char python[512];
    const char *cache = getenv("FORKSAN_PYTHONS") ? getenv("FORKSAN_PYTHONS") : "/var/cache/forksan-pythons";
    snprintf(python, sizeof python, "%s/python3.%d", cache, minor);
    if (access(python, X_OK) != 0) {
        printf("skip: no %s (tests/install-pythons.sh)\n", python);
        skip();
    }
    walk_python(python, minor);
}

static void test_pywalk_live_314(void **state)
{
    walk_fetched(14);
}

static void test_pywalk_live_315(void **state)
{
    walk_fetched(15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pywalk_layout_by_version),
        cmocka_unit_test(test_pywalk_line_table_311),
        cmocka_unit_test(test_pywalk_line_table_310),
        cmocka_unit_test(test_pywalk_frames_skip_entry_frames),
        cmocka_unit_test(test_pywalk_debug_offsets),
        cmocka_unit_test(test_pywalk_read_str),
        cmocka_unit_test(test_pywalk_live_debian),
        cmocka_unit_test(test_pywalk_live_310),
        cmocka_unit_test(test_pywalk_live_311),
        cmocka_unit_test(test_pywalk_live_312),
        cmocka_unit_test(test_pywalk_live_313),
        cmocka_unit_test(test_pywalk_live_314),
        cmocka_unit_test(test_pywalk_live_315),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

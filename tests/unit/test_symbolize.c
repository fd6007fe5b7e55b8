/* test_symbolize.c — unit tests for analyzer/symbolize.c.
 *
 * Most tests symbolize addresses of this very process against its own
 * /proc/self/maps, because that is the one address space whose truth we can
 * check independently (the dynamic loader's link_map knows each object's
 * load bias, and __LINE__ knows where our own code is).  The rest feed
 * hand-written maps texts to cover files that are missing, not ELF, not
 * regular, or text that is truncated or garbage.
 *
 * Build this binary with -g -O0: the line-number tests rely on code staying
 * where the source puts it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "symbolize.h"

/* ---- code whose location the tests know ------------------------------- */

/* Filled in by symbolize_target(): an address inside its body, the line
 * that address belongs to, and the line of the call just before it. */
void *symbolize_target_pc;
int symbolize_target_line;
int symbolize_call_line;

/* Records its own return address, i.e. an address inside the caller. */
__attribute__((noinline)) void symbolize_record_pc(void)
{
    symbolize_target_pc = __builtin_return_address(0);
}

/* Non-static and noinline so that the symbol table names it and the
 * recorded address really lies inside its own body.  The call is the last
 * code on its line, so the recorded address is the first instruction of the
 * next line: taken literally it belongs to symbolize_target_line, and only
 * the addr-1 rule for return addresses brings it back to the call's line. */
__attribute__((noinline)) void symbolize_target(void)
{
    symbolize_call_line = __LINE__; symbolize_record_pc();
    symbolize_target_line = __LINE__;
}

/* ---- helpers -------------------------------------------------------------- */

/* Returns /proc/self/maps in a buffer of exactly *len bytes with no NUL
 * after it, so that ASan or valgrind catch any read past maps_len. */
static char *read_self_maps(size_t *len)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    char *exact = malloc(n ? n : 1);
    assert_non_null(exact);
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

static char *copy_text(const char *text, size_t len)
{
    char *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, text, len);
    return c;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The loader's load bias of the object containing `addr`: link_map.l_addr
 * is exactly "runtime address minus ELF virtual address". */
static uint64_t load_bias_of(const void *addr)
{
    Dl_info info;
    struct link_map *lm = NULL;
    assert_true(dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) != 0);
    assert_non_null(lm);
    return (uint64_t)lm->l_addr;
}


static void assert_unknown(const struct fsan_symbol *sym)
{
    assert_null(sym->function);
    assert_null(sym->file);
    assert_int_equal(sym->line, 0);
    assert_null(sym->module);
    assert_int_equal(sym->module_offset, 0);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_symbolize_own_function_file_and_line(void **state)
{
    symbolize_target();
    size_t len;
    char *maps = read_self_maps(&len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    assert_non_null(s);

    struct fsan_symbol sym;
    uint64_t addr = (uint64_t)(uintptr_t)symbolize_target_pc;
    assert_int_equal(fsan_symbolize(s, maps, len, addr, 0, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "symbolize_target");
    assert_non_null(sym.file);
    assert_true(ends_with(sym.file, "test_symbolize.c"));
    assert_int_equal(sym.line, symbolize_target_line);

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    assert_non_null(sym.module);
    assert_string_equal(sym.module, exe);

    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_return_address_reports_call_line(void **state)
{
    symbolize_target();
    size_t len;
    char *maps = read_self_maps(&len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    uint64_t ra = (uint64_t)(uintptr_t)symbolize_target_pc;

    struct fsan_symbol as_return, as_plain;
    assert_int_equal(fsan_symbolize(s, maps, len, ra, 1, &as_return), 0);
    assert_int_equal(fsan_symbolize(s, maps, len, ra, 0, &as_plain), 0);

    assert_non_null(as_return.function);
    assert_string_equal(as_return.function, "symbolize_target");
    assert_int_equal(as_return.line, symbolize_call_line);
    /* The same address taken literally is the next line; this proves the
     * two flavours are really looked up (and cached) separately. */
    assert_int_equal(as_plain.line, symbolize_target_line);
    /* module_offset is always the address itself, never addr-1. */
    assert_int_equal(as_return.module_offset, as_plain.module_offset);

    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_libc_function(void **state)
{
    void *getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
    assert_non_null(getpid_addr);
    size_t len;
    char *maps = read_self_maps(&len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();

    struct fsan_symbol sym;
    uint64_t addr = (uint64_t)(uintptr_t)getpid_addr;
    assert_int_equal(fsan_symbolize(s, maps, len, addr, 0, &sym), 0);
    assert_non_null(sym.module);
    assert_non_null(strstr(sym.module, "libc.so"));
    assert_non_null(sym.function);
    assert_true(strcmp(sym.function, "getpid") == 0
                || strcmp(sym.function, "__getpid") == 0);

    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_module_offset_is_elf_vaddr(void **state)
{
    /* One PIE executable and one shared library: module_offset must be
     * the runtime address minus the loader's bias in both. */
    symbolize_target();
    const void *addrs[] = {
        symbolize_target_pc,
        dlsym(RTLD_DEFAULT, "getpid"),
    };
    size_t len;
    char *maps = read_self_maps(&len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();

    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        assert_non_null(addrs[i]);
        uint64_t addr = (uint64_t)(uintptr_t)addrs[i];
        struct fsan_symbol sym;
        assert_int_equal(fsan_symbolize(s, maps, len, addr, 0, &sym), 0);
        assert_non_null(sym.module);
        assert_int_equal(sym.module_offset, addr - load_bias_of(addrs[i]));
    }

    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_unmapped_address_is_unknown(void **state)
{
    size_t len;
    char *maps = read_self_maps(&len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    char *heap = malloc(16);
    int on_stack = 0;

    /* Page zero is never mapped; heap and stack are mapped but belong to
     * no file, so none of them has a module. */
    const uint64_t addrs[] = {
        16,
        (uint64_t)(uintptr_t)heap,
        (uint64_t)(uintptr_t)&on_stack,
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        struct fsan_symbol sym;
        memset(&sym, 0xa5, sizeof sym); /* proves *out is always filled */
        assert_int_equal(fsan_symbolize(s, maps, len, addrs[i], 0, &sym), 0);
        assert_unknown(&sym);
    }

    free(heap);
    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_missing_file_keeps_path_and_offset(void **state)
{
    /* A PIE laid out by the loader: the data segment's file offset
     * (0x3000) differs from its virtual address (0x5000), and the offset
     * reported must be the virtual address one, like addr2line wants. */
    static const char maps[] =
        "555555554000-555555556000 r--p 00000000 08:01 1234   /nonexistent/forksan/prog\n"
        "555555556000-555555558000 r-xp 00002000 08:01 1234   /nonexistent/forksan/prog\n"
        "555555559000-55555555a000 rw-p 00003000 08:01 1234   /nonexistent/forksan/prog\n"
        "55555555a000-55555557b000 rw-p 00000000 00:00 0      [heap]\n";
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;

    assert_int_equal(fsan_symbolize(s, maps, sizeof maps - 1, 0x555555556123, 1, &sym), 0);
    assert_non_null(sym.module);
    assert_string_equal(sym.module, "/nonexistent/forksan/prog");
    assert_int_equal(sym.module_offset, 0x2123);
    assert_null(sym.function);
    assert_null(sym.file);
    assert_int_equal(sym.line, 0);

    assert_int_equal(fsan_symbolize(s, maps, sizeof maps - 1, 0x555555559010, 0, &sym), 0);
    assert_string_equal(sym.module, "/nonexistent/forksan/prog");
    assert_int_equal(sym.module_offset, 0x5010);

    assert_int_equal(fsan_symbolize(s, maps, sizeof maps - 1, 0x55555555a010, 0, &sym), 0);
    assert_unknown(&sym);

    fsan_symbolizer_free(s);
}

static void test_symbolize_non_elf_file_keeps_path_and_offset(void **state)
{
    char path[] = "/tmp/forksan-symbolize-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
    close(fd);

    char maps[512];
    int n = snprintf(maps, sizeof maps,
                     "7f0000000000-7f0000001000 r--p 00000000 08:01 99 %s\n", path);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;
    assert_int_equal(fsan_symbolize(s, maps, (size_t)n, 0x7f0000000042, 0, &sym), 0);
    assert_non_null(sym.module);
    assert_string_equal(sym.module, path);
    assert_int_equal(sym.module_offset, 0x42);
    assert_null(sym.function);

    fsan_symbolizer_free(s);
    unlink(path);
}

static void test_symbolize_fifo_does_not_block(void **state)
{
    char dir[] = "/tmp/forksan-symbolize-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[sizeof dir + 8];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    char maps[512];
    int n = snprintf(maps, sizeof maps,
                     "7f0000000000-7f0000001000 r--p 00000000 08:01 99 %s\n", fifo);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;
    /* Opening a FIFO for reading blocks until a writer appears; the alarm
     * turns such a hang into a failed run. */
    alarm(10);
    assert_int_equal(fsan_symbolize(s, maps, (size_t)n, 0x7f0000000010, 0, &sym), 0);
    alarm(0);
    assert_string_equal(sym.module, fifo);
    assert_null(sym.function);

    fsan_symbolizer_free(s);
    unlink(fifo);
    rmdir(dir);
}

static void test_symbolize_vdso_has_module_but_no_function(void **state)
{
    static const char maps[] =
        "7ffd1c5f0000-7ffd1c5f4000 r--p 00000000 00:00 0                          [vvar]\n"
        "7ffd1c5f4000-7ffd1c5f6000 r-xp 00000000 00:00 0                          [vdso]\n";
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;

    assert_int_equal(fsan_symbolize(s, maps, sizeof maps - 1, 0x7ffd1c5f4a10, 1, &sym), 0);
    assert_non_null(sym.module);
    assert_string_equal(sym.module, "[vdso]");
    assert_int_equal(sym.module_offset, 0xa10);
    assert_null(sym.function);

    assert_int_equal(fsan_symbolize(s, maps, sizeof maps - 1, 0x7ffd1c5f0010, 0, &sym), 0);
    assert_unknown(&sym); /* [vvar] is data, not a module */

    fsan_symbolizer_free(s);
}

static void test_symbolize_respects_maps_len(void **state)
{
    /* The text continues past maps_len; the path must stop where the
     * caller said the text stops, not at a NUL that is not there. */
    static const char buf[] =
        "7f0000000000-7f0000001000 r--p 00000000 08:01 99 /nonexistent/abcXYZ";
    size_t len = sizeof buf - 1 - 3;
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;

    assert_int_equal(fsan_symbolize(s, buf, len, 0x7f0000000010, 0, &sym), 0);
    assert_non_null(sym.module);
    assert_string_equal(sym.module, "/nonexistent/abc");

    /* The same bytes in an exact-size heap block, for ASan and valgrind. */
    char *text = copy_text(buf, len);
    assert_int_equal(fsan_symbolize(s, text, len, 0x7f0000000010, 0, &sym), 0);
    assert_string_equal(sym.module, "/nonexistent/abc");

    fsan_symbolizer_free(s);
    free(text);
}

static void test_symbolize_garbage_maps_no_crash(void **state)
{
    size_t len;
    char *maps = read_self_maps(&len);
    uint64_t target = (uint64_t)(uintptr_t)symbolize_target;
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;

    static const char *const junk[] = {
        "", "\n\n\n", "-", "zzzz", "1-", "0-0 r--p 0 0:0 0 /x\n",
        "ffffffffffffffffff-1 r--p 00000000 08:01 1 /x\n",
        "2000-1000 r--p 00000000 08:01 1 /nonexistent/backwards\n",
        "1000-2000 r--p 00000000 08:01 1\n",
        "1000-2000 r--p 00000000 08:01 1x /nonexistent/a\n",
        "1000-2000 r--p 00000000 08:01 1 [anon:foo]\n",
        "1000-2000 r--p 00000000 08:01 1 [vdso]\n1000-2000 r--p 00000000 08:01 1 [vdso]\n",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        size_t jl = strlen(junk[i]);
        char *t = copy_text(junk[i], jl);
        assert_int_equal(fsan_symbolize(s, t, jl, 0x1800, 0, &sym), 0);
        assert_int_equal(fsan_symbolize(s, t, jl, target, 1, &sym), 0);
        free(t);
    }

    /* Every truncation point of the real text, in coarse steps plus the
     * bytes around a few line boundaries. */
    for (size_t cut = 0; cut <= len; cut += len / 37 + 1) {
        for (size_t d = 0; d < 3 && cut + d <= len; d++) {
            char *t = copy_text(maps, cut + d);
            assert_int_equal(fsan_symbolize(s, t, cut + d, target, 0, &sym), 0);
            free(t);
        }
    }

    /* Deterministic random bytes, some with newlines and digits mixed in. */
    unsigned seed = 12345;
    for (int round = 0; round < 50; round++) {
        char t[300];
        for (size_t i = 0; i < sizeof t; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "0123456789abcdef- :/\n[]x\0 ";
            t[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        char *h = copy_text(t, sizeof t);
        assert_int_equal(fsan_symbolize(s, h, sizeof t, 0x1000, 1, &sym), 0);
        free(h);
    }

    /* A bad line ahead of the good ones is skipped, not fatal. */
    static const char bad[] = "this is not a maps line\n";
    char *mixed = malloc(sizeof bad - 1 + len);
    assert_non_null(mixed);
    memcpy(mixed, bad, sizeof bad - 1);
    memcpy(mixed + sizeof bad - 1, maps, len);
    assert_int_equal(fsan_symbolize(s, mixed, sizeof bad - 1 + len, target, 0, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "symbolize_target");
    free(mixed);

    fsan_symbolizer_free(s);
    free(maps);
}

static void test_symbolize_cached_lookup_same_pointers(void **state)
{
    symbolize_target();
    size_t len;
    char *maps = read_self_maps(&len);
    char *again = copy_text(maps, len);
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    uint64_t addr = (uint64_t)(uintptr_t)symbolize_target_pc;

    struct fsan_symbol a, b, c;
    assert_int_equal(fsan_symbolize(s, maps, len, addr, 0, &a), 0);
    assert_int_equal(fsan_symbolize(s, maps, len, addr, 0, &b), 0);
    assert_int_equal(fsan_symbolize(s, again, len, addr, 0, &c), 0);
    /* A mutated first buffer must not change what the copy resolves to. */
    memset(maps, 'x', len);

    assert_non_null(a.function);
    assert_ptr_equal(a.function, b.function);
    assert_ptr_equal(a.file, b.file);
    assert_ptr_equal(a.module, b.module);
    assert_ptr_equal(a.function, c.function);
    assert_ptr_equal(a.file, c.file);
    assert_ptr_equal(a.module, c.module);
    assert_int_equal(a.line, c.line);
    assert_int_equal(a.module_offset, c.module_offset);

    struct fsan_symbol d;
    assert_int_equal(fsan_symbolize(s, again, len, addr, 0, &d), 0);
    assert_ptr_equal(a.function, d.function);
    assert_string_equal(d.function, "symbolize_target");

    fsan_symbolizer_free(s);
    free(again);
    free(maps);
}


/* Copies this executable to a temporary file and returns a maps text that
 * maps the copy where the executable really is, so our own addresses
 * resolve through the copy. */
static char *maps_for_exe_copy(char *copy_path, size_t *out_len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';

    int in = open(exe, O_RDONLY | O_CLOEXEC);
    int out = mkstemp(copy_path);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)r), r);
    close(in);
    close(out);

    size_t len;
    char *maps = read_self_maps(&len);
    size_t cap = len + 4096, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (const char *p = maps; p < maps + len;) {
        const char *nl = memchr(p, '\n', (size_t)(maps + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(maps + len - p);
        char line[PATH_MAX + 256];
        assert_true(ll < sizeof line);
        memcpy(line, p, ll);
        line[ll] = '\0';
        char *path = strchr(line, '/');
        if (path != NULL && strcmp(path, exe) == 0) {
            int w = snprintf(text + used, cap - used, "%.*s%s\n",
                             (int)(path - line), line, copy_path);
            assert_true(w > 0 && (size_t)w < cap - used);
            used += (size_t)w;
        }
        p = nl ? nl + 1 : maps + len;
    }
    free(maps);
    assert_true(used > 0);
    *out_len = used;
    return text;
}

static void test_symbolize_anonymous_changes_reuse_session(void **state)
{
    /* A child whose heap grew has a different maps text but the same
     * files, so it must reuse the libdw session of the first text.  That
     * is observable: delete the file after the first lookup, and only a
     * reused session can still name a function it has not been asked
     * about yet. */
    symbolize_target();
    char copy[] = "/tmp/forksan-symbolize-XXXXXX";
    size_t len;
    char *text = maps_for_exe_copy(copy, &len);

    static const char anon[] = "7ffff0000000-7ffff0021000 rw-p 00000000 00:00 0 \n";
    static const char other[] =
        "7ffff0100000-7ffff0101000 r--p 00000000 08:01 77 /nonexistent/other\n";
    char *grown = malloc(len + sizeof anon - 1);
    char *different = malloc(len + sizeof other - 1);
    assert_non_null(grown);
    assert_non_null(different);
    memcpy(grown, text, len);
    memcpy(grown + len, anon, sizeof anon - 1);
    memcpy(different, text, len);
    memcpy(different + len, other, sizeof other - 1);

    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;
    uint64_t first = (uint64_t)(uintptr_t)symbolize_target_pc;
    uint64_t second = (uint64_t)(uintptr_t)symbolize_record_pc;

    assert_int_equal(fsan_symbolize(s, text, len, first, 0, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "symbolize_target");
    assert_string_equal(sym.module, copy);
    unlink(copy);

    assert_int_equal(fsan_symbolize(s, grown, len + sizeof anon - 1, second, 0, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "symbolize_record_pc");

    /* Control: another file set needs a new session, which finds the copy
     * gone; this is what the lookup above would have seen without reuse. */
    assert_int_equal(fsan_symbolize(s, different, len + sizeof other - 1, second, 0, &sym), 0);
    assert_string_equal(sym.module, copy);
    assert_null(sym.function);

    fsan_symbolizer_free(s);
    free(different);
    free(grown);
    free(text);
}

static void test_symbolize_rejects_invalid_arguments(void **state)
{
    struct fsan_symbolizer *s = fsan_symbolizer_new();
    struct fsan_symbol sym;
    assert_int_equal(fsan_symbolize(NULL, "", 0, 0x1000, 0, &sym), -EINVAL);
    assert_unknown(&sym);
    assert_int_equal(fsan_symbolize(s, NULL, 10, 0x1000, 0, &sym), -EINVAL);
    assert_int_equal(fsan_symbolize(s, "", 0, 0x1000, 0, NULL), -EINVAL);
    /* An empty address space is not an error: nothing is mapped. */
    assert_int_equal(fsan_symbolize(s, NULL, 0, 0x1000, 0, &sym), 0);
    assert_unknown(&sym);
    fsan_symbolizer_free(s);
    fsan_symbolizer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbolize_own_function_file_and_line),
        cmocka_unit_test(test_symbolize_return_address_reports_call_line),
        cmocka_unit_test(test_symbolize_libc_function),
        cmocka_unit_test(test_symbolize_module_offset_is_elf_vaddr),
        cmocka_unit_test(test_symbolize_unmapped_address_is_unknown),
        cmocka_unit_test(test_symbolize_missing_file_keeps_path_and_offset),
        cmocka_unit_test(test_symbolize_non_elf_file_keeps_path_and_offset),
        cmocka_unit_test(test_symbolize_fifo_does_not_block),
        cmocka_unit_test(test_symbolize_vdso_has_module_but_no_function),
        cmocka_unit_test(test_symbolize_respects_maps_len),
        cmocka_unit_test(test_symbolize_garbage_maps_no_crash),
        cmocka_unit_test(test_symbolize_cached_lookup_same_pointers),
        cmocka_unit_test(test_symbolize_anonymous_changes_reuse_session),
        cmocka_unit_test(test_symbolize_rejects_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

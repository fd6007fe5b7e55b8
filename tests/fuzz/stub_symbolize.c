/* stub_symbolize.c — a stand-in for analyzer/symbolize.c, linked into the
 * trace fuzz target instead of it.
 *
 * The real symbolizer opens the ELF files a trace's maps text names and
 * reads their debug information with libdw: far too slow for a fuzzer, and
 * it would test the files on this machine rather than the trace.  This one
 * opens nothing.  It makes up a symbol from the bits of the address, so
 * that the fuzzer, by changing an address, reaches the rules' paths that
 * depend on names: frames of the runtime itself (trimmed), functions the
 * rules know (a harmless exit handler, a pid check), functions the
 * built-in suppressions hide, frames with no function or no file, and
 * frames outside any module.
 */
#include <stdlib.h>

#include "symbolize.h"

struct fsan_symbolizer {
    int unused;
};

static const char *const functions[] = {NULL, "main", "worker", "OPENSSL_cleanup", "_Cached.__call__",
                                        "_PyImport_AcquireLock", "Thread._set_tstate_lock"};
static const char *const files[] = {NULL, "prog.c", "/src/lib/pool.c", "/usr/lib/python3.11/threading.py"};
static const char *const modules[] = {NULL, "/usr/lib/libforksan.so", "/usr/bin/prog",
                                      "/lib/x86_64-linux-gnu/libc.so.6"};

#define PICK(table, bits) ((table)[(bits) % (sizeof(table) / sizeof(table)[0])])

struct fsan_symbolizer *fsan_symbolizer_new(void)
{
    return calloc(1, sizeof(struct fsan_symbolizer));
}

void fsan_symbolizer_free(struct fsan_symbolizer *s)
{
    free(s);
}

int fsan_symbolize(struct fsan_symbolizer *s, const char *maps, size_t maps_len, uint64_t addr, int is_return_address,
                   struct fsan_symbol *out)
{
    out->function = PICK(functions, addr);
    out->file = PICK(files, addr >> 4);
    out->line = (int)((addr >> 8) & 0xff);
    out->module = PICK(modules, addr >> 16);
    out->module_offset = addr & 0xffff;
    return 0;
}

/* symbolize.h — turn raw return addresses recorded inside a target into
 * function, file:line and module+offset, offline, with libdw (elfutils).
 *
 * An address only means something in the address space it was captured in,
 * so every lookup names that address space by the text of its
 * /proc/PID/maps as the runtime recorded it.  Identical maps texts (a parent
 * and its forked children) share one libdw session.
 */
#ifndef FSAN_SYMBOLIZE_H
#define FSAN_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct fsan_symbolizer;

struct fsan_symbol {
    const char *function; /* NULL when unknown; owned by the symbolizer */
    const char *file;     /* source file, NULL without debug info */
    int line;             /* 0 when unknown */
    const char *module;   /* path of the ELF object, NULL if unmapped */
    uint64_t module_offset; /* address relative to the module's load bias */
};

struct fsan_symbolizer *fsan_symbolizer_new(void);
void fsan_symbolizer_free(struct fsan_symbolizer *s);

/* Look up one address.  `maps` is the raw maps text (need not be
 * NUL-terminated).  `is_return_address` makes the lookup use addr-1 for the
 * file:line so a call site is reported rather than the next line.  Always
 * fills *out (with NULLs where unknown) and returns 0, or a negative errno
 * on a real error (out of memory).  Strings stay valid until
 * fsan_symbolizer_free. */
int fsan_symbolize(struct fsan_symbolizer *s, const char *maps, size_t maps_len,
                   uint64_t addr, int is_return_address, struct fsan_symbol *out);

#endif

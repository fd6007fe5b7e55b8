/* slurp.h — reading a whole (small) text file into memory, shared by the
 * readers of suppression files and baselines. */
#ifndef FSAN_SLURP_H
#define FSAN_SLURP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads all of f (which the caller closes) into *text (NUL-terminated,
 * freed by the caller) and *len.  Returns 0, -EIO on a read error or
 * -ENOMEM; on error *text is NULL. */
static inline int fsan_slurp(FILE *f, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *mem = open_memstream(text, len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    int read_error = ferror(f);
    if (!mem || fclose(mem) != 0 || read_error) {
        free(*text);
        *text = NULL;
        return read_error ? -EIO : -ENOMEM;
    }
    return 0;
}

#endif

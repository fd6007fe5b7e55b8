/* slurp.h — reading a whole (small) text file into memory, shared by the
 * readers of suppression files and baselines. */
#ifndef FSAN_SLURP_H
#define FSAN_SLURP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Reads the file at path as fsan_slurp does.  On failure err says
 * "cannot read WHAT 'PATH': REASON", followed by " (HINT)" when the file
 * cannot be opened, and the result is a negative errno. */
static inline int fsan_slurp_path(const char *path, const char *what, const char *hint, char **text, size_t *len,
                                  char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int saved = errno;
        snprintf(err, errlen, "cannot read %s '%s': %s (%s)", what, path, strerror(saved), hint);
        *text = NULL;
        return -saved;
    }
    int rc = fsan_slurp(f, text, len);
    fclose(f);
    if (rc < 0)
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path, rc == -EIO ? "read error" : "out of memory");
    return rc;
}

#endif

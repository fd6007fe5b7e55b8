/* dwlib.h — libdw and libelf, loaded on first use (dwlib.c). */
#ifndef FSAN_DWLIB_H
#define FSAN_DWLIB_H

#include <stddef.h>

/* Loads libdw (and libelf with it) once.  0, or -1 with a one-line reason
 * naming the package to install in err.  A caller that can do without the
 * libraries asks this first; any call of their functions made without it
 * loads them too, or ends the command with that reason. */
int fsan_dwlib_load(char *err, size_t errlen);

#endif

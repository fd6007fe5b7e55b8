/* pyremote.h — CPython in another process, for walking its Python stacks
 * from outside (the hang watchdog): where its interpreter is, which
 * version, and a reader of its memory.  analyzer/pyremote.c says how.
 *
 *     struct fsan_py_remote r;
 *     const char *why;
 *     if (fsan_py_remote_open(pid, &r, &why) == 0)
 *         fsan_py_walk_thread(&r.layout, &r.mem, r.runtime, r.code_type, tid, 32, each, ctx);
 */
#ifndef FSAN_PYREMOTE_H
#define FSAN_PYREMOTE_H

#include <sys/types.h>

#include "pywalk.h"

struct fsan_py_remote {
    struct fsan_py_layout layout; /* adopted: ready for the walker */
    struct fsan_py_mem mem;       /* process_vm_readv on the pid */
    uint64_t runtime;             /* &_PyRuntime in that process */
    uint64_t code_type;           /* &PyCode_Type */
    unsigned long hexversion;
};

/* Finds CPython's symbols in the executable or libpython3.N mapped in pid.
 * 0; -ENOENT when pid runs no CPython; -ENOTSUP (with *why) for a
 * version or build the walker does not read; another negative errno
 * (with *why) when pid cannot be inspected. */
int fsan_py_remote_open(pid_t pid, struct fsan_py_remote *r, const char **why);

#endif

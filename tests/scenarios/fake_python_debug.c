/* fake_python.c's program, but claiming to be a debug build of CPython
 * 3.11 (Py_REF_DEBUG's _Py_NegativeRefcount is exported): its structures
 * have another layout, so native frames, the finding, and one notice. */
#include <stdlib.h>

const unsigned long Py_Version = 0x030b02f0;
void _Py_NegativeRefcount(const char *filename, int lineno, void *op);
void _Py_NegativeRefcount(const char *filename, int lineno, void *op)
{
    (void)filename, (void)lineno, (void)op;
    abort();
}
#include "fake_python.c"

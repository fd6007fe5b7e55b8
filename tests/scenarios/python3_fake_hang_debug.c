/* python3_fake_hang.c as a debug build of CPython 3.11 (it exports
 * _Py_NegativeRefcount, which only Py_DEBUG builds have): its structures
 * differ from the release build's, so no Python frames, and the reason. */
#define FAKE_PY_DEBUG 1
#include "python3_fake_hang.c"

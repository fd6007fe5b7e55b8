/* hang_pipe_vanished.c's program in an executable that looks to the hang
 * watchdog of forksan run like CPython (its name starts with "python3", it
 * exports _PyRuntime and PyCode_Type) but claims a version newer than any
 * forksan knows (Py_Version 3.16.0): forksan must not guess at its frame
 * layout.  The child-hang keeps the native stack at the read and says once
 * that the Python frames are unavailable, and why.
 * python3_fake_hang_debug.c is the same as a debug build of 3.11. */
#ifdef FAKE_PY_DEBUG
const unsigned long Py_Version = 0x030b07f0;
void _Py_NegativeRefcount(void);
void _Py_NegativeRefcount(void)
{
}
#else
const unsigned long Py_Version = 0x031000f0;
#endif
char _PyRuntime[4096];
char PyCode_Type[512];
#include "hang_pipe_vanished.c"

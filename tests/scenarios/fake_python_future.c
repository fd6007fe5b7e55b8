/* fake_python.c's program, but claiming to be a CPython newer than any
 * forksan knows (Py_Version 3.16.0): forksan must not guess at its frame
 * layout — native frames, the finding, and one notice saying why. */
const unsigned long Py_Version = 0x031000f0;
#include "fake_python.c"

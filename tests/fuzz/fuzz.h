/* fuzz.h — what the fuzz targets share: the entry point libFuzzer calls,
 * and a NUL-terminated copy of an input for the parsers that read C
 * strings. */
#ifndef FSAN_FUZZ_H
#define FSAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..size) with a NUL after it (an inner NUL ends the string early);
 * NULL when out of memory.  The caller frees it. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif

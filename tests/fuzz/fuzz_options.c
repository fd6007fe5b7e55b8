/* fuzz_options.c — libFuzzer target for the FORKSAN_OPTIONS parser
 * (common/options.c).
 *
 * The input, with a NUL added, is the FORKSAN_OPTIONS string.  It is parsed
 * on top of the defaults; the parse must leave every path option
 * NUL-terminated and, on failure, a message in err; every unknown key it
 * reports must lie inside the string.  A string that parses is then listed
 * as help=1 would list it (the lines are read, not printed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "options.h"

static void unknown_key(const char *key, size_t keylen)
{
    if (memchr(key, '\0', keylen))
        abort();
}

static volatile size_t emitted;

static void emit(const char *line)
{
    emitted += strlen(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    if (!text)
        return 0;
    struct fsan__options o;
    fsan__options_defaults(&o);
    char err[256] = "";
    int rc = fsan__options_parse(&o, text, err, sizeof err, unknown_key);
    if (rc != 0 && err[0] == '\0')
        abort();
#define FSAN_OPT_CHECK_BOOL(name)
#define FSAN_OPT_CHECK_INT(name)
#define FSAN_OPT_CHECK_MODE(name)
#define FSAN_OPT_CHECK_PATH(name) \
    if (!memchr(o.name, '\0', sizeof o.name)) \
        abort();
#define FSAN_OPTION(type, name, def, min, max, help) FSAN_OPT_CHECK_##type(name)
#include "options.def"
#undef FSAN_OPTION
    if (rc == 0)
        fsan__options_help(&o, emit);
    free(text);
    return 0;
}

/* options.c — the FORKSAN_OPTIONS parser, shared by the runtime (parsing the
 * environment in its constructor) and the forksan command (validating the
 * options before it launches anything).
 *
 * DESIGN
 * The syntax is the sanitizers' (key=value pairs separated by ':'), with ','
 * and whitespace accepted too because people paste ASan habits.  Every key
 * comes from options.def so the parser, the defaults, help=1 and the man page
 * cannot drift apart.  A bad value is fatal (the caller stops with the
 * message: running with a setting the user did not ask for would be a
 * silent failure); an unknown key only warns, so an options string written
 * for a newer forksan still runs.  No allocation: the runtime parses before
 * the program's main, possibly before malloc is safe to interpose.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum opt_type { OPT_BOOL, OPT_INT, OPT_MODE, OPT_PATH };

struct opt_desc {
    const char *name;
    enum opt_type type;
    long def_int;
    const char *def_str;
    long min, max;
    size_t offset;
    const char *help;
};

#define FSAN_OPT_DEF_INT(def) (long)(def)
#define FSAN_OPT_DESC_BOOL(name, def, min, max, help) {#name, OPT_BOOL, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_INT(name, def, min, max, help) {#name, OPT_INT, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_MODE(name, def, min, max, help) {#name, OPT_MODE, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_PATH(name, def, min, max, help) {#name, OPT_PATH, 0, def, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPTION(type, name, def, min, max, help) FSAN_OPT_DESC_##type(name, def, min, max, help)
static const struct opt_desc opt_table[] = {
#include "options.def"
};
#undef FSAN_OPTION

#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static const char *const mode_names[] = {"observe", "strict"};

static int *int_field(struct fsan__options *o, const struct opt_desc *d)
{
    return (int *)((char *)o + d->offset);
}

static char *str_field(struct fsan__options *o, const struct opt_desc *d)
{
    return (char *)o + d->offset;
}

void fsan__options_defaults(struct fsan__options *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_desc *d = &opt_table[i];
        if (d->type == OPT_PATH) /* no snprintf: its code pages are faults in every exec'd image */
            memcpy(str_field(o, d), d->def_str, strnlen(d->def_str, FSAN_OPTION_PATH_MAX - 1));
        else
            *int_field(o, d) = (int)d->def_int;
    }
}

static int is_sep(char c)
{
    return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

static int match_word(const char *v, size_t n, const char *word)
{
    return strlen(word) == n && strncmp(v, word, n) == 0;
}

static int parse_bool(const char *v, size_t n, int *out)
{
    if (match_word(v, n, "1") || match_word(v, n, "true") || match_word(v, n, "yes")) {
        *out = 1;
        return 0;
    }
    if (match_word(v, n, "0") || match_word(v, n, "false") || match_word(v, n, "no")) {
        *out = 0;
        return 0;
    }
    return -EINVAL;
}

static int parse_int(const char *v, size_t n, long min, long max, int *out)
{
    char digits[24];
    if (n == 0 || n >= sizeof digits)
        return -EINVAL;
    memcpy(digits, v, n);
    digits[n] = '\0';
    char *end = NULL;
    errno = 0;
    long x = strtol(digits, &end, 10);
    if (errno || *end != '\0' || x < min || x > max)
        return -EINVAL;
    *out = (int)x;
    return 0;
}

static int parse_mode(const char *v, size_t n, int *out)
{
    for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++) {
        if (match_word(v, n, mode_names[i])) {
            *out = i;
            return 0;
        }
    }
    return -EINVAL;
}

static void expected_text(const struct opt_desc *d, char *buf, size_t len)
{
    switch (d->type) {
    case OPT_BOOL: snprintf(buf, len, "0 or 1"); break;
    case OPT_INT: snprintf(buf, len, "an integer from %ld to %ld", d->min, d->max); break;
    case OPT_MODE: snprintf(buf, len, "observe or strict"); break;
    case OPT_PATH: snprintf(buf, len, "a path shorter than %d bytes", FSAN_OPTION_PATH_MAX); break;
    }
}

static int set_value(struct fsan__options *o, const struct opt_desc *d, const char *v, size_t n)
{
    switch (d->type) {
    case OPT_BOOL: return parse_bool(v, n, int_field(o, d));
    case OPT_INT: return parse_int(v, n, d->min, d->max, int_field(o, d));
    case OPT_MODE: return parse_mode(v, n, int_field(o, d));
    case OPT_PATH:
        if (n >= FSAN_OPTION_PATH_MAX)
            return -EINVAL;
        memcpy(str_field(o, d), v, n);
        str_field(o, d)[n] = '\0';
        return 0;
    }
    return -EINVAL;
}

static const struct opt_desc *find_option(const char *key, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (match_word(key, n, opt_table[i].name))
            return &opt_table[i];
    return NULL;
}

int fsan__options_parse(struct fsan__options *o, const char *text, char *err, size_t errlen,
                        void (*warn_unknown)(const char *key, size_t keylen))
{
    const char *p = text ? text : "";
    while (*p) {
        while (is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && !is_sep(*p))
            p++;
        size_t keylen = (size_t)(p - key);
        if (*p != '=') {
            snprintf(err, errlen, "FORKSAN_OPTIONS: '%.*s' has no value (write %.*s=VALUE)",
                     (int)keylen, key, (int)keylen, key);
            return -EINVAL;
        }
        const char *val = ++p;
        /* Paths may contain ',' or spaces; only ':' ends them. */
        const struct opt_desc *d = find_option(key, keylen);
        if (d && d->type == OPT_PATH)
            while (*p && *p != ':')
                p++;
        else
            while (*p && !is_sep(*p))
                p++;
        size_t vallen = (size_t)(p - val);
        if (!d) {
            if (warn_unknown)
                warn_unknown(key, keylen);
            continue;
        }
        if (set_value(o, d, val, vallen) < 0) {
            char expected[64];
            expected_text(d, expected, sizeof expected);
            snprintf(err, errlen, "FORKSAN_OPTIONS: invalid value '%.*s' for '%s' (expected %s)",
                     (int)vallen, val, d->name, expected);
            return -EINVAL;
        }
    }
    return 0;
}

void fsan__options_help(const struct fsan__options *o, void (*emit)(const char *line))
{
    char line[1024];
    emit("Available FORKSAN_OPTIONS (key=value, separated by ':'):");
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_desc *d = &opt_table[i];
        struct fsan__options *mo = (struct fsan__options *)o;
        char def[64], cur[FSAN_OPTION_PATH_MAX + 2];
        if (d->type == OPT_PATH) {
            snprintf(def, sizeof def, "\"%s\"", d->def_str);
            snprintf(cur, sizeof cur, "\"%s\"", str_field(mo, d));
        } else if (d->type == OPT_MODE) {
            snprintf(def, sizeof def, "%s", mode_names[d->def_int]);
            snprintf(cur, sizeof cur, "%s", mode_names[*int_field(mo, d) ? 1 : 0]);
        } else {
            snprintf(def, sizeof def, "%ld", d->def_int);
            snprintf(cur, sizeof cur, "%d", *int_field(mo, d));
        }
        snprintf(line, sizeof line, "\t%s\n\t\t- %s (default: %s, now: %s)", d->name, d->help, def, cur);
        emit(line);
    }
}

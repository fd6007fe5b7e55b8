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
 * the program's main, possibly before malloc is safe to interpose.  No libc
 * call either on the way of a well-formed string: in the runtime each
 * distinct libc function costs every exec'd image a lazy binding.  Every
 * exec'd image parses, so the work is kept small too: a key is compared
 * with a name only when their lengths agree, a value is scanned once (and
 * copied as it is scanned), and only what the table names is written.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum opt_type { OPT_BOOL, OPT_INT, OPT_MODE, OPT_PATH };

struct opt_desc {
    const char *name;
    size_t name_len;
    enum opt_type type;
    long def_int;
    const char *def_str;
    long min, max;
    size_t offset;
    const char *help;
};

#define FSAN_OPT_DEF_INT(def) (long)(def)
#define FSAN_OPT_DESC_BOOL(name, def, min, max, help) {#name, sizeof #name - 1, OPT_BOOL, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_INT(name, def, min, max, help) {#name, sizeof #name - 1, OPT_INT, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_MODE(name, def, min, max, help) {#name, sizeof #name - 1, OPT_MODE, def, NULL, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPT_DESC_PATH(name, def, min, max, help) {#name, sizeof #name - 1, OPT_PATH, 0, def, min, max, offsetof(struct fsan__options, name), help},
#define FSAN_OPTION(type, name, def, min, max, help) FSAN_OPT_DESC_##type(name, def, min, max, help)
static const struct opt_desc opt_table[] = {
#include "options.def"
};
#undef FSAN_OPTION

#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static const char *const mode_names[] = {"observe", "strict", "safe"};

static int *int_field(struct fsan__options *o, const struct opt_desc *d)
{
    return (int *)((char *)o + d->offset);
}

static char *str_field(struct fsan__options *o, const struct opt_desc *d)
{
    return (char *)o + d->offset;
}

/* Copies n bytes and ends them with a NUL (no memcpy: see DESIGN). */
static void copy_text(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
    dst[n] = '\0';
}

/* Every field of the struct is an option of the table: each is set here
 * (a path up to its NUL), so nothing is cleared first. */
void fsan__options_defaults(struct fsan__options *o)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_desc *d = &opt_table[i];
        if (d->type == OPT_PATH) { /* no snprintf: its code pages are faults in every exec'd image */
            size_t n = 0;
            while (n < FSAN_OPTION_PATH_MAX - 1 && d->def_str[n])
                n++;
            copy_text(str_field(o, d), d->def_str, n);
        } else {
            *int_field(o, d) = (int)d->def_int;
        }
    }
}

static int is_sep(char c)
{
    return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

/* The n bytes at v are exactly word. */
static int match_word(const char *v, size_t n, const char *word)
{
    size_t i = 0;
    while (i < n && word[i] && word[i] == v[i])
        i++;
    return i == n && word[i] == '\0';
}

/* The n bytes at v are the n bytes of word. */
static int same_bytes(const char *v, const char *word, size_t n)
{
    size_t i = 0;
    while (i < n && word[i] == v[i])
        i++;
    return i == n;
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

/* A decimal integer with an optional sign, as strtol reads it (the value
 * holds no spaces: they separate options). */
static int parse_int(const char *v, size_t n, long min, long max, int *out)
{
    if (n == 0 || n >= 24)
        return -EINVAL;
    size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
    if (i == n)
        return -EINVAL;
    long x = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (LONG_MAX - 9) / 10)
            return -EINVAL;
        x = x * 10 + (v[i] - '0');
    }
    if (v[0] == '-')
        x = -x;
    if (x < min || x > max)
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
    case OPT_MODE: snprintf(buf, len, "observe, strict or safe"); break;
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
        copy_text(str_field(o, d), v, n);
        return 0;
    }
    return -EINVAL;
}

static const struct opt_desc *find_option(const char *key, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (opt_table[i].name_len == n && same_bytes(key, opt_table[i].name, n))
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
            snprintf(cur, sizeof cur, "%s", mode_names[*int_field(mo, d) > 2 ? 0 : *int_field(mo, d)]);
        } else {
            snprintf(def, sizeof def, "%ld", d->def_int);
            snprintf(cur, sizeof cur, "%d", *int_field(mo, d));
        }
        snprintf(line, sizeof line, "\t%s\n\t\t- %s (default: %s, now: %s)", d->name, d->help, def, cur);
        emit(line);
    }
}

/* options.h — FORKSAN_OPTIONS, generated from options.def. */
#ifndef FSAN_OPTIONS_H
#define FSAN_OPTIONS_H

#include <stddef.h>

#define FSAN_OPTION_PATH_MAX 512

enum fsan_mode { FSAN_MODE_OBSERVE = 0, FSAN_MODE_STRICT = 1, FSAN_MODE_SAFE = 2 };

#define FSAN_OPT_FIELD_BOOL(name) int name;
#define FSAN_OPT_FIELD_INT(name) int name;
#define FSAN_OPT_FIELD_MODE(name) int name;
#define FSAN_OPT_FIELD_PATH(name) char name[FSAN_OPTION_PATH_MAX];
#define FSAN_OPTION(type, name, def, min, max, help) FSAN_OPT_FIELD_##type(name)
struct fsan__options {
#include "options.def"
};
#undef FSAN_OPTION

/* Fills *o with the defaults. */
void fsan__options_defaults(struct fsan__options *o);

/* Parses "key=value:key=value" (also ',' or whitespace as separators) into
 * *o, on top of what is there.  Returns 0, or -EINVAL with a one-line
 * message in err for a malformed value (fatal for the caller).  Unknown keys
 * are not fatal: each is reported through warn_unknown(key, keylen) when it
 * is not NULL.  Uses no malloc: safe in a constructor before anything else. */
int fsan__options_parse(struct fsan__options *o, const char *text, char *err, size_t errlen,
                        void (*warn_unknown)(const char *key, size_t keylen));

/* Writes the help=1 listing (one line per option) through emit. */
void fsan__options_help(const struct fsan__options *o, void (*emit)(const char *line));

#endif

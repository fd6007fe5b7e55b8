/* suppress.h — suppression files: reading them and removing the findings
 * they match from a report (--suppressions, FORKSAN_OPTIONS=suppressions=,
 * and the built-in list compiled from analyzer/builtin.supp).
 *
 * The line format, one entry per line ('#' starts a comment line, blank
 * lines are ignored, surrounding white space is trimmed):
 *
 *   RULE:*                 every finding of RULE
 *   RULE:function:GLOB     a frame of any location has a matching function
 *   RULE:file:GLOB         a frame of any location has a matching source file
 *                          (a GLOB without '/' is also tried on the base name)
 *   RULE:module:GLOB       a frame of any location is in a matching module
 *   RULE:thread:GLOB       a location's thread has a matching name
 *   RULE:fingerprint:HEX   the finding's 16-hex-digit fingerprint
 *
 * RULE is a rule id (`forksan explain` lists them) or '*' for any rule.
 * GLOB is an fnmatch(3) pattern ('*' also crosses '/'); it is the rest of the
 * line, so it may itself contain ':' (C++ names such as ns::f).
 */
#ifndef FSAN_SUPPRESS_H
#define FSAN_SUPPRESS_H

#include <stddef.h>

#include "model.h"

enum fsan_supp_kind {
    FSAN_SUPP_ANY,         /* RULE:* */
    FSAN_SUPP_FUNCTION,
    FSAN_SUPP_FILE,
    FSAN_SUPP_MODULE,
    FSAN_SUPP_THREAD,
    FSAN_SUPP_FINGERPRINT,
};

struct fsan_suppression {
    char *rule;            /* NULL: any rule */
    enum fsan_supp_kind kind;
    char *pattern;         /* NULL for FSAN_SUPP_ANY */
    char *origin;          /* "FILE:LINE: TEXT", for the unmatched list */
    int builtin;           /* built-in entries are never reported as unmatched */
    size_t hits;           /* findings it matched */
};

struct fsan_suppressions {
    struct fsan_suppression *entries;
    size_t nentries;
};

/* The name built-in entries carry in messages ("<builtin>:LINE"). */
#define FSAN_BUILTIN_SUPP_NAME "<builtin>"

/* Parses text (NUL-terminated) as the suppression file `name`, appending to
 * *s.  Returns 0, or -EINVAL with "NAME:LINE: problem (fix)" in err, or
 * -ENOMEM. */
int fsan_suppressions_parse(struct fsan_suppressions *s, const char *name, const char *text, int builtin,
                            char *err, size_t errlen);

/* Reads and parses the file at path ("cannot read" errors name it too). */
int fsan_suppressions_load(struct fsan_suppressions *s, const char *path, char *err, size_t errlen);

/* Parses the built-in list (analyzer/builtin.supp, compiled in). */
int fsan_suppressions_add_builtin(struct fsan_suppressions *s, char *err, size_t errlen);

/* The built-in list's text, as compiled in. */
extern const char fsan__builtin_suppressions[];

/* 1 when the entry matches the finding. */
int fsan_suppression_matches(const struct fsan_suppression *e, const struct fsan_finding *f);

/* Removes every finding that an entry matches (counting them in
 * r->nsuppressed and each entry's hits), then lists in
 * r->unmatched_suppressions the user entries that matched nothing.
 * Returns 0 or -ENOMEM. */
int fsan_suppressions_apply(struct fsan_suppressions *s, struct fsan_report *r);

void fsan_suppressions_free(struct fsan_suppressions *s);

#endif

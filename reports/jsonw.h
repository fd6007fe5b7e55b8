/* jsonw.h — a small streaming JSON writer for the machine-readable reports.
 *
 * Usage: fsan_json_init(), then a sequence of begin/end, key and value
 * calls that describes exactly one top-level value, then fsan_json_finish().
 * Commas, newlines and two-space indentation are inserted automatically.
 * Inside an object every value must be preceded by fsan_json_key(); inside
 * an array, fsan_json_key() is a misuse.  A misuse or an I/O error is
 * remembered and reported by fsan_json_finish(), so callers need not check
 * every call.
 */
#ifndef FSAN_JSONW_H
#define FSAN_JSONW_H

#include <stdint.h>
#include <stdio.h>

/* Deeper nesting than this is a misuse; the JSON report needs seven. */
#define FSAN_JSON_MAX_DEPTH 32

struct fsan_json {
    FILE *out;
    int depth;        /* number of open containers */
    int error;        /* first error seen: 0 or a negative errno */
    int after_key;    /* a key was written and its value is due */
    int wrote_root;   /* the top-level value has been started */
    char kind[FSAN_JSON_MAX_DEPTH];        /* '{' or '[' per open container */
    unsigned char has_members[FSAN_JSON_MAX_DEPTH];
};

void fsan_json_init(struct fsan_json *w, FILE *out);

void fsan_json_begin_object(struct fsan_json *w);
void fsan_json_end_object(struct fsan_json *w);
void fsan_json_begin_array(struct fsan_json *w);
void fsan_json_end_array(struct fsan_json *w);

/* The member name for the next value of the current object. */
void fsan_json_key(struct fsan_json *w, const char *key);

/* Values.  A NULL string is written as null.  Strings are written as UTF-8:
 * valid UTF-8 passes through, each invalid sequence becomes U+FFFD. */
void fsan_json_string(struct fsan_json *w, const char *s);
void fsan_json_int(struct fsan_json *w, long long v);
void fsan_json_uint(struct fsan_json *w, unsigned long long v);
void fsan_json_bool(struct fsan_json *w, int v);
void fsan_json_null(struct fsan_json *w);
/* A 64-bit value as the string "0x…" (JSON numbers lose precision past
 * 2^53 in most readers, and addresses are read as hex anyway). */
void fsan_json_hex(struct fsan_json *w, uint64_t v);

/* A member of the current object: fsan_json_key() then the value. */
void fsan_json_member_string(struct fsan_json *w, const char *key, const char *value);
void fsan_json_member_int(struct fsan_json *w, const char *key, long long value);

/* Ends the document with a newline and flushes the stream.  Returns 0, or
 * -EINVAL after a misuse (including an unfinished document), or a negative
 * errno for a write error. */
int fsan_json_finish(struct fsan_json *w);

#endif

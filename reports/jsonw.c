/* jsonw.c — a small streaming JSON writer on a stdio stream, used by the
 * JSON report (and by any later machine-readable renderer).
 *
 * Reports are written once, front to back, so a streaming writer is all we
 * need: no document tree is built, nothing is allocated, and a report of
 * any size costs a few hundred bytes of state.  The writer owns the parts
 * that are easy to get subtly wrong by hand — commas between members,
 * indentation, and above all string escaping — so the renderer reads as a
 * plain description of the schema.
 *
 * DESIGN
 * Strings in a report come from the watched program (thread names, paths,
 * function names), so they can hold anything: quotes, newlines, terminal
 * escapes, bytes that are not UTF-8.  JSON text must be valid Unicode, and a
 * consumer in a strict language (Python's json, Go, serde) rejects the whole
 * report for one bad byte, so the writer guarantees valid output instead of
 * trusting its input.  Control characters are escaped (the common ones in
 * their short form, \n, \t, …, and the rest as \u00XX; DEL too, so that a
 * report printed to a terminal cannot drive it).  Well-formed UTF-8 passes
 * through unchanged, which keeps non-ASCII paths readable.  Each ill-formed
 * sequence becomes U+FFFD following the Unicode "maximal subpart" practice
 * (the same one Python and browsers use): a truncated but otherwise valid
 * prefix is one replacement character, and any other bad byte is one each,
 * so a decoder on the other side sees exactly what a careful UTF-8 decoder
 * of the original bytes would have seen.
 *
 * Misuse (a value in an object without a key, a key in an array, unbalanced
 * ends) is a programming error in a renderer.  Rather than assert, the
 * writer records the first error, stops writing, and reports it from
 * fsan_json_finish(), so renderers stay free of per-call error checks and
 * a bug yields an error code instead of a silently malformed file.  Write
 * errors are found the same way, through ferror() and the final fflush().
 */
#include "jsonw.h"
#include "textesc.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* ---- string escaping ----------------------------------------------------- */

/* The number of bytes at s that may be copied into a JSON string as they
 * are: one printable ASCII character other than '"' and '\\', or one whole
 * well-formed UTF-8 sequence.  0 means the byte at s needs special output. */
static size_t verbatim_length(const unsigned char *s, size_t n)
{
    size_t bad;

    if (s[0] < 0x80)
        return s[0] >= 0x20 && s[0] != 0x7f && s[0] != '"' && s[0] != '\\';
    return fsan_utf8_sequence(s, n, &bad);
}

static void write_ascii_escape(FILE *out, unsigned char c)
{
    switch (c) {
    case '"':
        fputs("\\\"", out);
        return;
    case '\\':
        fputs("\\\\", out);
        return;
    case '\b':
        fputs("\\b", out);
        return;
    case '\f':
        fputs("\\f", out);
        return;
    case '\n':
        fputs("\\n", out);
        return;
    case '\r':
        fputs("\\r", out);
        return;
    case '\t':
        fputs("\\t", out);
        return;
    }
    fprintf(out, "\\u%04x", c);
}

/* Writes the escape for the byte(s) at s that verbatim_length() refused and
 * returns how many bytes it consumed. */
static size_t write_special(FILE *out, const unsigned char *s, size_t n)
{
    size_t bad;

    if (s[0] < 0x80) {
        write_ascii_escape(out, s[0]);
        return 1;
    }
    fsan_utf8_sequence(s, n, &bad);
    fputs("\xEF\xBF\xBD", out); /* U+FFFD REPLACEMENT CHARACTER */
    return bad;
}

/* Writes s as a quoted JSON string.  Runs of bytes that need no escaping
 * leave in one fwrite, so ordinary text costs little more than a copy. */
static void write_quoted(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, run = 0;

    fputc('"', out);
    while (i < n) {
        size_t len = verbatim_length(p + i, n - i);
        if (len > 0) {
            i += len;
            continue;
        }
        fwrite(p + run, 1, i - run, out);
        i += write_special(out, p + i, n - i);
        run = i;
    }
    fwrite(p + run, 1, n - run, out);
    fputc('"', out);
}

/* ---- structure ----------------------------------------------------------- */

static void fail(struct fsan_json *w, int err)
{
    if (w->error == 0)
        w->error = err;
}

static void indent(struct fsan_json *w)
{
    fprintf(w->out, "\n%*s", w->depth * 2, "");
}

/* Starts a new member of the innermost container: a comma after the
 * previous member, then a line break and indentation. */
static void new_member(struct fsan_json *w)
{
    if (w->has_members[w->depth - 1])
        fputc(',', w->out);
    w->has_members[w->depth - 1] = 1;
    indent(w);
}

/* Checks that a value may be written here and writes what goes before it.
 * Returns 0 when the value may follow, -1 after recording a misuse. */
static int before_value(struct fsan_json *w)
{
    if (w->error)
        return -1;
    if (w->depth == 0) {
        if (w->wrote_root) {
            fail(w, -EINVAL);
            return -1;
        }
        w->wrote_root = 1;
        return 0;
    }
    if (w->kind[w->depth - 1] == '[') {
        new_member(w);
        return 0;
    }
    if (!w->after_key) {
        fail(w, -EINVAL);
        return -1;
    }
    w->after_key = 0;
    return 0;
}

static void begin(struct fsan_json *w, char kind)
{
    if (before_value(w) < 0)
        return;
    if (w->depth == FSAN_JSON_MAX_DEPTH) {
        fail(w, -EINVAL);
        return;
    }
    w->kind[w->depth] = kind;
    w->has_members[w->depth] = 0;
    w->depth++;
    fputc(kind, w->out);
}

/* Closes the innermost container.  An empty one closes on the same line,
 * as "[]" or "{}", which keeps empty lists in a report compact. */
static void end(struct fsan_json *w, char kind, char close)
{
    if (w->error)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != kind || w->after_key) {
        fail(w, -EINVAL);
        return;
    }
    w->depth--;
    if (w->has_members[w->depth])
        indent(w);
    fputc(close, w->out);
}

/* ---- public API ---------------------------------------------------------- */

void fsan_json_init(struct fsan_json *w, FILE *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

void fsan_json_begin_object(struct fsan_json *w)
{
    begin(w, '{');
}

void fsan_json_end_object(struct fsan_json *w)
{
    end(w, '{', '}');
}

void fsan_json_begin_array(struct fsan_json *w)
{
    begin(w, '[');
}

void fsan_json_end_array(struct fsan_json *w)
{
    end(w, '[', ']');
}

void fsan_json_key(struct fsan_json *w, const char *key)
{
    if (w->error)
        return;
    if (key == NULL || w->depth == 0 || w->kind[w->depth - 1] != '{' || w->after_key) {
        fail(w, -EINVAL);
        return;
    }
    new_member(w);
    write_quoted(w->out, key);
    fputs(": ", w->out);
    w->after_key = 1;
}

void fsan_json_string(struct fsan_json *w, const char *s)
{
    if (s == NULL) {
        fsan_json_null(w);
        return;
    }
    if (before_value(w) == 0)
        write_quoted(w->out, s);
}

void fsan_json_int(struct fsan_json *w, long long v)
{
    if (before_value(w) == 0)
        fprintf(w->out, "%lld", v);
}

void fsan_json_uint(struct fsan_json *w, unsigned long long v)
{
    if (before_value(w) == 0)
        fprintf(w->out, "%llu", v);
}

void fsan_json_bool(struct fsan_json *w, int v)
{
    if (before_value(w) == 0)
        fputs(v ? "true" : "false", w->out);
}

void fsan_json_null(struct fsan_json *w)
{
    if (before_value(w) == 0)
        fputs("null", w->out);
}

void fsan_json_hex(struct fsan_json *w, uint64_t v)
{
    if (before_value(w) == 0)
        fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void fsan_json_member_string(struct fsan_json *w, const char *key, const char *value)
{
    fsan_json_key(w, key);
    fsan_json_string(w, value);
}

void fsan_json_member_int(struct fsan_json *w, const char *key, long long value)
{
    fsan_json_key(w, key);
    fsan_json_int(w, value);
}

int fsan_json_finish(struct fsan_json *w)
{
    if (w->error)
        return w->error;
    if (w->depth != 0 || !w->wrote_root)
        return -EINVAL;
    fputc('\n', w->out);
    errno = 0;
    if (fflush(w->out) == EOF)
        return errno ? -errno : -EIO;
    if (ferror(w->out))
        return -EIO;
    return 0;
}

/* baseline.c — `--baseline OLD.json`: compare this run's findings with the
 * findings of an earlier forksan JSON report, so CI can fail on what is new
 * and people can see what got fixed.
 *
 * A finding is "unchanged" when the baseline has a finding with the same
 * fingerprint (rule id plus the sites that identify it, computed by
 * rules.c), and "new" otherwise; baseline findings this run does not have
 * are "fixed".  The comparison uses only the fingerprint, never messages,
 * pids or addresses, which change from run to run.
 *
 * DESIGN
 * The file starts with a small, strict JSON reader (RFC 8259: no comments,
 * no trailing commas, no single quotes, no NaN, nothing after the value),
 * because a baseline is an input CI trusts: a truncated or hand-mangled
 * file must be an error that names the file and the byte offset, not a
 * baseline that silently has fewer findings and so turns old findings into
 * "new" ones (or, worse, the other way round).  It builds a small tree, which
 * is simplest to read and fine for reports of any realistic size; nesting
 * is capped so a hostile file cannot exhaust the stack.  Then the report is
 * checked to be forksan's own (tool.name == "forksan"), and every finding
 * must carry what the comparison and the "fixed" list need: rule,
 * severity, message (or null) and a 16-hex-digit fingerprint.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "slurp.h"

/* ---- a strict JSON reader ----------------------------------------------- */

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

struct jvalue {
    enum jtype type;
    char *string;          /* J_STRING: decoded, NUL-terminated */
    struct jvalue *items;  /* J_ARRAY elements, J_OBJECT member values */
    char **keys;           /* J_OBJECT member names */
    size_t nitems;
};

struct jparser {
    const char *text;
    size_t len, pos;
    int depth;
    char *err;
    size_t errlen;
    const char *name;
    int failed; /* the error is already in err */
};

#define MAX_DEPTH 64

static int jfail(struct jparser *p, const char *fmt, ...)
{
    if (p->failed)
        return -EINVAL;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s: invalid JSON at offset %zu: %s (pass a report written by 'forksan --format json')",
             p->name, p->pos, what);
    p->failed = 1;
    return -EINVAL;
}

static int joom(struct jparser *p)
{
    if (!p->failed)
        snprintf(p->err, p->errlen, "%s: out of memory reading the baseline", p->name);
    p->failed = 1;
    return -ENOMEM;
}

static void jfree(struct jvalue *v)
{
    free(v->string);
    for (size_t i = 0; i < v->nitems; i++) {
        jfree(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

static void skip_ws(struct jparser *p)
{
    while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' || p->text[p->pos] == '\n' ||
                               p->text[p->pos] == '\r'))
        p->pos++;
}

static int peek(struct jparser *p)
{
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static const char *describe(struct jparser *p)
{
    static char buf[32];
    int c = peek(p);
    if (c < 0)
        return "end of file";
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, sizeof buf, "'%c'", c);
    else
        snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
}

static int parse_value(struct jparser *p, struct jvalue *v);

static int parse_literal(struct jparser *p, const char *word, enum jtype type, struct jvalue *v)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return jfail(p, "unexpected %s (expected a value)", describe(p));
    p->pos += n;
    v->type = type;
    return 0;
}

static int digits(struct jparser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && isdigit((unsigned char)p->text[p->pos]))
        p->pos++;
    return p->pos > start;
}

static int parse_number(struct jparser *p, struct jvalue *v)
{
    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0')
        p->pos++;
    else if (!digits(p))
        return jfail(p, "a number needs digits, found %s", describe(p));
    if (peek(p) == '.') {
        p->pos++;
        if (!digits(p))
            return jfail(p, "a number needs digits after '.', found %s", describe(p));
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!digits(p))
            return jfail(p, "a number needs digits in its exponent, found %s", describe(p));
    }
    v->type = J_NUMBER;
    return 0;
}

static int hex4(struct jparser *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = peek(p);
        if (c < 0 || !isxdigit(c))
            return jfail(p, "\\u needs four hex digits, found %s", describe(p));
        v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
        p->pos++;
    }
    *out = v;
    return 0;
}

static void put_utf8(FILE *out, unsigned cp)
{
    if (cp < 0x80) {
        fputc((int)cp, out);
    } else if (cp < 0x800) {
        fputc(0xc0 | (int)(cp >> 6), out);
        fputc(0x80 | (int)(cp & 0x3f), out);
    } else if (cp < 0x10000) {
        fputc(0xe0 | (int)(cp >> 12), out);
        fputc(0x80 | (int)((cp >> 6) & 0x3f), out);
        fputc(0x80 | (int)(cp & 0x3f), out);
    } else {
        fputc(0xf0 | (int)(cp >> 18), out);
        fputc(0x80 | (int)((cp >> 12) & 0x3f), out);
        fputc(0x80 | (int)((cp >> 6) & 0x3f), out);
        fputc(0x80 | (int)(cp & 0x3f), out);
    }
}

static int parse_escape(struct jparser *p, FILE *out)
{
    int c = peek(p);
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    if (hit) {
        fputc(to[hit - from], out);
        p->pos++;
        return 0;
    }
    if (c != 'u')
        return jfail(p, "unknown escape \\%s in a string", describe(p));
    p->pos++;
    unsigned cp, low;
    if (hex4(p, &cp) < 0)
        return -EINVAL;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return jfail(p, "lone low surrogate \\u%04x in a string", cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u')
            return jfail(p, "high surrogate \\u%04x is not followed by a low one", cp);
        p->pos += 2;
        if (hex4(p, &low) < 0)
            return -EINVAL;
        if (low < 0xdc00 || low > 0xdfff)
            return jfail(p, "high surrogate \\u%04x is followed by \\u%04x, not a low surrogate", cp, low);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (cp == 0)
        return jfail(p, "\\u0000 is not allowed in a forksan report string");
    put_utf8(out, cp);
    return 0;
}

static int parse_string(struct jparser *p, char **result)
{
    size_t size = 0;
    char *buf = NULL;
    FILE *out = open_memstream(&buf, &size);
    if (!out)
        return joom(p);
    p->pos++; /* the opening quote */
    int rc = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            rc = jfail(p, "unterminated string");
            break;
        }
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            rc = jfail(p, "control character 0x%02x in a string (it must be escaped)", c);
            break;
        }
        p->pos++;
        if (c == '\\')
            rc = parse_escape(p, out);
        else
            fputc(c, out);
        if (rc < 0)
            break;
    }
    if (fclose(out) != 0 && rc == 0)
        rc = joom(p);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *result = buf;
    return 0;
}

static int grow(struct jparser *p, struct jvalue *v, int with_keys)
{
    struct jvalue *items = realloc(v->items, (v->nitems + 1) * sizeof *items);
    if (!items)
        return joom(p);
    v->items = items;
    memset(&items[v->nitems], 0, sizeof *items);
    if (with_keys) {
        char **keys = realloc(v->keys, (v->nitems + 1) * sizeof *keys);
        if (!keys)
            return joom(p);
        v->keys = keys;
        keys[v->nitems] = NULL;
    }
    v->nitems++;
    return 0;
}

/* Arrays and objects share the loop: elements separated by ',', no
 * trailing comma, closed by `close`. */
static int parse_container(struct jparser *p, struct jvalue *v, int object)
{
    char close = object ? '}' : ']';
    v->type = object ? J_OBJECT : J_ARRAY;
    if (++p->depth > MAX_DEPTH)
        return jfail(p, "nested deeper than %d levels", MAX_DEPTH);
    p->pos++;
    skip_ws(p);
    if (peek(p) == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (grow(p, v, object) < 0)
            return -ENOMEM;
        if (object) {
            if (peek(p) != '"')
                return jfail(p, "expected a member name in double quotes, found %s", describe(p));
            if (parse_string(p, &v->keys[v->nitems - 1]) < 0)
                return -EINVAL;
            skip_ws(p);
            if (peek(p) != ':')
                return jfail(p, "expected ':' after a member name, found %s", describe(p));
            p->pos++;
        }
        int rc = parse_value(p, &v->items[v->nitems - 1]);
        if (rc < 0)
            return rc;
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p) == close)
                return jfail(p, "trailing comma before '%c'", close);
            continue;
        }
        if (peek(p) == close) {
            p->pos++;
            p->depth--;
            return 0;
        }
        return jfail(p, "expected ',' or '%c', found %s", close, describe(p));
    }
}

static int parse_value(struct jparser *p, struct jvalue *v)
{
    skip_ws(p);
    switch (peek(p)) {
    case '{':
        return parse_container(p, v, 1);
    case '[':
        return parse_container(p, v, 0);
    case '"':
        v->type = J_STRING;
        return parse_string(p, &v->string);
    case 't':
        return parse_literal(p, "true", J_TRUE, v);
    case 'f':
        return parse_literal(p, "false", J_FALSE, v);
    case 'n':
        return parse_literal(p, "null", J_NULL, v);
    default:
        if (peek(p) == '-' || (peek(p) >= '0' && peek(p) <= '9'))
            return parse_number(p, v);
        return jfail(p, "unexpected %s (expected a value)", describe(p));
    }
}

static int parse_document(struct jparser *p, struct jvalue *root)
{
    int rc = parse_value(p, root);
    if (rc == 0) {
        skip_ws(p);
        if (p->pos < p->len)
            rc = jfail(p, "unexpected %s after the end of the report", describe(p));
    }
    return rc;
}

static const struct jvalue *member(const struct jvalue *obj, const char *key)
{
    if (obj == NULL || obj->type != J_OBJECT)
        return NULL;
    /* The last one wins for a repeated name, as in most JSON readers. */
    for (size_t i = obj->nitems; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

/* ---- the report --------------------------------------------------------- */

static int not_forksan(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: not a forksan JSON report: %s (pass a report written by 'forksan --format json')", name,
             what);
    return -EINVAL;
}

static int is_hex16(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n == 16;
}

static int take_finding(struct fsan_baseline *b, const struct jvalue *f, size_t index, const char *name, char *err,
                        size_t errlen)
{
    const struct jvalue *rule = member(f, "rule"), *sev = member(f, "severity");
    const struct jvalue *msg = member(f, "message"), *fp = member(f, "fingerprint");
    enum fsan_severity severity;
    if (f->type != J_OBJECT)
        return not_forksan(err, errlen, name, "findings[%zu] is not an object", index);
    if (!rule || rule->type != J_STRING)
        return not_forksan(err, errlen, name, "findings[%zu] has no \"rule\" string", index);
    if (!fp || fp->type != J_STRING || !is_hex16(fp->string))
        return not_forksan(err, errlen, name, "findings[%zu] has no 16-hex-digit \"fingerprint\"", index);
    if (!sev || sev->type != J_STRING || fsan_severity_parse(sev->string, &severity) < 0 ||
        severity == FSAN_SEV_NONE)
        return not_forksan(err, errlen, name, "findings[%zu] has no \"severity\" of error, warning or note", index);
    if (msg && msg->type != J_STRING && msg->type != J_NULL)
        return not_forksan(err, errlen, name, "findings[%zu] has a \"message\" that is not a string", index);
    struct fsan_fixed_finding *grown = realloc(b->findings, (b->nfindings + 1) * sizeof *grown);
    if (!grown)
        goto oom;
    b->findings = grown;
    struct fsan_fixed_finding *out = &grown[b->nfindings];
    memset(out, 0, sizeof *out);
    out->severity = severity;
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", fp->string);
    out->rule = strdup(rule->string);
    out->message = msg && msg->type == J_STRING ? strdup(msg->string) : NULL;
    if (!out->rule || (msg && msg->type == J_STRING && !out->message)) {
        free(out->rule);
        free(out->message);
        goto oom;
    }
    b->nfindings++;
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory reading the baseline", name);
    return -ENOMEM;
}

static int take_report(struct fsan_baseline *b, const struct jvalue *root, const char *name, char *err, size_t errlen)
{
    if (root->type != J_OBJECT)
        return not_forksan(err, errlen, name, "the top level is not an object");
    const struct jvalue *tool = member(root, "tool"), *tool_name = member(tool, "name");
    if (!tool_name || tool_name->type != J_STRING || strcmp(tool_name->string, "forksan") != 0)
        return not_forksan(err, errlen, name, "no \"tool\": {\"name\": \"forksan\"}");
    const struct jvalue *findings = member(root, "findings");
    if (!findings || findings->type != J_ARRAY)
        return not_forksan(err, errlen, name, "no \"findings\" array");
    for (size_t i = 0; i < findings->nitems; i++) {
        int rc = take_finding(b, &findings->items[i], i, name, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int fsan_baseline_parse(struct fsan_baseline *b, const char *name, const char *text, size_t len, char *err,
                        size_t errlen)
{
    struct jparser p = {.text = text, .len = len, .err = err, .errlen = errlen, .name = name};
    struct jvalue root = {0};
    int rc = parse_document(&p, &root);
    if (rc == 0)
        rc = take_report(b, &root, name, err, errlen);
    jfree(&root);
    if (rc < 0)
        fsan_baseline_free(b);
    return rc;
}

int fsan_baseline_load(struct fsan_baseline *b, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rc_read = fsan_slurp_path(path, "baseline", "check the --baseline path", &text, &len, err, errlen);
    if (rc_read < 0)
        return rc_read;
    int rc = fsan_baseline_parse(b, path, text, len, err, errlen);
    free(text);
    return rc;
}

/* ---- comparing ---------------------------------------------------------- */

static int in_report(const struct fsan_report *r, const char *fingerprint)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcasecmp(r->findings[i].fingerprint, fingerprint) == 0)
            return 1;
    return 0;
}

static int in_baseline(const struct fsan_baseline *b, const char *fingerprint)
{
    for (size_t i = 0; i < b->nfindings; i++)
        if (strcasecmp(b->findings[i].fingerprint, fingerprint) == 0)
            return 1;
    return 0;
}

int fsan_baseline_apply(struct fsan_baseline *b, struct fsan_report *r)
{
    r->has_baseline = 1;
    for (size_t i = 0; i < r->nfindings; i++)
        r->findings[i].baseline = in_baseline(b, r->findings[i].fingerprint) ? "unchanged" : "new";
    size_t kept = 0;
    for (size_t i = 0; i < b->nfindings; i++) {
        struct fsan_fixed_finding *f = &b->findings[i];
        /* A baseline that lists one finding twice (hand-merged files) still
         * yields it once in the fixed list. */
        int duplicate = 0;
        for (size_t j = 0; j < r->nfixed; j++)
            if (strcasecmp(r->fixed[j].fingerprint, f->fingerprint) == 0)
                duplicate = 1;
        if (in_report(r, f->fingerprint) || duplicate) {
            b->findings[kept++] = *f;
            continue;
        }
        struct fsan_fixed_finding *grown = realloc(r->fixed, (r->nfixed + 1) * sizeof *grown);
        if (!grown) {
            /* Keep everything owned by someone: the rest stays in b. */
            for (size_t j = i; j < b->nfindings; j++)
                b->findings[kept++] = b->findings[j];
            b->nfindings = kept;
            return -ENOMEM;
        }
        r->fixed = grown;
        r->fixed[r->nfixed++] = *f;
    }
    b->nfindings = kept;
    return 0;
}

void fsan_baseline_free(struct fsan_baseline *b)
{
    for (size_t i = 0; i < b->nfindings; i++) {
        free(b->findings[i].rule);
        free(b->findings[i].message);
    }
    free(b->findings);
    b->findings = NULL;
    b->nfindings = 0;
}

/* tracefile.c — the trace reader.
 *
 * DESIGN
 * A trace is untrusted input: it may be cut short (a process killed in the
 * middle of a write, a full disk), damaged, from another version, or not a
 * trace at all.  The reader checks every length against what remains before
 * touching the bytes, refuses what it does not understand with the file and
 * the offset, and keeps everything read before a truncated tail (that part
 * is intact: records are appended whole).  It never guesses past a bad
 * record: a wrong guess would invent findings.
 *
 * common/records.def says which record types exist, from which version,
 * how long each fixed part is, and where each is kept: the array records
 * are read, checked for size and freed by code generated from it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracefile.h"

/* What records.def says of each type: the version that added it and its
 * fixed part today. */
struct rec_layout {
    uint32_t since;
    size_t fixed;
};

static const struct rec_layout layouts[FSAN_REC_TYPE_MAX + 1] = {
#define FSAN_REC_ARRAY(NAME, payload, since, keeps, element, array, count, noun) \
    [FSAN_REC_##NAME] = {since, sizeof(struct fsan_rec_##payload)},
#define FSAN_REC_ONE(NAME, fixed, since) [FSAN_REC_##NAME] = {since, fixed},
#include "records.def"
};

/* records.def has one line per record type (a type listed twice would be
 * a duplicate initializer, which the build refuses). */
enum {
    RECORD_LINES = 0
#define FSAN_REC_ARRAY(NAME, payload, since, keeps, element, array, count, noun) +1
#define FSAN_REC_ONE(NAME, fixed, since) +1
#include "records.def"
};
_Static_assert((int)RECORD_LINES == (int)FSAN_REC_TYPE_MAX, "records.def needs one line per record type");

/* The fixed part of a record of this type in a file of this version.
 * *shorter is set when the version's payload was shorter than today's and
 * had no tail (records.def: FSAN_REC_SHORTER). */
static size_t fixed_part(uint16_t type, uint32_t version, int *shorter)
{
#define FSAN_REC_SHORTER(NAME, before, size)                \
    if (type == FSAN_REC_##NAME && version < (before)) {    \
        *shorter = 1;                                       \
        return (size);                                      \
    }
#include "records.def"
    *shorter = 0;
    return layouts[type].fixed;
}

/* The runtime interns at most 4,096 sites of each kind: an id far beyond
 * that is a damaged record, not a site. */
#define MAX_SITE_ID (1u << 16)

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int grow(void **arr, size_t *n, size_t elem)
{
    if ((*n & (*n - 1)) == 0) { /* n is 0 or a power of two: double */
        size_t cap = *n ? *n * 2 : 4;
        void *p = realloc(*arr, cap * elem);
        if (!p)
            return -ENOMEM;
        *arr = p;
    }
    return 0;
}

#define APPEND(arr, n, value)                                          \
    (grow((void **)&(arr), &(n), sizeof *(arr)) < 0 ? -ENOMEM          \
                                                     : ((arr)[(n)++] = (value), 0))

static char *dup_tail(const unsigned char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Sites are appended as they come (a repeated id included) and put in id
 * order once the file is read (sort_sites): a table indexed by id would
 * cost every trace as much as the largest id the whole process ever
 * interned, and a child's few sites carry its parent's ids. */
static int add_site(struct fsan_trace *t, const unsigned char *p, size_t size)
{
    struct fsan_rec_site rec;
    memcpy(&rec, p, sizeof rec);
    if (size != sizeof rec + (size_t)rec.nframes * sizeof(uint64_t) || rec.id == 0 || rec.id > MAX_SITE_ID)
        return -EINVAL;
    struct fsan_trace_site s = {rec.id, rec.language, rec.nframes, malloc(rec.nframes ? rec.nframes * sizeof(uint64_t) : 1)};
    if (!s.frames)
        return -ENOMEM;
    memcpy(s.frames, p + sizeof rec, rec.nframes * sizeof(uint64_t));
    if (APPEND(t->sites, t->nsites, s) < 0) {
        free(s.frames);
        return -ENOMEM;
    }
    return 0;
}

static void free_pyframes(struct fsan_trace_pyframe *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(frames[i].file);
        free(frames[i].function);
    }
    free(frames);
}

static uint32_t id_at(const void *base, size_t size, size_t i)
{
    uint32_t id;
    memcpy(&id, (const char *)base + i * size, sizeof id);
    return id;
}

struct id_pos {
    uint32_t id, pos;
};

static int cmp_id_pos(const void *a, const void *b)
{
    const struct id_pos *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Puts *n elements of `size` bytes, each beginning with its uint32_t id,
 * in id order.  Of elements sharing an id the last one read stays (a
 * repeated id replaces the earlier stack); drop() frees the others.
 * Returns 0 or -ENOMEM (the array is then untouched). */
static int sort_by_id(void *base, size_t *n, size_t size, void (*drop)(void *))
{
    size_t i = 1;
    while (i < *n && id_at(base, size, i - 1) < id_at(base, size, i))
        i++;
    if (i >= *n)
        return 0; /* the usual case: already in order */
    struct id_pos *order = malloc(*n * sizeof *order);
    char *sorted = malloc(*n * size);
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return -ENOMEM;
    }
    for (i = 0; i < *n; i++)
        order[i] = (struct id_pos){id_at(base, size, i), (uint32_t)i};
    qsort(order, *n, sizeof *order, cmp_id_pos);
    size_t kept = 0;
    for (i = 0; i < *n; i++) {
        char *elem = (char *)base + (size_t)order[i].pos * size;
        if (i + 1 < *n && order[i + 1].id == order[i].id)
            drop(elem);
        else
            memcpy(sorted + kept++ * size, elem, size);
    }
    memcpy(base, sorted, kept * size);
    *n = kept;
    free(order);
    free(sorted);
    return 0;
}

static void drop_site(void *elem)
{
    free(((struct fsan_trace_site *)elem)->frames);
}

static void drop_pysite(void *elem)
{
    struct fsan_trace_pysite *s = elem;
    free_pyframes(s->frames, s->nframes);
}

/* Site lookups search by id: sort once the whole file is read. */
static int sort_sites(struct fsan_trace *t)
{
    if (sort_by_id(t->sites, &t->nsites, sizeof *t->sites, drop_site) < 0)
        return -ENOMEM;
    return sort_by_id(t->pysites, &t->npysites, sizeof *t->pysites, drop_pysite);
}

/* PYSITE: a fixed part, then nframes variable-length frames that must fill
 * the record exactly.  Every length is checked against what is left of the
 * record before the bytes are touched; a frame running past the end, or
 * bytes left over, means the record is not what the writer wrote. */
static int add_pysite(struct fsan_trace *t, const unsigned char *p, size_t size, const char **why)
{
    struct fsan_rec_pysite rec;
    memcpy(&rec, p, sizeof rec);
    if (rec.id == 0 || rec.id > MAX_SITE_ID) {
        *why = "Python site id out of range";
        return -EINVAL;
    }
    struct fsan_trace_pyframe *frames = calloc(rec.nframes ? rec.nframes : 1, sizeof *frames);
    if (!frames)
        return -ENOMEM;
    size_t off = sizeof rec;
    int rc = 0;
    for (size_t i = 0; i < rec.nframes; i++) {
        struct fsan_rec_pyframe fr;
        if (size - off < sizeof fr) {
            *why = "a Python frame runs past the end of the record";
            rc = -EINVAL;
            break;
        }
        memcpy(&fr, p + off, sizeof fr);
        off += sizeof fr;
        size_t names = (size_t)fr.file_len + fr.function_len;
        if (size - off < names) {
            *why = "a Python frame's file or function name runs past the end of the record";
            rc = -EINVAL;
            break;
        }
        /* The format says no NUL: one would silently cut the name short. */
        if (memchr(p + off, '\0', names)) {
            *why = "a NUL byte in a Python frame's file or function name";
            rc = -EINVAL;
            break;
        }
        frames[i].line = fr.line;
        frames[i].file = dup_tail(p + off, fr.file_len);
        frames[i].function = dup_tail(p + off + fr.file_len, fr.function_len);
        if (!frames[i].file || !frames[i].function) {
            rc = -ENOMEM;
            break;
        }
        off += names;
    }
    if (rc == 0 && off != size) {
        *why = "bytes left over after the last Python frame";
        rc = -EINVAL;
    }
    struct fsan_trace_pysite site = {rec.id, rec.nframes, frames};
    if (rc == 0 && APPEND(t->pysites, t->npysites, site) < 0)
        rc = -ENOMEM;
    if (rc < 0)
        free_pyframes(frames, rec.nframes);
    return rc;
}

/* PYREF: fixed size, no tail.  Its stack is looked up when the rules need
 * it, not here: a PYSITE may come after the PYREF that names it (as a SITE
 * may come after the HELD that names it), or be lost to a truncated tail. */
static int add_pyref(struct fsan_trace *t, const unsigned char *p, size_t size, const char **why)
{
    struct fsan_rec_pyref rec;
    if (size != sizeof rec) {
        *why = "a PYREF record has no tail";
        return -EINVAL;
    }
    memcpy(&rec, p, sizeof rec);
    if (rec.what < FSAN_PYREF_FORK || rec.what > FSAN_PYREF_HANG) {
        *why = "unknown PYREF role";
        return -EINVAL;
    }
    if (rec.what == FSAN_PYREF_FORK && rec.key != 0) {
        *why = "a FORK PYREF with a key other than 0";
        return -EINVAL;
    }
    if ((rec.what == FSAN_PYREF_THREAD || rec.what == FSAN_PYREF_HANG) && rec.key > UINT32_MAX) {
        *why = "a THREAD or HANG PYREF whose key is not a thread id";
        return -EINVAL;
    }
    if (rec.pysite > MAX_SITE_ID) {
        *why = "Python site id out of range";
        return -EINVAL;
    }
    struct fsan_trace_pyref r;
    memset(&r, 0, sizeof r);
    r.what = rec.what;
    r.pysite = rec.pysite;
    r.key = rec.key;
    memcpy(r.name, rec.name, sizeof rec.name); /* r.name[32] stays NUL */
    return APPEND(t->pyrefs, t->npyrefs, r);
}

static int take_pyinfo(struct fsan_trace *t, const unsigned char *p, size_t size, const char **why)
{
    struct fsan_rec_pyinfo rec;
    memcpy(&rec, p, sizeof rec);
    if (rec.state != FSAN_PY_ACTIVE && rec.state != FSAN_PY_UNAVAILABLE) {
        *why = "unknown PYINFO state";
        return -EINVAL;
    }
    if (memchr(p + sizeof rec, '\0', size - sizeof rec)) {
        *why = "a NUL byte in the PYINFO reason";
        return -EINVAL;
    }
    char *reason = dup_tail(p + sizeof rec, size - sizeof rec);
    if (!reason)
        return -ENOMEM;
    free(t->py_reason);
    t->has_pyinfo = 1;
    t->py_state = rec.state;
    t->py_hexversion = rec.hexversion;
    t->py_reason = reason;
    return 0;
}

static int add_maps(struct fsan_trace *t, const unsigned char *p, size_t size)
{
    char *m = realloc(t->maps, t->maps_len + size + 1);
    if (!m)
        return -ENOMEM;
    memcpy(m + t->maps_len, p, size);
    t->maps = m;
    t->maps_len += size;
    t->maps[t->maps_len] = '\0';
    return 0;
}

/* Checks on the values of an array record's fixed part, and the one
 * repair the reader makes (a thread name is made to end). */
static int check_payload(uint16_t type, void *payload, const char **why)
{
    switch (type) {
    case FSAN_REC_THREAD: {
        struct fsan_rec_thread *r = payload;
        r->name[15] = '\0';
        return 0;
    }
    case FSAN_REC_LOOP_USE: {
        const struct fsan_rec_loop_use *r = payload;
        if (r->kind < FSAN_LOOPUSE_CTL || r->kind > FSAN_LOOPUSE_RECREATE) {
            *why = "unknown loop-use kind";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_CLEANUP: {
        const struct fsan_rec_cleanup *r = payload;
        if (r->kind < FSAN_CLEANUP_STDIO_DUP || r->kind > FSAN_CLEANUP_COW) {
            *why = "unknown cleanup kind";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_SIGNAL: {
        const struct fsan_rec_signal *r = payload;
        if (r->signo == 0 || r->signo > 64) {
            *why = "a signal record has a bad signal number";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_REAPED: {
        const struct fsan_rec_reaped *r = payload;
        if (r->signo == 0 || r->signo > 64) {
            *why = "a reaped-child record has a bad signal number";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_HANG_THREAD: {
        struct fsan_rec_hang_thread *r = payload;
        r->name[sizeof r->name - 1] = '\0';
        if (r->nips > FSAN_HANG_MAX_FRAMES) {
            *why = "a hang-thread record has more frames than it holds";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_DEADLOCK: {
        const struct fsan_rec_deadlock *r = payload;
        if (r->form < FSAN_DL_VANISHED_HOLDER || r->form > FSAN_DL_FORM_MAX ||
            (r->form == FSAN_DL_COND_VANISHED_SIGNALLER) != (r->lock_type == FSAN_LOCK_COND) ||
            (r->form == FSAN_DL_HOLDER_UNRECORDED && r->lock_type != FSAN_LOCK_PYMUTEX)) {
            *why = "a deadlock record has an unknown form, or a form that does not fit its lock type";
            return -EINVAL;
        }
        return 0;
    }
    case FSAN_REC_REMEDY: {
        const struct fsan_rec_remedy *r = payload;
        if (r->kind < FSAN_REMEDY_FLUSH || r->kind > FSAN_REMEDY_MAX || r->reason > FSAN_RMR_MAX) {
            *why = "unknown remedy kind or reason";
            return -EINVAL;
        }
        return 0;
    }
    }
    return 0;
}

/* A name tail: a copy when `keep` (NULL otherwise). */
static int take_name(char **name, int keep, const unsigned char *tail, size_t n)
{
    *name = keep ? dup_tail(tail, n) : NULL;
    return keep && !*name ? -ENOMEM : 0;
}

/* A LOOP's tail: exactly rec->nfds descriptors. */
static int take_fds(const struct fsan_rec_loop *rec, int32_t **fds, const unsigned char *tail, size_t n,
                    const char **why)
{
    if (rec->nfds > 4096 || n != (size_t)rec->nfds * sizeof(int32_t)) {
        *why = "the loop's descriptor list does not fit the record";
        return -EINVAL;
    }
    *fds = malloc(rec->nfds ? rec->nfds * sizeof(int32_t) : 1);
    if (!*fds)
        return -ENOMEM;
    memcpy(*fds, tail, rec->nfds * sizeof(int32_t));
    return 0;
}

/* The `keeps` column of records.def: where the payload sits in the
 * element, whether bytes may follow the fixed part, what the tail becomes,
 * and what freeing an element takes. */
#define PAYLOAD_PLAIN(e) (e)
#define PAYLOAD_EXACT(e) (e)
#define PAYLOAD_SEQ(e) (e).ev
#define PAYLOAD_NAME(e) (e).rec
#define PAYLOAD_DECLARED_NAME(e) (e).rec
#define PAYLOAD_FDS(e) (e).rec

#define EXACT_PLAIN 0
#define EXACT_EXACT 1
#define EXACT_SEQ 0
#define EXACT_NAME 0
#define EXACT_DECLARED_NAME 0
#define EXACT_FDS 0

#define TAIL_PLAIN(e, tail, n, seq, why) 0
#define TAIL_EXACT(e, tail, n, seq, why) 0
#define TAIL_SEQ(e, tail, n, seq, why) ((e).seq = (seq), 0)
#define TAIL_NAME(e, tail, n, seq, why) take_name(&(e).name, (n) > 0, (tail), (n))
#define TAIL_DECLARED_NAME(e, tail, n, seq, why) take_name(&(e).name, (e).rec.declared != 0, (tail), (n))
#define TAIL_FDS(e, tail, n, seq, why) take_fds(&(e).rec, &(e).fds, (tail), (n), (why))

#define FREE_PLAIN(e) ((void)0)
#define FREE_EXACT(e) ((void)0)
#define FREE_SEQ(e) ((void)0)
#define FREE_NAME(e) free((e).name)
#define FREE_DECLARED_NAME(e) free((e).name)
#define FREE_FDS(e) free((e).fds)

/* An array record (records.def: FSAN_REC_ARRAY): the fixed part of this
 * file's version is copied into a zeroed element (fields a shorter, older
 * payload lacks read as 0), checked, its tail taken, and the element
 * appended. */
static int take_array_record(struct fsan_trace *t, uint16_t type, const unsigned char *p, size_t size, size_t fixed,
                             int shorter, uint32_t seq, const char **why)
{
    const unsigned char *tail = p + fixed;
    size_t tail_len = size - fixed;
    int rc;
    switch (type) {
#define FSAN_REC_ARRAY(NAME, payload, since, keeps, element, array, count, noun) \
    case FSAN_REC_##NAME: {                                                       \
        element e;                                                                \
        memset(&e, 0, sizeof e);                                                  \
        memcpy(&PAYLOAD_##keeps(e), p, fixed);                                    \
        if ((EXACT_##keeps || shorter) && tail_len != 0) {                        \
            *why = "a " noun " record has the wrong size";                        \
            return -EINVAL;                                                       \
        }                                                                         \
        rc = check_payload(type, &PAYLOAD_##keeps(e), why);                       \
        if (rc == 0)                                                              \
            rc = TAIL_##keeps(e, tail, tail_len, seq, why);                       \
        if (rc < 0)                                                               \
            return rc;                                                            \
        if (APPEND(t->array, t->count, e) < 0) {                                  \
            FREE_##keeps(e);                                                      \
            return -ENOMEM;                                                       \
        }                                                                         \
        return 0;                                                                 \
    }
#include "records.def"
    }
    return -EINVAL;
}

/* Copies a fixed part into a member, zero-filling what a shorter one
 * lacks. */
static void take_fixed(void *dst, size_t dst_size, const unsigned char *p, size_t fixed)
{
    memset(dst, 0, dst_size);
    memcpy(dst, p, fixed);
}

/* One record's payload; returns 0, -EINVAL (malformed; *why may say how)
 * or -ENOMEM.  The records of FSAN_REC_ONE lines are read here by hand;
 * the others by take_array_record. */
static int take_record(struct fsan_trace *t, uint16_t type, const unsigned char *p, size_t size, size_t fixed,
                       int shorter, uint32_t seq, const char **why)
{
    switch (type) {
    case FSAN_REC_PROCESS:
        if (t->has_process)
            return -EINVAL;
        take_fixed(&t->proc, sizeof t->proc, p, fixed);
        t->has_process = 1;
        t->exe = dup_tail(p + fixed, size - fixed);
        return t->exe ? 0 : -ENOMEM;
    case FSAN_REC_MAPS: return add_maps(t, p, size);
    case FSAN_REC_SITE: return add_site(t, p, size);
    case FSAN_REC_RESUMED:
        if (!t->resumed_seq)
            t->resumed_seq = seq;
        return 0;
    case FSAN_REC_EXEC:
        t->has_exec = 1;
        free(t->exec_path);
        t->exec_path = dup_tail(p + fixed, size - fixed);
        return t->exec_path ? 0 : -ENOMEM;
    case FSAN_REC_EXEC_FAILED: t->exec_failed++; return 0;
    case FSAN_REC_EXIT:
        t->has_exit = 1;
        take_fixed(&t->exit, sizeof t->exit, p, fixed);
        return 0;
    case FSAN_REC_STATS: take_fixed(&t->stats, sizeof t->stats, p, fixed); return 0;
    case FSAN_REC_PYSITE: return add_pysite(t, p, size, why);
    case FSAN_REC_PYREF: return add_pyref(t, p, size, why);
    case FSAN_REC_PYINFO: return take_pyinfo(t, p, size, why);
    case FSAN_REC_HANG:
        take_fixed(&t->hang, sizeof t->hang, p, fixed);
        t->hang.kind[sizeof t->hang.kind - 1] = '\0';
        free(t->hang_note);
        t->hang_note = dup_tail(p + fixed, size - fixed);
        t->has_hang = t->hang_note != NULL;
        return t->hang_note ? 0 : -ENOMEM;
    }
    return take_array_record(t, type, p, size, fixed, shorter, seq, why);
}

int fsan_trace_parse(const char *name, const unsigned char *data, size_t len, struct fsan_trace *out,
                     char *err, size_t errlen)
{
    out->path = strdup(name);
    struct fsan_trace_file_header fh;
    if (len < sizeof fh)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': not a forksan trace (%zu bytes, too short for the header)", name, len);
    memcpy(&fh, data, sizeof fh);
    if (memcmp(fh.magic, FSAN_TRACE_MAGIC, sizeof fh.magic) != 0)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': not a forksan trace (bad magic at offset 0)", name);
    if (fh.version < FSAN_TRACE_VERSION_MIN || fh.version > FSAN_TRACE_VERSION)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': format version %u at offset 8: written by %s forksan; this one reads versions %u to %u",
                    name, fh.version, fh.version > FSAN_TRACE_VERSION ? "a newer" : "an older", FSAN_TRACE_VERSION_MIN, FSAN_TRACE_VERSION);
    if (fh.header_size != sizeof fh)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': bad header size %u at offset 12", name, fh.header_size);
    size_t off = sizeof fh;
    uint32_t seq = 0;
    while (off < len) {
        struct fsan_rec_header h;
        if (len - off < sizeof h) {
            out->truncated = 1;
            out->truncated_offset = off;
            break;
        }
        memcpy(&h, data + off, sizeof h);
        /* A type that came after the file's version is as unknown as one
         * that does not exist. */
        if (h.type == 0 || h.type > FSAN_REC_TYPE_MAX || layouts[h.type].since > fh.version)
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': unknown record type %u at offset %zu", name, h.type, off);
        int shorter;
        size_t fixed = fixed_part(h.type, fh.version, &shorter);
        if (h.size > FSAN_TRACE_MAX_RECORD || h.size < fixed)
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': record type %u at offset %zu has an impossible size %u", name, h.type, off, h.size);
        if (len - off - sizeof h < h.size) {
            out->truncated = 1;
            out->truncated_offset = off;
            break;
        }
        if (seq == 0 && h.type != FSAN_REC_PROCESS)
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': first record at offset %zu is type %u, not a process record", name, off, h.type);
        const char *why = NULL;
        int rc = take_record(out, h.type, data + off + sizeof h, h.size, fixed, shorter, ++seq, &why);
        if (rc == -ENOMEM)
            return fail(err, errlen, rc, "cannot read trace '%s': out of memory at offset %zu", name, off);
        if (rc < 0)
            return fail(err, errlen, rc, "cannot read trace '%s': malformed record type %u at offset %zu%s%s%s", name,
                        h.type, off, why ? " (" : "", why ? why : "", why ? ")" : "");
        off += sizeof h + h.size;
    }
    if (!out->has_process)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': no process record (file ends at offset %zu)", name, len);
    if (sort_sites(out) < 0)
        return fail(err, errlen, -ENOMEM, "cannot read trace '%s': out of memory", name);
    if (out->truncated)
        return fail(err, errlen, 1, "trace '%s' is truncated at offset %llu (the process was killed while writing, or its disk was full); using the %u records before it", name, (unsigned long long)out->truncated_offset, seq);
    return 0;
}

/* A trace is untrusted: it is read only if it is a regular file (a FIFO
 * would block the reader, a link to /dev/zero would never end), never
 * through a symbolic link, and only up to FSAN_TRACE_MAX_BYTES. */
int fsan_trace_read(const char *path, struct fsan_trace *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        out->path = strdup(path);
        return fail(err, errlen, -e, "cannot read trace '%s': %s%s", path, strerror(e),
                    e == ELOOP ? " (a symbolic link: traces are never followed through links)" : "");
    }
    if (!S_ISREG(st.st_mode) || st.st_size > FSAN_TRACE_MAX_BYTES) {
        close(fd);
        out->path = strdup(path);
        if (!S_ISREG(st.st_mode))
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': not a regular file (something other than forksan put it in the trace directory); skipped", path);
        return fail(err, errlen, -EFBIG, "cannot read trace '%s': %lld bytes, more than the %d MiB a trace can hold; skipped",
                    path, (long long)st.st_size, FSAN_TRACE_MAX_BYTES >> 20);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    unsigned char *data = malloc(cap);
    if (!data) {
        close(fd);
        out->path = strdup(path);
        return fail(err, errlen, -ENOMEM, "cannot read trace '%s': out of memory", path);
    }
    int ioerr = 0;
    while (len < cap) {
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ioerr = 1;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > (size_t)st.st_size)
        len = (size_t)st.st_size; /* grew while read: what was there when it was opened */
    int rc;
    if (ioerr) {
        out->path = strdup(path);
        rc = fail(err, errlen, -EIO, "cannot read trace '%s': read error", path);
    } else {
        rc = fsan_trace_parse(path, data, len, out, err, errlen);
    }
    free(data);
    return rc;
}

void fsan_trace_free(struct fsan_trace *t)
{
    free(t->path);
    free(t->exe);
    if (!t->maps_shared)
        free(t->maps);
    for (size_t i = 0; i < t->nsites; i++)
        free(t->sites[i].frames);
    free(t->sites);
#define FSAN_REC_ARRAY(NAME, payload, since, keeps, element, array, count, noun) \
    for (size_t i = 0; i < t->count; i++)                                     \
        FREE_##keeps(t->array[i]);                                            \
    free(t->array);
#include "records.def"
    free(t->exec_path);
    for (size_t i = 0; i < t->npysites; i++)
        free_pyframes(t->pysites[i].frames, t->pysites[i].nframes);
    free(t->pysites);
    free(t->pyrefs);
    free(t->py_reason);
    free(t->hang_note);
    memset(t, 0, sizeof *t);
}

static int cmp_id(const void *key, const void *elem)
{
    uint32_t a = *(const uint32_t *)key, b;
    memcpy(&b, elem, sizeof b);
    return (a > b) - (a < b);
}

const struct fsan_trace_site *fsan_trace_site(const struct fsan_trace *t, uint32_t id)
{
    return id && t->nsites ? bsearch(&id, t->sites, t->nsites, sizeof *t->sites, cmp_id) : NULL;
}

const struct fsan_trace_pysite *fsan_trace_pysite(const struct fsan_trace *t, uint32_t id)
{
    return id && t->npysites ? bsearch(&id, t->pysites, t->npysites, sizeof *t->pysites, cmp_id) : NULL;
}

const struct fsan_trace_pyref *fsan_trace_pyref(const struct fsan_trace *t, uint32_t what, uint64_t key)
{
    for (size_t i = 0; i < t->npyrefs; i++)
        if (t->pyrefs[i].what == what && t->pyrefs[i].key == key)
            return &t->pyrefs[i];
    return NULL;
}

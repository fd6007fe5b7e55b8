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
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracefile.h"

static const size_t min_payload[FSAN_REC_TYPE_MAX + 1] = {
    [FSAN_REC_PROCESS] = sizeof(struct fsan_rec_process),
    [FSAN_REC_MAPS] = 0,
    [FSAN_REC_SITE] = sizeof(struct fsan_rec_site),
    [FSAN_REC_THREAD] = sizeof(struct fsan_rec_thread),
    [FSAN_REC_HELD] = sizeof(struct fsan_rec_held),
    [FSAN_REC_LOCK_EVENT] = sizeof(struct fsan_rec_lock_event),
    [FSAN_REC_RESUMED] = sizeof(struct fsan_rec_resumed),
    [FSAN_REC_DEADLOCK] = sizeof(struct fsan_rec_deadlock),
    [FSAN_REC_EXEC] = sizeof(struct fsan_rec_exec),
    [FSAN_REC_EXEC_FAILED] = sizeof(struct fsan_rec_exec_failed),
    [FSAN_REC_EXIT] = sizeof(struct fsan_rec_exit),
    [FSAN_REC_STATS] = sizeof(struct fsan_rec_stats),
};

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

static int add_site(struct fsan_trace *t, const unsigned char *p, size_t size)
{
    struct fsan_rec_site rec;
    memcpy(&rec, p, sizeof rec);
    if (size != sizeof rec + (size_t)rec.nframes * sizeof(uint64_t) || rec.id == 0 || rec.id > (1u << 24))
        return -EINVAL;
    if (rec.id >= t->nsites_cap) {
        size_t cap = t->nsites_cap ? t->nsites_cap : 64;
        while (cap <= rec.id)
            cap *= 2;
        struct fsan_trace_site *s = realloc(t->sites, cap * sizeof *s);
        if (!s)
            return -ENOMEM;
        memset(s + t->nsites_cap, 0, (cap - t->nsites_cap) * sizeof *s);
        t->sites = s;
        t->nsites_cap = cap;
    }
    struct fsan_trace_site *s = &t->sites[rec.id];
    free(s->frames);
    s->id = rec.id;
    s->language = rec.language;
    s->nframes = rec.nframes;
    s->frames = malloc(rec.nframes ? rec.nframes * sizeof(uint64_t) : 1);
    if (!s->frames)
        return -ENOMEM;
    memcpy(s->frames, p + sizeof rec, rec.nframes * sizeof(uint64_t));
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

/* One record's payload; returns 0, -EINVAL (malformed) or -ENOMEM. */
static int take_record(struct fsan_trace *t, uint16_t type, const unsigned char *p, size_t size, uint32_t seq)
{
    size_t fixed = min_payload[type];
    switch (type) {
    case FSAN_REC_PROCESS:
        if (t->has_process)
            return -EINVAL;
        memcpy(&t->proc, p, fixed);
        t->has_process = 1;
        t->exe = dup_tail(p + fixed, size - fixed);
        return t->exe ? 0 : -ENOMEM;
    case FSAN_REC_MAPS: return add_maps(t, p, size);
    case FSAN_REC_SITE: return add_site(t, p, size);
    case FSAN_REC_THREAD: {
        struct fsan_rec_thread r;
        memcpy(&r, p, sizeof r);
        r.name[15] = '\0';
        return APPEND(t->threads, t->nthreads, r);
    }
    case FSAN_REC_HELD: {
        struct fsan_rec_held r;
        memcpy(&r, p, sizeof r);
        return APPEND(t->held, t->nheld, r);
    }
    case FSAN_REC_LOCK_EVENT: {
        struct fsan_trace_lock_event r;
        memcpy(&r.ev, p, sizeof r.ev);
        r.seq = seq;
        return APPEND(t->lock_events, t->nlock_events, r);
    }
    case FSAN_REC_RESUMED:
        if (!t->resumed_seq)
            t->resumed_seq = seq;
        return 0;
    case FSAN_REC_DEADLOCK: {
        struct fsan_rec_deadlock r;
        memcpy(&r, p, sizeof r);
        return APPEND(t->deadlocks, t->ndeadlocks, r);
    }
    case FSAN_REC_EXEC:
        t->has_exec = 1;
        free(t->exec_path);
        t->exec_path = dup_tail(p + fixed, size - fixed);
        return t->exec_path ? 0 : -ENOMEM;
    case FSAN_REC_EXEC_FAILED: t->exec_failed++; return 0;
    case FSAN_REC_EXIT:
        t->has_exit = 1;
        memcpy(&t->exit, p, sizeof t->exit);
        return 0;
    case FSAN_REC_STATS: memcpy(&t->stats, p, sizeof t->stats); return 0;
    }
    return -EINVAL;
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
    if (fh.version != FSAN_TRACE_VERSION)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': format version %u at offset 8, this forksan reads version %u", name, fh.version, FSAN_TRACE_VERSION);
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
        if (h.type == 0 || h.type > FSAN_REC_TYPE_MAX)
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': unknown record type %u at offset %zu", name, h.type, off);
        if (h.size > FSAN_TRACE_MAX_RECORD || h.size < min_payload[h.type])
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': record type %u at offset %zu has an impossible size %u", name, h.type, off, h.size);
        if (len - off - sizeof h < h.size) {
            out->truncated = 1;
            out->truncated_offset = off;
            break;
        }
        if (seq == 0 && h.type != FSAN_REC_PROCESS)
            return fail(err, errlen, -EINVAL, "cannot read trace '%s': first record at offset %zu is type %u, not a process record", name, off, h.type);
        int rc = take_record(out, h.type, data + off + sizeof h, h.size, ++seq);
        if (rc == -ENOMEM)
            return fail(err, errlen, rc, "cannot read trace '%s': out of memory at offset %zu", name, off);
        if (rc < 0)
            return fail(err, errlen, rc, "cannot read trace '%s': malformed record type %u at offset %zu", name, h.type, off);
        off += sizeof h + h.size;
    }
    if (!out->has_process)
        return fail(err, errlen, -EINVAL, "cannot read trace '%s': no process record (file ends at offset %zu)", name, len);
    if (out->truncated)
        return fail(err, errlen, 1, "trace '%s' is truncated at offset %llu (the process was probably killed while writing); using the %u records before it", name, (unsigned long long)out->truncated_offset, seq);
    return 0;
}

int fsan_trace_read(const char *path, struct fsan_trace *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        out->path = strdup(path);
        return fail(err, errlen, -e, "cannot read trace '%s': %s", path, strerror(e));
    }
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                out->path = strdup(path);
                return fail(err, errlen, -ENOMEM, "cannot read trace '%s': out of memory", path);
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int ioerr = ferror(f);
    fclose(f);
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
    free(t->maps);
    for (size_t i = 0; i < t->nsites_cap; i++)
        free(t->sites[i].frames);
    free(t->sites);
    free(t->threads);
    free(t->held);
    free(t->lock_events);
    free(t->deadlocks);
    free(t->exec_path);
    memset(t, 0, sizeof *t);
}

const struct fsan_trace_site *fsan_trace_site(const struct fsan_trace *t, uint32_t id)
{
    if (id == 0 || id >= t->nsites_cap || t->sites[id].id != id)
        return NULL;
    return &t->sites[id];
}

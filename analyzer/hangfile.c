/* hangfile.c — the hangs forksan run's watchdog found, kept in the trace
 * directory (forksan.<pid>.hang) and read back by forksan report.
 *
 * A hang is seen by the supervisor, not by the program: no runtime trace
 * holds it.  forksan run reports it from memory (watchdog.c); so that a
 * later `forksan report DIR` on the same directory shows the same
 * child-hang, each hang is also written there when the command ends, in
 * the framing of a trace (common/trace_format.h: a PROCESS naming the hung
 * child, its MAPS at the hang, HANG, one HANG_THREAD per thread) and read
 * with the trace reader, which already treats every file of the directory
 * as untrusted input.  The Python frames of a thread are the records the
 * runtime writes for Python stacks: a PYSITE (id: the thread's index + 1)
 * and a PYREF of kind HANG keyed by its tid; a CPython whose frames could
 * not be read is a PYINFO "unavailable" with the reason.  A .hang file
 * without them (written before they were kept) reads as having no Python
 * frames.
 *
 * DESIGN
 * The file is written to a temporary name and renamed, so a reader never
 * sees half of one.  A hang file that cannot be read is a notice of the
 * report, never the end of it: the traces still make their findings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracefile.h"
#include "watchdog.h"

_Static_assert(FSAN_HANG_FRAMES == FSAN_HANG_MAX_FRAMES, "a HANG_THREAD holds the frames the watchdog takes");

#define MAPS_CHUNK (512u << 10) /* below FSAN_TRACE_MAX_RECORD */

/* One record, or -errno. */
static int put_record(FILE *f, uint16_t type, const void *fixed, size_t fixed_len, const void *tail, size_t tail_len)
{
    struct fsan_rec_header h = {type, 0, (uint32_t)(fixed_len + tail_len)};
    if (fwrite(&h, sizeof h, 1, f) != 1 || (fixed_len && fwrite(fixed, fixed_len, 1, f) != 1) ||
        (tail_len && fwrite(tail, tail_len, 1, f) != 1))
        return -EIO;
    return 0;
}

/* Thread index i's Python frames: a PYSITE and the PYREF naming its tid. */
static int put_python(FILE *f, const struct fsan_hang_thread *th, size_t i)
{
    size_t len = sizeof(struct fsan_rec_pysite);
    for (int j = 0; j < th->npy; j++)
        len += sizeof(struct fsan_rec_pyframe) + strnlen(th->py[j].file, UINT16_MAX) +
               strnlen(th->py[j].function, UINT16_MAX);
    struct fsan_rec_pysite site = {.id = (uint32_t)i + 1, .nframes = (uint16_t)th->npy};
    struct fsan_rec_header hdr = {FSAN_REC_PYSITE, 0, (uint32_t)len};
    if (fwrite(&hdr, sizeof hdr, 1, f) != 1 || fwrite(&site, sizeof site, 1, f) != 1)
        return -EIO;
    for (int j = 0; j < th->npy; j++) {
        const struct fsan_hang_pyframe *pf = &th->py[j];
        struct fsan_rec_pyframe fr = {.line = pf->line > 0 ? (uint32_t)pf->line : 0,
                                      .file_len = (uint16_t)strnlen(pf->file, UINT16_MAX),
                                      .function_len = (uint16_t)strnlen(pf->function, UINT16_MAX)};
        if (fwrite(&fr, sizeof fr, 1, f) != 1 || fwrite(pf->file, 1, fr.file_len, f) != fr.file_len ||
            fwrite(pf->function, 1, fr.function_len, f) != fr.function_len)
            return -EIO;
    }
    struct fsan_rec_pyref ref = {.what = FSAN_PYREF_HANG, .pysite = site.id, .key = (uint64_t)th->tid};
    return put_record(f, FSAN_REC_PYREF, &ref, sizeof ref, NULL, 0);
}

static int put_hang(FILE *f, const struct fsan_hang *h)
{
    struct fsan_trace_file_header fh = {FSAN_TRACE_MAGIC, FSAN_TRACE_VERSION, sizeof fh};
    if (fwrite(&fh, sizeof fh, 1, f) != 1)
        return -EIO;
    struct fsan_rec_process p = {.pid = (uint32_t)h->pid, .ppid = (uint32_t)h->ppid, .kind = FSAN_PROC_FORK};
    int rc = put_record(f, FSAN_REC_PROCESS, &p, sizeof p, NULL, 0);
    for (size_t off = 0; rc == 0 && off < h->maps_len; off += MAPS_CHUNK) {
        size_t n = h->maps_len - off < MAPS_CHUNK ? h->maps_len - off : MAPS_CHUNK;
        rc = put_record(f, FSAN_REC_MAPS, NULL, 0, h->maps + off, n);
    }
    struct fsan_rec_hang rec = {.seconds = (uint32_t)h->seconds, .flags = h->ended ? FSAN_HANG_ENDED : 0};
    snprintf(rec.kind, sizeof rec.kind, "%s", h->kind ? h->kind : "");
    if (rc == 0)
        rc = put_record(f, FSAN_REC_HANG, &rec, sizeof rec, h->no_stacks, h->no_stacks ? strlen(h->no_stacks) : 0);
    for (size_t i = 0; rc == 0 && i < h->nthreads; i++) {
        const struct fsan_hang_thread *th = &h->threads[i];
        struct fsan_rec_hang_thread t = {.tid = (uint32_t)th->tid, .nips = (uint32_t)th->nips, .futex = th->futex};
        memcpy(t.name, th->name, sizeof t.name);
        memcpy(t.ips, th->ips, sizeof t.ips);
        rc = put_record(f, FSAN_REC_HANG_THREAD, &t, sizeof t, th->blocked, th->blocked ? strlen(th->blocked) : 0);
        if (rc == 0 && th->npy > 0)
            rc = put_python(f, th, i);
    }
    struct fsan_rec_pyinfo info = {.state = FSAN_PY_UNAVAILABLE};
    if (rc == 0 && h->py_unavailable)
        rc = put_record(f, FSAN_REC_PYINFO, &info, sizeof info, h->py_unavailable, strlen(h->py_unavailable));
    return rc;
}

int fsan_hang_save(const char *dir, const struct fsan_hang *h, size_t index)
{
    char tmp[4096], path[4096];
    if (snprintf(path, sizeof path, "%s/forksan.%d.%zu" FSAN_HANG_SUFFIX, dir, h->pid, index) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return -e;
    }
    int rc = put_hang(f, h);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

void fsan_watchdog_save(const struct fsan_watchdog *w, const char *dir)
{
    for (size_t i = 0; i < w->nhangs; i++) {
        int rc = fsan_hang_save(dir, &w->hangs[i], i);
        if (rc < 0)
            fprintf(stderr, "forksan: warning: cannot keep the hang of child %d in '%s': %s; this report shows it, a later forksan report of the directory will not\n",
                    w->hangs[i].pid, dir, strerror(-rc));
    }
}

static int is_hang_name(const char *name)
{
    size_t n = strlen(name), s = strlen(FSAN_HANG_SUFFIX);
    return strncmp(name, "forksan.", 8) == 0 && n > 8 + s && strcmp(name + n - s, FSAN_HANG_SUFFIX) == 0;
}

/* The Python frames t keeps for hung thread tid (none: 0).  0 or -ENOMEM. */
static int python_of(const struct fsan_trace *t, struct fsan_hang_thread *th)
{
    const struct fsan_trace_pyref *ref = fsan_trace_pyref(t, FSAN_PYREF_HANG, (uint64_t)(uint32_t)th->tid);
    const struct fsan_trace_pysite *ps = ref ? fsan_trace_pysite(t, ref->pysite) : NULL;
    if (!ps || ps->nframes == 0)
        return 0;
    th->py = calloc(ps->nframes, sizeof *th->py);
    if (!th->py)
        return -ENOMEM;
    for (size_t i = 0; i < ps->nframes; i++) {
        struct fsan_hang_pyframe *pf = &th->py[th->npy];
        pf->file = strdup(ps->frames[i].file);
        pf->function = strdup(ps->frames[i].function);
        pf->line = ps->frames[i].line > INT_MAX ? 0 : (int)ps->frames[i].line;
        if (!pf->file || !pf->function) {
            free(pf->file);
            free(pf->function);
            return -ENOMEM;
        }
        th->npy++;
    }
    return 0;
}

/* The hang a .hang file describes; takes over t's maps and texts. */
static int hang_of(struct fsan_trace *t, struct fsan_hang *h)
{
    memset(h, 0, sizeof *h);
    h->pid = (int)t->proc.pid;
    h->ppid = (int)t->proc.ppid;
    h->seconds = (int)t->hang.seconds;
    h->ended = (t->hang.flags & FSAN_HANG_ENDED) != 0;
    h->kind = strdup(t->hang.kind);
    h->no_stacks = t->hang_note[0] ? t->hang_note : NULL;
    if (h->no_stacks)
        t->hang_note = NULL;
    h->maps = t->maps;
    h->maps_len = t->maps_len;
    t->maps = NULL;
    h->threads = calloc(t->nhang_threads, sizeof *h->threads);
    if (!h->kind || !h->threads)
        return -ENOMEM;
    for (size_t i = 0; i < t->nhang_threads; i++) {
        struct fsan_trace_hang_thread *src = &t->hang_threads[i];
        struct fsan_hang_thread *th = &h->threads[h->nthreads++];
        th->tid = (int)src->rec.tid;
        memcpy(th->name, src->rec.name, sizeof th->name);
        th->futex = src->rec.futex;
        th->nips = (int)src->rec.nips;
        memcpy(th->ips, src->rec.ips, sizeof th->ips);
        th->blocked = src->name ? src->name : strdup("waits");
        src->name = NULL;
        if (!th->blocked || python_of(t, th) < 0)
            return -ENOMEM;
    }
    if (t->has_pyinfo && t->py_state == FSAN_PY_UNAVAILABLE) {
        h->py_unavailable = t->py_reason;
        t->py_reason = NULL;
    }
    return 0;
}

/* Reads one hang file into h (which the caller frees in every case): 1,
 * or 0 when the file is no usable hang file (a notice says so), or
 * -ENOMEM.  It was renamed into place whole: one cut short is damaged. */
static int load_one(const char *path, struct fsan_hang *h, struct fsan_report *r)
{
    memset(h, 0, sizeof *h);
    struct fsan_trace t;
    memset(&t, 0, sizeof t);
    char err[1024];
    int rc = fsan_trace_read(path, &t, err, sizeof err);
    if (rc == 0 && (!t.has_hang || t.nhang_threads == 0 || t.proc.kind != FSAN_PROC_FORK)) {
        snprintf(err, sizeof err, "cannot read hang file '%.900s': it holds no hang with its threads", path);
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = hang_of(&t, h);
        rc = rc < 0 ? rc : 1;
    } else if (rc != -ENOMEM) {
        char *text = NULL;
        rc = asprintf(&text, "%s; the child-hang it kept is not reported", err) < 0 ? -ENOMEM
                                                                                 : fsan_report_push_notice(r, text);
    }
    fsan_trace_free(&t);
    return rc;
}

int fsan_hangs_apply_dir(const char *dir, struct fsan_symbolizer *sym, struct fsan_report *r)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* the traces' reader already said what is wrong with it */
    struct fsan_hang *hangs = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *de;
    while (rc >= 0 && (de = readdir(d)) != NULL) {
        char path[4096];
        if (!is_hang_name(de->d_name) || snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
            continue;
        struct fsan_hang *grown = realloc(hangs, (n + 1) * sizeof *grown);
        if (!grown) {
            rc = -ENOMEM;
            break;
        }
        hangs = grown;
        rc = load_one(path, &hangs[n], r);
        if (rc == 1)
            n++;
        else
            fsan_hang_free(&hangs[n]);
    }
    closedir(d);
    if (rc >= 0)
        rc = fsan_hangs_apply(hangs, n, sym, r);
    for (size_t i = 0; i < n; i++)
        fsan_hang_free(&hangs[i]);
    free(hangs);
    return rc < 0 ? rc : 0;
}

/* stdio.c — what a fork child does with buffers and exit handlers it got
 * from its parent: stdio bytes written twice, exit handlers run twice,
 * output or handlers of its own dropped by _exit.
 *
 * fork copies user-space buffers.  Bytes a stdio stream held unflushed at
 * the fork instant are written a second time when the child flushes the
 * stream or ends through exit() (rule stdio-duplicate); exit() in the
 * child also runs every atexit handler the parent registered
 * (duplicated-cleanup); and a child that ends with _exit() loses what it
 * buffered, or registered, after the fork (skipped-cleanup).  Ending a fork
 * child with _exit() is the right idiom and not a finding by itself.
 *
 * DESIGN
 * The streams are glibc's FILE list (_IO_list_all, found with dlsym) and
 * the buffer pointers of the public FILE layout; the child reads them
 * without taking the list lock, which glibc resets in the child anyway.
 * Exit handlers are counted by interposing __cxa_atexit, the one entry
 * point of atexit() and of C++ static destructors, and on_exit().
 * Everything a clean child does here is reading; it writes only when it
 * has a finding.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))
#define FSAN_MAX_STREAMS 64

struct inherited_stream {
    FILE *stream;
    char *base;
    size_t pending;
    int reported;
};

static FILE **io_list_all;
static struct inherited_stream inherited[FSAN_MAX_STREAMS];
FSAN_HOT static int ninherited;
FSAN_HOT static _Atomic uint32_t atexit_count; /* handlers registered in this image (read by every child) */
FSAN_HOT static uint32_t atexit_at_fork; /* handlers the child inherited */
FSAN_HOT static uintptr_t first_after_fork; /* the first handler the child registered itself */
FSAN_HOT static int py_atexit_at_fork;   /* Python atexit handlers the child inherited */

void fsan__stdio_init(void)
{
    io_list_all = dlsym(RTLD_DEFAULT, "_IO_list_all");
}

static size_t pending_bytes(const FILE *f)
{
    return f->_IO_write_ptr > f->_IO_write_base ? (size_t)(f->_IO_write_ptr - f->_IO_write_base) : 0;
}

/* AS-safe (fork child): remember the streams that hold unflushed bytes. */
void fsan__stdio_after_fork_child(void)
{
    uint32_t count = atomic_load(&atexit_count);
    if (atexit_at_fork != count) /* conditional: every page written here is copied */
        atexit_at_fork = count;
    fsan__cleanup_after_fork_child();
    if (first_after_fork)
        first_after_fork = 0;
    int py_handlers = fsan__py_atexit_count();
    if (py_atexit_at_fork != py_handlers)
        py_atexit_at_fork = py_handlers;
    if (ninherited)
        ninherited = 0;
    if (!io_list_all)
        return;
    int n = 0;
    for (FILE *f = *io_list_all; f && n < 4 * FSAN_MAX_STREAMS; f = f->_chain, n++) {
        size_t pending = pending_bytes(f);
        if (pending == 0 || ninherited == FSAN_MAX_STREAMS)
            continue;
        inherited[ninherited++] = (struct inherited_stream){f, f->_IO_write_base, pending, 0};
    }
}

/* AS-safe */
static void record(uint32_t kind, int fd, uint64_t bytes, uintptr_t ret, uint32_t count, uintptr_t handler,
                   uint32_t py_count, const char *name)
{
    int saved = errno;
    fsan__trace_mark_needed();
    fsan__child_note_finding();
    uint32_t site = fsan__site_of(ret);
    uint32_t pysite = fsan__py_active() ? fsan__py_site_here() : 0;
    fsan__site_write(site);
    fsan__pysite_write(pysite);
    fsan__trace_maps();
    fsan__trace_maps_cover(handler);
    struct fsan_rec_cleanup rec = {kind, fd, bytes, site, count, handler, py_count, pysite};
    fsan__trace_record(FSAN_REC_CLEANUP, &rec, sizeof rec, name, name ? strnlen(name, 255) : 0);
    fsan__trace_flush();
    errno = saved;
}

static int own_child(void)
{
    return fsan__active() && fsan__proc.in_child && (pid_t)fsan__sys_getpid() == fsan__proc.pid;
}

/* The inherited bytes of stream (NULL: every stream) are about to be
 * written: by fflush, fclose or the flush that exit() does. */
static void inherited_written(FILE *stream, uintptr_t ret)
{
    for (int i = 0; i < ninherited; i++) {
        struct inherited_stream *s = &inherited[i];
        if (s->reported || (stream && s->stream != stream))
            continue;
        s->reported = 1;
        record(FSAN_CLEANUP_STDIO_DUP, s->stream->_fileno, s->pending, ret, 0, 0, 0, NULL);
    }
}

/* Copy-on-write: a long-lived child that dirtied a large share of the
 * memory it shares with its parent (CPython touching reference counts of
 * objects it only reads) pays for a private copy of it.  Measured once, at
 * the child's end, and only for children that used enough CPU to matter
 * (a child's CPU clock starts at zero at fork): reading smaps_rollup costs
 * tens of microseconds, which every short child would pay otherwise, and
 * the fork path itself writes nothing for it. */
#define COW_MIN_CPU_NS 50000000ull /* 50 ms of CPU: reading objects takes CPU */
#define COW_MIN_BYTES (16ull << 20)


static uint64_t smaps_kib(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen < len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, key, klen) == 0) {
            uint64_t v = 0;
            for (size_t j = i + klen; j < len && text[j] != '\n'; j++)
                if (text[j] >= '0' && text[j] <= '9')
                    v = v * 10 + (uint64_t)(text[j] - '0');
            return v;
        }
    }
    return 0;
}

static void check_cow(uintptr_t ret)
{
    if (fsan__cpu_ns() < COW_MIN_CPU_NS)
        return;
    char text[2048];
    ssize_t n = fsan__read_file("/proc/self/smaps_rollup", text, sizeof text);
    if (n <= 0)
        return;
    uint64_t priv = smaps_kib(text, (size_t)n, "Private_Dirty:") * 1024;
    uint64_t shared = (smaps_kib(text, (size_t)n, "Shared_Clean:") + smaps_kib(text, (size_t)n, "Shared_Dirty:")) * 1024;
    if (priv < COW_MIN_BYTES || priv + shared == 0)
        return;
    uint32_t share = (uint32_t)(priv * 100 / (priv + shared));
    if (share >= 30)
        record(FSAN_CLEANUP_COW, -1, priv, ret, share, 0, 0, NULL);
}

/* Called by the exit() interposer in a fork child. */
void fsan__stdio_child_exit(uintptr_t ret)
{
    if (!own_child())
        return;
    check_cow(ret);
    inherited_written(NULL, ret);
    /* The parent's handlers run next: cleanup.c reports what they do. */
    fsan__cleanup_child_exit(ret);
}

/* AS-safe.  See fsan.h. */
uint64_t fsan__stdio_pending(int *fd)
{
    uint64_t total = 0;
    *fd = -1;
    if (!io_list_all)
        return 0;
    int n = 0;
    for (FILE *f = *io_list_all; f && n < 4 * FSAN_MAX_STREAMS; f = f->_chain, n++) {
        size_t pending = pending_bytes(f);
        if (pending && *fd < 0)
            *fd = f->_fileno;
        total += pending;
    }
    return total;
}

uint32_t fsan__atexit_at_fork(void)
{
    return fsan__proc.in_child ? atexit_at_fork : 0;
}

/* AS-safe: the bytes stream f (a copy of the FILE at addr) buffered after
 * the fork, given the child's table of inherited streams. */
static size_t pending_after_fork(const FILE *f, uintptr_t addr, const struct inherited_stream *inh, int ninh)
{
    size_t pending = pending_bytes(f), before = 0;
    for (int i = 0; i < ninh; i++)
        if ((uintptr_t)inh[i].stream == addr && inh[i].base == f->_IO_write_base)
            before = inh[i].pending;
    return pending > before ? pending - before : 0;
}

#define read_state fsan__read_state

/* AS-safe.  See fsan.h.  Same addresses in the child as in its parent. */
void fsan__child_lost(struct fsan__lost *out)
{
    memset(out, 0, sizeof *out);
    uint32_t count = 0, at_fork = 0;
    int ninh = 0, py_at_fork = 0;
    struct inherited_stream inh[FSAN_MAX_STREAMS];
    if (read_state(&count, (uintptr_t)&atexit_count, sizeof count) < 0 ||
        read_state(&at_fork, (uintptr_t)&atexit_at_fork, sizeof at_fork) < 0 ||
        read_state(&ninh, (uintptr_t)&ninherited, sizeof ninh) < 0 || ninh < 0 || ninh > FSAN_MAX_STREAMS ||
        read_state(inh, (uintptr_t)inherited, (size_t)ninh * sizeof inh[0]) < 0)
        return;
    if (count > at_fork) {
        out->handlers = count - at_fork;
        (void)read_state(&out->handler, (uintptr_t)&first_after_fork, sizeof out->handler);
    }
    uintptr_t f = 0;
    if (io_list_all)
        (void)read_state(&f, (uintptr_t)io_list_all, sizeof f);
    FILE copy;
    for (int n = 0; f && n < 4 * FSAN_MAX_STREAMS && read_state(&copy, f, sizeof copy) == 0; n++) {
        size_t lost = pending_after_fork(&copy, f, inh, ninh);
        if (lost && !out->pending)
            out->fd = copy._fileno;
        out->pending += lost;
        f = (uintptr_t)copy._chain;
    }
    if (read_state(&py_at_fork, (uintptr_t)&py_atexit_at_fork, sizeof py_at_fork) == 0) {
        int now = fsan__py_atexit_count();
        if (now > py_at_fork) {
            out->py_handlers = (uint32_t)(now - py_at_fork);
            out->py_name = fsan__py_atexit_name(py_at_fork);
        }
    }
}

/* Called by the _exit()/_Exit() interposers in a fork child: what the child
 * buffered or registered after the fork is lost. */
FSAN_CHILD_PATH void fsan__stdio_child__exit(uintptr_t ret)
{
    if (!own_child())
        return;
    check_cow(ret);
    struct fsan__lost lost;
    fsan__child_lost(&lost);
    if (lost.pending || lost.handlers || lost.py_handlers)
        record(FSAN_CLEANUP_SKIPPED, lost.pending ? lost.fd : -1, lost.pending, ret, lost.handlers, lost.handler,
               lost.py_handlers, lost.py_name);
}

/* A stream about to be flushed: bytes it held at fork are written again
 * (stdio-duplicate), and bytes an inherited exit handler wrote into it
 * leave on the parent's file (duplicated-cleanup). */
static void flushing(FILE *stream, uintptr_t ret)
{
    if (ninherited && own_child())
        inherited_written(stream, ret);
    if ((fsan__proc.io_watch & FSAN_IO_EXIT_HANDLER) && stream)
        fsan__cleanup_write(stream->_fileno, pending_bytes(stream));
}

FSAN_EXPORT int fflush(FILE *stream)
{
    if (FSAN_UNLIKELY(fsan__proc.in_child))
        flushing(stream, RET_ADDR);
    return REAL(fflush)(stream);
}

FSAN_EXPORT int fclose(FILE *stream)
{
    if (FSAN_UNLIKELY(fsan__proc.in_child))
        flushing(stream, RET_ADDR);
    return REAL(fclose)(stream);
}

/* An exit handler is being registered: returns its registration number. */
static uint32_t handler_registered(uintptr_t fn)
{
    uint32_t before = atomic_fetch_add(&atexit_count, 1);
    if (FSAN_UNLIKELY(fsan__proc.in_child) && before == atexit_at_fork && own_child())
        first_after_fork = fn;
    return before;
}

FSAN_EXPORT int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    return fsan__cleanup_cxa_atexit(fn, arg, dso, handler_registered((uintptr_t)fn));
}

/* on_exit() registers through glibc's internal list, not __cxa_atexit. */
FSAN_EXPORT int on_exit(void (*fn)(int, void *), void *arg)
{
    return fsan__cleanup_on_exit(fn, arg, handler_registered((uintptr_t)fn));
}

/* ---- safe mode (safe.c) ------------------------------------------------------ */

#define GLIBC_IO_USER_LOCK 0x8000 /* _flags: the caller locks (FSETLOCKING_BYCALLER) */

/* Is the stream's lock held by a thread (this one included: a fork from a
 * signal handler that interrupted a printf)?  glibc's lock is
 * { int lock; int cnt; void *owner; }.  A stream whose caller does its own
 * locking cannot be told, so it counts as held. */
static int stream_busy(FILE *f)
{
    if (f->_flags & GLIBC_IO_USER_LOCK)
        return 1;
    const _Atomic int *lock = (const _Atomic int *)f->_lock;
    return lock && atomic_load_explicit(lock, memory_order_acquire) != 0;
}

/* Safe mode, in the forking thread before the fork: every C stdio stream
 * that holds unflushed output is flushed, unless a thread holds its lock,
 * which is tried, never waited for.  found() hears of each such stream:
 * its descriptor, the bytes it held, and whether they were flushed.  The
 * list is walked without glibc's list lock (only a blocking lock exists),
 * as the fork child's own walk does. */
void fsan__stdio_safe_flush(void (*found)(int fd, uint64_t bytes, int flushed))
{
    if (!io_list_all)
        return;
    int n = 0;
    for (FILE *f = *io_list_all; f && n < 4 * FSAN_MAX_STREAMS; f = f->_chain, n++) {
        size_t pending = pending_bytes(f);
        if (pending == 0)
            continue;
        if (stream_busy(f) || ftrylockfile(f) != 0) {
            found(f->_fileno, pending, 0);
            continue;
        }
        int rc = fflush_unlocked(f);
        funlockfile(f);
        found(f->_fileno, pending, rc == 0);
    }
}

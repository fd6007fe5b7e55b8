/* trace.c — the async-signal-safe trace writer.
 *
 * Each process image writes its own file, <trace_dir>/forksan.<pid>.trace
 * (forksan.<pid>.<n>.trace for later images of the same pid after exec),
 * in the format of trace_format.h.
 *
 * DESIGN
 * Records go into one static 64 KiB buffer and leave with write(2).  The
 * file is opened for every flush (O_APPEND) and closed again instead of
 * keeping a descriptor: daemons close every descriptor they did not open
 * and shells dup2 over them, and a kept descriptor would then write our
 * records into the program's own files.  Flushes are rare (fork child
 * snapshot, findings, exec, exit, a full buffer), so the open costs little.
 * The buffer is guarded by a spin lock (fsan__spin_lock) that a signal
 * handler interrupting the writer on the same thread is refused, so it
 * drops its record (counted) rather than spinning on its own thread's
 * lock; in a fork child the lock and buffer are simply reset (the parent
 * flushes its own bytes).  A full disk loses events, counted and said once,
 * never the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsan.h"

#define TRACE_BUF_SIZE (64 * 1024)
#define MAPS_BUF_SIZE (512 * 1024)

static char trace_path[FSAN_OPTION_PATH_MAX + 64];
FSAN_HOT static int trace_ready;          /* this image has a trace (trace_dir is set) */
FSAN_HOT static int trace_pending_create; /* the file is created at the first flush */
FSAN_HOT static int trace_broken;         /* creating the file failed: count losses */
FSAN_HOT static int trace_needed;         /* this image has something to say: write the file */
FSAN_HOT static int header_pending;       /* the PROCESS record is still to be written */
FSAN_HOT static uint32_t header_kind, header_forking_tid, header_fork_site;
FSAN_HOT static uint64_t header_image_ns;
static void write_header_if_pending(void);
FSAN_HOT static uint32_t maps_gen;        /* trace generation whose maps were written */
FSAN_HOT static size_t maps_len;
FSAN_HOT static int maps_written;
FSAN_HOT static int trace_failed_said; /* the one warning about losing events was given */
static char trace_buf[TRACE_BUF_SIZE];
FSAN_HOT static size_t trace_len;
FSAN_HOT static _Atomic int trace_lock;
FSAN_HOT static uint64_t trace_lost_bytes;
static char maps_buf[MAPS_BUF_SIZE];
FSAN_HOT uint32_t fsan__trace_gen;

const char *fsan__trace_path(void)
{
    return trace_ready ? trace_path : NULL;
}

/* AS-safe: the file this image writes, once it exists (NULL before). */
const char *fsan__trace_file(void)
{
    return trace_ready && !trace_pending_create && !trace_broken ? trace_path : NULL;
}

/* A thread already inside the writer (a signal handler interrupted it)
 * must not spin on the lock its own thread holds. */
static FSAN_TLS int in_writer;

/* AS-safe: returns 0 with the lock held, or -1 when this thread is already
 * writing (the record is dropped and counted rather than deadlocking). */
static int lock_writer(void)
{
    return fsan__spin_lock(&trace_lock, &in_writer);
}

/* AS-safe */
static void unlock_writer(void)
{
    fsan__spin_unlock(&trace_lock, &in_writer);
}

/* AS-safe */
int fsan__trace_incomplete(void)
{
    return trace_ready && (trace_broken || trace_lost_bytes > 0);
}

/* AS-safe: the first loss of this image is a fact for forksan run ("ERRNO
 * PATH": the report names the process and the cause) and a warning. */
static void say_lost(int err)
{
    if (trace_failed_said)
        return;
    trace_failed_said = 1;
    char fact[FSAN_OPTION_PATH_MAX + 100];
    struct fsan__sbuf fb = {fact, sizeof fact, 0};
    fsan__sb_dec(&fb, err);
    fsan__sb_str(&fb, " ");
    fsan__sb_str(&fb, trace_path);
    /* forksan run names the process and the cause at the top of its
     * report: the warning below would only repeat it. */
    if (fsan__tell_supervisor(FSAN_SUP_INCOMPLETE, fact, fb.len) == 0)
        return;
    char msg[FSAN_OPTION_PATH_MAX + 200];
    struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
    fsan__sb_str(&sb, "cannot write trace file '");
    fsan__sb_str(&sb, trace_path);
    fsan__sb_str(&sb, "': ");
    /* strerrordesc_np reads a constant table: no locale, no malloc. */
    const char *(*describe)(int) = (const char *(*)(int))fsan__hooks_symbol("strerrordesc_np");
    const char *desc = describe ? describe(err) : NULL;
    fsan__sb_str(&sb, desc ? desc : "error");
    fsan__sb_str(&sb, "; events of this process are lost (the program is not affected)");
    msg[sb.len] = '\0';
    fsan__log("WARNING", msg);
}

/* AS-safe: creates this image's trace file (first flush).  Returns 0 or
 * -errno.  The name is decided here, with O_EXCL, so a later image of the
 * same pid (after exec) gets the next free name. */
static int create_file(const void *data, size_t len)
{
    const char *dir = fsan__proc.opts.trace_dir;
    long pid = fsan__sys_getpid();
    int fd = -1;
    for (int seq = 0; seq < 1000 && fd < 0; seq++) {
        struct fsan__sbuf sb = {trace_path, sizeof trace_path - 1, 0};
        fsan__sb_str(&sb, dir);
        fsan__sb_str(&sb, "/forksan.");
        fsan__sb_dec(&sb, pid);
        if (seq) {
            fsan__sb_str(&sb, ".");
            fsan__sb_dec(&sb, seq);
        }
        fsan__sb_str(&sb, ".trace");
        trace_path[sb.len] = '\0';
        fd = open(trace_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return -errno;
    struct fsan_trace_file_header fh;
    memcpy(fh.magic, FSAN_TRACE_MAGIC, sizeof fh.magic);
    fh.version = FSAN_TRACE_VERSION;
    fh.header_size = sizeof fh;
    int err = fsan__write_all(fd, &fh, sizeof fh);
    if (err == 0 && len)
        err = fsan__write_all(fd, data, len);
    fsan__sys_close(fd);
    return err;
}

/* AS-safe; called with the writer lock held. */
static void write_out(const void *data, size_t len)
{
    if (!trace_ready || len == 0)
        return;
    if (trace_pending_create) {
        trace_pending_create = 0;
        int err = create_file(data, len);
        if (err < 0) {
            trace_broken = 1;
            trace_lost_bytes += len;
            say_lost(-err);
        }
        return;
    }
    if (trace_broken) {
        trace_lost_bytes += len;
        return;
    }
    /* The program may have put something else at our file's name (a FIFO
     * would block this open and every write): never block, and write only
     * into a regular file. */
    int fd = open(trace_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    int err = fd < 0 ? -errno : fsan__is_regular(fd) ? fsan__write_all(fd, data, len) : -EINVAL;
    if (fd >= 0)
        fsan__sys_close(fd);
    if (err < 0) {
        trace_lost_bytes += len;
        say_lost(-err);
    }
}

/* AS-safe; called with the writer lock held. */
static void flush_locked(void)
{
    write_out(trace_buf, trace_len);
    trace_len = 0;
}

/* AS-safe: from now on this image's trace is worth a file. */
void fsan__trace_mark_needed(void)
{
    trace_needed = 1;
}

/* AS-safe */
int fsan__trace_is_needed(void)
{
    return trace_ready && trace_needed;
}

/* AS-safe: writes what is buffered, if this image has anything to say. */
void fsan__trace_flush(void)
{
    if (!trace_ready || !trace_needed)
        return;
    int saved_errno = errno;
    if (lock_writer() == 0) {
        write_header_if_pending();
        flush_locked();
        unlock_writer();
    }
    if (errno != saved_errno)
        errno = saved_errno;
}

/* AS-safe */
void fsan__trace_record(uint16_t type, const void *payload, size_t size, const void *tail,
                        size_t tail_size)
{
    if (!trace_ready)
        return;
    int saved_errno = errno;
    struct fsan_rec_header h = {type, 0, (uint32_t)(size + tail_size)};
    size_t total = sizeof h + size + tail_size;
    if (lock_writer() < 0) {
        trace_lost_bytes += total;
        if (errno != saved_errno)
        errno = saved_errno;
        return;
    }
    write_header_if_pending();
    if (trace_len + total > sizeof trace_buf) {
        trace_needed = 1; /* a full buffer is plenty to say */
        flush_locked();
    }
    if (total > sizeof trace_buf) {
        write_out(&h, sizeof h); /* the file is ours alone: three writes stay contiguous */
        write_out(payload, size);
        write_out(tail, tail_size);
    } else {
        memcpy(trace_buf + trace_len, &h, sizeof h);
        memcpy(trace_buf + trace_len + sizeof h, payload, size);
        if (tail_size)
            memcpy(trace_buf + trace_len + sizeof h + size, tail, tail_size);
        trace_len += total;
    }
    unlock_writer();
    if (errno != saved_errno)
        errno = saved_errno;
}

/* AS-safe: starts this image's trace with the PROCESS record.  The file
 * itself is created by the first flush, so a short-lived child that has
 * nothing to say costs one open, one write and one close in all. */
FSAN_CHILD_PATH int fsan__trace_open_process(uint32_t kind, uint32_t forking_tid, uint32_t fork_site)
{
    trace_ready = 0;
    if (!fsan__proc.opts.trace_dir[0])
        return 0;
    trace_ready = 1;
    trace_pending_create = 1;
    trace_broken = 0;
    trace_needed = 0;
    fsan__trace_gen++;
    header_pending = 1;
    header_kind = kind;
    header_forking_tid = forking_tid;
    header_fork_site = fork_site;
    /* When this image began, to order the images of one process; when
     * the process itself was made is read only when the header is
     * written, so a clean child or an image with nothing to say never
     * reads /proc for it.  By system call: in a fork child, libc's
     * clock_gettime and the vDSO are two code pages to fault in, each
     * dearer than the call. */
    header_image_ns = fsan__sys_clock_ns(CLOCK_MONOTONIC);
    return 0;
}

/* AS-safe, with the writer lock held: the PROCESS record goes first, but
 * only once something else is written, so a clean fork child touches none
 * of the writer's memory (each page it writes is a copy-on-write fault). */
static void write_header_if_pending(void)
{
    if (!header_pending)
        return;
    header_pending = 0;
    /* A fork child runs the parent's executable: read it once per image. */
    static char exe[1024];
    static ssize_t n = -1;
    if (header_kind == FSAN_PROC_START || n < 0)
        n = readlink("/proc/self/exe", exe, sizeof exe);
    struct fsan_rec_process p = {
        .pid = (uint32_t)fsan__sys_getpid(),
        .ppid = (uint32_t)fsan__sys_getppid(),
        .kind = header_kind,
        .forking_tid = header_forking_tid,
        .fork_site = header_fork_site,
        .mode = (uint32_t)fsan__proc.opts.mode,
        .image_ns = header_image_ns,
    };
    /* When the process was made, as the kernel counts it: the same clock
     * for parent and child, so a child never seems to start before its
     * parent, and with the pid, who the process is. */
    p.time_ns = fsan__process_start_ns(&p.start_ticks);
    struct fsan_rec_header h = {FSAN_REC_PROCESS, 0, (uint32_t)(sizeof p + (n > 0 ? (size_t)n : 0))};
    memcpy(trace_buf + trace_len, &h, sizeof h);
    memcpy(trace_buf + trace_len + sizeof h, &p, sizeof p);
    if (n > 0)
        memcpy(trace_buf + trace_len + sizeof h + sizeof p, exe, (size_t)n);
    trace_len += sizeof h + sizeof p + (n > 0 ? (size_t)n : 0);
}

/* AS-safe: the child must not flush the parent's bytes, nor wait on a lock
 * a vanished thread held. */
void fsan__trace_after_fork_child(void)
{
    atomic_store(&trace_lock, 0);
    if (in_writer) /* thread-local: its page is copied when written */
        in_writer = 0;
    header_pending = 0;
    trace_len = 0;
    trace_ready = 0;
    trace_failed_said = 0;
    trace_lost_bytes = 0;
}

/* AS-safe: this process's /proc/self/maps text, read once per trace
 * generation (the child reads its own, which is the parent's at fork). */
const char *fsan__maps_text(size_t *len)
{
    if (maps_gen != fsan__trace_gen || maps_len == 0) {
        ssize_t n = fsan__read_file("/proc/self/maps", maps_buf, sizeof maps_buf);
        maps_len = n > 0 ? (size_t)n : 0;
        maps_gen = fsan__trace_gen;
        maps_written = 0;
    }
    *len = maps_len;
    return maps_buf;
}

/* AS-safe.  See fsan.h. */
int fsan__maps_find(const char *maps, size_t len, uintptr_t addr, struct fsan__mapping *out)
{
    const char *p = maps, *end = maps + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        /* start-end perms offset dev inode path */
        uint64_t start = 0, stop = 0, off = 0;
        const char *q = p;
        while (q < eol && *q != '-') start = start * 16 + (uint64_t)(*q <= '9' ? *q - '0' : *q - 'a' + 10), q++;
        q++;
        while (q < eol && *q != ' ') stop = stop * 16 + (uint64_t)(*q <= '9' ? *q - '0' : *q - 'a' + 10), q++;
        q++;
        const char *perms = q;
        while (q < eol && *q != ' ') q++;
        q++;
        while (q < eol && *q != ' ') off = off * 16 + (uint64_t)(*q <= '9' ? *q - '0' : *q - 'a' + 10), q++;
        if (addr >= start && addr < stop) {
            const char *path = q < eol ? memchr(q, '/', (size_t)(eol - q)) : NULL;
            if (!path && q < eol)
                path = memchr(q, '[', (size_t)(eol - q));
            out->start = start;
            out->offset = off;
            out->executable = perms + 2 < eol && perms[2] == 'x';
            out->path = path;
            out->path_len = path ? (size_t)(eol - path) : 0;
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

/* AS-safe: an address in code loaded after this trace's maps were
 * written (a library dlopen'ed since, whose exit handler is about to be
 * named): write the address space again, so the analyzer can name it. */
void fsan__trace_maps_cover(uintptr_t addr)
{
    struct fsan__mapping m;
    if (!trace_ready || !addr || !maps_written || fsan__maps_find(maps_buf, maps_len, addr, &m))
        return;
    ssize_t n = fsan__read_file("/proc/self/maps", maps_buf, sizeof maps_buf);
    maps_len = n > 0 ? (size_t)n : 0;
    maps_gen = fsan__trace_gen;
    maps_written = 0;
    fsan__trace_maps();
}

/* AS-safe: the address space, so the analyzer can symbolize offline.
 * Written once per trace file, and again when code loaded later must be
 * named (fsan__trace_maps_cover). */
void fsan__trace_maps(void)
{
    if (!trace_ready)
        return;
    size_t len;
    const char *text = fsan__maps_text(&len);
    if (maps_written)
        return;
    maps_written = 1;
    ssize_t n = (ssize_t)len;
    const char *mb = text;
    (void)mb;
    for (ssize_t off = 0; off < n; off += 32768) {
        size_t chunk = (size_t)(n - off) < 32768 ? (size_t)(n - off) : 32768;
        fsan__trace_record(FSAN_REC_MAPS, maps_buf + off, chunk, NULL, 0);
    }
}

/* AS-safe */
void fsan__trace_stats(void)
{
    struct fsan_rec_stats s = {
        .lost_bytes = trace_lost_bytes,
        .thread_overflow = atomic_load(&fsan__thread_overflow),
        .site_overflow = atomic_load(&fsan__site_overflow),
        .cond_overflow = atomic_load(&fsan__cond_overflow),
    };
    /* Holds beyond a thread's table matter only at a fork, where they are
     * missing from the snapshot: a fork child counts the threads whose
     * table was full at its fork (child.c); a process that only holds many
     * locks at once (CPython's concurrent.futures.wait takes one per
     * future) has nothing to say about it. */
    if (fsan__proc.in_child)
        for (uint32_t i = 0; i < atomic_load(&fsan__threads_hwm); i++)
            s.held_overflow += fsan__threads[i].held_overflow;
    /* The condition variables the table had no room for are the history
     * of the process that signalled them: its fork children do not repeat
     * the count (each would write a trace for it). */
    if (fsan__proc.in_child)
        s.cond_overflow = 0;
    if (s.lost_bytes || s.thread_overflow || s.site_overflow || s.held_overflow || s.cond_overflow) {
        fsan__trace_record(FSAN_REC_STATS, &s, sizeof s, NULL, 0);
        fsan__trace_mark_needed();
    }
}

/* safeio.c — async-signal-safe output for the runtime.
 *
 * DESIGN
 * Much of the runtime runs where stdio and malloc are forbidden: in a forked
 * child of a multi-threaded parent (a vanished thread may hold the stdio or
 * malloc lock) and on paths a signal handler can reach.  Everything here
 * formats into caller-provided buffers and leaves through write(2), like the
 * sanitizers' internal printf.  All functions are AS-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fsan.h"
#include "textesc.h"

/* A system call without libc: -errno on failure, no errno write, no call
 * into a libc code page.  In a fork child both matter: every page the
 * child touches for the first time is a fault, and the runtime runs there
 * on every fork.  Not syscall(3) either: the runtime interposes it
 * (pidcheck.c), so its own calls would pass through that hook. */
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    long ret = syscall(nr, a1, a2, a3, a4, a5, a6);
    return ret == -1 ? -errno : ret;
#endif
}

static inline long raw_syscall0(long nr)
{
    return raw_syscall6(nr, 0, 0, 0, 0, 0, 0);
}

/* A raw system call's result as libc gives it: -1 with errno set. */
static long libc_result(long ret)
{
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

/* AS-safe: the time on `clock` by a raw system call: no libc or vDSO code
 * page to fault in when a fork child calls it once at its end, and no
 * lazy binding of clock_gettime in every exec'd image's constructor. */
uint64_t fsan__sys_clock_ns(int clock)
{
    struct timespec ts = {0, 0};
    if (raw_syscall6(SYS_clock_gettime, clock, (long)&ts, 0, 0, 0, 0) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* AS-safe: CPU time of this process. */
uint64_t fsan__cpu_ns(void)
{
    return fsan__sys_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* AS-safe */
long fsan__sys_gettid(void)
{
    return raw_syscall0(SYS_gettid);
}

/* AS-safe.  The raw syscall, not getpid(): a later issue interposes getpid
 * to watch pid checks, and the runtime's own reads must not count. */
long fsan__sys_getpid(void)
{
    return raw_syscall0(SYS_getpid);
}

/* AS-safe */
long fsan__sys_getppid(void)
{
    return raw_syscall0(SYS_getppid);
}

/* AS-safe.  The runtime's own I/O goes straight to the kernel: it must
 * never pass through its own write()/close() interposers (loops.c). */
int fsan__sys_close(int fd)
{
    return (int)libc_result(raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0));
}

/* AS-safe.  stat(2) (flags 0) or lstat(2) (AT_SYMLINK_NOFOLLOW), and
 * fstat(2), and dup3(2) by system call: -1 with errno set, as libc's.
 * Not libc's: their symbols carry newer versions (GLIBC_2.33, 2.9) than
 * the runtime otherwise needs, and each version a preloaded library needs
 * is checked at every exec (about 300 instructions); process_vm_readv
 * (fsan__read_mem) likewise. */
int fsan__sys_stat(const char *path, struct stat *st, int flags)
{
    return (int)libc_result(raw_syscall6(SYS_newfstatat, AT_FDCWD, (long)path, (long)st, flags, 0, 0));
}

int fsan__sys_fstat(int fd, struct stat *st)
{
    return (int)libc_result(raw_syscall6(SYS_fstat, fd, (long)st, 0, 0, 0, 0));
}

int fsan__sys_dup3(int oldfd, int newfd, int flags)
{
    return (int)libc_result(raw_syscall6(SYS_dup3, oldfd, newfd, flags, 0, 0, 0));
}

/* AS-safe: is fd a regular file (not a FIFO, device or socket)? */
int fsan__is_regular(int fd)
{
    struct stat st;
    int saved = errno;
    int regular = fsan__sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    errno = saved;
    return regular;
}

/* AS-safe */
int fsan__sys_exists(const char *path)
{
    return raw_syscall6(SYS_faccessat, AT_FDCWD, (long)path, F_OK, 0, 0, 0) == 0;
}

/* AS-safe */
int fsan__write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = libc_result(raw_syscall6(SYS_write, fd, (long)p, (long)len, 0, 0, 0));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* AS-safe: digits of v in base 10 or 16 into out (at least 21 bytes). */
size_t fsan__fmt_u64(char *out, uint64_t v, int base)
{
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % (uint64_t)base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= (uint64_t)base;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* AS-safe */
void fsan__sb_mem(struct fsan__sbuf *sb, const char *s, size_t n)
{
    if (sb->len >= sb->cap)
        return;
    size_t room = sb->cap - sb->len;
    if (n > room)
        n = room;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
}

/* AS-safe */
void fsan__sb_str(struct fsan__sbuf *sb, const char *s)
{
    fsan__sb_mem(sb, s, strlen(s));
}

/* AS-safe: n bytes of the program's text (a name, a path) in the escaping
 * scheme of textesc.h; `quoted` when printed between double quotes. */
void fsan__sb_text(struct fsan__sbuf *sb, const char *s, size_t n, int quoted)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        char esc[FSAN_TEXT_ESC_MAX];
        size_t len;
        p += fsan_text_escape(p, (size_t)(end - p), quoted, esc, &len);
        fsan__sb_mem(sb, esc, len);
    }
}

/* AS-safe */
void fsan__sb_dec(struct fsan__sbuf *sb, int64_t v)
{
    char d[24];
    if (v < 0) {
        fsan__sb_mem(sb, "-", 1);
        v = -v;
    }
    fsan__sb_mem(sb, d, fsan__fmt_u64(d, (uint64_t)v, 10));
}

/* AS-safe */
void fsan__sb_hex(struct fsan__sbuf *sb, uint64_t v)
{
    char d[24];
    fsan__sb_mem(sb, "0x", 2);
    fsan__sb_mem(sb, d, fsan__fmt_u64(d, v, 16));
}

/* AS-safe: one "==PID==LEVEL: forksan: msg" line on stderr. */
void fsan__log(const char *level, const char *msg)
{
    char line[1024];
    struct fsan__sbuf sb = {line, sizeof line - 1, 0};
    int saved = errno;
    fsan__sb_str(&sb, "==");
    fsan__sb_dec(&sb, fsan__sys_getpid());
    fsan__sb_str(&sb, "==");
    fsan__sb_str(&sb, level);
    fsan__sb_str(&sb, ": forksan: ");
    fsan__sb_str(&sb, msg);
    line[sb.len++] = '\n';
    fsan__say(line, sb.len);
    errno = saved;
}

/* AS-safe.  See fsan.h.  The log file is opened for every message, like
 * the trace (a daemon may close any descriptor we kept), and never
 * blocks: a FIFO planted at its name gets nothing. */
void fsan__say(const char *text, size_t len)
{
    const char *base = fsan__proc.opts.log_path;
    if (base[0]) {
        char path[FSAN_OPTION_PATH_MAX + 32];
        struct fsan__sbuf sb = {path, sizeof path - 1, 0};
        fsan__sb_str(&sb, base);
        fsan__sb_str(&sb, ".");
        fsan__sb_dec(&sb, fsan__sys_getpid());
        path[sb.len] = '\0';
        int saved = errno;
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
        errno = saved;
        if (fd >= 0) {
            int ok = fsan__is_regular(fd) && fsan__write_all(fd, text, len) == 0;
            fsan__sys_close(fd);
            if (ok)
                return;
        }
    }
    /* No log file, or it cannot be written: to forksan run if it listens,
     * else stderr rather than nothing. */
    if (fsan__tell_supervisor(FSAN_SUP_MESSAGE, text, len) == 0)
        return;
    (void)fsan__write_all(2, text, len);
}

/* AS-safe.  See fsan.h.  One write of at most PIPE_BUF bytes, which the
 * kernel keeps whole; never blocks (a full pipe loses the message, and the
 * caller falls back). */
int fsan__tell_supervisor(uint32_t kind, const char *text, size_t len)
{
    const char *path = fsan__proc.opts.supervisor;
    if (!path[0])
        return -1;
    struct fsan_sup_header h = {0, (uint32_t)fsan__sys_getpid(), kind};
    if (len > FSAN_SUP_MSG_MAX - sizeof h)
        len = FSAN_SUP_MSG_MAX - sizeof h;
    h.size = (uint32_t)len;
    int saved = errno;
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    int rc = -1;
    if (fd >= 0) {
        struct stat st;
        /* One writev of at most PIPE_BUF bytes reaches a pipe whole, and
         * nothing here is shared with another thread. */
        struct iovec iov[2] = {{&h, sizeof h}, {(void *)text, len}};
        if (fsan__sys_fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
            rc = writev(fd, iov, 2) == (ssize_t)(sizeof h + len) ? 0 : -1;
        fsan__sys_close(fd);
    }
    errno = saved;
    return rc;
}

/* AS-safe.  See fsan.h. */
void fsan__announce(const char *text, size_t len)
{
    if (fsan__proc.opts.child_report)
        fsan__say(text, len);
    if (fsan__trace_incomplete())
        (void)fsan__tell_supervisor(FSAN_SUP_FINDING, text, len);
}

/* libc's clock_gettime (the vDSO: no system call), found by the runtime's
 * own lookup before the first fork (fsan__clock_init), so that fork
 * children inherit it resolved.  Not linked: its symbol version (GLIBC_2.17)
 * would cost every exec'd image a check (see fsan__sys_stat), and the
 * image's first reading (the trace's start time, in the constructor) is
 * cheaper as a system call than as a lookup. */
static int (*libc_clock_gettime)(clockid_t, struct timespec *);

void fsan__clock_init(void)
{
    libc_clock_gettime = (int (*)(clockid_t, struct timespec *))fsan__hooks_symbol("clock_gettime");
}

/* AS-safe (clock_gettime is on the POSIX list). */
uint64_t fsan__now_ns(int clock)
{
    struct timespec ts;
    if (!libc_clock_gettime)
        return fsan__sys_clock_ns(clock);
    if (libc_clock_gettime(clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* AS-safe: reads up to cap bytes of a (proc) file; returns bytes or -errno. */
ssize_t fsan__read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    fsan__sys_close(fd);
    return (ssize_t)len;
}

/* AS-safe.  See fsan.h. */
uint64_t fsan__stat_field(int wanted)
{
    char buf[1024];
    ssize_t n = fsan__read_file("/proc/self/stat", buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name (field 2) may contain spaces: count from its ')'. */
    const char *p = NULL;
    for (ssize_t i = n - 1; i >= 0 && !p; i--)
        if (buf[i] == ')')
            p = buf + i + 1;
    if (!p)
        return 0;
    int field = 2;
    for (; *p && field < wanted; p++)
        if (*p == ' ')
            field++;
    uint64_t value = 0;
    while (*p >= '0' && *p <= '9')
        value = value * 10 + (uint64_t)(*p++ - '0');
    return value;
}

/* AS-safe.  See fsan.h.  /proc gives the start in clock ticks since boot,
 * which Linux always counts at 100 per second (USER_HZ) there. */
uint64_t fsan__process_start_ns(uint64_t *start_ticks)
{
    uint64_t ticks = fsan__stat_field(22);
    *start_ticks = ticks;
    uint64_t now = fsan__now_ns(CLOCK_REALTIME), boot = fsan__now_ns(CLOCK_BOOTTIME);
    uint64_t since_boot = ticks * 10000000ull;
    if (!ticks || !now || boot < since_boot)
        return now;
    return now - (boot - since_boot);
}

FSAN_TLS pid_t fsan__read_pid;

/* AS-safe.  See fsan.h. */
int fsan__read_mem(void *dst, uintptr_t src, size_t n)
{
    if (src < 4096)
        return -EFAULT;
    struct iovec local = {dst, n};
    struct iovec remote = {(void *)src, n};
    pid_t pid = fsan__read_pid ? fsan__read_pid : (pid_t)fsan__sys_getpid();
    /* Not process_vm_readv(): see fsan__sys_stat for why. */
    long got = raw_syscall6(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
    return got == (ssize_t)n ? 0 : -EFAULT;
}

/* AS-safe.  See fsan.h. */
int fsan__read_state(void *dst, uintptr_t src, size_t n)
{
    if (fsan__read_pid)
        return fsan__read_mem(dst, src, n);
    memcpy(dst, (const void *)src, n);
    return 0;
}

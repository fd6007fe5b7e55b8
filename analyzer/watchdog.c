/* watchdog.c — forksan run's hang watchdog: a fork child of the watched
 * command that sits blocked in a wait nothing can end is reported as
 * child-hang, with the stacks of its threads at the hang.
 *
 * The runtime predicts a child's deadlock when the lock goes through a
 * pthread or semaphore call.  Many waits do not: locks built directly on
 * futex(2), condition variables and pipes that only a vanished thread
 * would have signalled or written.  Such a child simply hangs.  The
 * watchdog sees it from outside, in /proc, at no cost to the program.
 *
 * DESIGN
 * Finding the children.  Nothing is added to the fork path: every
 * WATCH_PERIOD_MS the watchdog reads /proc/PID/stat of every process (this
 * kernel may lack /proc/PID/task/TID/children) and keeps the descendants
 * of the command.  Only those older than half the timeout are looked at
 * further, so a program forking many short-lived children costs one
 * stat read per process and period.  A fork child that has not exec'd is
 * told apart by its auxiliary vector (/proc/PID/auxv): exec writes a new
 * one, fork copies the parent's, so a child whose auxv is byte for byte
 * its parent's is still running its parent's image (with address space
 * randomization off, an exec of the same program could look the same;
 * that is the one inexactness).
 *
 * Deciding it hangs.  A process hangs when every thread sleeps (state S)
 * in a wait that only a thread of its own could end, and nothing changes
 * for --hang-timeout seconds: not its CPU time, not its threads, not the
 * system call any of them sits in (/proc/PID/task/TID/syscall gives its
 * number and arguments).  The waits counted are an untimed futex wait on
 * a private futex (the flag, or memory no other process maps), and a read
 * of a pipe whose write end no other process holds.  Everything else
 * means the process may still be woken from outside and is never
 * reported: a timed wait, sleeping, poll, epoll and select, waiting for a
 * child process, a socket, a terminal, pause and sigwait.  The costly
 * checks (which mapping holds the futex, who else holds the pipe: a walk
 * of every process's descriptors) run once, when the timeout is reached,
 * and again one timeout later if the process was excused.  A wait that a
 * signal handler is meant to end (sem_post in a handler) looks the same
 * from outside, and is reported.
 *
 * Taking the stacks.  Once hung, the child is stopped with ptrace and
 * every thread unwound with libunwind (remote_stack.c), then let go; its
 * maps text is kept so the addresses are symbolized later, with the rest
 * of the report.  A child that refuses ptrace, or ends meanwhile, is still
 * reported from what /proc showed, with a notice saying why its stacks are
 * missing.  forksan prints one line on its stderr at once, so a run that
 * never ends (the parent waits for the hung child) has still said why;
 * under --mode strict the watchdog then ends the child with SIGKILL, so
 * the run fails fast with --exitcode instead of timing out.
 *
 * The watchdog runs on a thread of its own, with every signal blocked:
 * taking stacks can last a while, and forksan's main thread must keep
 * reading the runtime's FIFO (a full FIFO would block its writers) and
 * handle the signals it passes on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "catalogue.h"
#include "watchdog.h"

/* How often /proc is read. */
#define WATCH_PERIOD_MS 200
/* The most threads of one process looked at (a process with more is not
 * watched: the cost would be the program's). */
#define MAX_THREADS 256

/* A process as /proc/PID/stat shows it. */
struct proc_entry {
    int pid, ppid;
    char state;
    unsigned long long cpu;   /* utime + stime of every thread, in ticks */
    unsigned long long start; /* start time, in ticks since boot */
    int in_tree;              /* 1 a descendant of the command, -1 not, 0 unknown */
};

/* A child the watchdog is following. */
struct fsan_watched {
    int pid;
    unsigned long long start;
    char *signature;          /* what /proc showed last, NULL: not blocked */
    long long since_ms;       /* when it was first seen as it is */
    long long recheck_ms;     /* excused until then */
    int reported;
    int seen;                 /* in this period's scan */
};

/* What one thread waits for.  WAIT_CLOSED: it cannot be read (the child
 * is not dumpable, and forksan run is not root). */
enum wait_kind { WAIT_OTHER, WAIT_FUTEX, WAIT_READ, WAIT_CLOSED };

/* What a hang in waits that cannot be read is called (fsan_hang.kind). */
#define HANG_KIND_CLOSED "unknown" /* fsan_hang_is_closed */

struct thread_wait {
    int tid;
    enum wait_kind kind;
    uint64_t addr; /* futex */
    unsigned op;   /* futex */
    int fd;        /* read */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a small /proc file whole into buf (NUL-terminated).  Length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* Reads a /proc file of any size; NULL when it cannot be read. */
static char *read_whole(const char *path, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (len + 1 >= cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf) {
        buf[len] = '\0';
        if (out_len)
            *out_len = len;
    }
    return buf;
}

/* Parses /proc/PID/stat (or a task's).  0, or -1 when it is gone. */
static int read_stat(const char *path, struct proc_entry *e)
{
    char buf[1024];
    if (read_small(path, buf, sizeof buf) < 0)
        return -1;
    /* The command name may hold anything, ')' too: fields start after
     * the last one. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
                     &e->state, &e->ppid, &utime, &stime, &e->start) != 5)
        return -1;
    e->cpu = utime + stime;
    return 0;
}

/* ---- which processes are the command's fork children ------------------------- */

static int entry_cmp(const void *a, const void *b)
{
    const struct proc_entry *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct proc_entry *find_entry(struct proc_entry *e, size_t n, int pid)
{
    struct proc_entry key = {.pid = pid};
    return bsearch(&key, e, n, sizeof *e, entry_cmp);
}

/* Every process of the system, sorted by pid; NULL when /proc cannot be
 * read. */
static struct proc_entry *scan_proc(size_t *count)
{
    DIR *d = opendir("/proc");
    if (!d)
        return NULL;
    size_t n = 0, cap = 256;
    struct proc_entry *e = malloc(cap * sizeof *e);
    struct dirent *de;
    char path[320];
    while (e && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        if (n == cap) {
            struct proc_entry *grown = realloc(e, cap * 2 * sizeof *e);
            if (!grown)
                break;
            e = grown;
            cap *= 2;
        }
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        memset(&e[n], 0, sizeof e[n]);
        e[n].pid = atoi(de->d_name);
        if (read_stat(path, &e[n]) == 0)
            n++;
    }
    closedir(d);
    if (e)
        qsort(e, n, sizeof *e, entry_cmp);
    *count = n;
    return e;
}

/* Marks e[i] (and the chain above it) as in the command's tree or not. */
static int in_tree(struct proc_entry *e, size_t n, struct proc_entry *p, int root)
{
    struct proc_entry *chain[64];
    size_t depth = 0;
    int verdict = -1;
    while (p) {
        if (p->in_tree) {
            verdict = p->in_tree;
            break;
        }
        if (p->ppid == root) {
            verdict = 1;
            chain[depth++] = p;
            break;
        }
        if (depth == sizeof chain / sizeof chain[0] || p->ppid <= 1)
            break;
        chain[depth++] = p;
        p = find_entry(e, n, p->ppid);
    }
    for (size_t i = 0; i < depth; i++)
        chain[i]->in_tree = verdict;
    return verdict;
}

/* 1 when pid still runs its parent's image (fork, no exec), 0 when it
 * exec'd, -1 when it cannot be told. */
static int same_image_as_parent(int pid, int ppid)
{
    char path[64];
    size_t len_child, len_parent;
    snprintf(path, sizeof path, "/proc/%d/auxv", pid);
    char *child = read_whole(path, &len_child);
    snprintf(path, sizeof path, "/proc/%d/auxv", ppid);
    char *parent = read_whole(path, &len_parent);
    int result = -1;
    if (child && parent && len_child > 0)
        result = len_child == len_parent && memcmp(child, parent, len_child) == 0;
    free(child);
    free(parent);
    return result;
}

/* 1 when pid has its parent's command name (/proc/PID/stat, open to
 * anybody): what is left to tell a child that is not dumpable, whose auxv
 * is closed, from one that exec'd another program. */
static int same_name_as_parent(int pid, int ppid)
{
    char path[64], child[512], parent[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_small(path, child, sizeof child) < 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", ppid);
    if (read_small(path, parent, sizeof parent) < 0)
        return 0;
    char *c = strchr(child, '('), *ce = strrchr(child, ')'), *p = strchr(parent, '('), *pe = strrchr(parent, ')');
    return c && ce && p && pe && ce - c == pe - p && memcmp(c, p, (size_t)(ce - c)) == 0;
}

/* ---- is it blocked ------------------------------------------------------------- */

static int is_read_call(long nr)
{
    return nr == SYS_read || nr == SYS_readv || nr == SYS_pread64 || nr == SYS_preadv
#ifdef SYS_preadv2
           || nr == SYS_preadv2
#endif
        ;
}

/* What the thread waits for, from its /proc/PID/task/TID/syscall line. */
static enum wait_kind classify(const char *line, struct thread_wait *w)
{
    long nr;
    unsigned long long a[6];
    if (sscanf(line, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) != 7)
        return WAIT_OTHER;
    if (nr == SYS_futex) {
        unsigned cmd = (unsigned)a[1] & FUTEX_CMD_MASK;
        int waits = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
                    cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
        if (!waits || a[3] != 0) /* a[3]: the timeout */
            return WAIT_OTHER;
        w->addr = a[0];
        w->op = (unsigned)a[1];
        return WAIT_FUTEX;
    }
    if (is_read_call(nr)) {
        w->fd = (int)a[0];
        return WAIT_READ;
    }
    return WAIT_OTHER;
}

/* Reads the threads of pid.  Returns how many, each with what it waits
 * for, and appends what /proc showed to sig; -1 when a thread is not in a
 * wait that counts (or the process is gone). */
static int blocked_threads(int pid, struct thread_wait *waits, size_t max, FILE *sig)
{
    char path[320], line[512];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        if ((size_t)n == max) {
            n = -1;
            break;
        }
        struct proc_entry task;
        snprintf(path, sizeof path, "/proc/%d/task/%s/stat", pid, de->d_name);
        if (read_stat(path, &task) < 0 || task.state != 'S') {
            n = -1;
            break;
        }
        snprintf(path, sizeof path, "/proc/%d/task/%s/syscall", pid, de->d_name);
        struct thread_wait *w = &waits[n];
        memset(w, 0, sizeof *w);
        w->tid = atoi(de->d_name);
        if (read_small(path, line, sizeof line) < 0 && errno == EACCES) {
            /* Not dumpable (prctl PR_SET_DUMPABLE 0, or changed ids):
             * only ptrace access opens syscall.  How often the thread
             * ran (schedstat) still shows whether anything woke it. */
            w->kind = WAIT_CLOSED;
            snprintf(path, sizeof path, "/proc/%d/task/%s/schedstat", pid, de->d_name);
            if (read_small(path, line, sizeof line) < 0) {
                n = -1;
                break;
            }
        } else if ((w->kind = classify(line, w)) == WAIT_OTHER) {
            n = -1;
            break;
        }
        fprintf(sig, "%d:%llu:%s", w->tid, task.cpu, line);
        n++;
    }
    closedir(d);
    return n;
}

/* ---- the checks made once it has been blocked long enough -------------------- */

/* The flags of /proc/PID/fdinfo/FD say it is open for writing. */
static int fd_writes(int pid, const char *fd)
{
    char path[320], buf[512];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
    if (read_small(path, buf, sizeof buf) < 0)
        return 0;
    const char *flags = strstr(buf, "flags:");
    unsigned long f = flags ? strtoul(flags + 6, NULL, 8) : 0;
    return (f & O_ACCMODE) == O_WRONLY || (f & O_ACCMODE) == O_RDWR;
}

/* The descriptors of pid that write to the file link (pipe:[N]), as a
 * list "4, 7" into out; returns how many. */
static int writers_in(int pid, const char *link, char *out, size_t outlen)
{
    char path[64], target[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int count = 0;
    size_t used = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char fdpath[320];
        snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%s", pid, de->d_name);
        ssize_t n = readlink(fdpath, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, link) != 0 || !fd_writes(pid, de->d_name))
            continue;
        count++;
        if (out && used < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", count > 1 ? ", " : "", de->d_name);
    }
    closedir(d);
    return count;
}

/* Another process (any on the system it can see) holds the pipe open
 * for writing. */
static int written_elsewhere(int pid, const char *link)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 1;
    struct dirent *de;
    int found = 0;
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi(de->d_name) == pid)
            continue;
        found = writers_in(atoi(de->d_name), link, NULL, 0) > 0;
    }
    closedir(d);
    return found;
}

/* The permissions field of the mapping holding addr ("rw-p"), or "". */
static void mapping_of(const char *maps, uint64_t addr, char perms[5])
{
    perms[0] = '\0';
    for (const char *line = maps; line && *line;) {
        unsigned long long lo, hi;
        char p[5];
        if (sscanf(line, "%llx-%llx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
            memcpy(perms, p, 5);
            return;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
}

/* Whether the wait can only end by a thread of pid's own, and what it
 * is in words (into *blocked).  1, 0 (something outside could end it), or
 * -ENOMEM. */
static int only_from_inside(int pid, const char *maps, const struct thread_wait *w, char **blocked)
{
    char text[512];
    if (w->kind == WAIT_FUTEX) {
        char perms[5];
        mapping_of(maps, w->addr, perms);
        int private_futex = (w->op & FUTEX_PRIVATE_FLAG) != 0;
        if (!private_futex && (perms[0] == '\0' || perms[3] != 'p'))
            return 0;
        snprintf(text, sizeof text, "waits on the futex at 0x%" PRIx64 " (untimed, %s): only a thread of this "
                 "process could wake it", w->addr, private_futex ? "a private futex" : "in private memory");
    } else {
        char path[320], link[64], fds[128] = "";
        snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, w->fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            return 0;
        link[n] = '\0';
        if (strncmp(link, "pipe:[", 6) != 0 || written_elsewhere(pid, link))
            return 0;
        int own = writers_in(pid, link, fds, sizeof fds);
        if (own > 0)
            snprintf(text, sizeof text, "reads fd %d, a pipe (%s) whose write end is open only in this process "
                     "(fd %s): only a thread of its own could write to it", w->fd, link, fds);
        else
            snprintf(text, sizeof text, "reads fd %d, a pipe (%s) with no write end open anywhere", w->fd, link);
    }
    *blocked = strdup(text);
    return *blocked ? 1 : -ENOMEM;
}

/* ---- recording a hang ------------------------------------------------------------ */

void fsan_hang_free(struct fsan_hang *h)
{
    for (size_t i = 0; i < h->nthreads; i++) {
        free(h->threads[i].blocked);
        fsan_hang_thread_free_py(&h->threads[i]);
    }
    free(h->threads);
    free(h->py_unavailable);
    free(h->kind);
    free(h->maps);
    free(h->no_stacks);
    memset(h, 0, sizeof *h);
}

/* Checks every thread's wait, takes the stacks and keeps the hang.  1
 * when recorded, 0 when it is excused (something outside could end it,
 * or it exec'd). */
static int confirm_hang(struct fsan_watchdog *w, const struct proc_entry *e, const struct thread_wait *waits,
                        int nwaits, long long blocked_ms)
{
    int closed = waits[0].kind == WAIT_CLOSED;
    int same = same_image_as_parent(e->pid, e->ppid);
    if (same == 0 || (same < 0 && !(closed && same_name_as_parent(e->pid, e->ppid))))
        return 0;
    struct fsan_hang h;
    memset(&h, 0, sizeof h);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", e->pid);
    h.maps = closed ? strdup("") : read_whole(path, &h.maps_len);
    h.threads = calloc((size_t)nwaits, sizeof *h.threads);
    if (!h.maps || !h.threads) {
        fsan_hang_free(&h);
        return 0;
    }
    int kinds = 0;
    for (int i = 0; i < nwaits; i++) {
        struct fsan_hang_thread *th = &h.threads[h.nthreads++];
        th->tid = waits[i].tid;
        if (waits[i].kind == WAIT_CLOSED) {
            th->blocked = strdup("sleeps in a wait forksan run cannot read");
        } else if (closed || only_from_inside(e->pid, h.maps, &waits[i], &th->blocked) != 1) {
            fsan_hang_free(&h);
            return 0;
        }
        if (!th->blocked) {
            fsan_hang_free(&h);
            return 0;
        }
        kinds |= waits[i].kind == WAIT_FUTEX ? 1 : 2;
        th->futex = waits[i].kind == WAIT_FUTEX ? waits[i].addr : 0;
        snprintf(path, sizeof path, "/proc/%d/task/%d/comm", e->pid, th->tid);
        if (read_small(path, th->name, sizeof th->name) > 0)
            th->name[strcspn(th->name, "\n")] = '\0';
    }
    h.pid = e->pid;
    h.ppid = e->ppid;
    h.seconds = (int)(blocked_ms / 1000);
    h.kind = strdup(closed ? HANG_KIND_CLOSED : kinds == 3 ? "futex+pipe" : kinds == 1 ? "futex" : "pipe");
    char why[512] = "";
    if (closed) /* ptrace is refused for the same reason: not tried */
        snprintf(why, sizeof why, "the child is not dumpable (prctl(PR_SET_DUMPABLE, 0), or it changed its user or "
                 "group ids) and forksan run is not root, so neither ptrace nor its /proc syscall, maps and fd "
                 "files are open to the watchdog");
    else
        fsan_remote_stacks(&h, why, sizeof why);
    if (why[0])
        h.no_stacks = strdup(why);
    /* A wait that cannot be read may be a long sleep: it is reported, as
     * a warning, and never ended. */
    int end = w->strict && !closed;
    fprintf(stderr, "forksan: forked child %d %s: its %zu thread%s blocked for %d s; thread %d %s%s\n", h.pid,
            closed ? "may hang" : "hangs", h.nthreads, h.nthreads == 1 ? " has been" : "s have been", h.seconds,
            h.threads[0].tid, h.threads[0].blocked,
            end ? " (child-hang; --mode strict: ending it)" : " (child-hang: the report follows when the command ends)");
    if (end && kill(e->pid, SIGKILL) == 0)
        h.ended = 1;
    struct fsan_hang *grown = realloc(w->hangs, (w->nhangs + 1) * sizeof *grown);
    if (!grown || !h.kind) {
        fsan_hang_free(&h);
        return 1;
    }
    w->hangs = grown;
    w->hangs[w->nhangs++] = h;
    return 1;
}

/* ---- the watch ------------------------------------------------------------------- */

static struct fsan_watched *watched_of(struct fsan_watchdog *w, const struct proc_entry *e)
{
    for (size_t i = 0; i < w->nwatched; i++)
        if (w->watched[i].pid == e->pid && w->watched[i].start == e->start)
            return &w->watched[i];
    if (w->nwatched == w->watched_cap) {
        size_t cap = w->watched_cap ? w->watched_cap * 2 : 16;
        struct fsan_watched *grown = realloc(w->watched, cap * sizeof *grown);
        if (!grown)
            return NULL;
        w->watched = grown;
        w->watched_cap = cap;
    }
    struct fsan_watched *x = &w->watched[w->nwatched++];
    memset(x, 0, sizeof *x);
    x->pid = e->pid;
    x->start = e->start;
    return x;
}

/* One look at a child old enough to be watched. */
static void look_at(struct fsan_watchdog *w, const struct proc_entry *e, long long now)
{
    struct fsan_watched *x = watched_of(w, e);
    if (!x)
        return;
    x->seen = 1;
    if (x->reported || now < x->recheck_ms)
        return;
    /* Static: one watchdog thread, and 256 entries are too many for a
     * thread's stack to carry without need. */
    static struct thread_wait waits[MAX_THREADS];
    char *sig = NULL;
    size_t siglen = 0;
    FILE *m = open_memstream(&sig, &siglen);
    if (!m)
        return;
    int n = e->state == 'S' ? blocked_threads(e->pid, waits, MAX_THREADS, m) : -1;
    fprintf(m, "cpu %llu", e->cpu);
    if (fclose(m) != 0 || n <= 0) {
        free(sig);
        free(x->signature);
        x->signature = NULL;
        return;
    }
    if (!x->signature || strcmp(x->signature, sig) != 0) {
        free(x->signature);
        x->signature = sig;
        x->since_ms = now;
        return;
    }
    free(sig);
    long long blocked = now - x->since_ms;
    if (blocked < (long long)w->timeout_s * 1000)
        return;
    if (confirm_hang(w, e, waits, n, blocked))
        x->reported = 1;
    else
        x->recheck_ms = now + (long long)w->timeout_s * 1000;
}

/* Forgets the children that are gone. */
static void forget_unseen(struct fsan_watchdog *w)
{
    size_t kept = 0;
    for (size_t i = 0; i < w->nwatched; i++) {
        if (w->watched[i].seen) {
            w->watched[i].seen = 0;
            w->watched[kept++] = w->watched[i];
        } else {
            free(w->watched[i].signature);
        }
    }
    w->nwatched = kept;
}

static void tick(struct fsan_watchdog *w)
{
    size_t n = 0;
    struct proc_entry *e = scan_proc(&n);
    if (!e)
        return;
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long uptime_ticks = (unsigned long long)boot.tv_sec * (unsigned long long)hz +
                                      (unsigned long long)boot.tv_nsec / (1000000000ull / (unsigned long long)hz);
    unsigned long long min_age = (unsigned long long)w->timeout_s * (unsigned long long)hz / 2;
    long long now = now_ms();
    for (size_t i = 0; i < n; i++) {
        if (e[i].pid == w->root || in_tree(e, n, &e[i], w->root) != 1)
            continue;
        if (e[i].start + min_age <= uptime_ticks)
            look_at(w, &e[i], now);
    }
    free(e);
    forget_unseen(w);
}

/* Waits ms milliseconds or until stopped; the lock is held. */
static void pause_locked(struct fsan_watchdog *w, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
        ;
}

static void *watch(void *arg)
{
    struct fsan_watchdog *w = arg;
    pthread_mutex_lock(&w->lock);
    /* No child is looked at before it is half the timeout old, so the
     * first walk of /proc waits that long: a short command never pays
     * for one. */
    pause_locked(w, (long)w->timeout_s * 1000L / 2);
    while (!w->stop) {
        pthread_mutex_unlock(&w->lock);
        tick(w);
        pthread_mutex_lock(&w->lock);
        pause_locked(w, WATCH_PERIOD_MS);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int fsan_watchdog_start(struct fsan_watchdog *w, pid_t root, int timeout_s, int strict)
{
    memset(w, 0, sizeof *w);
    w->root = root;
    w->timeout_s = timeout_s;
    w->strict = strict;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    /* The thread is born with every signal blocked: forksan's signals are
     * for its main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, watch, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    w->running = 1;
    return 0;
}

void fsan_watchdog_stop(struct fsan_watchdog *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void fsan_watchdog_free(struct fsan_watchdog *w)
{
    fsan_watchdog_stop(w);
    for (size_t i = 0; i < w->nwatched; i++)
        free(w->watched[i].signature);
    free(w->watched);
    for (size_t i = 0; i < w->nhangs; i++)
        fsan_hang_free(&w->hangs[i]);
    free(w->hangs);
    w->watched = NULL;
    w->hangs = NULL;
    w->nwatched = w->nhangs = 0;
}

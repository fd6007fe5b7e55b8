/* supervise.c — what forksan run hears from the runtime while the program
 * runs, for when the trace directory cannot hold it.
 *
 * Traces are files, and a full disk, a quota or an I/O error can cut them
 * short: the findings a process announced live would then vanish from the
 * report, and a run with errors could pass as clean.  So forksan run opens
 * a FIFO of its own in the trace directory (forksan.sup.<random>, mode 0622
 * so that processes which later change user can still write to it; the
 * random name is the key, passed only in FORKSAN_OPTIONS) and reads it
 * while it waits for the command.  A process whose trace loses bytes says
 * so there once (INCOMPLETE, with the cause), sends each finding it then
 * announces (FINDING, the runtime's live report text), and any message
 * its log file could not take (MESSAGE).  A FIFO uses no disk space, and
 * each message is one atomic write of at most PIPE_BUF bytes, so messages of
 * many processes never interleave.  Nothing is written there while the
 * traces are fine.
 *
 * Afterwards the messages join the report: a notice at the top names every
 * process with an incomplete trace and the cause; a live finding that the
 * traces do not have becomes a finding, its location the runtime's own
 * lines; messages become notices.  forksan run then exits with
 * FSAN_EXIT_INCOMPLETE unless findings already fail the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalogue.h"
#include "supervise.h"
#include "trace_format.h"

/* What is kept of the messages (the rest is counted): far more than a
 * run's worth of live reports, far less than a problem. */
#define SUP_KEEP_MAX (16u << 20)

int fsan_supervisor_open(struct fsan_supervisor *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->rfd = s->wfd = -1;
    unsigned char key[8];
    if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
        return -errno;
    int n = snprintf(s->path, sizeof s->path, "%s/" FSAN_SUP_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x", dir, key[0],
                     key[1], key[2], key[3], key[4], key[5], key[6], key[7]);
    if (n < 0 || (size_t)n >= sizeof s->path || n >= FSAN_OPTION_PATH_MAX)
        return -ENAMETOOLONG;
    if (mkfifo(s->path, 0600) < 0) {
        s->path[0] = '\0';
        return -errno;
    }
    int err = 0;
    /* Our own write end keeps the FIFO open, so reading never sees an end
     * of file between two writers. */
    if (chmod(s->path, 0622) < 0 || (s->rfd = open(s->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
        (s->wfd = open(s->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        err = -errno;
    if (err < 0)
        fsan_supervisor_close(s);
    return err;
}

/* Reads what is in the FIFO now. */
static void drain(struct fsan_supervisor *s)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(s->rfd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        if (s->len + (size_t)n > SUP_KEEP_MAX) {
            s->dropped += (size_t)n;
            continue;
        }
        if (s->len + (size_t)n > s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 65536;
            while (cap < s->len + (size_t)n)
                cap *= 2;
            char *grown = realloc(s->buf, cap);
            if (!grown) {
                s->dropped += (size_t)n;
                continue;
            }
            s->buf = grown;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, chunk, (size_t)n);
        s->len += (size_t)n;
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fsan_supervisor_wait(struct fsan_supervisor *s, pid_t pid, int *status, const volatile sig_atomic_t *stop,
                         int grace_ms)
{
    /* The pid's descriptor becomes readable when it ends, so one poll
     * waits for the FIFO and the command; without pidfd_open (before
     * Linux 5.3) a short timeout does.  A signal interrupts the poll. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long long deadline = -1;
    int rc;
    for (;;) {
        pid_t done = waitpid(pid, status, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) {
            rc = done == pid ? 0 : -errno;
            break;
        }
        if (*stop && deadline < 0)
            deadline = now_ms() + grace_ms;
        int timeout = pidfd >= 0 ? -1 : 50;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0) {
                rc = -ETIMEDOUT;
                break;
            }
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {s->rfd, POLLIN, 0}};
        if (poll(fds, s->rfd >= 0 ? 2 : 1, timeout) > 0 && (fds[1].revents & POLLIN))
            drain(s);
    }
    if (s->rfd >= 0)
        drain(s);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

void fsan_supervisor_close(struct fsan_supervisor *s)
{
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->wfd >= 0)
        close(s->wfd);
    s->rfd = s->wfd = -1;
    if (s->path[0])
        unlink(s->path);
    s->path[0] = '\0';
}

void fsan_supervisor_free(struct fsan_supervisor *s)
{
    fsan_supervisor_close(s);
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
}

/* ---- into the report ---------------------------------------------------------- */

static char *dup_range(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static int push_notice(struct fsan_report *r, char *text, int first)
{
    if (!text)
        return -ENOMEM;
    char **grown = realloc(r->notices, (r->nnotices + 1) * sizeof *grown);
    if (!grown) {
        free(text);
        return -ENOMEM;
    }
    r->notices = grown;
    if (first) {
        memmove(grown + 1, grown, r->nnotices * sizeof *grown);
        grown[0] = text;
    } else {
        grown[r->nnotices] = text;
    }
    r->nnotices++;
    return 0;
}

static int has_finding(const struct fsan_report *r, const char *rule, int pid)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        if (strcmp(r->findings[i].rule, rule) != 0)
            continue;
        for (size_t j = 0; j < r->findings[i].npids; j++)
            if (r->findings[i].pids[j] == pid)
                return 1;
    }
    return 0;
}

/* The headline of a live report: "==PID==LEVEL: forksan: RULE: message". */
struct headline {
    const struct fsan_rule_info *rule;
    enum fsan_severity severity;
    const char *message;
    size_t message_len;
};

static int parse_headline(const char *text, size_t len, struct headline *h)
{
    const char *eol = memchr(text, '\n', len);
    size_t n = eol ? (size_t)(eol - text) : len;
    const char *id = memmem(text, n, "==ERROR: forksan: ", 18);
    h->severity = FSAN_SEV_ERROR;
    if (id) {
        id += 18;
    } else if ((id = memmem(text, n, "==WARNING: forksan: ", 20)) != NULL) {
        id += 20;
        h->severity = FSAN_SEV_WARNING;
    } else {
        return -1;
    }
    const char *colon = memchr(id, ':', (size_t)(text + n - id));
    char name[64];
    if (!colon || (size_t)(colon - id) >= sizeof name)
        return -1;
    memcpy(name, id, (size_t)(colon - id));
    name[colon - id] = '\0';
    if (!(h->rule = fsan_rule_find(name)))
        return -1;
    h->message = colon + 1 + (colon[1] == ' ');
    h->message_len = (size_t)(text + n - h->message);
    return 0;
}

/* One line of the runtime's site lists as a frame: `File "F", line N, in
 * FN` (Python) or `#N 0xADDR (MODULE+0xOFF)` (native, not symbolized).
 * 0, 1 when the line is no frame, or -ENOMEM. */
static int parse_frame(const char *line, size_t n, struct fsan_frame *fr)
{
    char *text = dup_range(line, n);
    if (!text)
        return -ENOMEM;
    memset(fr, 0, sizeof *fr);
    int rc = 1;
    char *mid, *in;
    unsigned long long addr, off;
    int idx, used = 0;
    if (strncmp(text, "File \"", 6) == 0 && (mid = strstr(text, "\", line ")) != NULL &&
        (in = strstr(mid, ", in ")) != NULL) {
        fr->language = "python";
        fr->line = atoi(mid + 8);
        fr->file = dup_range(text + 6, (size_t)(mid - text - 6));
        fr->function = strdup(in + 5);
        rc = fr->file && fr->function ? 0 : -ENOMEM;
    } else if (sscanf(text, "#%d 0x%llx (%n", &idx, &addr, &used) == 2 && used > 0 &&
               (mid = strrchr(text, '+')) != NULL && mid > text + used && sscanf(mid, "+0x%llx)", &off) == 1) {
        fr->language = "c";
        fr->address = addr;
        fr->module_offset = off;
        fr->module = dup_range(text + used, (size_t)(mid - text - used));
        rc = fr->module ? 0 : -ENOMEM;
    }
    if (rc != 0) {
        free(fr->file);
        free(fr->function);
        free(fr->module);
    }
    free(text);
    return rc;
}

static struct fsan_location *new_location(struct fsan_finding *f, const char *heading, size_t n)
{
    struct fsan_location *locs = realloc(f->locations, (f->nlocations + 1) * sizeof *locs);
    if (!locs)
        return NULL;
    f->locations = locs;
    struct fsan_location *l = &locs[f->nlocations];
    memset(l, 0, sizeof *l);
    l->role = "live";
    if (!(l->description = dup_range(heading, n)))
        return NULL;
    f->nlocations++;
    return l;
}

static int add_frame(struct fsan_location *l, const struct fsan_frame *fr)
{
    struct fsan_frame *frames = realloc(l->frames, (l->nframes + 1) * sizeof *frames);
    if (!frames)
        return -ENOMEM;
    l->frames = frames;
    frames[l->nframes++] = *fr;
    return 0;
}

/* A finding from a live report the traces lost.  The headline gives rule,
 * severity and message; a line ending in ':' starts a location, the frame
 * lines under it are its stack; any other line adds to the message. */
static int add_live_finding(struct fsan_report *r, int pid, const char *text, size_t len)
{
    struct headline h;
    if (parse_headline(text, len, &h) < 0 || has_finding(r, h.rule->id, pid))
        return 0;
    struct fsan_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    r->findings = grown;
    struct fsan_finding *f = &grown[r->nfindings];
    memset(f, 0, sizeof *f);
    f->rule = h.rule->id;
    f->severity = h.severity;
    f->count = 1;
    f->pids = malloc(sizeof *f->pids);
    char *message = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&message, &mlen);
    if (!f->pids || !m) {
        free(f->pids);
        if (m)
            fclose(m);
        free(message);
        return -ENOMEM;
    }
    f->pids[0] = pid;
    f->npids = 1;
    r->nfindings++; /* from here on, fsan_report_free() frees what it holds */
    fprintf(m, "%.*s", (int)h.message_len, h.message);
    int rc = 0;
    struct fsan_location *loc = NULL;
    const char *line = memchr(text, '\n', len);
    while (rc == 0 && line && ++line < text + len) {
        const char *eol = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = eol ? (size_t)(eol - line) : (size_t)(text + len - line);
        while (n && *line == ' ')
            line++, n--;
        struct fsan_frame fr;
        if (n == 0 || strncmp(line, "SUMMARY:", 8) == 0 || (n > 0 && line[0] == '(')) {
            /* the closing line, or "(call site not recorded)" */
        } else if (line[n - 1] == ':') {
            if (!(loc = new_location(f, line, n)))
                rc = -ENOMEM;
        } else if (loc && (rc = parse_frame(line, n, &fr)) == 0) {
            if ((rc = add_frame(loc, &fr)) < 0) {
                free(fr.file);
                free(fr.function);
                free(fr.module);
            }
        } else if (rc >= 0) {
            fprintf(m, "; %.*s", (int)n, line);
            rc = 0;
        }
        line = eol;
    }
    fputs(" (from the runtime's live report: the trace is incomplete)", m);
    if (fclose(m) != 0 || !message)
        return -ENOMEM;
    f->message = message;
    /* The fingerprint: the rule and the headline without its numbers
     * (addresses, thread ids), which change from run to run. */
    char words[FSAN_SUP_MSG_MAX];
    size_t n = 0;
    for (const char *p = h.message; p < h.message + h.message_len; p++)
        if (*p < '0' || *p > '9')
            words[n++] = *p;
    words[n] = '\0';
    uint64_t fp = fsan_fnv1a(fsan_fnv1a(FSAN_FNV_SEED, f->rule), words);
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016llx", (unsigned long long)fp);
    return rc;
}

int fsan_supervisor_apply(struct fsan_supervisor *s, struct fsan_report *r)
{
    char incomplete[1024] = "";
    size_t nincomplete = 0, used = 0;
    size_t nfindings = r->nfindings;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at + sizeof(struct fsan_sup_header) <= s->len;) {
        struct fsan_sup_header h;
        memcpy(&h, s->buf + at, sizeof h);
        if (h.size > FSAN_SUP_MSG_MAX || at + sizeof h + h.size > s->len)
            break; /* not a message of ours: stop rather than guess */
        const char *text = s->buf + at + sizeof h;
        at += sizeof h + h.size;
        if (h.kind == FSAN_SUP_INCOMPLETE) {
            char *end;
            long err = strtol(text, &end, 10);
            if (nincomplete++ < 8 && used < sizeof incomplete)
                used += (size_t)snprintf(incomplete + used, sizeof incomplete - used, "%spid %u (%s)",
                                         nincomplete > 1 ? ", " : "", h.pid, strerror((int)err));
        } else if (h.kind == FSAN_SUP_FINDING) {
            rc = add_live_finding(r, (int)h.pid, text, h.size);
        } else if (h.kind == FSAN_SUP_MESSAGE) {
            const char *m = memmem(text, h.size, "forksan: ", 9);
            m = m ? m + 9 : text;
            const char *eol = memchr(m, '\n', (size_t)(text + h.size - m));
            size_t n = eol ? (size_t)(eol - m) : (size_t)(text + h.size - m);
            char *notice = malloc(n + 40);
            if (notice)
                snprintf(notice, n + 40, "runtime of process %u: %.*s", h.pid, (int)n, m);
            rc = push_notice(r, notice, 0);
        }
    }
    if (rc == 0 && r->nfindings > nfindings)
        qsort(r->findings, r->nfindings, sizeof *r->findings, fsan_finding_cmp);
    s->incomplete = r->incomplete = nincomplete;
    if (rc == 0 && nincomplete) {
        char *notice = NULL;
        if (asprintf(&notice,
                     "incomplete traces: %zu %s could not write %s whole trace: %s%s; the findings they announced "
                     "live are reported, others of theirs may be missing (free space in the trace directory, or "
                     "choose another with --trace-dir)",
                     nincomplete, nincomplete == 1 ? "process" : "processes", nincomplete == 1 ? "its" : "their",
                     incomplete, nincomplete > 8 ? ", ..." : "") < 0)
            notice = NULL;
        rc = push_notice(r, notice, 1);
    }
    if (rc == 0 && s->dropped) {
        char *notice = NULL;
        if (asprintf(&notice, "%zu bytes of the runtime's messages to forksan run were not kept", s->dropped) < 0)
            notice = NULL;
        rc = push_notice(r, notice, 1);
    }
    return rc;
}

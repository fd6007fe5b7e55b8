/* child.c — the fork snapshot, and the forked child's watch over the locks
 * it inherited.
 *
 * At fork the child's memory is a frozen, exact copy of the parent's at the
 * fork instant, and nothing else runs in it yet: the thread table and every
 * thread's held-lock stack are consistent there, which the parent, whose
 * other threads keep running, could never guarantee.  So the child writes
 * the snapshot: every thread that was alive (the forking thread
 * lives on, all others vanished), every lock each of them held and where it
 * was taken.  It keeps the held locks in a small table to answer, later, one
 * question quickly: "this lock is unavailable — can anybody release it?"
 *
 * DESIGN
 * Everything here is AS-safe: the snapshot runs as the first atfork child
 * handler (or straight after _Fork, which runs no handlers), where the only
 * thread is the forking one and any lock a vanished thread held stays held
 * forever.  Memory is static and sized at build time.  The child's verdict
 * is made before the blocking call: a child that then hangs has already
 * written (and flushed) its explanation.
 */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fsan.h"


#define SNAP_MAX_LOCKS 1024
#define SNAP_INDEX 2048 /* power of two, > 2 * SNAP_MAX_LOCKS */
#define REPORTED_MAX 64

enum snap_state { SNAP_HELD = 1, SNAP_RELEASED = 2, SNAP_REINIT = 3, SNAP_DESTROYED = 4 };

struct snap_lock {
    uintptr_t addr;
    pid_t holder_tid; /* in the parent */
    uint32_t site;
    uint32_t kind;
    uint16_t type;
    uint8_t vanished;
    uint8_t state;
    uint32_t pysite;
};

struct snap_thread {
    pid_t tid;
    uint32_t flags;
    uintptr_t self;  /* its pthread_self() */
    char name[16];
    char pyname[32]; /* threading.Thread.name, if known */
};

static struct snap_lock snap_locks[SNAP_MAX_LOCKS];
static uint16_t snap_index[SNAP_INDEX]; /* index+1 into snap_locks, 0 = empty */
FSAN_HOT static uint32_t n_snap_locks;
static struct snap_thread snap_threads[FSAN_MAX_THREADS];
FSAN_HOT static uint32_t n_snap_threads;
FSAN_HOT static pid_t snap_forker_tid;  /* the forking thread's tid in the parent */
FSAN_HOT static uint32_t snap_fork_site;
FSAN_HOT static pid_t snap_parent_pid;
FSAN_HOT static int snap_clean; /* nothing was written at fork (see write_deferred_forker) */

static struct {
    uintptr_t addr;
    uint32_t site;
} reported[REPORTED_MAX];
FSAN_HOT static uint32_t n_reported;

static uint32_t addr_hash(uintptr_t addr)
{
    return (uint32_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> 40) & (SNAP_INDEX - 1);
}

static struct snap_lock *snap_find(uintptr_t addr)
{
    if (n_snap_locks == 0)
        return NULL;
    for (uint32_t i = addr_hash(addr), n = 0; n < SNAP_INDEX; n++, i = (i + 1) & (SNAP_INDEX - 1)) {
        uint16_t idx = snap_index[i];
        if (idx == 0)
            return NULL;
        if (snap_locks[idx - 1].addr == addr)
            return &snap_locks[idx - 1];
    }
    return NULL;
}

static void snap_add(const struct fsan__held *h, uintptr_t addr, pid_t holder, int vanished)
{
    if (n_snap_locks == SNAP_MAX_LOCKS || snap_find(addr))
        return;
    struct snap_lock *l = &snap_locks[n_snap_locks++];
    l->addr = addr;
    l->holder_tid = holder;
    l->site = h->site;
    l->kind = h->kind;
    l->type = h->type;
    l->vanished = (uint8_t)vanished;
    l->state = SNAP_HELD;
    l->pysite = h->pysite;
    uint32_t i = addr_hash(addr);
    while (snap_index[i])
        i = (i + 1) & (SNAP_INDEX - 1);
    snap_index[i] = (uint16_t)n_snap_locks;
}

static const struct snap_thread *snap_thread_by_tid(pid_t tid)
{
    for (uint32_t i = 0; i < n_snap_threads; i++)
        if (snap_threads[i].tid == tid)
            return &snap_threads[i];
    return NULL;
}

/* Reads the kernel's name of a parent thread: pthread_setname_np and
 * prctl(PR_SET_NAME) both end up there. */
static void read_comm(pid_t pid, pid_t tid, char name[16])
{
    char path[64];
    struct fsan__sbuf sb = {path, sizeof path - 1, 0};
    fsan__sb_str(&sb, "/proc/");
    fsan__sb_dec(&sb, pid);
    fsan__sb_str(&sb, "/task/");
    fsan__sb_dec(&sb, tid);
    fsan__sb_str(&sb, "/comm");
    path[sb.len] = '\0';
    char buf[32];
    ssize_t n = fsan__read_file(path, buf, sizeof buf);
    size_t len = 0;
    while (n > 0 && len < (size_t)n && len < 15 && buf[len] != '\n')
        len++;
    memcpy(name, buf, len);
    name[len] = '\0';
}

/* AS-safe: a Python stack (and, for a thread, its Python name) attached
 * to another record (see PYREF). */
static void write_named_pyref(uint32_t what, uint32_t pysite, uint64_t key, const char *name)
{
    if (!pysite && !name[0])
        return;
    fsan__pysite_write(pysite);
    struct fsan_rec_pyref ref;
    memset(&ref, 0, sizeof ref);
    ref.what = what;
    ref.pysite = pysite;
    ref.key = key;
    strncpy(ref.name, name, sizeof ref.name - 1);
    fsan__trace_record(FSAN_REC_PYREF, &ref, sizeof ref, NULL, 0);
}

static void write_pyref(uint32_t what, uint32_t pysite, uint64_t key)
{
    write_named_pyref(what, pysite, key, "");
}

/* AS-safe: a thread's Python stack and name (PYREF THREAD). */
static void write_thread_pyref(const struct fsan__thread *t, uint32_t pysite)
{
    write_named_pyref(FSAN_PYREF_THREAD, pysite, (uint64_t)t->tid, t->pyname);
}

/* AS-safe: the Python side of the fork itself, once per child trace. */
static void write_python_fork(void)
{
    fsan__py_write_info();
    write_pyref(FSAN_PYREF_FORK, fsan__proc.fork_pysite, 0);
}

/* AS-safe: the semaphore at addr had units left at the fork.  Read from a
 * copy, so a semaphore freed since cannot crash the child. */
static int sem_has_units(uintptr_t addr)
{
    sem_t copy;
    int value = 0;
    return fsan__read_mem(&copy, addr, sizeof copy) == 0 && sem_getvalue(&copy, &value) == 0 && value > 0;
}

/* A lock the forking thread took inside the fork call itself (CPython's
 * os.fork holds the import lock and its own runtime locks across fork and
 * releases or re-creates them in the child). */
static int fork_call_hold(const struct fsan__thread *t, const struct fsan__thread *forker, const struct fsan__held *h)
{
    return t == forker && fsan__proc.fork_pysite && fsan__py_site_within(h->pysite, fsan__proc.fork_pysite);
}

static void snapshot_thread(struct fsan__thread *t, struct fsan__thread *forker, uint32_t *held_total)
{
    struct snap_thread *st = n_snap_threads < FSAN_MAX_THREADS ? &snap_threads[n_snap_threads++] : NULL;
    struct fsan_rec_thread rec;
    memset(&rec, 0, sizeof rec);
    rec.tid = (uint32_t)t->tid;
    rec.flags = t == forker ? FSAN_THREAD_FORKER : FSAN_THREAD_VANISHED;
    if (t->tid == snap_parent_pid)
        rec.flags |= FSAN_THREAD_MAIN;
    rec.start_routine = t->start_routine;
    rec.create_site = t->create_site;
    rec.last_site = t->last_site;
    if (t->name[0])
        memcpy(rec.name, t->name, sizeof rec.name);
    else if (t == forker)
        read_comm(fsan__proc.pid, (pid_t)fsan__sys_gettid(), rec.name); /* copied from the forker */
    else
        read_comm(snap_parent_pid, t->tid, rec.name);
    rec.name[15] = '\0';
    if (st) {
        st->tid = t->tid;
        st->flags = rec.flags;
        st->self = t->self;
        memcpy(st->name, rec.name, sizeof st->name);
        memcpy(st->pyname, t->pyname, sizeof st->pyname);
        st->pyname[sizeof st->pyname - 1] = '\0';
    }
    fsan__trace_record(FSAN_REC_THREAD, &rec, sizeof rec, NULL, 0);
    fsan__site_write(t->create_site);
    if (t->tid)
        write_thread_pyref(t, t == forker ? fsan__proc.fork_pysite : fsan__py_thread_stack(t->tid));

    uint32_t count = atomic_load(&t->held_count);
    for (uint32_t i = 0; i < count && i < FSAN_MAX_HELD; i++) {
        struct fsan__held *h = &t->held[i];
        uintptr_t addr = atomic_load(&h->addr);
        if (addr == 0)
            continue;
        int fork_call = fork_call_hold(t, forker, h);
        int available = h->type == FSAN_LOCK_SEM && sem_has_units(addr);
        struct fsan_rec_held hr = {
            .lock_addr = addr,
            .holder_tid = (uint32_t)t->tid,
            .acquire_site = h->site,
            .lock_type = h->type,
            .mode = h->mode,
            .kind = h->kind,
            .depth = h->depth,
            .flags = ((t != forker && t->waiting_on == addr) ? FSAN_HELD_SELF_WAIT : 0) |
                     (fsan__site_shared(h->site, addr) ? FSAN_HELD_SITE_SHARED : 0) |
                     (fork_call ? FSAN_HELD_FORK_CALL : 0) | (available ? FSAN_HELD_AVAILABLE : 0),
        };
        fsan__trace_record(FSAN_REC_HELD, &hr, sizeof hr, NULL, 0);
        fsan__site_write(h->site);
        write_pyref(FSAN_PYREF_HELD, h->pysite, addr);
        if (!(h->kind & FSAN_KIND_PSHARED))
            snap_add(h, addr, t->tid, t != forker);
        /* The child's own after-fork step releases or replaces it
         * (CPython leaks the old lock and makes a new one): the child's
         * thread does not hold it any more, and a fork of this child must
         * not see it as held. */
        if (fork_call)
            atomic_store(&h->addr, 0);
        (*held_total)++;
    }
}

/* AS-safe: does the snapshot have anything in it?  Read-only, so a clean
 * child touches (and copies) as few pages as possible. */
static int snapshot_is_clean(const struct fsan__thread *forker)
{
    uint32_t hwm = atomic_load(&fsan__threads_hwm);
    for (uint32_t i = 0; i < hwm; i++) {
        const struct fsan__thread *t = &fsan__threads[i];
        if (atomic_load(&t->state) != FSAN_SLOT_LIVE)
            continue;
        if (t != forker)
            return 0;
        uint32_t count = atomic_load(&t->held_count);
        for (uint32_t j = 0; j < count && j < FSAN_MAX_HELD; j++)
            if (atomic_load(&t->held[j].addr) != 0 && !fork_call_hold(t, forker, &t->held[j]))
                return 0;
    }
    return 1;
}

/* AS-safe: a clean child's forker drops the holds of the fork call (the
 * child's own after-fork step released or replaced those locks), so that a
 * fork of this child does not see them as held. */
static void drop_fork_call_holds(struct fsan__thread *forker)
{
    uint32_t count = atomic_load(&forker->held_count);
    for (uint32_t j = 0; j < count && j < FSAN_MAX_HELD; j++)
        if (atomic_load(&forker->held[j].addr) != 0 && fork_call_hold(forker, forker, &forker->held[j]))
            atomic_store(&forker->held[j].addr, 0);
}

/* AS-safe: was the forking thread the only live thread? */
static int snapshot_single_threaded(const struct fsan__thread *forker)
{
    uint32_t hwm = atomic_load(&fsan__threads_hwm);
    for (uint32_t i = 0; i < hwm; i++)
        if (&fsan__threads[i] != forker && atomic_load(&fsan__threads[i].state) == FSAN_SLOT_LIVE)
            return 0;
    return 1;
}

/* AS-safe: a clean child that later finds something writes the forking
 * thread's record then, from its slot (which still holds it). */
static void write_deferred_forker(void)
{
    if (!snap_clean)
        return;
    snap_clean = 0;
    struct fsan__thread *self = fsan__self_peek();
    struct fsan_rec_thread rec;
    memset(&rec, 0, sizeof rec);
    rec.tid = (uint32_t)snap_forker_tid;
    rec.flags = FSAN_THREAD_FORKER | (snap_forker_tid == snap_parent_pid ? FSAN_THREAD_MAIN : 0);
    if (self) {
        rec.start_routine = self->start_routine;
        rec.create_site = self->create_site;
        memcpy(rec.name, self->name, sizeof rec.name);
    }
    if (!rec.name[0])
        read_comm(fsan__proc.pid, (pid_t)fsan__sys_gettid(), rec.name);
    rec.name[15] = '\0';
    fsan__trace_record(FSAN_REC_THREAD, &rec, sizeof rec, NULL, 0);
    fsan__site_write(rec.create_site);
    fsan__site_write(snap_fork_site);
    write_python_fork();
}

/* AS-safe: see fsan.h. */
void fsan__child_note_finding(void)
{
    write_deferred_forker();
}

/* AS-safe: the first thing a forked child does. */
FSAN_CHILD_PATH void fsan__child_snapshot(struct fsan__thread *forker)
{
    /* Nothing on the clean path below touches errno (raw syscalls only). */
    if (forker)
        snap_forker_tid = forker->tid;
    fsan__proc.pid = (pid_t)fsan__sys_getpid();
    fsan__proc.in_child = 1;
    /* Kept apart: merged, the two stores load their pair from .rodata, a
     * page the child reads nowhere else (one more fault per fork). */
    __asm__ volatile("" ::: "memory");
    atomic_store_explicit(&fsan__proc.child_live_threads, 1, memory_order_relaxed);
    if (FSAN_UNLIKELY(fsan__proc.child_started_threads)) /* this process is itself a child that did */
        fsan__proc.child_started_threads = 0;
    fsan__proc.exit_recorded = 0;
    /* A thread that was inside the unwinder may have held the loader's lock. */
    if (atomic_load(&fsan__unwinding) != 0) {
        fsan__proc.unwind_unsafe = 1;
        atomic_store(&fsan__unwinding, 0);
    }
    fsan__trace_after_fork_child();

    snap_parent_pid = (pid_t)fsan__sys_getppid();
    snap_fork_site = fsan__proc.fork_site;
    n_snap_locks = 0;
    n_snap_threads = 0;
    n_reported = 0;
    fsan__trace_open_process(FSAN_PROC_FORK, (uint32_t)snap_forker_tid, snap_fork_site);

    snap_clean = snapshot_is_clean(forker);
    fsan__loops_after_fork_child(snap_forker_tid);
    fsan__stdio_after_fork_child();
    if (snap_clean) {
        /* The common case: one thread, no lock held.  Nothing to write,
         * not even the forker's new tid (fork() refreshes it before every
         * fork); each page written here would be copied.  (The forker's
         * overflow count is the parent's history, not this child's.) */
        if (FSAN_UNLIKELY(forker && forker->held_overflow))
            forker->held_overflow = 0;
        if (forker && fsan__proc.fork_pysite)
            drop_fork_call_holds(forker);
        if (FSAN_UNLIKELY(fsan__proc.opts.trace_all)) {
            write_deferred_forker();
            fsan__trace_mark_needed();
        }
        return;
    }
    int saved = errno;
    int alone = snapshot_single_threaded(forker);
    if (!alone)
        fsan__proc.unwind_unsafe = 1; /* see stack.c: no unwinding in this child */
    memset(snap_index, 0, sizeof snap_index);
    fsan__site_write(snap_fork_site);
    write_python_fork();
    uint32_t held = 0, full = 0;
    uint32_t hwm = atomic_load(&fsan__threads_hwm);
    for (uint32_t i = 0; i < hwm; i++) {
        struct fsan__thread *t = &fsan__threads[i];
        if (atomic_load(&t->state) != FSAN_SLOT_LIVE)
            continue;
        snapshot_thread(t, forker, &held);
        full += atomic_load(&t->held_count) >= FSAN_MAX_HELD;
    }
    fsan__threads_after_fork_child(forker);
    /* This child's own count: threads whose held-lock table was full at
     * the fork, so the snapshot may lack some of their locks (STATS). */
    if (forker)
        forker->held_overflow = full;
    if (full)
        fsan__trace_stats(); /* now: a child that hangs never reaches its exit */
    /* Another thread vanished: something may become a finding, so the
     * file is made complete now, and the evidence survives a child that
     * hangs or is killed.  The forking thread alone, with locks of its own
     * (CPython's main thread always holds one), says nothing until the
     * child does something with them: the records wait in the buffer, and
     * leave with the first finding or lock event, or never, with a child
     * that just ends. */
    fsan__trace_maps();
    if (!alone || full) {
        fsan__trace_mark_needed();
        fsan__trace_flush();
    }
    errno = saved;
}

/* AS-safe: fork() returned in the child; the atfork child handlers (which
 * release or re-create the locks their prepare handlers took) have run. */
void fsan__child_resumed(struct fsan__thread *forker)
{
    if (!fsan__proc.in_child || snap_clean)
        return;
    struct fsan_rec_resumed r = {(uint32_t)fsan__sys_gettid(), 0};
    fsan__trace_record(FSAN_REC_RESUMED, &r, sizeof r, NULL, 0);
}

/* AS-safe */
void fsan__child_lock_event(uintptr_t addr, uint32_t event, uint32_t site)
{
    struct snap_lock *l = snap_find(addr);
    if (!l)
        return;
    uint8_t state = event == FSAN_LOCKEV_RELEASED ? SNAP_RELEASED
                  : event == FSAN_LOCKEV_REINIT   ? SNAP_REINIT
                                                  : SNAP_DESTROYED;
    if (l->state == state)
        return;
    l->state = state;
    fsan__trace_mark_needed();
    struct fsan_rec_lock_event ev = {addr, event, (uint32_t)fsan__sys_gettid(), site, 0};
    fsan__site_write(site);
    fsan__trace_record(FSAN_REC_LOCK_EVENT, &ev, sizeof ev, NULL, 0);
    /* Written out at once: fork children are often ended by a signal
     * (Pool.terminate), and a release that stays in the buffer would turn
     * into a lock "never released" in the report. */
    fsan__trace_flush();
}

static int already_reported(uintptr_t addr, uint32_t site)
{
    for (uint32_t i = 0; i < n_reported; i++)
        if (reported[i].addr == addr && reported[i].site == site)
            return 1;
    if (n_reported < REPORTED_MAX) {
        reported[n_reported].addr = addr;
        reported[n_reported].site = site;
        n_reported++;
    }
    return 0;
}

/* AS-safe: "(/path/module+0xoff)" for addr, from the maps text. */
static void describe_address(struct fsan__sbuf *sb, uintptr_t addr)
{
    size_t len;
    const char *maps = fsan__maps_text(&len);
    struct fsan__mapping m;
    if (!fsan__maps_find(maps, len, addr, &m))
        return;
    fsan__sb_str(sb, " (");
    if (m.path)
        fsan__sb_text(sb, m.path, m.path_len, 0);
    fsan__sb_str(sb, "+");
    fsan__sb_hex(sb, addr - m.start + m.offset);
    fsan__sb_str(sb, ")");
}

/* AS-safe.  See fsan.h. */
void fsan__site_describe(struct fsan__sbuf *sb, const char *title, uint32_t site)
{
    fsan__sb_str(sb, "  ");
    fsan__sb_str(sb, title);
    fsan__sb_str(sb, ":\n");
    if (site == 0 || site > FSAN_MAX_SITES) {
        fsan__sb_str(sb, "    (call site not recorded)\n");
        return;
    }
    const struct fsan__site *s = &fsan__sites[site - 1];
    uint32_t n = atomic_load(&s->nframes);
    if (n == 0) {
        fsan__sb_str(sb, "    #0 ");
        fsan__sb_hex(sb, atomic_load(&s->key));
        describe_address(sb, atomic_load(&s->key));
        fsan__sb_str(sb, "\n");
        return;
    }
    for (uint32_t i = 0; i < n && i < 8; i++) {
        fsan__sb_str(sb, "    #");
        fsan__sb_dec(sb, i);
        fsan__sb_str(sb, " ");
        fsan__sb_hex(sb, s->frames[i]);
        describe_address(sb, s->frames[i]);
        fsan__sb_str(sb, "\n");
    }
}

static const char *lock_type_name(uint16_t type)
{
    switch (type) {
    case FSAN_LOCK_MUTEX: return "mutex";
    case FSAN_LOCK_RWLOCK: return "rwlock";
    case FSAN_LOCK_COND: return "condition variable";
    case FSAN_LOCK_PYMUTEX: return "CPython lock";
    default: return "semaphore";
    }
}

/* AS-safe: ` "name"` of a thread of the snapshot, when it has one. */
static void append_thread_name(struct fsan__sbuf *sb, pid_t tid)
{
    const struct snap_thread *st = snap_thread_by_tid(tid);
    const char *name = st ? (st->pyname[0] ? st->pyname : st->name) : "";
    if (!name[0])
        return;
    fsan__sb_str(sb, " \"");
    fsan__sb_text(sb, name, strlen(name), 1);
    fsan__sb_str(sb, "\"");
}

/* AS-safe: the runtime's own short report, for people without the command
 * (bare LD_PRELOAD), for a child that will hang before any report runs, and
 * for forksan run when the trace lost the finding's records. */
static void print_child_report(const struct fsan_rec_deadlock *d, uint32_t attempt_pysite, uint32_t acquire_pysite)
{
    static char text[8192];
    struct fsan__sbuf sb = {text, sizeof text - 1, 0};
    int cond = d->form == FSAN_DL_COND_VANISHED_SIGNALLER;
    fsan__sb_str(&sb, "==");
    fsan__sb_dec(&sb, fsan__proc.pid);
    fsan__sb_str(&sb, cond ? "==ERROR: forksan: child-deadlock: the forked child is about to wait forever on "
                           : "==ERROR: forksan: child-deadlock: the forked child is about to block forever on ");
    fsan__sb_str(&sb, lock_type_name(d->lock_type));
    fsan__sb_str(&sb, " ");
    fsan__sb_hex(&sb, d->lock_addr);
    fsan__sb_str(&sb, "\n  ");
    if (d->form == FSAN_DL_VANISHED_HOLDER) {
        fsan__sb_str(&sb, "it was held at fork by thread ");
        fsan__sb_dec(&sb, d->holder_tid);
        append_thread_name(&sb, (pid_t)d->holder_tid);
        fsan__sb_str(&sb, ", which does not exist in the child");
    } else if (cond) {
        fsan__sb_str(&sb, "before the fork it was signalled only by thread ");
        fsan__sb_dec(&sb, d->holder_tid);
        append_thread_name(&sb, (pid_t)d->holder_tid);
        if (d->kind > 1)
            fsan__sb_str(&sb, " and other threads");
        fsan__sb_str(&sb, ", which vanished at the fork, and the child has no other thread to signal it");
    } else if (d->form == FSAN_DL_FORKER_REACQUIRE) {
        fsan__sb_str(&sb, "the forking thread held it at fork; the child's thread has a new identity and cannot take it again");
    } else if (d->form == FSAN_DL_HOLDER_UNRECORDED) {
        fsan__sb_str(&sb, "it is held, and the child has one thread, which started none since the fork: nobody can release it "
                          "(the lock records no holder)");
    } else {
        fsan__sb_str(&sb, "its owner, thread ");
        fsan__sb_dec(&sb, d->holder_tid);
        fsan__sb_str(&sb, ", does not exist in the child: nobody can release it");
    }
    fsan__sb_str(&sb, "\n");
    if (attempt_pysite)
        fsan__pysite_describe(&sb, "the child's attempt", attempt_pysite);
    else
        fsan__site_describe(&sb, "the child's attempt", d->attempt_site);
    const char *acquired = cond ? "it was signalled in the parent at" : "the lock was acquired in the parent at";
    if (acquire_pysite)
        fsan__pysite_describe(&sb, acquired, acquire_pysite);
    else if (d->acquire_site)
        fsan__site_describe(&sb, acquired, d->acquire_site);
    if (fsan__proc.fork_pysite)
        fsan__pysite_describe(&sb, "fork was called at", fsan__proc.fork_pysite);
    else
        fsan__site_describe(&sb, "fork was called at", snap_fork_site);
    fsan__sb_str(&sb, "SUMMARY: forksan: child-deadlock");
    const char *trace = fsan__trace_path();
    if (trace) {
        fsan__sb_str(&sb, " (symbolized report: forksan report ");
        fsan__sb_text(&sb, fsan__proc.opts.trace_dir, strlen(fsan__proc.opts.trace_dir), 0);
        fsan__sb_str(&sb, ")");
    }
    fsan__sb_str(&sb, "\n");
    fsan__announce(text, sb.len);
}

/* AS-safe: the number of threads the kernel counts in this process, 0
 * when it cannot be read.  It sees every thread, those made with clone()
 * directly and those libc starts for itself included. */
static long kernel_thread_count(void)
{
    return (long)fsan__stat_field(20);
}

/* AS-safe: is tid a thread of this process?  A lookup under
 * /proc/self/task finds only this process's own threads. */
static int thread_lives_here(pid_t tid)
{
    char path[64];
    struct fsan__sbuf sb = {path, sizeof path - 1, 0};
    fsan__sb_str(&sb, "/proc/self/task/");
    fsan__sb_dec(&sb, tid);
    path[sb.len] = '\0';
    return fsan__sys_exists(path);
}

/* AS-safe: has this child exactly one thread?  Both counts must say so:
 * the runtime's (raised by pthread_create before the thread exists, so a
 * thread being born is never missed) and the kernel's (which also sees
 * threads that never went through pthread_create). */
static int child_single_threaded(void)
{
    return atomic_load(&fsan__proc.child_live_threads) <= 1 && kernel_thread_count() == 1;
}

/* AS-safe.  See fsan.h. */
int fsan__child_alone(void)
{
    return !fsan__proc.child_started_threads && child_single_threaded();
}

/* AS-safe.  See fsan.h. */
int fsan__child_thread_vanished(pid_t tid)
{
    const struct snap_thread *st = tid ? snap_thread_by_tid(tid) : NULL;
    return st && (st->flags & FSAN_THREAD_VANISHED);
}

/* AS-safe: can anybody in this child ever make the lock available?  Only
 * a "no" backed by evidence is a finding; anything uncertain is "maybe".
 *  - A mutex or a write-held rwlock records its owner's tid: when that
 *    thread does not exist here, nobody can unlock it (from the snapshot
 *    we also know who it was).  When the owner lives here, it is the
 *    child's own business.
 *  - A semaphore has no owner: any thread may post it, a signal handler
 *    too.  It is a finding only when the snapshot says a thread held it at
 *    fork (a semaphore used as a lock, like every CPython lock) and the
 *    child has no other thread that could post it.  A read-held rwlock
 *    records no owner either: the snapshot must say who held it. */
/* The owner a mutex or rwlock names right now (0 for a semaphore). */
static pid_t owner_now(uintptr_t addr, uint16_t type)
{
    if (type == FSAN_LOCK_MUTEX)
        return fsan__mutex_owner((const pthread_mutex_t *)addr);
    if (type == FSAN_LOCK_RWLOCK)
        return fsan__rwlock_writer((const pthread_rwlock_t *)addr);
    return 0;
}

static int child_verdict(uintptr_t addr, const struct snap_lock *l, uint16_t type, pid_t owner,
                         struct fsan_rec_deadlock *d)
{
    if (owner != 0 && thread_lives_here(owner))
        return 0;
    if (l && l->state == SNAP_HELD) {
        if ((type == FSAN_LOCK_SEM || owner == 0) && !child_single_threaded())
            return 0;
        d->form = l->vanished ? FSAN_DL_VANISHED_HOLDER : FSAN_DL_FORKER_REACQUIRE;
        d->holder_tid = (uint32_t)l->holder_tid;
        d->acquire_site = l->site;
        return 1;
    }
    if (type == FSAN_LOCK_SEM || owner == 0)
        return 0;
    /* Not in the snapshot (taken before the runtime saw it, or a hold a
     * few instructions old): the lock itself names its owner.  The owner
     * was read before its thread was looked for, so a thread of the child
     * that released the lock and ended in between looks gone: only a lock
     * that still names it now is abandoned. */
    if (owner_now(addr, type) != owner || thread_lives_here(owner))
        return 0;
    const struct snap_thread *st = snap_thread_by_tid(owner);
    if (owner == snap_forker_tid || (st && (st->flags & FSAN_THREAD_FORKER)))
        d->form = FSAN_DL_FORKER_REACQUIRE;
    else if (st)
        d->form = FSAN_DL_VANISHED_HOLDER;
    else
        d->form = FSAN_DL_OWNER_GONE;
    d->holder_tid = (uint32_t)owner;
    return 1;
}

/* The child's threads may hit doomed locks at the same time: one of them
 * at a time records and prints (the set of reported locks and the report
 * buffer are shared).  A signal handler interrupting the reporting thread
 * does not wait for itself: it skips. */
static _Atomic pid_t report_owner;

static int report_lock(void)
{
    pid_t me = (pid_t)fsan__sys_gettid();
    pid_t expected = 0;
    while (!atomic_compare_exchange_weak(&report_owner, &expected, me)) {
        if (expected == me)
            return 0;
        expected = 0;
        __builtin_ia32_pause();
    }
    return 1;
}

static void report_unlock(void)
{
    atomic_store(&report_owner, 0);
}

/* AS-safe: a deadlock record of this thread's attempt, the verdict still
 * to be filled in. */
static void deadlock_attempt(struct fsan_rec_deadlock *d, uintptr_t addr, uint16_t type, uint16_t op, uint32_t kind,
                             uint32_t attempt_site)
{
    memset(d, 0, sizeof *d);
    d->lock_addr = addr;
    d->lock_type = type;
    d->op = op;
    d->kind = kind;
    d->tid = (uint32_t)fsan__sys_gettid();
    d->attempt_site = attempt_site;
}

/* AS-safe.  See fsan.h. */
int fsan__child_blocked(uintptr_t addr, uint16_t type, uint16_t op, uint32_t kind, pid_t owner_hint,
                        uint32_t attempt_site)
{
    if (!fsan__proc.in_child || (kind & FSAN_KIND_PSHARED))
        return 0;
    int saved = errno;
    struct fsan_rec_deadlock d;
    deadlock_attempt(&d, addr, type, op, kind, attempt_site);
    const struct snap_lock *l = snap_find(addr);
    if (!child_verdict(addr, l, type, owner_hint, &d)) {
        errno = saved;
        return 0;
    }
    fsan__child_report_deadlock(&d, l && l->state == SNAP_HELD ? l->pysite : 0);
    errno = saved;
    return 1;
}

/* CPython's parking lot (Python/parking_lot.c, 3.13 to 3.15) parks a
 * thread on a wait entry on its own stack,
 *     struct wait_entry { void *park_arg; uintptr_t addr; _PySemaphore sema; ... };
 * where sema is a bare sem_t (sem_init 0, sem_wait or sem_clockwait,
 * sem_destroy) and addr the word the thread waits on: for a PyMutex its
 * byte, whose bit 0 says locked and bit 1 that a thread is parked (the
 * parker sets it before it parks).  Only the parking lot posts that
 * semaphore, from a thread that unlocks the word: in a child with one
 * thread that started none since the fork, nobody will, and no signal
 * handler does (CPython's C handler only sets flags).  But a Python
 * signal handler runs while the acquire is interrupted, and can release
 * the lock (an Event.set() from a SIGTERM handler wakes Event.wait(), whose
 * Condition sleeps by taking a waiter lock it holds itself).  A lock taken
 * in the child looks the same as one held at fork: the byte records no
 * holder.  So it is a finding only when no Python handler can run but
 * SIGINT's (taken to be the default, which raises KeyboardInterrupt and
 * releases nothing), and the acquire is not Condition.wait's sleep. */
#define PARK_ADDR_BEFORE_SEM 8u
#define PYMUTEX_LOCKED 1u
#define PYMUTEX_HAS_PARKED 2u
/* 3.14+'s RLock is a _PyRecursiveMutex { PyMutex mutex; unsigned long
 * long thread; size_t level; }: its owner, as pthread_self(), 8 bytes
 * after the byte.  After a plain Lock's byte lies whatever follows the
 * object: only a value equal to a vanished thread's pthread_self() names
 * a holder, which no object field but an owner holds. */
#define RMUTEX_OWNER_AFTER_BYTE 8u

/* AS-safe: the vanished thread of the snapshot whose pthread_self() the
 * word after a parked-on PyMutex holds, as a 3.14+ RLock's owner. */
static const struct snap_thread *recorded_owner(uintptr_t word)
{
    uint64_t owner = 0;
    if (fsan__read_mem(&owner, word + RMUTEX_OWNER_AFTER_BYTE, sizeof owner) != 0 || owner == 0)
        return NULL;
    for (uint32_t i = 0; i < n_snap_threads; i++)
        if (snap_threads[i].self == owner && (snap_threads[i].flags & FSAN_THREAD_VANISHED))
            return &snap_threads[i];
    return NULL;
}

/* AS-safe: could a Python signal handler other than SIGINT's run?  CPython
 * catches every signal it has a Python handler for with one C function,
 * the one on SIGINT; when SIGINT has none, any caught signal counts. */
static int python_catches_signals(void)
{
    struct sigaction sa;
    void (*trip)(int) = sigaction(SIGINT, NULL, &sa) == 0 ? sa.sa_handler : SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGINT || sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0 ||
            sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
            continue;
        if (trip == SIG_DFL || trip == SIG_IGN || sa.sa_handler == trip)
            return 1;
    }
    return 0;
}

/* AS-safe.  See fsan.h. */
int fsan__child_parked(uintptr_t sem, uint16_t op, uint32_t attempt_site)
{
    if (!fsan__proc.in_child || !fsan__py_parking_lot() || !fsan__child_alone())
        return 0;
    int saved = errno;
    uintptr_t word = 0;
    uint8_t bits = 0;
    /* A waiter of anything else on a semaphore of its frames (a _PyRawMutex
     * waiter: a next pointer before it) has no word whose two low bits are
     * both set there: pointers are aligned. */
    int held = fsan__read_mem(&word, sem - PARK_ADDR_BEFORE_SEM, sizeof word) == 0 &&
               fsan__read_mem(&bits, word, 1) == 0 &&
               (bits & (PYMUTEX_LOCKED | PYMUTEX_HAS_PARKED)) == (PYMUTEX_LOCKED | PYMUTEX_HAS_PARKED);
    /* An RLock a vanished thread owns: no handler of the child may release it. */
    const struct snap_thread *owner = held ? recorded_owner(word) : NULL;
    if (!held || (!owner && (fsan__py_condition_wait(fsan__py_site_here()) || python_catches_signals()))) {
        errno = saved;
        return 0;
    }
    struct fsan_rec_deadlock d;
    deadlock_attempt(&d, word, FSAN_LOCK_PYMUTEX, op, 0, attempt_site);
    d.form = owner ? FSAN_DL_VANISHED_HOLDER : FSAN_DL_HOLDER_UNRECORDED;
    d.holder_tid = owner ? (uint32_t)owner->tid : 0;
    fsan__child_report_deadlock(&d, 0);
    errno = saved;
    return 1;
}

/* AS-safe.  See fsan.h. */
void fsan__child_report_deadlock(struct fsan_rec_deadlock *d, uint32_t acquire_pysite)
{
    uintptr_t addr = (uintptr_t)d->lock_addr;
    if (fsan__site_shared(d->attempt_site, addr))
        d->flags |= FSAN_DLF_ATTEMPT_SITE_SHARED;
    if (fsan__site_shared(d->acquire_site, addr))
        d->flags |= FSAN_DLF_ACQUIRE_SITE_SHARED;
    if (!report_lock())
        return;
    if (!already_reported(addr, d->attempt_site)) {
        write_deferred_forker();
        fsan__site_write(d->attempt_site);
        fsan__site_write(d->acquire_site);
        fsan__site_write(snap_fork_site);
        fsan__trace_maps();
        fsan__trace_record(FSAN_REC_DEADLOCK, d, sizeof *d, NULL, 0);
        uint32_t pysite = fsan__py_pending_lock == addr ? fsan__py_pending_site : fsan__py_site_here();
        write_pyref(FSAN_PYREF_ATTEMPT, pysite, addr);
        fsan__trace_mark_needed();
        fsan__trace_flush();
        if (fsan__proc.opts.child_report || fsan__trace_incomplete())
            print_child_report(d, pysite, acquire_pysite);
    }
    report_unlock();
}

/* AS-safe.  See fsan.h. */
void fsan__child_pyref(uint32_t what, uint32_t pysite, uint64_t key)
{
    write_pyref(what, pysite, key);
}

/* AS-safe.  See fsan.h.  The same verdict as a child-deadlock's, and only
 * its "the holder vanished" forms: a lock the forking thread itself holds
 * and takes again is the program's own deadlock, which no reset could
 * make right. */
int fsan__child_safe_reinit(uintptr_t addr, uint16_t type, uint32_t kind, pid_t owner_hint, uint32_t attempt_site)
{
    if (!fsan__proc.in_child || !fsan__proc.safe_fork || fsan__safe_in_handler ||
        (kind & (FSAN_KIND_PSHARED | FSAN_KIND_ROBUST)))
        return 0;
    int saved = errno;
    struct fsan_rec_deadlock d;
    memset(&d, 0, sizeof d);
    struct snap_lock *l = snap_find(addr);
    if (!child_verdict(addr, l, type, owner_hint, &d) || d.form == FSAN_DL_FORKER_REACQUIRE) {
        errno = saved;
        return 0;
    }
    if (fsan__safe_reset_lock(addr, type) < 0) {
        struct fsan_rec_remedy skipped = {.object = addr, .kind = FSAN_REMEDY_SKIPPED, .reason = FSAN_RMR_UNMAPPED,
                                          .tid = (uint32_t)fsan__sys_gettid(), .site = attempt_site,
                                          .lock_type = type};
        fsan__safe_record(&skipped, 0);
        errno = saved;
        return 0;
    }
    uint32_t pysite = fsan__py_pending_lock == addr ? fsan__py_pending_site : fsan__py_site_here();
    struct fsan_rec_remedy r = {.object = addr, .kind = FSAN_REMEDY_REINIT, .tid = (uint32_t)fsan__sys_gettid(),
                                .site = attempt_site, .pysite = pysite, .acquire_site = d.acquire_site,
                                .holder_tid = d.holder_tid, .lock_type = type};
    fsan__safe_record(&r, 0);
    /* For the rules it is re-initialised now: not an orphaned lock. */
    fsan__child_lock_event(addr, FSAN_LOCKEV_REINIT, attempt_site);
    errno = saved;
    return 1;
}

/* AS-safe: strict mode, the grace period is over and the lock never came. */
void fsan__child_strict_exit(uintptr_t addr)
{
    fsan__strict_exit("the forked child", "hang on", addr);
}

/* AS-safe.  See fsan.h. */
void fsan__strict_exit(const char *who, const char *fate, uintptr_t addr)
{
    char msg[160];
    struct fsan__sbuf sb = {msg, sizeof msg - 1, 0};
    fsan__sb_str(&sb, fsan__proc.opts.mode == FSAN_MODE_STRICT || !fsan__proc.safe_fork ? "strict mode: ending " : "safe mode: ending ");
    fsan__sb_str(&sb, who);
    fsan__sb_str(&sb, " with exit code ");
    fsan__sb_dec(&sb, fsan__proc.opts.exitcode);
    fsan__sb_str(&sb, " instead of letting it ");
    fsan__sb_str(&sb, fate);
    fsan__sb_str(&sb, " ");
    fsan__sb_hex(&sb, addr);
    msg[sb.len] = '\0';
    fsan__log("ERROR", msg);
    struct fsan_rec_exit e = {FSAN_EXIT_STRICT, fsan__proc.opts.exitcode, 0, (uint32_t)fsan__sys_gettid()};
    fsan__trace_record(FSAN_REC_EXIT, &e, sizeof e, NULL, 0);
    fsan__trace_stats();
    fsan__trace_mark_needed();
    fsan__trace_flush();
    REAL(_exit)(fsan__proc.opts.exitcode);
    __builtin_unreachable();
}

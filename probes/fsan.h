/* fsan.h — internal declarations shared by the files of the runtime
 * (libforksan.so).  Nothing here is exported: the build uses
 * -fvisibility=hidden and only FSAN_EXPORT symbols (the interposers and the
 * public API in forksan.h) reach the dynamic symbol table.
 *
 * Marking: a function whose comment says AS-safe may run in a signal handler
 * or in a forked child of a multi-threaded parent; it calls only raw
 * syscalls and other AS-safe functions, never malloc, stdio or locks that a
 * vanished thread could hold.
 */
#ifndef FSAN_H
#define FSAN_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "trace_format.h"

#define FSAN_EXPORT __attribute__((visibility("default")))
#define FSAN_LIKELY(x) __builtin_expect(!!(x), 1)
#define FSAN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FSAN_TLS __thread __attribute__((tls_model("initial-exec")))
/* Small mutable state that a fork child writes.  Every page a child writes
 * is a copy-on-write fault (several microseconds here), so these variables
 * share one section, and in practice one or two pages.  Zero-initialised
 * only. */
#define FSAN_HOT __attribute__((section(".bss.fsan_hot")))
/* Code every fork child runs (the fork hook after the clone, the child's
 * snapshot, the trace's reopening, _exit): kept together (GCC puts hot
 * functions in .text.hot, which the linker gathers), so a child faults in
 * one or two code pages of the runtime rather than one per function: the
 * child's page tables start without the runtime's code, and each first
 * touch of a page is a fault. */
#define FSAN_CHILD_PATH __attribute__((hot))

/* Table sizes.  Every table is fixed and counts its overflow, which the
 * report shows as a notice. */
#define FSAN_MAX_THREADS 1024
#define FSAN_MAX_HELD FSAN_MAX_HELD_LOCKS
#define FSAN_MAX_SITES 4096
#define FSAN_MAX_FRAMES 24

/* ---- hooks.c: the real functions ------------------------------------- */
#include "hooks.h"

/* ---- runtime.c: process-wide state ------------------------------------ */
struct fsan__process {
    pid_t pid;              /* this process; refreshed in the fork child */
    int initialized;
    int in_child;           /* a forked child under watch (not yet exec'd) */
    _Atomic int child_live_threads; /* threads alive in the child (1 at fork), raised before each is created */
    int child_started_threads; /* the child has called pthread_create since its fork */
    int unwind_unsafe;      /* do not unwind: another thread may have been inside the unwinder or loader at fork */
    int exit_recorded;      /* the EXIT record is written (once per image) */
    uint32_t fork_site;     /* site of the fork in progress, set by the prepare handler */
    uint32_t fork_pysite;   /* its Python stack, 0 if none */
    int io_watch;           /* FSAN_IO_* bits: write-like calls need a look (one branch when 0) */
    int safe_fork;          /* the fork in progress (or that made this child) is a safe one (safe.c) */
    uintptr_t main_stack_top; /* above every frame of the main thread: its argv (runtime.c), 0 if unknown */
    struct fsan__options opts;
};
extern struct fsan__process fsan__proc;
#define FSAN_IO_LOOPS 1        /* a fork child that inherited event loops (loops.c) */
#define FSAN_IO_EXIT_HANDLER 2 /* a fork child runs an exit handler of its parent's (cleanup.c) */

void fsan__init(void);
/* What only a process that forks needs, done by the first fork, in the
 * parent, before the fork (hooks.c calls it): fork children inherit it. */
void fsan__before_first_fork(void);
static inline int fsan__active(void) { return FSAN_LIKELY(fsan__proc.initialized); }

/* Per-thread reentrancy guard: >0 while the runtime itself is working on this
 * thread, so interposed calls made by the runtime (or by the unwinder) go
 * straight to the real function. */
extern FSAN_TLS int fsan__guard;

/* A spin lock for the runtime's own short critical sections (the trace
 * buffer, the loop table), AS-safe: `mine` is a thread-local flag of the
 * caller's, so a signal handler that interrupts the holder on the same
 * thread is refused (-1: the caller drops its work, counted) instead of
 * spinning forever on its own thread's lock.  0: the lock is held.  No
 * signal is blocked.  In a fork child the caller resets both to 0 (the
 * holder may have vanished). */
static inline int fsan__spin_lock(_Atomic int *word, int *mine)
{
    if (*mine)
        return -1;
    *mine = 1;
    int expected = 0;
    while (!atomic_compare_exchange_weak_explicit(word, &expected, 1, memory_order_acquire, memory_order_relaxed)) {
        expected = 0;
        __builtin_ia32_pause();
    }
    return 0;
}

static inline void fsan__spin_unlock(_Atomic int *word, int *mine)
{
    atomic_store_explicit(word, 0, memory_order_release);
    *mine = 0;
}

void fsan__fork_init(void);
void fsan__fork_fini(void);

/* ---- safeio.c: AS-safe output helpers --------------------------------- */
long fsan__sys_gettid(void);
long fsan__sys_getpid(void);
long fsan__sys_getppid(void);
uint64_t fsan__sys_clock_ns(int clock);
void fsan__clock_init(void); /* before the first fork: fsan__now_ns reads the vDSO */
uint64_t fsan__cpu_ns(void);
struct stat;
int fsan__sys_stat(const char *path, struct stat *st, int flags); /* AS-safe; flags 0 or AT_SYMLINK_NOFOLLOW */
int fsan__sys_fstat(int fd, struct stat *st);                     /* AS-safe */
int fsan__sys_dup3(int oldfd, int newfd, int flags);              /* AS-safe */
int fsan__write_all(int fd, const void *buf, size_t len);
int fsan__sys_close(int fd);
int fsan__sys_exists(const char *path); /* 1 when path exists */
int fsan__is_regular(int fd);           /* AS-safe */
size_t fsan__fmt_u64(char *out, uint64_t v, int base);
/* A tiny append-only string builder on a caller-provided buffer. */
struct fsan__sbuf { char *buf; size_t cap; size_t len; };
void fsan__sb_str(struct fsan__sbuf *sb, const char *s);
void fsan__sb_mem(struct fsan__sbuf *sb, const char *s, size_t n);
void fsan__sb_dec(struct fsan__sbuf *sb, int64_t v);
void fsan__sb_hex(struct fsan__sbuf *sb, uint64_t v);
void fsan__sb_text(struct fsan__sbuf *sb, const char *s, size_t n, int quoted);
void fsan__log(const char *level, const char *msg); /* "==PID==LEVEL: forksan: msg\n" */
/* AS-safe: the runtime's own words for a person: to the log_path file of
 * this process when the option is set and writable, else to forksan run's
 * supervisor FIFO when it listens, else to stderr. */
void fsan__say(const char *text, size_t len);
/* AS-safe: one message to forksan run (option supervisor), kind from enum
 * fsan_sup_kind; text beyond one atomic pipe write is cut.  0, or -1 when
 * there is no supervisor or it cannot take the message now. */
int fsan__tell_supervisor(uint32_t kind, const char *text, size_t len);
/* AS-safe: the runtime's live report of a finding: to the person when
 * child_report is on, and to forksan run when this image's trace has lost
 * bytes, so the finding reaches the report even if its records did not. */
void fsan__announce(const char *text, size_t len);
uint64_t fsan__now_ns(int clock);
ssize_t fsan__read_file(const char *path, char *buf, size_t cap);
/* AS-safe: field N (1-based, as proc(5) numbers them) of /proc/self/stat
 * as a number, 0 when unreadable. */
uint64_t fsan__stat_field(int field);
/* AS-safe: when this process was made (fork), as CLOCK_REALTIME, to the
 * kernel's 10 ms; the current time when unknown.  *start_ticks gets the
 * kernel's own figure (clock ticks since boot, 0 when unknown), which
 * every image of the process shares and no other process with its pid. */
uint64_t fsan__process_start_ns(uint64_t *start_ticks);
/* Fault-proof memory reads (process_vm_readv): a bad address gives EFAULT,
 * never SIGSEGV.  They read this process, or the process fsan__read_pid
 * names while it is not 0 (a fork child of this image, whose addresses are
 * ours).  AS-safe. */
typedef int (*fsan__reader)(void *dst, uintptr_t src, size_t n);
extern FSAN_TLS pid_t fsan__read_pid;
int fsan__read_mem(void *dst, uintptr_t src, size_t n);
/* The runtime's and the interpreter's own long-lived state (valid pointers
 * only): read in place in this process, with no system call (the fork and
 * _exit paths of every child use it), or through fsan__read_mem in the
 * process fsan__read_pid names.  AS-safe. */
int fsan__read_state(void *dst, uintptr_t src, size_t n);

/* ---- trace.c: the AS-safe trace writer -------------------------------- */
int fsan__trace_open_process(uint32_t kind, uint32_t forking_tid, uint32_t fork_site);
void fsan__trace_record(uint16_t type, const void *payload, size_t size,
                        const void *tail, size_t tail_size);
void fsan__trace_flush(void);
void fsan__trace_mark_needed(void);
int fsan__trace_is_needed(void);
/* AS-safe: this image's trace has lost bytes (a write or its creation failed). */
int fsan__trace_incomplete(void);
void fsan__trace_after_fork_child(void);
void fsan__trace_maps(void); /* once per trace file */
const char *fsan__maps_text(size_t *len);
/* One line of /proc/self/maps (fsan__maps_find: the only parser of it). */
struct fsan__mapping {
    uint64_t start, offset;
    int executable;   /* the x of "r-xp" */
    const char *path; /* into maps, not NUL-terminated; NULL for anonymous */
    size_t path_len;
};
/* AS-safe: the line of maps (len bytes of /proc/self/maps text) that holds
 * addr, into *out; 0 when none does. */
int fsan__maps_find(const char *maps, size_t len, uintptr_t addr, struct fsan__mapping *out);
void fsan__trace_maps_cover(uintptr_t addr); /* AS-safe */
void fsan__trace_stats(void);
const char *fsan__trace_path(void);
const char *fsan__trace_file(void);

/* ---- stack.c: interned call sites ------------------------------------- */
struct fsan__site {
    _Atomic uintptr_t key;
    _Atomic uint32_t nframes; /* 0 until the frames are filled in */
    uint32_t language;
    uint32_t written_gen;     /* == fsan__trace_gen: already in this trace file */
    uintptr_t first_object;   /* the lock being taken when the stack was captured */
    uintptr_t frames[FSAN_MAX_FRAMES];
};
extern struct fsan__site fsan__sites[FSAN_MAX_SITES];
extern _Atomic uint32_t fsan__site_overflow;
extern _Atomic int fsan__unwinding; /* threads inside the unwinder right now */
uint32_t fsan__site_intern(uintptr_t return_address, uintptr_t object); /* slow path */
int fsan__in_signal_handler(void); /* AS-safe; x86_64 only, 0 elsewhere */

static inline uint32_t fsan__site_hash(uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 40) & (FSAN_MAX_SITES - 1);
}

/* The site id of a call site: one hash probe when it was seen before.
 * object is the lock being taken (0 for other sites): the captured stack
 * belongs to that first acquisition, which the snapshot later compares
 * with the lock a hold is about. */
static inline uint32_t fsan__site_of_obj(uintptr_t return_address, uintptr_t object)
{
    uint32_t idx = fsan__site_hash(return_address);
    if (FSAN_LIKELY(atomic_load_explicit(&fsan__sites[idx].key, memory_order_relaxed) == return_address))
        return idx + 1;
    return fsan__site_intern(return_address, object);
}

static inline uint32_t fsan__site_of(uintptr_t return_address)
{
    return fsan__site_of_obj(return_address, 0);
}

/* AS-safe: did the site's stack come from an acquisition of another lock?
 * Then only its innermost frame is known to belong to this one. */
static inline int fsan__site_shared(uint32_t site, uintptr_t object)
{
    return site != 0 && site <= FSAN_MAX_SITES && fsan__sites[site - 1].first_object != object;
}
void fsan__site_write(uint32_t id); /* AS-safe: writes the SITE record once */
extern uint32_t fsan__trace_gen; /* bumped for every new trace file */

/* ---- heldlocks.c: per-thread held-lock stacks --------------------------- */
/* Nothing reads a slot at or above held_count but the push that fills it,
 * and every such slot describes a plain hold (a process-private mutex of
 * the normal kind, held once, no Python stack) waiting for its address and
 * site: the lock path's fast push writes only those two, so whatever
 * shrinks the stack leaves the slots it drops plain (fsan__held_clear). */
struct fsan__held {
    _Atomic uintptr_t addr; /* 0 = empty (also: released by another thread) */
    uint32_t site;
    uint16_t type;          /* enum fsan_lock_type */
    uint16_t mode;          /* enum fsan_lock_mode */
    uint32_t kind;
    uint32_t depth;
    uint32_t pysite;        /* Python stack of the acquisition, 0 if none */
};

enum fsan__thread_state { FSAN_SLOT_FREE = 0, FSAN_SLOT_CLAIMED = 1, FSAN_SLOT_LIVE = 2 };

struct fsan__thread {
    _Atomic int state;
    pid_t tid;
    uintptr_t self;           /* its pthread_self(), which CPython 3.14+'s RLock records as its owner */
    uintptr_t start_routine;
    uint32_t create_site;
    uint32_t last_site;
    uint32_t lock_site;       /* the site of lock_ret: the mutex fast path's one-entry cache */
    uintptr_t lock_ret;       /* return address of this thread's last plain mutex acquire, 0 if none */
    uintptr_t waiting_on;     /* the semaphore this thread is blocked on, 0 if none */
    uintptr_t stack_lo;       /* its stack: frames run in [stack_lo, stack_hi); both 0 when unknown */
    uintptr_t stack_hi;       /* (threads.c: fsan__on_own_stack) */
    int child_counted;        /* created in a fork child: counted in child_live_threads */
    char name[16];
    char pyname[32];          /* threading.Thread.name, when a Python thread */
    uintptr_t pytstate;       /* its CPython thread state, once seen holding the GIL (python.c) */
    _Atomic uint32_t held_count;
    uint32_t held_overflow;
    struct fsan__held held[FSAN_MAX_HELD];
};

extern struct fsan__thread fsan__threads[FSAN_MAX_THREADS];
extern _Atomic uint32_t fsan__threads_hwm; /* slots [0, hwm) were ever used */
extern _Atomic uint32_t fsan__thread_overflow;

void fsan__held_push(struct fsan__thread *t, uintptr_t addr, uint16_t type,
                     uint16_t mode, uint32_t kind, uint32_t site);
int fsan__held_pop(struct fsan__thread *t, uintptr_t addr);
int fsan__held_pop_remote(uintptr_t addr); /* sem_post by a non-holder */
struct fsan__held *fsan__held_find(struct fsan__thread *t, uintptr_t addr);
void fsan__held_reset(struct fsan__thread *t);
void fsan__held_init(struct fsan__thread *t);          /* a slot being claimed: empty, every entry plain */
void fsan__held_trim(struct fsan__thread *t);          /* drops the holes on top of the stack */

/* ---- threads.c -------------------------------------------------------- */
extern FSAN_TLS struct fsan__thread *fsan__tls_self;
/* The same slot for the mutex unlock's fast path (locks.c), which skips
 * the fork child's release check: NULL in a fork child whose snapshot
 * holds locks (a child with an empty snapshot has nothing to check), and
 * for threads born in any fork child. */
extern FSAN_TLS struct fsan__thread *fsan__tls_fast;
struct fsan__thread *fsan__self_slow(void);

/* The calling thread's slot (claimed on first use), or NULL.  AS-safe. */
static inline struct fsan__thread *fsan__self(void)
{
    struct fsan__thread *t = fsan__tls_self;
    return FSAN_LIKELY(t != NULL) ? t : fsan__self_slow();
}

static inline struct fsan__thread *fsan__self_peek(void)
{
    return fsan__tls_self;
}

/* A slot leaving the stack: empty, and plain again (see struct fsan__held). */
static inline void fsan__held_clear(struct fsan__held *e)
{
    e->type = FSAN_LOCK_MUTEX;
    e->mode = FSAN_MODE_EXCL;
    e->kind = FSAN_KIND_NORMAL;
    e->depth = 1;
    e->pysite = 0;
    atomic_store_explicit(&e->addr, 0, memory_order_relaxed);
}

/* Writes a new top entry and publishes it (release: a fork child reading
 * the count sees a complete entry).  The caller checked count < MAX. */
static inline void fsan__held_append(struct fsan__thread *t, uint32_t count, uintptr_t addr, uint16_t type,
                                     uint16_t mode, uint32_t kind, uint32_t site)
{
    struct fsan__held *e = &t->held[count];
    e->site = site;
    e->type = type;
    e->mode = mode;
    e->kind = kind;
    e->depth = 1;
    e->pysite = 0;
    atomic_store_explicit(&e->addr, addr, memory_order_relaxed);
    atomic_store_explicit(&t->held_count, count + 1, memory_order_release);
    t->last_site = site;
}

/* The mutex fast path's push (locks.c), in two steps around the real lock
 * call.  Staging writes the address and the site into the slot above the
 * top, which nobody reads and which is plain already; publishing makes it
 * the top once the lock is really held.  The caller checked count < MAX. */
static inline void fsan__held_stage(struct fsan__thread *t, uint32_t count, uintptr_t addr, uint32_t site)
{
    struct fsan__held *e = &t->held[count];
    e->site = site;
    atomic_store_explicit(&e->addr, addr, memory_order_relaxed);
    t->last_site = site;
}

static inline void fsan__held_publish(struct fsan__thread *t)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    atomic_store_explicit(&t->held_count, count + 1, memory_order_release);
}

/* After the top entry went: a hole below it (an out-of-order release) goes
 * too, or holes pile up until the stack looks full. */
static inline void fsan__held_drop_top(struct fsan__thread *t, uint32_t count)
{
    atomic_store_explicit(&t->held_count, count - 1, memory_order_release);
    if (FSAN_UNLIKELY(count > 1 && atomic_load_explicit(&t->held[count - 2].addr, memory_order_relaxed) == 0))
        fsan__held_trim(t);
}

/* The mutex fast path's pop: the top entry, when it is addr with the
 * normal kind and no hole lies below it.  Such an entry was held once and
 * is plain, so dropping it leaves the slot as struct fsan__held requires;
 * its address may stay, as nothing reads a slot above the top.  0 when the
 * top is anything else: the caller takes the general path (which trims
 * the hole).  It calls nothing, so the interposer around it needs no
 * frame. */
static inline int fsan__held_pop_plain(struct fsan__thread *t, uintptr_t addr)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    if (FSAN_UNLIKELY(count == 0))
        return 0;
    struct fsan__held *e = &t->held[count] - 1;
    if (FSAN_UNLIKELY(e->kind != FSAN_KIND_NORMAL || atomic_load_explicit(&e->addr, memory_order_relaxed) != addr ||
                      (count > 1 && atomic_load_explicit(&e[-1].addr, memory_order_relaxed) == 0)))
        return 0;
    atomic_store_explicit(&t->held_count, count - 1, memory_order_release);
    return 1;
}

/* Hot paths of heldlocks.c: the common case (push of a non-recursive
 * mutex, pop of the most recent hold) inline, everything else out of
 * line. */
static inline void fsan__held_push_fast(struct fsan__thread *t, uintptr_t addr, uint16_t type,
                                        uint16_t mode, uint32_t kind, uint32_t site)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    if (FSAN_LIKELY(type == FSAN_LOCK_MUTEX && (kind & FSAN_KIND_TYPE_MASK) != FSAN_KIND_RECURSIVE &&
                    count < FSAN_MAX_HELD)) {
        fsan__held_append(t, count, addr, type, mode, kind, site);
        return;
    }
    fsan__held_push(t, addr, type, mode, kind, site);
}

static inline int fsan__held_pop_fast(struct fsan__thread *t, uintptr_t addr)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    if (FSAN_LIKELY(count > 0)) {
        struct fsan__held *e = &t->held[count - 1];
        if (FSAN_LIKELY(atomic_load_explicit(&e->addr, memory_order_relaxed) == addr && e->depth == 1 &&
                        e->type != FSAN_LOCK_SEM)) {
            fsan__held_clear(e);
            fsan__held_drop_top(t, count);
            return 1;
        }
    }
    return fsan__held_pop(t, addr);
}
struct fsan__thread *fsan__thread_claim(void);
void fsan__thread_release(struct fsan__thread *t);

/* Is obj on the live part of thread t's own stack, between the caller's
 * frame and the top of the stack (threads.c records the bounds)?  0 when
 * t is NULL, its bounds are unknown (both 0: nothing is below 0), or the
 * caller runs on another stack (a signal handler on an alternate stack, a
 * coroutine's): what lies above such a frame is not t's stack.  AS-safe. */
static inline __attribute__((always_inline)) int fsan__on_own_stack(const struct fsan__thread *t, const void *obj)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    return t && here >= t->stack_lo && (uintptr_t)obj > here && (uintptr_t)obj < t->stack_hi;
}
void fsan__threads_after_fork_child(struct fsan__thread *forker);

/* ---- locks.c: glibc lock introspection -------------------------------- */
uint32_t fsan__mutex_kind(const pthread_mutex_t *m);
uint32_t fsan__rwlock_kind(const pthread_rwlock_t *rw);
uint32_t fsan__sem_kind(const sem_t *s);
pid_t fsan__mutex_owner(const pthread_mutex_t *m);
pid_t fsan__rwlock_writer(const pthread_rwlock_t *rw);

/* ---- child.c: the fork snapshot and the child's watch -------------------- */
void fsan__child_snapshot(struct fsan__thread *forker); /* AS-safe */
void fsan__child_resumed(struct fsan__thread *forker);  /* AS-safe */
/* Called in a forked child when a blocking acquire found the lock
 * unavailable; records (and in strict mode acts on) a child-deadlock.
 * Returns 1 when the runtime decided this is a hazard. AS-safe. */
int fsan__child_blocked(uintptr_t addr, uint16_t type, uint16_t op, uint32_t kind,
                        pid_t owner_hint, uint32_t attempt_site);
void fsan__child_lock_event(uintptr_t addr, uint32_t event, uint32_t site);
void fsan__child_strict_exit(uintptr_t addr);
/* AS-safe: does the fork snapshot list tid as a thread that vanished at
 * this child's fork (not the forking thread, not a thread ended before)? */
int fsan__child_thread_vanished(pid_t tid);
/* Called in a forked child when a blocking wait on a semaphore of the
 * waiter's own frames found no unit: when it is CPython's parking lot
 * parking the thread for a PyMutex that says it is held, and the child is
 * alone, records (and in strict mode acts on) a child-deadlock.  Returns 1
 * when it did.  AS-safe. */
int fsan__child_parked(uintptr_t sem, uint16_t op, uint32_t attempt_site);
/* AS-safe: has this child exactly one thread, and started none since its
 * fork? */
int fsan__child_alone(void);
/* AS-safe: records a child-deadlock that the caller decided (d is filled
 * but for its flags), once per object and attempt site, and prints the
 * runtime's own report when asked to. */
void fsan__child_report_deadlock(struct fsan_rec_deadlock *d, uint32_t acquire_pysite);

/* ---- condvars.c: who signals each condition variable ------------------- */
/* AS-safe: in a fork child, about to wait on c without a time limit: is
 * it a wait nobody can end?  Then it is recorded (child-deadlock) and 1
 * returned. */
int fsan__cond_child_stranded(pthread_cond_t *c, uintptr_t ret);
extern _Atomic uint32_t fsan__cond_overflow; /* condition variables the table had no room for */
/* AS-safe, never returns: strict mode ends this process with the exit code,
 * says so ("ending WHO ... instead of letting it FATE ADDR") and records it. */
void fsan__strict_exit(const char *who, const char *fate, uintptr_t addr) __attribute__((noreturn));
/* AS-safe: a native site as "#N addr (module+off)" lines under title. */
void fsan__site_describe(struct fsan__sbuf *sb, const char *title, uint32_t site);

/* ---- foreign.c: semaphores this process never created or inherited ------- */
#define FSAN_SEM_SET 16384
extern _Atomic uintptr_t fsan__sem_set[FSAN_SEM_SET];
static inline uint32_t fsan__sem_slot(uintptr_t addr)
{
    return (uint32_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> 50) & (FSAN_SEM_SET - 1);
}
void fsan__sem_born(const void *sem);  /* sem_init / sem_open succeeded */
void fsan__sem_gone(const void *sem);  /* sem_destroy / sem_close */
void fsan__sem_unknown(const void *sem, uint16_t op, uintptr_t ret); /* slow path */
/* Before every semaphore operation: one load when the address is the
 * first in its probe sequence, which it almost always is. */
static inline void fsan__sem_check(const void *sem, uint16_t op, uintptr_t ret)
{
    if (FSAN_UNLIKELY(atomic_load_explicit(&fsan__sem_set[fsan__sem_slot((uintptr_t)sem)], memory_order_relaxed) !=
                      (uintptr_t)sem))
        fsan__sem_unknown(sem, op, ret);
}

/* ---- python.c: the CPython bridge ------------------------------------------ */
void fsan__py_init(void);
int fsan__py_active(void);
/* AS-safe: is the interpreter a CPython with a parking lot (3.13+, where a
 * contended PyMutex acquire waits on a semaphore of its own wait entry)? */
int fsan__py_parking_lot(void);
/* The calling thread's Python stack, interned, when it holds the GIL; 0
 * otherwise.  Not for fork children (see fsan__py_site_safe). */
uint32_t fsan__py_site_here(void);
/* The same, its innermost frames only: the lock path, where it is computed
 * at every acquire. */
uint32_t fsan__py_lock_site_here(void);
/* The Python stack of a blocking wait on lock, for the lock path: no
 * system call in a process that has not forked (python.c says why). */
uint32_t fsan__py_wait_site(uintptr_t lock);
uint64_t fsan__py_here_key(void);
void fsan__pysite_write(uint32_t id); /* AS-safe */
/* AS-safe: was the Python stack inner recorded inside the call whose stack
 * is outer (outer's frames are inner's callers, line for line)? */
int fsan__py_site_within(uint32_t inner, uint32_t outer);
/* AS-safe, fork child: the Python stack of a frozen thread (by native tid),
 * read with fault-proof reads; 0 if none. */
uint32_t fsan__py_thread_stack(pid_t tid);
void fsan__py_write_info(void); /* AS-safe */
/* AS-safe: Python atexit handlers of the main interpreter, read through
 * fsan__read_mem: how many are registered, and the pool string of the
 * qualified name of handler i (NULL when it is not a Python function). */
int fsan__py_atexit_count(void);
const char *fsan__py_atexit_name(int i);
void fsan__loops_after_fork_child(pid_t forker_parent_tid); /* AS-safe */
void fsan__stdio_init(void);
void fsan__stdio_after_fork_child(void); /* AS-safe */
void fsan__stdio_child_exit(uintptr_t ret);
void fsan__stdio_child__exit(uintptr_t ret); /* AS-safe */
/* What a fork child loses when it ends without its exit path: exit
 * handlers and Python atexit handlers it registered, stdio bytes it
 * buffered, after its fork.  Read through fsan__read_mem. AS-safe. */
struct fsan__lost {
    uint32_t handlers;
    uintptr_t handler;   /* the first of them */
    uint64_t pending;
    int fd;              /* the first stream with lost bytes */
    uint32_t py_handlers;
    const char *py_name; /* the first Python handler, NULL if unknown */
};
void fsan__child_lost(struct fsan__lost *out);
/* stdio.c: exit handlers registered in this image before this child's
 * fork (0 outside fork children). */
uint32_t fsan__atexit_at_fork(void);
/* AS-safe: bytes all C stdio streams hold unflushed, and the descriptor
 * of the first stream that holds some (-1 if none). */
uint64_t fsan__stdio_pending(int *fd);
/* cleanup.c: the parent's exit handlers run by a fork child. */
int fsan__cleanup_cxa_atexit(void (*fn)(void *), void *arg, void *dso, uint32_t index);
int fsan__cleanup_on_exit(void (*fn)(int, void *), void *arg, uint32_t index);
void fsan__cleanup_after_fork_child(void); /* AS-safe */
void fsan__cleanup_child_exit(uintptr_t ret);
/* A write-like call, or a stdio flush (whose bytes leave through libc's
 * own write, which no interposer sees), while an inherited handler runs. */
void fsan__cleanup_write(int fd, uint64_t bytes);
void fsan__signals_init(void);
extern uint64_t fsan__image_cookie; /* random per exec'd image, shared by its fork children */
void fsan__child_note_finding(void); /* AS-safe: make sure the child's trace names its forker */
void fsan__pysite_describe(struct fsan__sbuf *sb, const char *title, uint32_t id); /* AS-safe */
extern FSAN_TLS uint32_t fsan__py_pending_site; /* site of a failed try, for the blocking wait */
extern FSAN_TLS uintptr_t fsan__py_pending_lock;

/* ---- safe.c: safe mode's remedies ----------------------------------------- */
/* Set by forksan_safe_fork() around its fork: safe mode for that fork. */
extern FSAN_TLS int fsan__safe_once;
/* Forking thread, parent, before the fork (the runtime's prepare handler):
 * flush stdio, quiesce other threads' locks. */
void fsan__safe_prepare(const struct fsan__thread *self);
/* Set by fsan__safe_prepare when the fork is made in a signal handler:
 * the child remedies nothing (a note says why). */
extern int fsan__safe_in_handler;
/* The last semaphore destroyed while still held (its value 0): safe
 * mode's quiesce tells it from one released and then destroyed. */
extern _Atomic uintptr_t fsan__sem_destroyed_held;
void fsan__safe_parent(void);   /* the parent's handler: release what was quiesced */
/* AS-safe, child, after the snapshot: release what was quiesced, record
 * the pre-fork remedies.  parent_tid: the forking thread's tid in the parent. */
void fsan__safe_child(pid_t parent_tid);
/* AS-safe, child, once fork() returns: adopt the forking thread's
 * recursive and error-checking mutexes and write-held rwlocks. */
void fsan__safe_adopt(struct fsan__thread *forker, pid_t parent_tid);
/* AS-safe: a REMEDY record (and the Python stack of the lock's acquisition). */
void fsan__safe_record(const struct fsan_rec_remedy *r, uint32_t acquire_pysite);
int fsan__safe_reset_lock(uintptr_t addr, uint16_t type); /* AS-safe */
/* AS-safe, child of a safe fork, about to block on a lock nobody can
 * release because its holder vanished: reset it and record the remedy.
 * 1 when reset (the caller tries again), 0 when not remedied. */
int fsan__child_safe_reinit(uintptr_t addr, uint16_t type, uint32_t kind, pid_t owner_hint, uint32_t attempt_site);
void fsan__child_pyref(uint32_t what, uint32_t pysite, uint64_t key); /* AS-safe: a PYREF record */
int fsan__sem_known(const void *sem);                  /* foreign.c */
void fsan__stdio_safe_flush(void (*found)(int fd, uint64_t bytes, int flushed)); /* stdio.c */
int fsan__py_lifelong_lock(uint32_t pysite);           /* python.c */
/* AS-safe: is pysite Condition.wait sleeping on its waiter lock (which
 * notify() releases, from a signal handler as well)? */
int fsan__py_condition_wait(uint32_t pysite); /* python.c */
void *fsan__py_pause(void);                            /* python.c: let the GIL go */
void fsan__py_resume(void *tstate);

#endif

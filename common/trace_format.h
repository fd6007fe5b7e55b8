/* trace_format.h — the on-disk trace format, shared by the runtime (writer)
 * and the analyzer (reader).  man/forksan-trace.5 documents the same thing
 * for people.
 *
 * DESIGN
 * One file per process image, written only by that image, so no two writers
 * ever share a file and a crashed process can damage only its own trace.
 * A file is an 16-byte header followed by records.  Every record starts with
 * an 8-byte header { u16 type; u16 flags; u32 size } and carries `size`
 * payload bytes; payloads are fixed little-endian structs (below) optionally
 * followed by a variable tail (a string or an array).  Records are appended
 * whole with write(2), so a reader sees either a full record or a truncated
 * tail at the very end of the file (a process killed mid-write).
 *
 * A process image writes its file only when it has something to say (a
 * fork child whose snapshot is not empty, a finding): a program that forks
 * ten thousand clean children creates no file for them.
 *
 * Version rule: FSAN_TRACE_VERSION changes whenever a payload layout changes
 * or a record type is added.  A reader reads every version from
 * FSAN_TRACE_VERSION_MIN on: common/records.def says which version added
 * each record type and how long a payload that grew was before.  It rejects
 * a file whose version it does not know, and a record type it does not
 * know, naming the file and the offset; it never guesses.
 *
 * The payload structs below are copied byte for byte on both sides, so
 * their sizes, and the offsets that padding could move, are asserted.
 */
#ifndef FSAN_TRACE_FORMAT_H
#define FSAN_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define FSAN_TRACE_MAGIC "FSANTRC\n"   /* 8 bytes, no NUL in the file */
#define FSAN_TRACE_VERSION 11u
/* Version 6 grew CLEANUP (py_count, pysite, a name tail) and added FOREIGN
 * and SIGNAL; version 7 added REAPED; version 8 grew PROCESS (start_ticks,
 * image_ns); version 9 added REMEDY; version 10 added the condition
 * variable form of DEADLOCK (FSAN_DL_COND_VANISHED_SIGNALLER), STATS
 * cond_overflow (reserved before, always 0), and HANG and HANG_THREAD
 * (written by forksan run's watchdog, not by the runtime); version 11 added
 * the CPython PyMutex form of DEADLOCK (FSAN_DL_HOLDER_UNRECORDED,
 * FSAN_LOCK_PYMUTEX).  A version 5 file is read with
 * its shorter CLEANUP, the missing fields read as 0. */
#define FSAN_TRACE_VERSION_MIN 5u

/* forksan run points the runtime's log_path here, inside the trace
 * directory: each process writes its messages to forksan.log.PID, and the
 * report shows them as notices. */
#define FSAN_LOG_PREFIX "forksan.log"
#define FSAN_TRACE_MAX_RECORD (1u << 20) /* a reader refuses larger records */

/* The supervisor channel: forksan run makes a FIFO named
 * forksan.sup.<random> in the trace directory and reads it while the
 * program runs (runtime option `supervisor`).  A process whose trace or log
 * cannot be written (a full disk, a quota, an I/O error) says so there and
 * sends what it announces live, so the report still has it.  Each message
 * is one write of at most FSAN_SUP_MSG_MAX bytes (PIPE_BUF: atomic, never
 * interleaved with another process's): this header, then `size` bytes of
 * text. */
#define FSAN_SUP_PREFIX "forksan.sup."
#define FSAN_SUP_MSG_MAX 4096u
struct fsan_sup_header {
    uint32_t size; /* text bytes that follow */
    uint32_t pid;
    uint32_t kind; /* enum fsan_sup_kind */
};
enum fsan_sup_kind {
    FSAN_SUP_INCOMPLETE = 1, /* text: "ERRNO PATH", this process's trace lost bytes */
    FSAN_SUP_FINDING = 2,    /* text: the runtime's live report of a finding */
    FSAN_SUP_MESSAGE = 3,    /* text: a message its log file could not take */
};

struct fsan_trace_file_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size; /* sizeof(struct fsan_trace_file_header) */
};

struct fsan_rec_header {
    uint16_t type;
    uint16_t flags; /* reserved, 0 */
    uint32_t size;  /* payload bytes that follow */
};

enum fsan_rec_type {
    FSAN_REC_PROCESS = 1,     /* first record of every file */
    FSAN_REC_MAPS = 2,        /* a chunk of /proc/self/maps text */
    FSAN_REC_SITE = 3,        /* an interned call site (stack) */
    FSAN_REC_THREAD = 4,      /* a thread alive at fork (snapshot) */
    FSAN_REC_HELD = 5,        /* a lock held at fork (snapshot) */
    FSAN_REC_LOCK_EVENT = 6,  /* the child released/re-initialised a snapshot lock */
    FSAN_REC_RESUMED = 7,     /* fork() returned in the child */
    FSAN_REC_DEADLOCK = 8,    /* child-deadlock detected before blocking */
    FSAN_REC_EXEC = 9,        /* about to exec */
    FSAN_REC_EXEC_FAILED = 10,/* the exec returned */
    FSAN_REC_EXIT = 11,       /* the process is ending */
    FSAN_REC_STATS = 12,      /* overflow and loss counters */
    FSAN_REC_PYSITE = 13,     /* an interned Python call stack */
    FSAN_REC_PYREF = 14,      /* attaches a Python stack to a native record */
    FSAN_REC_PYINFO = 15,     /* the Python bridge's state (version, or why it is off) */
    FSAN_REC_LOOP = 16,       /* an event loop (epoll instance) inherited by the child */
    FSAN_REC_LOOP_USE = 17,   /* the child used, woke or re-created an inherited loop */
    FSAN_REC_CLEANUP = 18,    /* how a fork child's ending treats buffers and exit handlers */
    FSAN_REC_PIDCHECK = 19,   /* the child read its pid where the parent did: a pid check */
    FSAN_REC_FOREIGN = 20,    /* a semaphore this process never created, opened or inherited */
    FSAN_REC_SIGNAL = 21,     /* this process killed a fork child of its own image */
    FSAN_REC_REAPED = 22,     /* this process reaped a child that a signal ended */
    FSAN_REC_REMEDY = 23,     /* safe mode removed a hazard (or says why it could not) */
    FSAN_REC_HANG = 24,       /* forksan run's watchdog found this fork child hung (a .hang file) */
    FSAN_REC_HANG_THREAD = 25,/* one thread of the hung child: what it waits in, its stack */
    FSAN_REC_TYPE_MAX = 25,
};

/* How this image came to be. */
enum fsan_proc_kind {
    FSAN_PROC_START = 0, /* a fresh image (first exec under forksan, posix_spawn, …) */
    FSAN_PROC_FORK = 1,  /* a forked child (memory copied from ppid) */
};

struct fsan_rec_process {
    uint32_t pid;
    uint32_t ppid;
    uint32_t kind;          /* enum fsan_proc_kind */
    uint32_t forking_tid;   /* FORK: the parent's tid that called fork */
    uint64_t time_ns;       /* CLOCK_REALTIME when the kernel made the process (10 ms) */
    uint32_t fork_site;     /* FORK: site id of the fork call, 0 = unknown (libc-internal fork) */
    uint32_t mode;          /* 0 observe, 1 strict */
    /* Since version 8 (0 in older files: unknown). */
    uint64_t start_ticks;   /* the kernel's start time of the process (/proc/PID/stat
                               field 22): with pid, who the process is, through
                               every exec, whatever pid reuse does */
    uint64_t image_ns;      /* CLOCK_MONOTONIC when this image began (the fork
                               returned, or the program or exec started): orders
                               the images of one process */
    /* tail: executable path (no NUL) */
};

/* SITE: u32 id; u16 language; u16 nframes; u64 frames[nframes].
 * Frames are return addresses, innermost first, frame 0 being the caller of
 * the intercepted function. */
enum fsan_language { FSAN_LANG_C = 0, FSAN_LANG_PYTHON = 1 };
struct fsan_rec_site {
    uint32_t id;
    uint16_t language;
    uint16_t nframes;
    /* tail: uint64_t frames[nframes] */
};

enum fsan_thread_flags {
    FSAN_THREAD_FORKER = 1u << 0,   /* the thread that called fork (lives on in the child) */
    FSAN_THREAD_VANISHED = 1u << 1, /* any other thread: gone in the child */
    FSAN_THREAD_MAIN = 1u << 2,     /* tid == pid in the parent */
};

struct fsan_rec_thread {
    uint32_t tid;           /* tid in the parent */
    uint32_t flags;         /* enum fsan_thread_flags */
    uint64_t start_routine; /* 0 if not created through pthread_create */
    uint32_t create_site;   /* 0 if unknown */
    uint32_t last_site;     /* site of the last lock operation, 0 if none */
    char name[16];          /* NUL padded */
};

/* FSAN_LOCK_COND: a condition variable, in a DEADLOCK record only (since
 * version 10): a wait, not a hold. */
/* FSAN_LOCK_PYMUTEX: CPython's PyMutex (3.13+: threading.Lock from 3.13.1,
 * RLock from 3.14), a byte its uncontended acquire takes by an atomic
 * compare-and-swap; in a DEADLOCK record only, seen when a contended
 * acquire parks the thread. */
enum fsan_lock_type {
    FSAN_LOCK_MUTEX = 1, FSAN_LOCK_RWLOCK = 2, FSAN_LOCK_SEM = 3, FSAN_LOCK_COND = 4, FSAN_LOCK_PYMUTEX = 5
};
enum fsan_lock_mode { FSAN_MODE_EXCL = 0, FSAN_MODE_READ = 1, FSAN_MODE_WRITE = 2 };

/* kind bits (ours, independent of glibc's encoding) */
enum fsan_lock_kind {
    FSAN_KIND_NORMAL = 0,
    FSAN_KIND_RECURSIVE = 1,
    FSAN_KIND_ERRORCHECK = 2,
    FSAN_KIND_ADAPTIVE = 3,
    FSAN_KIND_TYPE_MASK = 0xf,
    FSAN_KIND_ROBUST = 1u << 4,
    FSAN_KIND_PSHARED = 1u << 5,
    FSAN_KIND_NAMED = 1u << 6, /* sem_open */
};

struct fsan_rec_held {
    uint64_t lock_addr;
    uint32_t holder_tid;   /* parent tid */
    uint32_t acquire_site;
    uint16_t lock_type;    /* enum fsan_lock_type */
    uint16_t mode;         /* enum fsan_lock_mode */
    uint32_t kind;         /* enum fsan_lock_kind bits */
    uint32_t depth;        /* recursion / multiple read holds */
    uint32_t flags;        /* enum fsan_held_flags */
};

enum fsan_held_flags {
    /* At fork the holder was itself blocked waiting on this semaphore: it
     * is a signal (CPython's Condition/Event waiter), not a lock whose
     * holder will release it. */
    FSAN_HELD_SELF_WAIT = 1u << 0,
    /* The acquire site's stack was captured for another lock taken at the
     * same call instruction (a lock wrapper): only frame 0 is certain. */
    FSAN_HELD_SITE_SHARED = 1u << 1,
    /* Taken by the forking thread during its fork call, by the language
     * runtime's own before-fork step (CPython's os.fork takes its import
     * lock, and runs os.register_at_fork hooks such as logging's): the
     * runtime's after-fork step in the child releases or replaces it. */
    FSAN_HELD_FORK_CALL = 1u << 2,
    /* A semaphore with units left at the fork (a counting semaphore of
     * which this holder took one of several): a take in the child does not
     * block, so its holder vanishing strands nobody. */
    FSAN_HELD_AVAILABLE = 1u << 3,
};

enum fsan_lock_event_kind {
    FSAN_LOCKEV_RELEASED = 1,
    FSAN_LOCKEV_REINIT = 2,
    FSAN_LOCKEV_DESTROYED = 3,
};

struct fsan_rec_lock_event {
    uint64_t lock_addr;
    uint32_t event; /* enum fsan_lock_event_kind */
    uint32_t tid;
    uint32_t site;
    uint32_t reserved;
};

struct fsan_rec_resumed {
    uint32_t tid;
    uint32_t reserved;
};

enum fsan_deadlock_form {
    FSAN_DL_VANISHED_HOLDER = 1, /* held at fork by a thread that is gone */
    FSAN_DL_FORKER_REACQUIRE = 2,/* held at fork by the forking thread, taken again */
    FSAN_DL_OWNER_GONE = 3,      /* not in the snapshot; the owner the lock records is not a thread of the child */
    /* Since version 10: an untimed wait on a condition variable (lock_type
     * FSAN_LOCK_COND) in a child with one thread, which before the fork
     * only threads that vanished had signalled.  holder_tid is one of them
     * and acquire_site where it signalled; kind counts them. */
    FSAN_DL_COND_VANISHED_SIGNALLER = 4,
    /* Since version 11: a lock that records no holder (a PyMutex, lock_type
     * FSAN_LOCK_PYMUTEX) says it is held, in a child with one thread that
     * started none since the fork: nobody here can release it, but who
     * held it at fork is not known (holder_tid 0). */
    FSAN_DL_HOLDER_UNRECORDED = 5,
    FSAN_DL_FORM_MAX = 5,
};

enum fsan_lock_op {
    FSAN_OP_LOCK = 1, FSAN_OP_TIMEDLOCK, FSAN_OP_CLOCKLOCK,
    FSAN_OP_RDLOCK, FSAN_OP_TIMEDRDLOCK, FSAN_OP_CLOCKRDLOCK,
    FSAN_OP_WRLOCK, FSAN_OP_TIMEDWRLOCK, FSAN_OP_CLOCKWRLOCK,
    FSAN_OP_SEM_WAIT, FSAN_OP_SEM_TIMEDWAIT, FSAN_OP_SEM_CLOCKWAIT,
    FSAN_OP_COND_WAIT,
    FSAN_OP_SEM_TRYWAIT, FSAN_OP_SEM_POST,
};

enum fsan_deadlock_flags {
    FSAN_DLF_STRICT_EXIT = 1u << 0, /* strict mode ended the child */
    FSAN_DLF_GRACE_ACQUIRED = 1u << 1, /* strict: acquired during the grace period */
    FSAN_DLF_ATTEMPT_SITE_SHARED = 1u << 2, /* as FSAN_HELD_SITE_SHARED, for the attempt site */
    FSAN_DLF_ACQUIRE_SITE_SHARED = 1u << 3, /* as FSAN_HELD_SITE_SHARED, for the acquire site */
};

struct fsan_rec_deadlock {
    uint64_t lock_addr;
    uint16_t lock_type;
    uint16_t op;           /* enum fsan_lock_op */
    uint32_t form;         /* enum fsan_deadlock_form */
    uint32_t tid;          /* the child's thread that attempted */
    uint32_t attempt_site;
    uint32_t holder_tid;   /* parent tid holding it at fork, 0 if unknown */
    uint32_t acquire_site; /* where the holder took it, 0 if unknown */
    uint32_t kind;         /* enum fsan_lock_kind bits; FSAN_DL_COND_VANISHED_SIGNALLER: the signallers */
    uint32_t flags;        /* enum fsan_deadlock_flags */
};

struct fsan_rec_exec {
    uint32_t tid;
    uint32_t reserved;
    /* tail: path (no NUL) */
};

struct fsan_rec_exec_failed {
    int32_t error;
    uint32_t reserved;
};

enum fsan_exit_how {
    FSAN_EXIT_EXIT = 1,      /* exit() */
    FSAN_EXIT__EXIT = 2,     /* _exit() / _Exit() */
    FSAN_EXIT_DESTRUCTOR = 3,/* returned from main or exit() inside libc */
    FSAN_EXIT_STRICT = 4,    /* ended by forksan strict mode */
};

struct fsan_rec_exit {
    uint32_t how;   /* enum fsan_exit_how */
    int32_t status; /* -1 when unknown */
    uint32_t site;
    uint32_t tid;
};

/* The runtime's per-thread table of held locks (a STATS record counts the
 * threads whose table was full at a fork). */
#define FSAN_MAX_HELD_LOCKS 32

/* The most Python frames the runtime records per stack: a PYSITE with
 * fewer is a whole stack. */
#define FSAN_PY_MAX_FRAMES 12

struct fsan_rec_stats {
    uint64_t lost_bytes;      /* trace bytes that could not be written */
    uint32_t thread_overflow; /* threads not tracked: table full */
    uint32_t site_overflow;   /* call sites not interned: table full */
    uint32_t held_overflow;   /* fork child: threads whose held-lock table was full at the fork */
    uint32_t cond_overflow;   /* condition variables whose signallers were not recorded: table full (version 10) */
};


/* PYSITE: u32 id; u16 nframes; u16 reserved; then nframes frames, each
 * { u32 line; u16 file_len; u16 function_len; file bytes; function bytes }
 * (UTF-8, no NUL), innermost first.  Python site ids are their own space. */
struct fsan_rec_pysite {
    uint32_t id;
    uint16_t nframes;
    uint16_t reserved;
};

struct fsan_rec_pyframe {
    uint32_t line;
    uint16_t file_len;
    uint16_t function_len;
};

/* PYREF: the Python stack of something another record describes.
 * `what` says which record and role; `key` identifies it in that record:
 *   FORK      key = 0                   the fork call (this child's PROCESS)
 *   THREAD    key = thread tid          the thread's Python stack at fork
 *   HELD      key = lock address        where the holder took the lock
 *   ATTEMPT   key = lock address        the child's attempt (DEADLOCK)
 *   HANG      key = thread tid          a hung thread's stack (HANG_THREAD)
 * `name` is the Python thread name for THREAD (empty when unknown). */
enum fsan_pyref_what {
    FSAN_PYREF_FORK = 1,
    FSAN_PYREF_THREAD = 2,
    FSAN_PYREF_HELD = 3,
    FSAN_PYREF_ATTEMPT = 4,
    FSAN_PYREF_HANG = 5, /* version 10, .hang files: key = tid, that HANG_THREAD's Python stack */
};

struct fsan_rec_pyref {
    uint32_t what;
    uint32_t pysite;
    uint64_t key;
    char name[32]; /* NUL padded */
};

/* PYINFO: u32 state (1 = Python frames recorded, 2 = interpreter found but
 * frames unavailable); u32 hexversion; tail: a reason (no NUL). */
enum fsan_pyinfo_state { FSAN_PY_ACTIVE = 1, FSAN_PY_UNAVAILABLE = 2 };
struct fsan_rec_pyinfo {
    uint32_t state;
    uint32_t hexversion;
};

/* LOOP: an epoll instance alive at fork, as the child inherited it.
 * tail: int32_t fds[nfds], the descriptors registered in it. */
enum fsan_loop_flags {
    FSAN_LOOP_DRIVER_VANISHED = 1u << 0, /* the thread that waited on it is gone */
};
struct fsan_rec_loop {
    int32_t epfd;
    uint32_t creator_tid;   /* parent tid that created it */
    uint32_t driver_tid;    /* parent tid that last waited on it, 0 if none */
    uint32_t create_site;
    uint32_t create_pysite;
    uint32_t flags;         /* enum fsan_loop_flags */
    uint32_t nfds;
    uint32_t reserved;
};

enum fsan_loop_use_kind {
    FSAN_LOOPUSE_CTL = 1,      /* epoll_ctl on the inherited instance */
    FSAN_LOOPUSE_WAIT = 2,     /* epoll_wait/pwait on it */
    FSAN_LOOPUSE_WAKE = 3,     /* a write to a descriptor registered in it (or its pipe peer) */
    FSAN_LOOPUSE_RECREATE = 4, /* the child closed it: it re-creates its own */
};
struct fsan_rec_loop_use {
    int32_t epfd;
    uint32_t kind;          /* enum fsan_loop_use_kind */
    int32_t fd;             /* CTL/WAKE: the descriptor, else -1 */
    uint32_t tid;
    uint32_t site;
    uint32_t pysite;
};

/* PIDCHECK: a fork child read its pid at a site that read it before the
 * fork (a library comparing getpid() with a cached pid), or declared a
 * dropped cache through forksan_cache_dropped().  tail: the declared name
 * (no NUL), empty for a pid read. */
struct fsan_rec_pidcheck {
    uint32_t site;
    uint32_t pysite;
    uint32_t declared; /* 1: forksan_cache_dropped() */
    uint32_t built_site; /* declared: where forksan_cache_declare() named it, 0 if never */
};

/* CLEANUP: written by a fork child when it flushes or ends.  tail: the
 * name of the first handler concerned when it is a Python function (its
 * qualified name, no NUL), else empty. */
enum fsan_cleanup_kind {
    FSAN_CLEANUP_STDIO_DUP = 1,   /* bytes buffered before the fork are written again */
    FSAN_CLEANUP_DUP_HANDLERS = 2,/* exit() runs handlers the parent registered */
    FSAN_CLEANUP_SKIPPED = 3,     /* _exit() drops bytes buffered, or handlers registered, after the fork:
                                   * bytes/fd (total, first stream), count/handler (C), py_count (Python) */
    FSAN_CLEANUP_COW = 4,         /* bytes = private dirty memory at the end, count = its share in percent */
};
enum fsan_cleanup_effect {
    FSAN_EFFECT_WRITE = 1,  /* wrote `bytes` on `fd`, the parent's own open file */
    FSAN_EFFECT_REMOVE = 2, /* removed the file named in the tail */
};

struct fsan_rec_cleanup {
    uint32_t kind;     /* enum fsan_cleanup_kind */
    int32_t fd;        /* the stream's descriptor, -1 for handlers */
    uint64_t bytes;    /* bytes concerned */
    uint32_t site;     /* the flush / exit / _exit call */
    uint32_t count;    /* handlers concerned */
    uint64_t handler;  /* the first such handler's address, 0 if none */
    uint32_t py_count; /* SKIPPED: Python atexit handlers registered after the fork;
                        * DUP_HANDLERS: what the handler did, enum fsan_cleanup_effect
                        * (count = handlers inherited, handler = the one that did it,
                        * tail = the path it removed) */
    uint32_t pysite;   /* Python stack of the flush / exit / _exit call, 0 if none */
};

/* FOREIGN: a semaphore operation on an address this process never
 * initialised (sem_init), opened (sem_open) or inherited through fork: a
 * handle that crossed an exec (multiprocessing "spawn" unpickling a fork
 * context's semaphore).  Written, and flushed, before the call is made:
 * when the address is not mapped the call crashes the process. */
enum fsan_foreign_flags {
    FSAN_FOREIGN_UNMAPPED = 1u << 0, /* no mapping at the address: the call faults */
};
struct fsan_rec_foreign {
    uint64_t addr;
    uint16_t lock_type; /* enum fsan_lock_type */
    uint16_t op;        /* enum fsan_lock_op */
    uint32_t tid;
    uint32_t site;
    uint32_t pysite;
    uint32_t flags;     /* enum fsan_foreign_flags */
    uint32_t reserved;
};

/* SIGNAL: this process sent `signo` to `target`, a fork child of its own
 * image (not exec'd) that neither catches nor ignores it: the child dies
 * without running its exit path.  What the child loses is read from its
 * memory just before the signal goes out.  tail: the first Python atexit
 * handler's qualified name (no NUL), empty if none. */
struct fsan_rec_signal {
    uint32_t target;      /* the child's pid */
    uint32_t signo;
    uint32_t tid;         /* the sending thread */
    uint32_t site;        /* the kill/tgkill/sigqueue/pidfd_send_signal call */
    uint32_t pysite;
    uint32_t handlers;    /* C exit handlers the child registered after its fork */
    uint64_t handler;     /* the first of them, 0 if none */
    uint64_t pending;     /* stdio bytes the child buffered after its fork */
    uint32_t py_handlers; /* Python atexit handlers registered after its fork */
    uint32_t child_pysite;/* the child's main thread's Python stack (no line numbers), 0 if none */
};

/* REAPED: wait/waitpid/wait4 returned a child that a signal ended (its own
 * alarm, a crash, a kill from anywhere): the dead child cannot say so, its
 * parent can. */
struct fsan_rec_reaped {
    uint32_t pid;
    uint32_t signo;
};

/* REMEDY: safe mode (FORKSAN_OPTIONS=mode=safe, or forksan_safe_fork())
 * removed a hazard, or says why it could not.  Written by the fork child,
 * which is where every remedy matters: the ones made before the fork
 * (FLUSH, QUIESCE) right after the snapshot, the others when the child
 * reaches the hazard. */
enum fsan_remedy_kind {
    FSAN_REMEDY_FLUSH = 1,    /* a stdio stream was flushed before the fork: object = fd, amount = bytes */
    FSAN_REMEDY_QUIESCE = 2,  /* another thread's lock was taken before the fork (it released it in time)
                                 and released in parent and child: amount = microseconds waited */
    FSAN_REMEDY_REINIT = 3,   /* a lock held at fork by a vanished thread was re-initialised when the child took it */
    FSAN_REMEDY_ADOPT = 4,    /* a recursive/error-checking mutex or write-held rwlock of the forking
                                 thread now belongs to the child's thread */
    FSAN_REMEDY_EPOLL = 5,    /* the child got its own copy of an inherited epoll instance: object = epfd,
                                 amount = registrations copied */
    FSAN_REMEDY_SKIPPED = 6,  /* a remedy that was not made: why in `reason` */
    FSAN_REMEDY_MAX = 6,
};
enum fsan_remedy_reason {
    FSAN_RMR_NONE = 0,
    FSAN_RMR_RESERVED = 1,    /* not written */
    FSAN_RMR_UNMAPPED = 2,    /* the lock's memory is no longer mapped */
    FSAN_RMR_STREAM_BUSY = 3, /* a stream with unflushed bytes was locked by a thread (object = fd) */
    FSAN_RMR_EPOLL_FULL = 4,  /* more registrations than the runtime tracks per instance */
    FSAN_RMR_EPOLL_FAILED = 5,/* the copy could not be made (amount = errno) */
    FSAN_RMR_SIGNAL_HANDLER = 6, /* the fork was made in a signal handler: nothing was remedied */
    FSAN_RMR_DESTROYED = 7,   /* a semaphore was destroyed while the quiesce waited for it (amount = how many) */
    FSAN_RMR_MAX = 7,
};
struct fsan_rec_remedy {
    uint64_t object;      /* the lock's address, the epoll fd, the stream's fd */
    uint64_t amount;      /* see the kinds */
    uint32_t kind;        /* enum fsan_remedy_kind */
    uint32_t reason;      /* enum fsan_remedy_reason (SKIPPED) */
    uint32_t tid;         /* the child's thread that made it */
    uint32_t site;        /* where the child met the hazard (0: at the fork) */
    uint32_t pysite;      /* its Python stack, 0 if none */
    uint32_t acquire_site;/* where the lock was taken in the parent, or the epoll instance created; 0 if unknown */
    uint32_t holder_tid;  /* the lock's holder in the parent, 0 if none */
    uint16_t lock_type;   /* enum fsan_lock_type, for a lock */
    uint16_t flags;       /* 0 */
};

/* The sizes every writer and reader rely on (man/forksan-trace.5 lists
 * the same), and the offsets of the fields that follow a change of width,
 * where padding would move them. */
_Static_assert(sizeof(struct fsan_sup_header) == 12, "supervisor message header");
_Static_assert(sizeof(struct fsan_trace_file_header) == 16, "file header");
_Static_assert(sizeof(struct fsan_rec_header) == 8, "record header");
_Static_assert(sizeof(struct fsan_rec_process) == 48, "PROCESS");
_Static_assert(offsetof(struct fsan_rec_process, start_ticks) == 32, "PROCESS start_ticks");
_Static_assert(offsetof(struct fsan_rec_process, time_ns) == 16, "PROCESS time_ns");
_Static_assert(sizeof(struct fsan_rec_site) == 8, "SITE");
_Static_assert(sizeof(struct fsan_rec_thread) == 40, "THREAD");
_Static_assert(offsetof(struct fsan_rec_thread, start_routine) == 8, "THREAD start_routine");
_Static_assert(offsetof(struct fsan_rec_thread, name) == 24, "THREAD name");
_Static_assert(sizeof(struct fsan_rec_held) == 32, "HELD");
_Static_assert(offsetof(struct fsan_rec_held, lock_type) == 16, "HELD lock_type");
_Static_assert(offsetof(struct fsan_rec_held, kind) == 20, "HELD kind");
_Static_assert(offsetof(struct fsan_rec_held, flags) == 28, "HELD flags");
_Static_assert(sizeof(struct fsan_rec_lock_event) == 24, "LOCK_EVENT");
_Static_assert(offsetof(struct fsan_rec_lock_event, event) == 8, "LOCK_EVENT event");
_Static_assert(sizeof(struct fsan_rec_resumed) == 8, "RESUMED");
_Static_assert(sizeof(struct fsan_rec_deadlock) == 40, "DEADLOCK");
_Static_assert(offsetof(struct fsan_rec_deadlock, lock_type) == 8, "DEADLOCK lock_type");
_Static_assert(offsetof(struct fsan_rec_deadlock, form) == 12, "DEADLOCK form");
_Static_assert(offsetof(struct fsan_rec_deadlock, flags) == 36, "DEADLOCK flags");
_Static_assert(sizeof(struct fsan_rec_exec) == 8, "EXEC");
_Static_assert(sizeof(struct fsan_rec_exec_failed) == 8, "EXEC_FAILED");
_Static_assert(sizeof(struct fsan_rec_exit) == 16, "EXIT");
_Static_assert(sizeof(struct fsan_rec_stats) == 24, "STATS");
_Static_assert(offsetof(struct fsan_rec_stats, thread_overflow) == 8, "STATS thread_overflow");
_Static_assert(sizeof(struct fsan_rec_pysite) == 8, "PYSITE");
_Static_assert(sizeof(struct fsan_rec_pyframe) == 8, "PYSITE frame");
_Static_assert(sizeof(struct fsan_rec_pyref) == 48, "PYREF");
_Static_assert(offsetof(struct fsan_rec_pyref, key) == 8, "PYREF key");
_Static_assert(offsetof(struct fsan_rec_pyref, name) == 16, "PYREF name");
_Static_assert(sizeof(struct fsan_rec_pyinfo) == 8, "PYINFO");
_Static_assert(sizeof(struct fsan_rec_loop) == 32, "LOOP");
_Static_assert(sizeof(struct fsan_rec_loop_use) == 24, "LOOP_USE");
_Static_assert(sizeof(struct fsan_rec_pidcheck) == 16, "PIDCHECK");
_Static_assert(sizeof(struct fsan_rec_cleanup) == 40, "CLEANUP");
_Static_assert(offsetof(struct fsan_rec_cleanup, bytes) == 8, "CLEANUP bytes");
_Static_assert(offsetof(struct fsan_rec_cleanup, handler) == 24, "CLEANUP handler");
/* Version 5's CLEANUP ended where py_count begins (records.def). */
_Static_assert(offsetof(struct fsan_rec_cleanup, py_count) == 32, "CLEANUP py_count");
_Static_assert(sizeof(struct fsan_rec_foreign) == 32, "FOREIGN");
_Static_assert(offsetof(struct fsan_rec_foreign, lock_type) == 8, "FOREIGN lock_type");
_Static_assert(offsetof(struct fsan_rec_foreign, tid) == 12, "FOREIGN tid");
_Static_assert(sizeof(struct fsan_rec_signal) == 48, "SIGNAL");
_Static_assert(offsetof(struct fsan_rec_signal, handler) == 24, "SIGNAL handler");
_Static_assert(offsetof(struct fsan_rec_signal, py_handlers) == 40, "SIGNAL py_handlers");
_Static_assert(sizeof(struct fsan_rec_reaped) == 8, "REAPED");
_Static_assert(sizeof(struct fsan_rec_remedy) == 48, "REMEDY");
_Static_assert(offsetof(struct fsan_rec_remedy, kind) == 16, "REMEDY kind");
_Static_assert(offsetof(struct fsan_rec_remedy, lock_type) == 44, "REMEDY lock_type");

/* A hang file: forksan run's watchdog keeps each fork child it found hung
 * (child-hang) in the trace directory as forksan.<pid>.hang, so that a
 * later `forksan report DIR` shows it too.  It has the framing of a trace
 * (header, records) and is written by forksan run, not by the runtime:
 * a PROCESS naming the hung child (pid, ppid, kind FORK), MAPS (the
 * child's /proc/PID/maps at the hang, for the stacks), one HANG, then one
 * HANG_THREAD per thread.  Since version 10. */
#define FSAN_HANG_SUFFIX ".hang"
#define FSAN_HANG_MAX_FRAMES 64

enum fsan_hang_flags {
    FSAN_HANG_ENDED = 1u << 0, /* --mode strict ended the child */
};

/* HANG: tail: why there are no stacks (no NUL), empty when there are. */
struct fsan_rec_hang {
    uint32_t seconds;  /* how long every thread was seen blocked */
    uint32_t flags;    /* enum fsan_hang_flags */
    char kind[16];     /* what it waits in: "futex", "pipe" or "futex+pipe", NUL padded */
};

/* HANG_THREAD: tail: what the thread waits for, in words (no NUL). */
struct fsan_rec_hang_thread {
    uint32_t tid;
    uint32_t nips;     /* frames in ips, 0 when there is no stack */
    uint64_t futex;    /* the futex word it waits on, 0 for another wait */
    char name[16];     /* its comm, NUL padded */
    uint64_t ips[FSAN_HANG_MAX_FRAMES]; /* innermost first; [0] is the exact pc, the others return addresses */
};

_Static_assert(sizeof(struct fsan_rec_hang) == 24, "HANG");
_Static_assert(sizeof(struct fsan_rec_hang_thread) == 32 + 8 * FSAN_HANG_MAX_FRAMES, "HANG_THREAD");

#endif

/* foreign.c — foreign-handle: a semaphore used by a process that never
 * created, opened or inherited it.
 *
 * A sem_t pointer is only meaningful in the address space that holds the
 * semaphore: the process that ran sem_init or sem_open on it, or a fork
 * child, which inherited the memory.  Passed across an exec (Python's
 * multiprocessing pickling a fork-context Event or Lock for a "spawn"
 * child, which rebuilds it from the parent's raw address) it points at
 * nothing, and the first sem_wait/sem_post crashes the child with SIGSEGV,
 * far from the cause.  The runtime notices the unknown address before the
 * call and says so; when the address is not even mapped, the record is on
 * disk (and the runtime's own report on stderr) before the crash.
 *
 * DESIGN
 * A fixed open-addressing set of the semaphore addresses this image knows:
 * inserted by sem_init/sem_open, removed (tombstone) by sem_destroy/
 * sem_close, inherited by fork children with the rest of the memory, empty
 * after exec.  The hot path is one load (fsan__sem_check in fsan.h).  An
 * address not in the set is not always foreign: a semaphore placed in
 * shared memory by another process, or one created before the runtime
 * loaded, is used without sem_init here.  So an unknown address that is
 * mapped is adopted silently; only an unmapped one is reported.  When the
 * set is full, unknown addresses are no longer checked at all (counted,
 * never a false report).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fsan.h"

#define TOMBSTONE ((uintptr_t)1)
#define PROBES 32

_Atomic uintptr_t fsan__sem_set[FSAN_SEM_SET];
static _Atomic int set_full;
static uintptr_t reported[16];
static _Atomic int nreported;

/* Finds addr, or (insert) puts it in the first free or dead slot of its
 * probe sequence.  Racing inserts of one address may store it twice: a
 * harmless duplicate that a later removal leaves behind. */
static int set_find(uintptr_t addr, int insert)
{
    uint32_t idx = fsan__sem_slot(addr);
    _Atomic uintptr_t *free_slot = NULL;
    for (uint32_t probe = 0; probe < PROBES; probe++, idx = (idx + 1) & (FSAN_SEM_SET - 1)) {
        uintptr_t k = atomic_load_explicit(&fsan__sem_set[idx], memory_order_relaxed);
        if (k == addr)
            return 1;
        if (k == TOMBSTONE && !free_slot)
            free_slot = &fsan__sem_set[idx];
        if (k != 0)
            continue;
        if (!insert)
            return 0;
        if (!free_slot)
            free_slot = &fsan__sem_set[idx];
        break;
    }
    if (!insert)
        return 0;
    for (int tries = 0; free_slot && tries < 2; tries++) {
        uintptr_t expected = atomic_load_explicit(free_slot, memory_order_relaxed);
        if ((expected == 0 || expected == TOMBSTONE) &&
            atomic_compare_exchange_strong(free_slot, &expected, addr))
            return 1;
    }
    atomic_store(&set_full, 1); /* no room: stop judging unknown addresses */
    return 0;
}

void fsan__sem_born(const void *sem)
{
    if (sem && sem != SEM_FAILED)
        set_find((uintptr_t)sem, 1);
}

void fsan__sem_gone(const void *sem)
{
    uint32_t idx = fsan__sem_slot((uintptr_t)sem);
    for (uint32_t probe = 0; probe < PROBES; probe++, idx = (idx + 1) & (FSAN_SEM_SET - 1)) {
        uintptr_t k = atomic_load_explicit(&fsan__sem_set[idx], memory_order_relaxed);
        if (k == 0)
            return;
        if (k == (uintptr_t)sem) {
            atomic_compare_exchange_strong(&fsan__sem_set[idx], &k, TOMBSTONE);
            return;
        }
    }
}

/* AS-safe: is every byte of [addr, addr+len) mapped?  mincore fails with
 * ENOMEM exactly when part of the range is not. */
static int mapped(uintptr_t addr, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = addr & ~(page - 1);
    unsigned char vec[2];
    int saved = errno;
    int rc = mincore((void *)start, addr + len - start, vec);
    int gone = rc != 0 && errno == ENOMEM;
    errno = saved;
    return !gone;
}

static const char *op_name(uint16_t op)
{
    switch (op) {
    case FSAN_OP_SEM_WAIT: return "sem_wait";
    case FSAN_OP_SEM_TIMEDWAIT: return "sem_timedwait";
    case FSAN_OP_SEM_CLOCKWAIT: return "sem_clockwait";
    case FSAN_OP_SEM_TRYWAIT: return "sem_trywait";
    default: return "sem_post";
    }
}

/* AS-safe: the runtime's own report, for a process about to crash. */
static void print_report(uintptr_t addr, uint16_t op, uint32_t site, uint32_t pysite)
{
    static char text[4096];
    struct fsan__sbuf sb = {text, sizeof text - 1, 0};
    fsan__sb_str(&sb, "==");
    fsan__sb_dec(&sb, fsan__proc.pid);
    fsan__sb_str(&sb, "==ERROR: forksan: foreign-handle: ");
    fsan__sb_str(&sb, op_name(op));
    fsan__sb_str(&sb, "() on semaphore ");
    fsan__sb_hex(&sb, addr);
    fsan__sb_str(&sb, ", which this process never created, opened or inherited; the address is not mapped here, so "
                      "the call crashes.\n  The handle came from another process across an exec (a fork-context "
                      "multiprocessing object passed to a spawn-context process?).\n");
    if (pysite)
        fsan__pysite_describe(&sb, "used at", pysite);
    else
        fsan__site_describe(&sb, "used at", site);
    fsan__sb_str(&sb, "SUMMARY: forksan: foreign-handle\n");
    fsan__announce(text, sb.len);
}

void fsan__sem_unknown(const void *sem, uint16_t op, uintptr_t ret)
{
    uintptr_t addr = (uintptr_t)sem;
    if (!fsan__active() || fsan__guard || atomic_load_explicit(&set_full, memory_order_relaxed) ||
        set_find(addr, 0))
        return;
    if (mapped(addr, sizeof(sem_t))) {
        set_find(addr, 1); /* shared memory set up elsewhere, or older than us: adopt it */
        return;
    }
    int n = atomic_load(&nreported);
    for (int i = 0; i < n && i < 16; i++)
        if (reported[i] == addr)
            return;
    if (n < 16 && atomic_compare_exchange_strong(&nreported, &n, n + 1))
        reported[n] = addr;
    int saved = errno;
    fsan__guard++;
    uint32_t site = fsan__site_of_obj(ret, addr);
    uint32_t pysite = 0;
    if (fsan__py_active()) {
        pysite = fsan__py_site_here();
        if (!pysite && fsan__py_pending_lock == addr)
            pysite = fsan__py_pending_site;
    }
    fsan__trace_mark_needed();
    fsan__site_write(site);
    fsan__pysite_write(pysite);
    fsan__trace_maps();
    struct fsan_rec_foreign rec = {addr, FSAN_LOCK_SEM, op, (uint32_t)fsan__sys_gettid(), site, pysite,
                                   FSAN_FOREIGN_UNMAPPED, 0};
    fsan__trace_record(FSAN_REC_FOREIGN, &rec, sizeof rec, NULL, 0);
    fsan__trace_stats();
    fsan__trace_flush();
    if (fsan__proc.opts.child_report || fsan__trace_incomplete())
        print_report(addr, op, site, pysite);
    fsan__guard--;
    errno = saved;
    if (fsan__proc.opts.mode == FSAN_MODE_STRICT)
        fsan__strict_exit("the process", "crash on semaphore", addr);
}

/* Is sem a semaphore this image knows alive (made or inherited, not yet
 * destroyed)?  Safe mode's quiesce asks before each try: a semaphore
 * destroyed meanwhile is not touched again. */
int fsan__sem_known(const void *sem)
{
    return set_find((uintptr_t)sem, 0) || atomic_load(&set_full); /* a full set cannot tell */
}

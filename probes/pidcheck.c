/* pidcheck.c — state that fork silently drops: pid checks.
 *
 * Fork-aware libraries key caches and pools by process id: in a child the
 * comparison of getpid() (or syscall(SYS_getpid)) with the pid they cached
 * trips, and whatever the parent built is thrown away.  The runtime
 * remembers every site (native call site, or Python stack when called from
 * Python) that read the pid before the fork; a fork child reading its pid at one of those sites is a
 * pid check tripping (rule cleared-cache).  Whether a given site is
 * harmless or drops something is knowledge about libraries, kept as data
 * in analyzer/pidchecks.def, not here.  Libraries can also say it outright
 * with forksan_cache_dropped() (forksan.h).
 *
 * DESIGN
 * A fixed open-addressing set of site keys, inserted with compare-and-swap
 * in the parent, only read in the child (the fork copied it): nothing
 * grows, nothing locks, and a clean child writes nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

#include "fsan.h"

#define RET_ADDR ((uintptr_t)__builtin_return_address(0))
#define PID_SITES 1024

static _Atomic uint64_t pid_sites[PID_SITES];   /* keys seen before the fork */
static uint64_t reported[64];
FSAN_HOT static int nreported;

/* A Python read is keyed by its line (innermost frame), a C one by its call
 * site: the check is the same check whoever calls it. */
static uint64_t site_key(uint32_t site, uint64_t pykey)
{
    return pykey ? pykey | 1 : (uint64_t)site << 1;
}

static int set_has(uint64_t key, int insert)
{
    uint32_t idx = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 54) & (PID_SITES - 1);
    for (uint32_t probe = 0; probe < 32; probe++, idx = (idx + 1) & (PID_SITES - 1)) {
        uint64_t k = atomic_load_explicit(&pid_sites[idx], memory_order_relaxed);
        if (k == key)
            return 1;
        if (k != 0)
            continue;
        if (!insert)
            return 0;
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong(&pid_sites[idx], &expected, key) || expected == key)
            return 0;
    }
    return 0;
}

static void record(uint32_t site, uint32_t pysite, uint64_t key, const char *name, uint32_t built_site)
{
    for (int i = 0; i < nreported; i++)
        if (reported[i] == key)
            return;
    if (nreported < 64)
        reported[nreported++] = key;
    int saved = errno;
    fsan__trace_mark_needed();
    fsan__child_note_finding();
    fsan__site_write(site);
    fsan__site_write(built_site);
    fsan__pysite_write(pysite);
    fsan__trace_maps();
    struct fsan_rec_pidcheck rec = {site, pysite, name ? 1u : 0u, built_site};
    fsan__trace_record(FSAN_REC_PIDCHECK, &rec, sizeof rec, name, name ? strnlen(name, 200) : 0);
    fsan__trace_flush();
    errno = saved;
}

static int own_child(void)
{
    return fsan__proc.in_child && (pid_t)fsan__sys_getpid() == fsan__proc.pid;
}

/* A read of the pid by the caller at ret. */
static void pid_read(uintptr_t ret)
{
    int saved = errno;
    fsan__guard++; /* nothing below may come back here */
    uint32_t site = fsan__site_of(ret);
    uint64_t pykey = fsan__py_active() ? fsan__py_here_key() : 0;
    uint64_t key = site_key(site, pykey);
    if (FSAN_UNLIKELY(fsan__proc.in_child)) {
        if (set_has(key, 0) && own_child())
            record(site, fsan__py_active() ? fsan__py_site_here() : 0, key, NULL, 0);
    } else {
        set_has(key, 1);
    }
    fsan__guard--;
    if (errno != saved)
        errno = saved;
}

FSAN_EXPORT pid_t getpid(void)
{
    pid_t pid = REAL(getpid)();
    if (fsan__active() && !fsan__guard)
        pid_read(RET_ADDR);
    return pid;
}

/* Some libraries read the pid with syscall(SYS_getpid), past any getpid()
 * cache.  Every other number goes straight through: glibc's own syscall()
 * takes six register arguments whatever the call, and so does this. */
FSAN_EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    long rc = REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
    if (FSAN_UNLIKELY(number == SYS_getpid) && fsan__active() && !fsan__guard)
        pid_read(RET_ADDR);
    return rc;
}

/* Caches declared with forksan_cache_declare(): name and building site,
 * appended with a claimed index, read (never written) by fork children. */
#define DECLARED_MAX 64
#define DECLARED_NAME 48
static struct {
    _Atomic int ready;
    uint32_t site;
    char name[DECLARED_NAME];
} declared[DECLARED_MAX];
static _Atomic int ndeclared;

static uint32_t declared_site(const char *what)
{
    int n = atomic_load(&ndeclared);
    for (int i = n < DECLARED_MAX ? n : DECLARED_MAX; i-- > 0;)
        if (atomic_load(&declared[i].ready) && strncmp(declared[i].name, what, DECLARED_NAME - 1) == 0)
            return declared[i].site;
    return 0;
}

FSAN_EXPORT void forksan_cache_declare(const char *what)
{
    if (!fsan__active() || !what || !*what || declared_site(what))
        return;
    int i = atomic_fetch_add(&ndeclared, 1);
    if (i >= DECLARED_MAX)
        return;
    declared[i].site = fsan__site_of(RET_ADDR);
    strncpy(declared[i].name, what, DECLARED_NAME - 1);
    atomic_store(&declared[i].ready, 1);
}

FSAN_EXPORT void forksan_cache_dropped(const char *what)
{
    if (!fsan__active() || !fsan__proc.in_child || !own_child())
        return;
    const char *name = what && *what ? what : "a cache";
    uint32_t site = fsan__site_of(RET_ADDR);
    uint32_t pysite = fsan__py_active() ? fsan__py_site_here() : 0;
    record(site, pysite, site_key(site, fsan__py_active() ? fsan__py_here_key() : 0) ^ 2, name, declared_site(name));
}

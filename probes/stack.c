/* stack.c — call sites, captured once and interned.
 *
 * A call site is identified by the return address of the intercepted call
 * (the instruction after the call in the user's code).  The first time a
 * site is seen its whole stack is captured from the unwind tables (libgcc's
 * unwinder, linked into the runtime); afterwards the
 * site costs one hash probe.  Sites are referred to by a 32-bit id
 * everywhere else (held-lock entries, thread creation, the fork site).
 *
 * DESIGN
 * The table is a fixed open-addressing array claimed with compare-and-swap:
 * no lock on the lock/unlock path, no allocation, bounded memory, counted
 * overflow (site id 0 means "not recorded").  Two call paths that reach the
 * same call instruction share a site, and keep the stack of the first one:
 * cheap and nearly always what a user means by "where the lock was taken".
 * Symbolization happens offline in the analyzer.
 *
 * The unwinder takes no lock of its own (no frames are registered with
 * it: it finds .eh_frame_hdr through the loader), and the runtime counts
 * the threads currently unwinding.  It walks the loader's module list with
 * dl_iterate_phdr, which takes
 * glibc's dl_load_write_lock — a lock glibc does *not* reset in a fork
 * child (it resets dl_load_lock and dl_load_tls_lock only).  So in a fork
 * child whose parent had other threads (any of which may have been inside
 * dl_iterate_phdr or dlopen at the fork instant), the runtime never
 * unwinds: it records the return address and follows the frame-pointer
 * chain as far as every step is provably sane (frames move up the stack,
 * return addresses lie in executable mappings).  Code built without frame
 * pointers then yields one frame: the call site, which is the line that
 * matters most.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unwind.h>

#include "fsan.h"

struct fsan__site fsan__sites[FSAN_MAX_SITES];
FSAN_HOT _Atomic uint32_t fsan__site_overflow;
FSAN_HOT _Atomic int fsan__unwinding;

static inline uint32_t site_hash(uintptr_t key)
{
    return fsan__site_hash(key);
}

static uint32_t intern(uintptr_t return_address, uintptr_t object);

/* AS-safe: is addr inside an executable mapping of this process? */
static int in_executable_mapping(uintptr_t addr)
{
    size_t len;
    const char *maps = fsan__maps_text(&len);
    struct fsan__mapping m;
    return fsan__maps_find(maps, len, addr, &m) && m.executable;
}

/* AS-safe: callers of return_address by the frame-pointer chain, stopping
 * at the first step that does not look like a real frame. */
static uint32_t frame_pointer_walk(uintptr_t return_address, uintptr_t *out, uint32_t max)
{
    const uintptr_t *fp = __builtin_frame_address(0);
    const uintptr_t limit = (uintptr_t)fp + (8u << 20);
    int found = 0;
    uint32_t n = 0;
    for (int steps = 0; steps < 64 && n < max; steps++) {
        if (!fp || ((uintptr_t)fp & 7) || (uintptr_t)fp >= limit)
            break;
        uintptr_t ret = fp[1];
        const uintptr_t *next = (const uintptr_t *)fp[0];
        if (found) {
            if (!in_executable_mapping(ret))
                break;
            out[n++] = ret;
        } else if (ret == return_address) {
            found = 1; /* the interposer's frame: what follows is the user's */
        }
        if (next <= fp)
            break;
        fp = next;
    }
    return found ? n : 0;
}

/* The calling thread's stack, innermost first, from the .eh_frame unwind
 * tables (libgcc's unwinder, linked into the runtime and hidden: see the
 * Makefile).  Not libunwind: as a dependency it loads libunwind and
 * liblzma into every process the runtime lives in, exec'd ones included:
 * 17 more mappings to set up at every exec and to copy at every fork
 * (measured: fork+exec 1.46x -> 1.26x, fork+_exit 1.32x -> 1.15x), and
 * its unw_backtrace keeps a 256 KiB cache per thread. */
/* libgcc's unwinder asks whether the process may be threaded (to take
 * its locks) by testing the address of __pthread_key_create, a weak
 * reference.  Left to the loader, that reference is a symbol lookup at
 * every exec of every image (about 700 instructions); defined here, the
 * link resolves it.  The answer is the same as libc's (threaded: yes),
 * and a call goes to pthread_key_create. */
int __pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) __attribute__((visibility("hidden")));
int __pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
    return pthread_key_create(key, destructor);
}

/* The unwinder finds the unwind tables of a pc with glibc's
 * _dl_find_object, the one function of its symbol version (GLIBC_2.35)
 * the runtime calls: linked to libc's, that version would be checked at
 * every exec of every image (about 300 instructions).  Defined here, it
 * calls libc's through the runtime's own lookup, on first use, AS-safe
 * (fsan__hooks_symbol); -1 (not found) sends the unwinder to
 * dl_iterate_phdr, as on a glibc without it. */
struct dl_find_object;
int _dl_find_object(void *pc, struct dl_find_object *result) __attribute__((visibility("hidden")));
int _dl_find_object(void *pc, struct dl_find_object *result)
{
    static int (*find)(void *, struct dl_find_object *);
    if (!find)
        find = (int (*)(void *, struct dl_find_object *))fsan__hooks_symbol("_dl_find_object");
    return find ? find(pc, result) : -1;
}

struct walk_state {
    void **out;
    int n, max;
};

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *context, void *arg)
{
    struct walk_state *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(context);
    if (ip == 0 || w->n >= w->max)
        return _URC_END_OF_STACK;
    w->out[w->n++] = (void *)ip;
    return _URC_NO_REASON;
}

static int walk(void **out, int max)
{
    struct walk_state w = {out, 0, max};
    _Unwind_Backtrace(walk_frame, &w);
    return w.n;
}

/* AS-safe: is the calling thread running a signal handler?  The kernel
 * makes a handler return into its sa_restorer, glibc's __restore_rt,
 * whose code on x86_64 is "mov $15,%rax; syscall" (rt_sigreturn): one of
 * the frames of this call returns there.  0 where it cannot tell. */
int fsan__in_signal_handler(void)
{
#if defined(__x86_64__)
    static const unsigned char rt_sigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    void *frames[FSAN_MAX_FRAMES];
    int n = walk(frames, FSAN_MAX_FRAMES);
    for (int i = 0; i < n; i++) {
        uintptr_t ip = (uintptr_t)frames[i];
        if (in_executable_mapping(ip) && in_executable_mapping(ip + sizeof rt_sigreturn - 1) &&
            memcmp((const void *)ip, rt_sigreturn, sizeof rt_sigreturn) == 0)
            return 1;
    }
#endif
    return 0;
}

static void capture(struct fsan__site *s, uintptr_t return_address)
{
    void *raw[FSAN_MAX_FRAMES + 8];
    int n = 0;
    if (fsan__proc.unwind_unsafe) {
        uint32_t max = (uint32_t)fsan__proc.opts.max_frames;
        s->frames[0] = return_address;
        uint32_t more = frame_pointer_walk(return_address, &s->frames[1], max - 1);
        s->language = FSAN_LANG_C;
        atomic_store_explicit(&s->nframes, 1 + more, memory_order_release);
        return;
    }
    {
        int max = fsan__proc.opts.max_frames + 8;
        atomic_fetch_add(&fsan__unwinding, 1);
        n = walk(raw, max);
        atomic_fetch_sub(&fsan__unwinding, 1);
    }
    /* Drop the runtime's own frames: start at the user's return address. */
    int start = -1;
    for (int i = 0; i < n; i++) {
        if ((uintptr_t)raw[i] == return_address) {
            start = i;
            break;
        }
    }
    uint32_t out = 0;
    s->frames[out++] = return_address;
    if (start >= 0)
        for (int i = start + 1; i < n && out < (uint32_t)fsan__proc.opts.max_frames; i++)
            s->frames[out++] = (uintptr_t)raw[i];
    s->language = FSAN_LANG_C;
    atomic_store_explicit(&s->nframes, out, memory_order_release);
}

/* The slow path of fsan__site_of (fsan.h): a site not yet seen, or a hash
 * collision.  Capturing runs the unwinder, which may set errno and call
 * hooked functions: both are contained here. */
uint32_t fsan__site_intern(uintptr_t return_address, uintptr_t object)
{
    if (!return_address)
        return 0;
    int saved = errno;
    fsan__guard++;
    uint32_t id = intern(return_address, object);
    fsan__guard--;
    errno = saved;
    return id;
}

static uint32_t intern(uintptr_t return_address, uintptr_t object)
{
    uint32_t idx = site_hash(return_address);
    for (uint32_t probe = 0; probe < FSAN_MAX_SITES; probe++, idx = (idx + 1) & (FSAN_MAX_SITES - 1)) {
        struct fsan__site *s = &fsan__sites[idx];
        uintptr_t key = atomic_load_explicit(&s->key, memory_order_acquire);
        if (FSAN_LIKELY(key == return_address))
            return idx + 1;
        if (key != 0)
            continue;
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&s->key, &expected, return_address)) {
            s->first_object = object;
            capture(s, return_address);
            return idx + 1;
        }
        if (expected == return_address)
            return idx + 1;
    }
    atomic_fetch_add(&fsan__site_overflow, 1);
    return 0;
}

/* AS-safe */
void fsan__site_write(uint32_t id)
{
    if (id == 0 || id > FSAN_MAX_SITES)
        return;
    struct fsan__site *s = &fsan__sites[id - 1];
    if (s->written_gen == fsan__trace_gen)
        return;
    uint32_t n = atomic_load_explicit(&s->nframes, memory_order_acquire);
    uint64_t frames[FSAN_MAX_FRAMES];
    if (n == 0) { /* claimed by a thread that vanished mid-capture */
        frames[0] = atomic_load(&s->key);
        n = 1;
    } else {
        for (uint32_t i = 0; i < n; i++)
            frames[i] = s->frames[i];
    }
    struct fsan_rec_site rec = {id, s->language, (uint16_t)n};
    fsan__trace_record(FSAN_REC_SITE, &rec, sizeof rec, frames, n * sizeof frames[0]);
    s->written_gen = fsan__trace_gen;
}


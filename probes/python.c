/* python.c — the CPython bridge: Python call stacks (file, line, function)
 * next to the native ones, so a report points at the user's .py line.
 *
 * Found by symbol lookup in the process (the C-API lives in the executable
 * for Debian's python3, in libpython3.N.so for a shared build), never
 * linked: the runtime lives in every program.  CPython 3.10 to 3.15 are
 * read; any other version is reported once as "Python frames unavailable"
 * and the native frames carry on.
 *
 * DESIGN
 * Frames are read straight from the interpreter's memory by the walker the
 * forksan command shares (common/pywalk.c), with the layout of the running
 * interpreter's minor version, chosen at start-up by Py_Version
 * (Py_GetVersion on 3.10).  Two situations:
 *  - in a running process, on a lock acquire or a fork by a thread that
 *    holds the GIL: the thread's frames are its own and consistent, so
 *    plain reads are fine.  A Python site is interned by the code objects
 *    and instruction pointers of its innermost frames (pointer reads only);
 *    strings and line numbers are computed once, when a site is first seen.
 *    A blocking wait, which runs without the GIL, reuses the stack of the
 *    failed try CPython makes with the GIL just before (fsan__py_wait_site):
 *    the lock path makes no system call.
 *  - in a fork child, for threads that vanished: their frames are frozen
 *    but a pointer may still be stale, so every read goes through
 *    process_vm_readv on ourselves, which fails with EFAULT instead of
 *    crashing.
 * Strings are copied into a fixed pool, deduplicated by content (a code
 * object can be freed and its address reused: content is the only safe
 * key).  Tables are bounded; overflow means "no Python stack", never a
 * crash.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fsan.h"
#include "pywalk.h"

#define PY_MAX_SITES 4096
#define PY_MAX_FRAMES FSAN_PY_MAX_FRAMES
#define PY_KEY_FRAMES 4
#define PY_POOL_SIZE (1u << 20)
#define PY_STR_INDEX 16384
#define PY_STR_MAX 255

enum py_state { PY_UNKNOWN = 0, PY_ACTIVE = 1, PY_UNAVAILABLE = 2, PY_ABSENT = 3 };

struct py_frame {
    uint32_t line;
    uint32_t file;     /* pool offset + 1, 0 = unknown */
    uint32_t function; /* pool offset + 1 */
};

struct py_site {
    _Atomic uint64_t key;
    _Atomic uint32_t nframes; /* 0 until filled */
    uint32_t written_gen;
    uint32_t name_frame; /* 1 + the frame whose first local is a starting threading.Thread, 0 when none */
    struct py_frame frames[PY_MAX_FRAMES];
};

static struct {
    int state;
    unsigned long hexversion;
    struct fsan_py_layout L; /* the running interpreter's layout */
    uintptr_t instr_mask;    /* the bits of a frame's instruction field that are its instruction */
    uintptr_t runtime;
    _Atomic uintptr_t main_gil; /* 3.12+: the GIL a Python thread was first seen to hold */
    int (*gil_check)(void);
    void *(*tstate_get)(void);
    int (*addr2line)(void *code, int byte_offset);
    uintptr_t code_type; /* &PyCode_Type: a code object is checked before use */
    uintptr_t function_type; /* &PyFunction_Type, for atexit handler names */
    uintptr_t unicode_type;  /* &PyUnicode_Type: a function's __module__ may be any object */
    void *(*getattr)(void *obj, const char *name);
    void (*decref)(void *obj);
    void (*err_fetch)(void **type, void **value, void **tb);
    void (*err_restore)(void *type, void *value, void *tb);
    void *(*dict_get)(void *dict, const char *key); /* 3.10: PyDict_GetItemString, for method names */
    char reason[160];
} py;

static struct py_site py_sites[PY_MAX_SITES];
static char py_pool[PY_POOL_SIZE];
static _Atomic uint32_t py_pool_used;
static _Atomic uint32_t py_str_index[PY_STR_INDEX]; /* pool offset + 1 */

FSAN_TLS uint32_t fsan__py_pending_site;
static FSAN_TLS uintptr_t tls_own_tstate; /* this thread's PyThreadState, once known */
static FSAN_TLS uintptr_t tls_own_gil;    /* 3.12+: the GIL of that thread state's interpreter */
FSAN_TLS uintptr_t fsan__py_pending_lock;

/* ---- setup ---------------------------------------------------------------- */

static void unavailable(const char *why)
{
    py.state = PY_UNAVAILABLE;
    size_t n = strlen(why);
    if (n >= sizeof py.reason)
        n = sizeof py.reason - 1;
    memcpy(py.reason, why, n);
    py.reason[n] = '\0';
}

/* ---- memory access ---------------------------------------------------------- */

/* Plain read: the calling thread's own frames, GIL held. */
static int read_plain(void *dst, uintptr_t src, size_t n)
{
    if (src < 4096)
        return -EFAULT;
    memcpy(dst, (const void *)src, n);
    return 0;
}

/* AS-safe fault-proof read: a stale pointer gives EFAULT, not SIGSEGV. */
#define read_safe fsan__read_mem

typedef fsan__reader reader_fn;

static uintptr_t read_ptr(reader_fn rd, uintptr_t addr)
{
    uintptr_t v = 0;
    return rd(&v, addr, sizeof v) == 0 ? v : 0;
}

/* The walker's view of the three readers. */
static int mem_plain_read(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    return read_plain(dst, (uintptr_t)addr, n);
}

static int mem_safe_read(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    return read_safe(dst, (uintptr_t)addr, n);
}

static int mem_state_read(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    return fsan__read_state(dst, (uintptr_t)addr, n);
}

static const struct fsan_py_mem mem_plain = {mem_plain_read, 0}, mem_safe = {mem_safe_read, 0},
                                mem_state = {mem_state_read, 0};

static const struct fsan_py_mem *mem_of(reader_fn rd)
{
    return rd == read_plain ? &mem_plain : rd == read_safe ? &mem_safe : &mem_state;
}

/* 3.10 has no Py_Version: its version string starts "3.10.13 (main, ...". */
static unsigned long version_from_string(void)
{
    const char *(*get)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    const char *v = get ? get() : NULL;
    unsigned long part[3] = {0, 0, 0};
    for (int i = 0; v && i < 3; i++) {
        if (*v < '0' || *v > '9')
            return 0;
        while (*v >= '0' && *v <= '9')
            part[i] = part[i] * 10 + (unsigned long)(*v++ - '0');
        if (i < 2 && *v++ != '.')
            return i == 1 ? part[0] << 24 | part[1] << 16 : 0;
    }
    return part[0] << 24 | part[1] << 16 | part[2] << 8;
}

/* Called from the constructor: every object the program was linked with is
 * loaded by then, the executable included.  The interpreter is not
 * initialized yet: only its static data (_PyRuntime's debug offsets) is
 * read here. */
void fsan__py_init(void)
{
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    void *gil = dlsym(RTLD_DEFAULT, "PyGILState_Check");
    if (!gil) {
        py.state = PY_ABSENT;
        return;
    }
    py.hexversion = version ? *version : version_from_string();
    /* Py_REF_DEBUG (every debug build) exports its reference-count
     * bookkeeping; such a build lays out its structures otherwise. */
    if (dlsym(RTLD_DEFAULT, "_Py_NegativeRefcount") || dlsym(RTLD_DEFAULT, "_Py_GetRefTotal") ||
        dlsym(RTLD_DEFAULT, "_Py_GetGlobalRefTotal")) {
        unavailable("a debug build of CPython (Py_DEBUG), whose structures forksan does not know");
        return;
    }
    const struct fsan_py_layout *layout = fsan_py_layout_for(py.hexversion);
    if (!layout) {
        unavailable(py.hexversion ? "a CPython version whose frame layout this forksan does not know "
                                    "(it reads CPython 3.10 to 3.15)"
                                  : "a CPython whose version cannot be read (no Py_Version, no Py_GetVersion)");
        return;
    }
    py.gil_check = (int (*)(void))gil;
    py.tstate_get = (void *(*)(void))dlsym(RTLD_DEFAULT, "_PyThreadState_UncheckedGet");
    if (!py.tstate_get) /* not exported from 3.13 */
        py.tstate_get = (void *(*)(void))dlsym(RTLD_DEFAULT, "PyThreadState_GetUnchecked");
    py.addr2line = (int (*)(void *, int))dlsym(RTLD_DEFAULT, "PyCode_Addr2Line");
    py.runtime = (uintptr_t)dlsym(RTLD_DEFAULT, "_PyRuntime");
    py.code_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
    py.getattr = (void *(*)(void *, const char *))dlsym(RTLD_DEFAULT, "PyObject_GetAttrString");
    py.decref = (void (*)(void *))dlsym(RTLD_DEFAULT, "Py_DecRef");
    py.err_fetch = (void (*)(void **, void **, void **))dlsym(RTLD_DEFAULT, "PyErr_Fetch");
    py.err_restore = (void (*)(void *, void *, void *))dlsym(RTLD_DEFAULT, "PyErr_Restore");
    py.function_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyFunction_Type");
    py.unicode_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyUnicode_Type");
    py.dict_get = (void *(*)(void *, const char *))dlsym(RTLD_DEFAULT, "PyDict_GetItemString");
    if (!py.tstate_get || !py.addr2line || !py.runtime || !py.code_type || !py.getattr || !py.decref ||
        !py.err_fetch || !py.err_restore) {
        unavailable("a CPython without PyThreadState_GetUnchecked, PyCode_Addr2Line or _PyRuntime");
        return;
    }
    const char *why = NULL;
    if (fsan_py_layout_adopt(layout, &mem_safe, py.runtime, py.hexversion, &py.L, &why) < 0) {
        unavailable(why);
        return;
    }
    py.instr_mask = py.L.lasti_int ? 0xffffffffu : ~(uintptr_t)0;
    py.state = PY_ACTIVE;
}

int fsan__py_active(void)
{
    return py.state == PY_ACTIVE;
}

/* AS-safe.  See fsan.h. */
int fsan__py_parking_lot(void)
{
    return py.state == PY_ACTIVE && py.L.minor >= 13;
}

/* AS-safe: says once per trace file whether Python frames are recorded. */
void fsan__py_write_info(void)
{
    static uint32_t written_gen;
    if ((py.state != PY_ACTIVE && py.state != PY_UNAVAILABLE) || written_gen == fsan__trace_gen)
        return;
    written_gen = fsan__trace_gen;
    struct fsan_rec_pyinfo info = {py.state == PY_ACTIVE ? FSAN_PY_ACTIVE : FSAN_PY_UNAVAILABLE,
                                   (uint32_t)py.hexversion};
    const char *reason = py.state == PY_ACTIVE ? "" : py.reason;
    fsan__trace_record(FSAN_REC_PYINFO, &info, sizeof info, reason, strlen(reason));
}

/* ---- strings ---------------------------------------------------------------- */

static uint32_t str_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* AS-safe: the pool offset+1 of a NUL-terminated copy of s, shared with
 * any earlier identical string; 0 when the pool is full. */
static uint32_t intern_string(const char *s, size_t n)
{
    uint32_t idx = str_hash(s, n) & (PY_STR_INDEX - 1);
    for (uint32_t probe = 0; probe < 64; probe++, idx = (idx + 1) & (PY_STR_INDEX - 1)) {
        uint32_t off = atomic_load_explicit(&py_str_index[idx], memory_order_acquire);
        if (off == 0) {
            uint32_t at = atomic_fetch_add(&py_pool_used, (uint32_t)n + 1);
            if (at + n + 1 > PY_POOL_SIZE)
                return 0;
            memcpy(py_pool + at, s, n);
            py_pool[at + n] = '\0';
            uint32_t expected = 0;
            if (atomic_compare_exchange_strong(&py_str_index[idx], &expected, at + 1))
                return at + 1;
            off = expected; /* somebody else filled this slot first */
        }
        if (strncmp(py_pool + off - 1, s, n) == 0 && py_pool[off - 1 + n] == '\0')
            return off;
    }
    return 0;
}

/* A Python str object as UTF-8 in the pool. */
static uint32_t read_pystr(reader_fn rd, uintptr_t obj)
{
    char out[PY_STR_MAX + 1];
    int len = fsan_py_read_str(&py.L, mem_of(rd), obj, out, sizeof out);
    return len < 0 ? 0 : intern_string(out, (size_t)len);
}

/* ---- frames ------------------------------------------------------------------ */

/* The thread's innermost frame.  With plain reads (the lock path, GIL
 * held) by direct loads: the walker's callback costs a few indirect calls
 * on every acquire.  An entry frame found first (3.12+) is left to the
 * walker. */
static uintptr_t current_frame(reader_fn rd, uintptr_t tstate)
{
    if (rd == read_plain && tstate >= 4096) {
        uintptr_t frame = *(const uintptr_t *)(tstate + py.L.tstate_frame);
        if (py.L.frames == FSAN_PY_CFRAME)
            frame = frame >= 4096 ? *(const uintptr_t *)(frame + py.L.cframe_current) : 0;
        if (frame < 4096)
            return 0;
        if (py.L.owner_cstack < 0 || *(const uint8_t *)(frame + py.L.frame_owner) < (uint8_t)py.L.owner_cstack)
            return frame;
    }
    return (uintptr_t)fsan_py_thread_frame(&py.L, mem_of(rd), tstate);
}

static uintptr_t caller_frame(reader_fn rd, uintptr_t frame)
{
    return (uintptr_t)fsan_py_frame_caller(&py.L, mem_of(rd), frame);
}

/* The source line of a frame's instruction.  In this process
 * PyCode_Addr2Line, which only parses the code object's line table (no
 * allocation, no lock), and gets a verified code object only; another
 * process's frames (fsan__read_pid) are not ours to hand to the
 * interpreter, so their line table is read by the walker. */
static int frame_line(reader_fn rd, const struct fsan_py_frame_ref *ref)
{
    if (!ref->code || ref->offset < 0)
        return 0;
    if (fsan__read_pid)
        return fsan_py_code_line(&py.L, mem_of(rd), ref->code, ref->offset);
    return py.addr2line((void *)(uintptr_t)ref->code, (int)ref->offset);
}

/* 3.10's code objects have no qualified name (co_qualname is 3.11's), yet
 * forksan's tables name methods by it (Thread.start, Handler.acquire).  A
 * method's first argument is its instance: the class of type(self)'s MRO
 * whose own dictionary holds a function with this very code object is the
 * one that defines it.  Plain reads and dictionary lookups, so only for a
 * thread's own frames with the GIL held, when a site is first filled. */
static uint32_t method_qualname(uintptr_t frame, uintptr_t code, uint32_t name)
{
    int32_t argcount = *(const int32_t *)(code + py.L.code_argcount);
    uintptr_t self = argcount > 0 ? read_ptr(read_plain, frame + py.L.frame_localsplus) : 0;
    uintptr_t mro = self ? read_ptr(read_plain, read_ptr(read_plain, self + py.L.obj_type) + py.L.type_mro) : 0;
    int64_t n = mro ? *(const int64_t *)(mro + py.L.tuple_size) : 0;
    const char *method = py_pool + name - 1;
    for (int64_t i = 0; i < n && i < 64; i++) {
        uintptr_t cls = read_ptr(read_plain, mro + py.L.tuple_item + (uintptr_t)i * sizeof(uintptr_t));
        uintptr_t dict = cls ? read_ptr(read_plain, cls + py.L.type_dict) : 0;
        uintptr_t func = dict ? (uintptr_t)py.dict_get((void *)dict, method) : 0;
        if (!func || read_ptr(read_plain, func + py.L.obj_type) != py.function_type ||
            read_ptr(read_plain, func + py.L.func_code) != code)
            continue;
        const char *cname = (const char *)read_ptr(read_plain, cls + py.L.type_name);
        if (!cname)
            return name;
        const char *dot = strrchr(cname, '.');
        cname = dot ? dot + 1 : cname;
        char full[2 * PY_STR_MAX + 2];
        size_t clen = strnlen(cname, PY_STR_MAX), mlen = strnlen(method, PY_STR_MAX);
        memcpy(full, cname, clen);
        full[clen] = '.';
        memcpy(full + clen + 1, method, mlen);
        uint32_t joined = intern_string(full, clen + 1 + mlen);
        return joined ? joined : name;
    }
    return name;
}

static void fill_frame(reader_fn rd, uintptr_t frame, struct py_frame *out)
{
    struct fsan_py_frame_ref ref;
    fsan_py_frame_read(&py.L, mem_of(rd), frame, py.code_type, &ref);
    uintptr_t code = (uintptr_t)ref.code;
    out->file = read_pystr(rd, read_ptr(rd, code + py.L.code_filename));
    out->function = read_pystr(rd, read_ptr(rd, code + (py.L.qualname ? py.L.code_qualname : py.L.code_name)));
    if (!py.L.qualname && rd == read_plain && code && out->function && py.dict_get && py.function_type)
        out->function = method_qualname(frame, code, out->function);
    int line = out->file ? frame_line(rd, &ref) : 0;
    out->line = line > 0 ? (uint32_t)line : 0;
}

/* A site's key covers every frame it stores (depth of them): two stacks
 * that share their innermost frames but not their callers must never
 * share a site, or a report shows one thread's call with another
 * thread's callers. */
static uint64_t frames_key(reader_fn rd, uintptr_t frame, int depth)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)depth;
    for (int i = 0; i < depth && frame; i++) {
        h = (h ^ read_ptr(rd, frame + py.L.frame_code)) * 0x100000001b3ull;
        h = (h ^ (read_ptr(rd, frame + py.L.frame_instr) & py.instr_mask)) * 0x100000001b3ull;
        frame = caller_frame(rd, frame);
    }
    return h ? h : 1;
}

/* The same key with plain loads, for the hot path (a thread's own frames,
 * GIL held): no function pointer, no copy.  The interpreter's own entry
 * frames (3.12+) are skipped as caller_frame skips them. */
static inline uint64_t frames_key_plain(uintptr_t frame, int depth)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)depth;
    for (int i = 0, steps = 0; i < depth && frame >= 4096 && steps < 4 * depth; steps++) {
        uintptr_t next = *(const uintptr_t *)(frame + py.L.frame_previous);
        if (py.L.owner_cstack >= 0 && *(const uint8_t *)(frame + py.L.frame_owner) >= (uint8_t)py.L.owner_cstack) {
            frame = next;
            continue;
        }
        h = (h ^ *(const uintptr_t *)(frame + py.L.frame_code)) * 0x100000001b3ull;
        h = (h ^ (*(const uintptr_t *)(frame + py.L.frame_instr) & py.instr_mask)) * 0x100000001b3ull;
        frame = next;
        i++;
    }
    return h ? h : 1;
}

/* Python thread names (threading.Thread.name) live only in Python
 * objects.  Every Python thread, the main one included, takes a lock of
 * its own early in threading.py, in a frame whose first local is the
 * Thread: Thread._set_tstate_lock (3.10-3.12), or Event.set called from
 * Thread._bootstrap_inner or _MainThread.__init__ (3.13).  At that
 * moment, with the GIL held and no Python code involved, the bridge reads
 * self._name from the instance and keeps it in the thread's slot for the
 * fork snapshot.  Which frame of a site that is, is found once, when the
 * site is filled. */
static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

static uint32_t thread_name_frame(const struct py_frame *frames, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!frames[i].function || !frames[i].file || !ends_with(py_pool + frames[i].file - 1, "threading.py"))
            continue;
        const char *f = py_pool + frames[i].function - 1;
        if ((i == 0 && (strcmp(f, "Thread._set_tstate_lock") == 0 || strcmp(f, "_set_tstate_lock") == 0)) ||
            (py.L.minor >= 13 && (strcmp(f, "Thread._bootstrap_inner") == 0 || strcmp(f, "_MainThread.__init__") == 0)))
            return i + 1;
    }
    return 0;
}

/* The interned site for the innermost depth frames of the stack starting
 * at frame. */
static uint32_t intern_stack(reader_fn rd, uintptr_t frame, int depth)
{
    if (!frame)
        return 0;
    uint64_t key = rd == read_plain ? frames_key_plain(frame, depth) : frames_key(rd, frame, depth);
    uint32_t idx = (uint32_t)(key >> 40) & (PY_MAX_SITES - 1);
    for (uint32_t probe = 0; probe < 32; probe++, idx = (idx + 1) & (PY_MAX_SITES - 1)) {
        struct py_site *s = &py_sites[idx];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return idx + 1;
        if (k != 0)
            continue;
        uint64_t expected = 0;
        if (!atomic_compare_exchange_strong(&s->key, &expected, key)) {
            if (expected == key)
                return idx + 1;
            continue;
        }
        uint32_t n = 0;
        for (; frame && n < (uint32_t)depth; n++) {
            fill_frame(rd, frame, &s->frames[n]);
            frame = caller_frame(rd, frame);
        }
        s->name_frame = thread_name_frame(s->frames, n);
        atomic_store_explicit(&s->nframes, n ? n : 1, memory_order_release);
        return idx + 1;
    }
    return 0;
}

static void learn_thread_name(uintptr_t frame, uint32_t name_frame)
{
    struct fsan__thread *t = fsan__self_peek();
    if (!t || t->pyname[0])
        return;
    for (uint32_t i = 1; i < name_frame && frame; i++)
        frame = caller_frame(read_plain, frame);
    uintptr_t self = frame ? read_ptr(read_plain, frame + py.L.frame_localsplus) : 0;
    if (py.L.tagged_refs)
        self &= ~(uintptr_t)3;
    if (!self)
        return;
    void *etype, *evalue, *etb;
    py.err_fetch(&etype, &evalue, &etb); /* leave the program's error state exactly as it was */
    void *name = py.getattr((void *)self, "_name");
    if (name) {
        uint32_t off = read_pystr(read_plain, (uintptr_t)name);
        if (off) {
            size_t n = strnlen(py_pool + off - 1, sizeof t->pyname - 1);
            memcpy(t->pyname, py_pool + off - 1, n);
            t->pyname[n] = '\0';
        }
        py.decref(name);
    }
    py.err_restore(etype, evalue, etb);
}

/* This thread's state, learned once, when it first holds the GIL
 * (PyGILState_Check), with its interpreter's GIL (3.12+).  The slot keeps
 * it too: 3.10's thread states carry no kernel thread id, so a fork
 * child finds a frozen thread's state there. */
static uintptr_t learn_own_tstate(void)
{
    if (tls_own_tstate != 0 || !py.gil_check())
        return 0;
    uintptr_t ts = (uintptr_t)py.tstate_get();
    if (!ts)
        return 0;
    if (py.L.gil == FSAN_PY_GIL_HOLDER) {
        uintptr_t interp = read_ptr(read_plain, ts + py.L.tstate_interp);
        tls_own_gil = interp ? read_ptr(read_plain, interp + py.L.interp_ceval_gil) : 0;
        if (!tls_own_gil)
            return 0;
        uintptr_t none = 0;
        atomic_compare_exchange_strong(&py.main_gil, &none, tls_own_gil);
    }
    struct fsan__thread *t = fsan__self_peek();
    if (t)
        t->pytstate = ts;
    tls_own_tstate = ts;
    return ts;
}

/* Does the calling thread hold the GIL?  The interpreter keeps the GIL
 * holder's thread state in _PyRuntime (3.10, 3.11), or in the GIL itself
 * beside its locked flag (3.12+); comparing it with this thread's own
 * (learned once through PyGILState_Check) is one or two loads, where
 * calling PyGILState_Check on every lock operation would cost a TSS
 * lookup. */
static uintptr_t gil_holder_is_me(void)
{
    uintptr_t cur;
    if (py.L.gil == FSAN_PY_GIL_TSTATE_CURRENT) {
        cur = atomic_load_explicit((_Atomic uintptr_t *)(py.runtime + py.L.runtime_tstate_current),
                                   memory_order_relaxed);
    } else {
        uintptr_t gil = tls_own_gil ? tls_own_gil : atomic_load_explicit(&py.main_gil, memory_order_relaxed);
        if (gil && !atomic_load_explicit((_Atomic int *)(gil + py.L.gil_locked), memory_order_relaxed))
            return 0;
        cur = gil ? atomic_load_explicit((_Atomic uintptr_t *)(gil + py.L.gil_last_holder), memory_order_relaxed)
                  : 1; /* no Python thread learned yet: ask */
    }
    if (!cur)
        return 0;
    if (FSAN_LIKELY(tls_own_tstate == cur))
        return cur;
    return learn_own_tstate();
}

/* A stack of depth frames: PY_KEY_FRAMES on the lock path, where it is
 * computed at every acquire, PY_MAX_FRAMES elsewhere.  waited_lock: the
 * lock a blocking wait is for (fsan__py_wait_site), else 0. */
static uint32_t site_here(int depth, uintptr_t waited_lock)
{
    if (py.state != PY_ACTIVE)
        return 0;
    uintptr_t tstate = gil_holder_is_me();
    /* Without the GIL (CPython releases it around blocking calls such as
     * send, epoll_create1 or sem_wait) the thread's own frame stack is still
     * only ever changed by the thread itself, which is right here, inside a
     * C call: reading it is safe once its thread state is known. */
    int own_frames_only = 0;
    if (!tstate) {
        /* A wait that a failed try on the same lock announced: that try
         * read these very frames, with the GIL, a moment ago. */
        if (waited_lock && fsan__py_pending_lock == waited_lock)
            return fsan__py_pending_site;
        tstate = tls_own_tstate;
        own_frames_only = 1;
    }
    if (!tstate)
        return 0;
    int saved = errno;
    /* Without the GIL the thread state itself may already be gone (a
     * thread past its Python life, the interpreter finalizing): every read
     * is then fault-proof.  Those paths are the slow ones anyway. */
    reader_fn rd = own_frames_only ? read_safe : read_plain;
    uintptr_t frame = current_frame(rd, tstate);
    uint32_t id = intern_stack(rd, frame, depth);
    if (id && !own_frames_only && py_sites[id - 1].name_frame)
        learn_thread_name(frame, py_sites[id - 1].name_frame);
    errno = saved;
    return id;
}

uint32_t fsan__py_site_here(void)
{
    return site_here(PY_MAX_FRAMES, 0);
}

uint32_t fsan__py_lock_site_here(void)
{
    return site_here(PY_KEY_FRAMES, 0);
}

/* See fsan.h.  CPython's lock.acquire first tries without blocking while
 * it holds the GIL (sem_trywait: plain reads, and locks.c keeps the stack
 * of a failed try in fsan__py_pending_*), and only then releases the GIL
 * and waits.  The wait takes that stack as it is: reading the frames
 * again without the GIL would need fault-proof reads, two system calls per
 * word read, on every contended acquire.  Only a wait no try announced
 * (C code that waits without trying first) reads them, fault-proof.  With
 * the GIL, the frames are read in place, as for any other lock site. */
uint32_t fsan__py_wait_site(uintptr_t lock)
{
    return site_here(PY_KEY_FRAMES, lock);
}

/* 3.10: the thread state of the thread tid as its slot recorded it, when
 * it is still one of the interpreter's.  The slots are read in place, or
 * in the fork child fsan__read_pid names (the same image: the same
 * addresses). */
static uintptr_t slot_tstate(pid_t tid)
{
    uintptr_t ts = 0;
    uint32_t hwm = 0;
    fsan__read_state(&hwm, (uintptr_t)&fsan__threads_hwm, sizeof hwm);
    for (uint32_t i = 0; i < hwm && i < FSAN_MAX_THREADS && !ts; i++) {
        pid_t each = 0;
        if (fsan__read_state(&each, (uintptr_t)&fsan__threads[i].tid, sizeof each) == 0 && each == tid)
            ts = read_ptr(fsan__read_state, (uintptr_t)&fsan__threads[i].pytstate);
    }
    return (uintptr_t)fsan_py_thread_listed(&py.L, &mem_safe, py.runtime, ts);
}

/* AS-safe (fork child): walk every interpreter's thread list for the
 * thread whose native id is tid. */
uint32_t fsan__py_thread_stack(pid_t tid)
{
    if (py.state != PY_ACTIVE)
        return 0;
    int saved = errno;
    uintptr_t ts = py.L.native_tid ? (uintptr_t)fsan_py_find_thread(&py.L, &mem_safe, py.runtime, tid)
                                   : slot_tstate(tid);
    uint32_t id = ts ? intern_stack(read_safe, current_frame(read_safe, ts), PY_MAX_FRAMES) : 0;
    errno = saved;
    return id;
}

/* AS-safe.  See fsan.h.  Frames compare by content (file, function and
 * line, interned): inner must continue, past its own innermost frames,
 * with outer's frames, as far as both were recorded (a lock site keeps
 * fewer frames than a fork site). */
int fsan__py_site_within(uint32_t inner, uint32_t outer)
{
    if (inner == 0 || outer == 0 || inner > PY_MAX_SITES || outer > PY_MAX_SITES)
        return 0;
    if (inner == outer)
        return 1;
    const struct py_site *in = &py_sites[inner - 1], *out = &py_sites[outer - 1];
    uint32_t nin = atomic_load(&in->nframes), nout = atomic_load(&out->nframes);
    for (uint32_t skip = 0; skip < nin; skip++) {
        uint32_t n = nin - skip < nout ? nin - skip : nout;
        uint32_t same = 0;
        while (same < n && in->frames[skip + same].file == out->frames[same].file &&
               in->frames[skip + same].function == out->frames[same].function &&
               in->frames[skip + same].line == out->frames[same].line)
            same++;
        if (same == n && n > 0)
            return 1;
    }
    return 0;
}

/* AS-safe: the PYSITE record, once per trace file. */
void fsan__pysite_write(uint32_t id)
{
    if (id == 0 || id > PY_MAX_SITES)
        return;
    struct py_site *s = &py_sites[id - 1];
    uint32_t n = atomic_load_explicit(&s->nframes, memory_order_acquire);
    if (n == 0 || s->written_gen == fsan__trace_gen)
        return;
    s->written_gen = fsan__trace_gen;
    char buf[PY_MAX_FRAMES * (sizeof(struct fsan_rec_pyframe) + 2 * PY_STR_MAX)];
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct py_frame *f = &s->frames[i];
        const char *file = f->file ? py_pool + f->file - 1 : "?";
        const char *func = f->function ? py_pool + f->function - 1 : "?";
        struct fsan_rec_pyframe pf = {f->line, (uint16_t)strlen(file), (uint16_t)strlen(func)};
        memcpy(buf + len, &pf, sizeof pf);
        len += sizeof pf;
        memcpy(buf + len, file, pf.file_len);
        len += pf.file_len;
        memcpy(buf + len, func, pf.function_len);
        len += pf.function_len;
    }
    struct fsan_rec_pysite rec = {id, (uint16_t)n, 0};
    fsan__trace_record(FSAN_REC_PYSITE, &rec, sizeof rec, buf, len);
}

/* AS-safe: a Python stack as `File "x.py", line N, in f` lines, for the
 * runtime's own child report. */
void fsan__pysite_describe(struct fsan__sbuf *sb, const char *title, uint32_t id)
{
    fsan__sb_str(sb, "  ");
    fsan__sb_str(sb, title);
    fsan__sb_str(sb, ":\n");
    uint32_t n = id && id <= PY_MAX_SITES ? atomic_load(&py_sites[id - 1].nframes) : 0;
    for (uint32_t i = 0; i < n && i < 8; i++) {
        const struct py_frame *f = &py_sites[id - 1].frames[i];
        fsan__sb_str(sb, "    File \"");
        const char *file = f->file ? py_pool + f->file - 1 : "?";
        const char *function = f->function ? py_pool + f->function - 1 : "?";
        fsan__sb_text(sb, file, strlen(file), 1);
        fsan__sb_str(sb, "\", line ");
        fsan__sb_dec(sb, f->line);
        fsan__sb_str(sb, ", in ");
        fsan__sb_text(sb, function, strlen(function), 0);
        fsan__sb_str(sb, "\n");
    }
}

/* The innermost Python frame's identity (code object and line), 0 when
 * the thread runs no Python: "the same line", whatever the callers.
 * Same access rules as fsan__py_site_here. */
uint64_t fsan__py_here_key(void)
{
    if (py.state != PY_ACTIVE)
        return 0;
    uintptr_t tstate = gil_holder_is_me();
    reader_fn rd = read_plain;
    if (!tstate) {
        tstate = tls_own_tstate;
        rd = read_safe;
    }
    if (!tstate)
        return 0;
    int saved = errno;
    uintptr_t frame = current_frame(rd, tstate);
    uint64_t key = 0;
    if (frame) {
        /* By line, not by instruction: CPython specializes a call after a
         * few runs, and the specialized call executes from another
         * instruction of the same line; a pid check first run before the
         * fork and specialized by the time the child runs it is still the
         * same check. */
        struct fsan_py_frame_ref ref;
        fsan_py_frame_read(&py.L, mem_of(rd), frame, py.code_type, &ref);
        int line = frame_line(rd, &ref);
        key = (ref.code * 0x9E3779B97F4A7C15ull) ^ (line > 0 ? (uint64_t)line << 1 : ref.key);
    }
    errno = saved;
    return key;
}

/* ---- atexit handlers ----------------------------------------------------------- */

/* AS-safe.  See fsan.h.  The interpreter's own state (fsan__read_state:
 * in place here, no system call on the fork path).  The main interpreter
 * is the first one created, the last of the list. */
static uintptr_t main_interp(void)
{
    uintptr_t interp = read_ptr(fsan__read_state, py.runtime + py.L.runtime_interp_head), last = 0;
    for (int i = 0; interp && i < 64; i++) {
        last = interp;
        interp = read_ptr(fsan__read_state, interp + py.L.interp_next);
    }
    return last;
}

int fsan__py_atexit_count(void)
{
    if (py.state != PY_ACTIVE || !py.L.atexit)
        return 0;
    int n = 0;
    uintptr_t interp = main_interp();
    if (!interp || fsan__read_state(&n, interp + py.L.interp_atexit_ncallbacks, sizeof n) < 0 || n < 0)
        return 0;
    return n;
}

const char *fsan__py_atexit_name(int i)
{
    if (py.state != PY_ACTIVE || !py.L.atexit || i < 0)
        return NULL;
    uintptr_t callbacks = read_ptr(fsan__read_state, main_interp() + py.L.interp_atexit_callbacks);
    uintptr_t cb = callbacks ? read_ptr(fsan__read_state, callbacks + (uintptr_t)i * sizeof(uintptr_t)) : 0;
    uintptr_t func = cb ? read_ptr(fsan__read_state, cb + py.L.atexit_cb_func) : 0;
    if (!func || !py.function_type || read_ptr(fsan__read_state, func + py.L.obj_type) != py.function_type)
        return NULL;
    uint32_t name = read_pystr(fsan__read_state, read_ptr(fsan__read_state, func + py.L.func_qualname));
    if (!name)
        return NULL;
    /* "module.qualname" when the module is a str (it names where the
     * handler comes from: logging.shutdown, not just shutdown). */
    uintptr_t module_obj = read_ptr(fsan__read_state, func + py.L.func_module);
    uint32_t module = module_obj && py.unicode_type &&
                              read_ptr(fsan__read_state, module_obj + py.L.obj_type) == py.unicode_type
                          ? read_pystr(fsan__read_state, module_obj)
                          : 0;
    if (!module)
        return py_pool + name - 1;
    char full[2 * PY_STR_MAX + 2];
    size_t mlen = strnlen(py_pool + module - 1, PY_STR_MAX), nlen = strnlen(py_pool + name - 1, PY_STR_MAX);
    memcpy(full, py_pool + module - 1, mlen);
    full[mlen] = '.';
    memcpy(full + mlen + 1, py_pool + name - 1, nlen);
    uint32_t joined = intern_string(full, mlen + 1 + nlen);
    return joined ? py_pool + joined - 1 : py_pool + name - 1;
}

/* ---- safe mode (safe.c) ------------------------------------------------------ */

/* AS-safe: is the innermost frame of the Python stack pysite the
 * function (qualified name) of threading.py? */
static int innermost_is(uint32_t pysite, const char *function)
{
    if (pysite == 0 || pysite > PY_MAX_SITES)
        return 0;
    const struct py_site *s = &py_sites[pysite - 1];
    if (atomic_load_explicit(&s->nframes, memory_order_acquire) == 0 || !s->frames[0].function ||
        !s->frames[0].file || !ends_with(py_pool + s->frames[0].file - 1, "threading.py"))
        return 0;
    return strcmp(py_pool + s->frames[0].function - 1, function) == 0;
}

/* AS-safe: was the lock whose acquisition has the Python stack pysite
 * taken by CPython for its own bookkeeping, to be held for a thread's
 * whole life (Thread._set_tstate_lock: the lock join() waits on)?  Safe
 * mode does not wait for those before a fork: they are released only when
 * their thread ends, and CPython's own after-fork code replaces them. */
int fsan__py_lifelong_lock(uint32_t pysite)
{
    return innermost_is(pysite, "Thread._set_tstate_lock");
}

/* AS-safe.  See fsan.h.  Condition.wait takes its waiter lock once, then
 * again to sleep until notify() releases it: the innermost Python frame
 * of that second acquire is Condition.wait itself (acquire is C). */
int fsan__py_condition_wait(uint32_t pysite)
{
    return innermost_is(pysite, "Condition.wait");
}

/* Safe mode's quiesce waits for other threads to release their locks:
 * a Python thread needs the GIL to get there, and os.fork() calls fork()
 * with the GIL held.  So the wait lets the GIL go (PyEval_SaveThread) and
 * takes it back (PyEval_RestoreThread) before the fork, which then sees
 * the interpreter exactly as os.fork() left it.  Not from 3.13: its
 * os.fork() holds the runtime's interpreter-list mutex (HEAD_LOCK) across
 * fork(), and a thread given the GIL then parks on that mutex while it
 * holds the GIL, so the fork could never take it back.  There the wait
 * keeps the GIL, the holder cannot get to its release, and the lock is
 * re-initialised in the child instead.  Returns what to pass to
 * fsan__py_resume, NULL when the calling thread does not hold the GIL. */
void *fsan__py_pause(void)
{
    static void *(*save)(void);
    if (py.state != PY_ACTIVE || py.L.minor >= 13 || !py.gil_check || !py.gil_check())
        return NULL;
    if (!save)
        save = (void *(*)(void))dlsym(RTLD_DEFAULT, "PyEval_SaveThread");
    return save ? save() : NULL;
}

void fsan__py_resume(void *tstate)
{
    static void (*restore)(void *);
    if (!tstate)
        return;
    if (!restore)
        restore = (void (*)(void *))dlsym(RTLD_DEFAULT, "PyEval_RestoreThread");
    if (restore)
        restore(tstate);
}

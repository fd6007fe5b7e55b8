/* pywalk.c — CPython's frames read from memory (file, function, line of
 * every Python frame of a thread), for CPython 3.10 to 3.15, over a
 * memory-read callback: the runtime walks its own process (plain reads
 * for a thread's own frames, fault-proof process_vm_readv for frozen
 * threads in a fork child), the forksan command walks another process.
 *
 * DESIGN
 * One walker, several layouts.  The offsets of each minor version come
 * from its own internal headers, generated once (common/pyoffsets/gen.c,
 * `make pyoffsets`) and checked in: a build needs no CPython headers.
 * From 3.13 the interpreter describes itself: _PyRuntime begins with
 * _Py_DebugOffsets (cookie "xdebugpy", the version, the offsets of the
 * thread state, frame and code object fields), so fsan_py_layout_adopt
 * takes those from the running interpreter (the layout of that struct
 * itself changes between minor versions: its positions are in the table
 * too).  The shapes differ by version:
 *  - 3.10: tstate->frame is a PyFrameObject chain (f_back, f_code, f_lasti
 *    an index in code units); code objects have no co_qualname.
 *  - 3.11, 3.12: tstate->cframe->current_frame, _PyInterpreterFrame
 *    (f_code, prev_instr); 3.12 adds the interpreter's own entry frames
 *    (owner FRAME_OWNED_BY_CSTACK), which are skipped.
 *  - 3.13: tstate->current_frame; f_executable (not always a code
 *    object), instr_ptr.
 *  - 3.14, 3.15: the same, f_executable and the locals tagged references
 *    (_PyStackRef: the low bits are a tag).
 * Line numbers come from the code object's own line table (3.10's
 * address/line pairs, the 3.11+ location table), never by calling into
 * the interpreter, so they work on another process too.
 * Everything here is async-signal-safe: no allocation, no lock, only the
 * reads the callback makes; every loop is bounded.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "pywalk.h"
#include "pyoffsets/py310.h"
#include "pyoffsets/py311.h"
#include "pyoffsets/py312.h"
#include "pyoffsets/py313.h"
#include "pyoffsets/py314.h"
#include "pyoffsets/py315.h"

static const struct fsan_py_layout layouts[] = {FSAN_PY_LAYOUT_3_10, FSAN_PY_LAYOUT_3_11, FSAN_PY_LAYOUT_3_12,
                                                FSAN_PY_LAYOUT_3_13, FSAN_PY_LAYOUT_3_14, FSAN_PY_LAYOUT_3_15};

const struct fsan_py_layout *fsan_py_layout_for(unsigned long hexversion)
{
    if (((hexversion >> 24) & 0xff) != 3)
        return NULL;
    int minor = (int)((hexversion >> 16) & 0xff);
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].minor == minor)
            return &layouts[i];
    return NULL;
}

uint64_t fsan_py_read_ptr(const struct fsan_py_mem *mem, uint64_t addr)
{
    uint64_t v = 0;
    return addr >= 4096 && mem->read(mem, &v, addr, sizeof v) == 0 ? v : 0;
}

/* ---- _Py_DebugOffsets ------------------------------------------------------ */

/* _Py_DebugOffsets is read with one call (the start of _PyRuntime, the
 * size of the struct's furthest field this layout uses): the runtime
 * adopts it at every Python start, fault-proof. */
#define DEBUG_HEAD 1024

static int debug_field(const unsigned char *head, uint32_t pos, uint32_t *out)
{
    uint64_t v = 0;
    if (pos + sizeof v > DEBUG_HEAD)
        return -EINVAL;
    memcpy(&v, head + pos, sizeof v);
    if (v > (1u << 20))
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int fsan_py_layout_adopt(const struct fsan_py_layout *layout, const struct fsan_py_mem *mem, uint64_t runtime,
                         unsigned long hexversion, struct fsan_py_layout *out, const char **why)
{
    *out = *layout;
    if (!layout->debug_version)
        return 0;
    const struct {
        uint32_t pos;
        uint32_t *field;
    } stated[] = {
        {layout->debug_interp_head, &out->runtime_interp_head},
        {layout->debug_interp_next, &out->interp_next},
        {layout->debug_threads_head, &out->interp_threads_head},
        {layout->debug_tstate_next, &out->tstate_next},
        {layout->debug_tstate_native_tid, &out->tstate_native_tid},
        {layout->debug_tstate_frame, &out->tstate_frame},
        {layout->debug_frame_previous, &out->frame_previous},
        {layout->debug_frame_code, &out->frame_code},
        {layout->debug_frame_instr, &out->frame_instr},
        {layout->debug_frame_localsplus, &out->frame_localsplus},
        {layout->debug_frame_owner, &out->frame_owner},
        {layout->debug_code_filename, &out->code_filename},
        {layout->debug_code_name, &out->code_name},
        {layout->debug_code_qualname, &out->code_qualname},
        {layout->debug_code_linetable, &out->code_linetable},
        {layout->debug_code_firstlineno, &out->code_firstlineno},
        {layout->debug_code_adaptive, &out->code_adaptive},
        {layout->debug_obj_type, &out->obj_type},
        {layout->debug_str_state, &out->str_state},
        {layout->debug_str_length, &out->str_length},
        {layout->debug_str_ascii_size, &out->sizeof_ascii},
    };
    unsigned char head[DEBUG_HEAD];
    uint32_t size = (layout->debug_free_threaded > layout->debug_version ? layout->debug_free_threaded
                                                                          : layout->debug_version) + 8;
    for (size_t i = 0; i < sizeof stated / sizeof stated[0]; i++)
        if (stated[i].pos + 8 > size)
            size = stated[i].pos + 8;
    if (size > sizeof head || mem->read(mem, head, runtime, size) < 0 || memcmp(head, "xdebugpy", 8) != 0) {
        *why = "_PyRuntime does not start with _Py_DebugOffsets (no \"xdebugpy\" cookie)";
        return -EINVAL;
    }
    uint64_t version = 0, free_threaded = 0;
    memcpy(&version, head + layout->debug_version, sizeof version);
    memcpy(&free_threaded, head + layout->debug_free_threaded, sizeof free_threaded);
    if ((version >> 16) != (hexversion >> 16)) {
        *why = "_Py_DebugOffsets names another CPython version than Py_Version";
        return -EINVAL;
    }
    if (free_threaded) {
        *why = "a free-threaded CPython build (its objects and frames have another layout)";
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof stated / sizeof stated[0]; i++) {
        if (debug_field(head, stated[i].pos, stated[i].field) < 0) {
            *why = "_Py_DebugOffsets states an offset out of range";
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- frames ------------------------------------------------------------------ */

uint64_t fsan_py_thread_frame(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t tstate)
{
    uint64_t frame = fsan_py_read_ptr(mem, tstate + L->tstate_frame);
    if (L->frames == FSAN_PY_CFRAME)
        frame = frame ? fsan_py_read_ptr(mem, frame + L->cframe_current) : 0;
    if (frame && fsan_py_frame_is_shim(L, mem, frame))
        frame = fsan_py_frame_caller(L, mem, frame);
    return frame;
}

int fsan_py_frame_is_shim(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame)
{
    if (L->owner_cstack < 0)
        return 0;
    uint8_t owner = 0;
    return mem->read(mem, &owner, frame + L->frame_owner, 1) == 0 && owner >= (uint8_t)L->owner_cstack;
}

uint64_t fsan_py_frame_caller(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame)
{
    for (int i = 0; i < 4; i++) {
        frame = fsan_py_read_ptr(mem, frame + L->frame_previous);
        if (!frame || !fsan_py_frame_is_shim(L, mem, frame))
            return frame;
    }
    return 0;
}

void fsan_py_frame_read(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame,
                        uint64_t code_type, struct fsan_py_frame_ref *out)
{
    uint64_t code = fsan_py_read_ptr(mem, frame + L->frame_code);
    if (L->tagged_refs)
        code &= ~(uint64_t)3;
    uint64_t instr = fsan_py_read_ptr(mem, frame + L->frame_instr);
    if (L->lasti_int)
        instr = (uint64_t)(int64_t)(int32_t)instr; /* f_lasti: an int, little-endian first half */
    out->key = code * 0x100000001b3ull ^ instr;
    if (!code || fsan_py_read_ptr(mem, code + L->obj_type) != code_type)
        code = 0; /* not a code object: a stale frame, or 3.13's entry frame */
    out->code = code;
    int64_t units = L->lasti_int ? (int64_t)instr : (int64_t)(instr - (code + L->code_adaptive)) / L->codeunit_size;
    out->offset = code && units >= 0 && units < (1L << 24) ? units * L->codeunit_size : -1;
}

int fsan_py_read_process(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    if (addr < 4096)
        return -EFAULT;
    struct iovec local = {dst, n};
    struct iovec remote = {(void *)(uintptr_t)addr, n};
    return process_vm_readv(mem->pid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

/* 3.10: the only thread state of the interpreters, 0 when there are several. */
static uint64_t only_thread(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime)
{
    uint64_t interp = fsan_py_read_ptr(mem, runtime + L->runtime_interp_head);
    uint64_t ts = interp ? fsan_py_read_ptr(mem, interp + L->interp_threads_head) : 0;
    if (!ts || fsan_py_read_ptr(mem, ts + L->tstate_next) || fsan_py_read_ptr(mem, interp + L->interp_next))
        return 0;
    return ts;
}

/* The thread state in the interpreters' thread lists whose native id is
 * tid, or (want != 0) that is want itself. */
static uint64_t scan_threads(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime, long tid,
                             uint64_t want)
{
    uint64_t interp = fsan_py_read_ptr(mem, runtime + L->runtime_interp_head);
    for (int i = 0; interp && i < 64; i++) {
        uint64_t ts = fsan_py_read_ptr(mem, interp + L->interp_threads_head);
        for (int j = 0; ts && j < 4096; j++) {
            uint64_t native = 0;
            if (want ? ts == want
                     : mem->read(mem, &native, ts + L->tstate_native_tid, sizeof native) == 0 && (long)native == tid)
                return ts;
            ts = fsan_py_read_ptr(mem, ts + L->tstate_next);
        }
        interp = fsan_py_read_ptr(mem, interp + L->interp_next);
    }
    return 0;
}

uint64_t fsan_py_find_thread(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                             long tid)
{
    return L->native_tid ? scan_threads(L, mem, runtime, tid, 0) : 0;
}

uint64_t fsan_py_thread_listed(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                               uint64_t ts)
{
    return ts ? scan_threads(L, mem, runtime, 0, ts) : 0;
}

int fsan_py_walk_thread(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                        uint64_t code_type, long tid, int max_frames, fsan_py_frame_fn each, void *ctx)
{
    uint64_t ts = L->native_tid ? fsan_py_find_thread(L, mem, runtime, tid) : only_thread(L, mem, runtime);
    if (!ts)
        return -ESRCH;
    int n = 0;
    for (uint64_t frame = fsan_py_thread_frame(L, mem, ts); frame && n < max_frames;
         frame = fsan_py_frame_caller(L, mem, frame), n++) {
        struct fsan_py_frame_ref ref;
        fsan_py_frame_read(L, mem, frame, code_type, &ref);
        char file[256] = "?", function[256] = "?";
        if (ref.code) {
            fsan_py_read_str(L, mem, fsan_py_read_ptr(mem, ref.code + L->code_filename), file, sizeof file);
            fsan_py_read_str(L, mem, fsan_py_read_ptr(mem, ref.code + (L->qualname ? L->code_qualname : L->code_name)),
                             function, sizeof function);
        }
        each(ctx, file, function, ref.code ? fsan_py_code_line(L, mem, ref.code, ref.offset) : 0);
    }
    return n;
}

/* ---- strings ------------------------------------------------------------------ */

static size_t put_utf8(char *out, size_t len, size_t cap, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    if (len + n >= cap)
        return len;
    memcpy(out + len, b, n);
    return len + n;
}

/* Compact strings only: the names and file names of code objects always
 * are.  The state bits (kind, compact, ascii) sit at the same place in
 * every version 3.10-3.15. */
int fsan_py_read_str(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t obj, char *buf,
                     size_t cap)
{
    int64_t length = 0;
    uint32_t state = 0;
    if (cap == 0 || !obj || mem->read(mem, &length, obj + L->str_length, sizeof length) < 0 ||
        mem->read(mem, &state, obj + L->str_state, sizeof state) < 0 || length < 0)
        return -1;
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (!compact || (kind != 1 && kind != 2 && kind != 4))
        return -1;
    uint64_t data = obj + (ascii ? L->sizeof_ascii : L->sizeof_compact);
    unsigned char raw[1024];
    size_t n = (size_t)length < cap ? (size_t)length : cap;
    if (n * kind > sizeof raw)
        n = sizeof raw / kind;
    if (mem->read(mem, raw, data, n * kind) < 0)
        return -1;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = kind == 1 ? raw[i] : kind == 2 ? ((const uint16_t *)raw)[i] : ((const uint32_t *)raw)[i];
        len = put_utf8(buf, len, cap, cp);
    }
    buf[len] = '\0';
    return (int)len;
}

/* ---- line tables ---------------------------------------------------------------- */

/* A line table read through the callback in chunks. */
struct table {
    const struct fsan_py_mem *mem;
    uint64_t data;
    size_t size, pos, chunk_at, chunk_len;
    unsigned char chunk[256];
};

static int table_byte(struct table *t)
{
    if (t->pos >= t->size)
        return -1;
    if (t->pos < t->chunk_at || t->pos >= t->chunk_at + t->chunk_len) {
        size_t n = t->size - t->pos < sizeof t->chunk ? t->size - t->pos : sizeof t->chunk;
        if (t->mem->read(t->mem, t->chunk, t->data + t->pos, n) < 0)
            return -1;
        t->chunk_at = t->pos, t->chunk_len = n;
    }
    return t->chunk[t->pos++ - t->chunk_at];
}

/* 3.11+ location table varints: 6 bits a byte, 0x40 says another follows. */
static int64_t table_varint(struct table *t)
{
    int64_t v = 0;
    for (int shift = 0; shift < 36; shift += 6) {
        int b = table_byte(t);
        if (b < 0)
            return 0;
        v |= (int64_t)(b & 63) << shift;
        if (!(b & 64))
            break;
    }
    return v;
}

static int64_t table_svarint(struct table *t)
{
    int64_t v = table_varint(t);
    return v & 1 ? -(v >> 1) : v >> 1;
}

/* 3.11+ (Objects/locations.md): entries of (code, length in code units),
 * the line moving by a delta each entry states; code 15 has no line. */
static int line_311(struct table *t, int line, int64_t offset, uint32_t unit)
{
    int64_t addr = 0;
    for (int entries = 0; entries < (1 << 20); entries++) {
        int b = table_byte(t);
        if (b < 0 || !(b & 0x80))
            return 0;
        int code = (b >> 3) & 15, length = (b & 7) + 1;
        int64_t delta = 0;
        if (code == 14) {
            delta = table_svarint(t);
            table_varint(t), table_varint(t), table_varint(t);
        } else if (code == 13) {
            delta = table_svarint(t);
        } else if (code >= 10 && code <= 12) {
            delta = code - 10;
            t->pos += 2;
        } else if (code < 10) {
            t->pos += 1;
        }
        line += (int)delta;
        addr += (int64_t)length * unit;
        if (offset < addr)
            return code == 15 || line < 0 ? 0 : line;
    }
    return 0;
}

/* 3.10 (Objects/lnotab_notes.txt): pairs of (bytes advanced, signed line
 * delta), -128 for "no line". */
static int line_310(struct table *t, int line, int64_t offset)
{
    int64_t end = 0;
    for (;;) {
        int advance = table_byte(t), delta = table_byte(t);
        if (advance < 0 || delta < 0)
            return 0;
        end += advance;
        if ((signed char)delta != -128)
            line += (signed char)delta;
        if (offset < end)
            return (signed char)delta == -128 || line < 0 ? 0 : line;
    }
}

int fsan_py_code_line(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t code, int64_t offset)
{
    int32_t first = 0;
    int64_t size = 0;
    uint64_t bytes = fsan_py_read_ptr(mem, code + L->code_linetable);
    if (!code || offset < 0 || !bytes || mem->read(mem, &first, code + L->code_firstlineno, sizeof first) < 0 ||
        mem->read(mem, &size, bytes + L->bytes_size, sizeof size) < 0 || size <= 0 || size > (1 << 24))
        return 0;
    struct table t = {mem, bytes + L->bytes_sval, (size_t)size, 0, 0, 0, {0}};
    return L->lasti_int ? line_310(&t, first, offset) : line_311(&t, first, offset, L->codeunit_size);
}

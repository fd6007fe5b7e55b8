/* pywalk.h — CPython's frames read from memory, for CPython 3.10 to 3.15:
 * the struct layouts of each minor version and one walker over a
 * memory-read callback, shared by the runtime (probes/python.c: its own
 * process, plain or fault-proof reads) and the forksan command (another
 * process, process_vm_readv on its pid).  common/pywalk.c says how the
 * layouts are known.
 */
#ifndef FSAN_PYWALK_H
#define FSAN_PYWALK_H

#include <stddef.h>
#include <stdint.h>

/* Where a thread's innermost frame is. */
enum fsan_py_frames {
    FSAN_PY_FRAME_OBJECTS = 1, /* 3.10: tstate->frame, a PyFrameObject chain */
    FSAN_PY_CFRAME = 2,        /* 3.11, 3.12: tstate->cframe->current_frame */
    FSAN_PY_CURRENT_FRAME = 3, /* 3.13: tstate->current_frame */
};

/* How "does this thread hold the GIL" is read. */
enum fsan_py_gil {
    FSAN_PY_GIL_TSTATE_CURRENT = 1, /* _PyRuntime.gilstate.tstate_current (3.10, 3.11) */
    FSAN_PY_GIL_HOLDER = 2,         /* interp->ceval.gil: locked and last_holder (3.12+) */
};

/* Byte offsets of the fields the walker reads, one table per minor
 * version (common/pyoffsets/py3NN.h, generated from that version's
 * headers).  debug_*: where in _Py_DebugOffsets (3.13+) the interpreter
 * itself states the offset of the field of the same name, 0 when the
 * version has no such struct. */
struct fsan_py_layout {
    int minor;
    int frames;    /* enum fsan_py_frames */
    int gil;       /* enum fsan_py_gil */
    int qualname;  /* code objects carry co_qualname (3.11+) */
    int lasti_int; /* 3.10: the frame holds f_lasti, an int index, not an instruction pointer */
    int owner_cstack; /* the lowest owner value of the interpreter's own entry frames, -1 when none */
    int native_tid;   /* thread states carry the kernel's thread id (3.11+) */
    int tagged_refs;  /* 3.14+: frame code and locals are _PyStackRef, low bits a tag */
    int atexit;       /* Python atexit handlers in an array the bridge reads (up to 3.13) */
    uint32_t runtime_interp_head, runtime_tstate_current;
    uint32_t interp_next, interp_threads_head, interp_ceval_gil;
    uint32_t interp_atexit_callbacks, interp_atexit_ncallbacks, atexit_cb_func;
    uint32_t gil_locked, gil_last_holder;
    uint32_t tstate_next, tstate_interp, tstate_native_tid, tstate_frame, cframe_current;
    uint32_t frame_code, frame_previous, frame_instr, frame_owner, frame_localsplus;
    uint32_t code_filename, code_name, code_qualname, code_adaptive, code_firstlineno, code_linetable;
    uint32_t func_qualname, func_module, func_code, code_argcount;
    uint32_t type_name, type_dict, type_mro, tuple_size, tuple_item;
    uint32_t obj_type, str_length, str_state, sizeof_ascii, sizeof_compact;
    uint32_t bytes_size, bytes_sval;
    uint32_t codeunit_size;
    /* 3.13+: positions inside _Py_DebugOffsets (at the start of _PyRuntime). */
    uint32_t debug_version, debug_free_threaded, debug_interp_head, debug_interp_next, debug_threads_head;
    uint32_t debug_tstate_next, debug_tstate_native_tid, debug_tstate_frame;
    uint32_t debug_frame_previous, debug_frame_code, debug_frame_instr, debug_frame_localsplus, debug_frame_owner;
    uint32_t debug_code_filename, debug_code_name, debug_code_qualname, debug_code_linetable;
    uint32_t debug_code_firstlineno, debug_code_adaptive, debug_obj_type;
    uint32_t debug_str_state, debug_str_length, debug_str_ascii_size;
};

/* Reads n bytes at addr of the process being walked into dst: 0, or a
 * negative errno (a bad address must give -EFAULT, never a fault, unless
 * the caller knows every pointer it follows is valid). */
struct fsan_py_mem {
    int (*read)(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n);
    int pid; /* for a reader that reads another process; the walker never looks */
};

/* The layout for CPython hexversion (Py_Version), or NULL when this
 * forksan does not know that minor version. */
const struct fsan_py_layout *fsan_py_layout_for(unsigned long hexversion);

/* 3.13+: check _Py_DebugOffsets at runtime (the address of _PyRuntime)
 * against layout and take every offset it states from there; out is the
 * layout the walker then uses.  0, or -EINVAL with *why set when the
 * struct is not there or names another version. */
int fsan_py_layout_adopt(const struct fsan_py_layout *layout, const struct fsan_py_mem *mem, uint64_t runtime,
                         unsigned long hexversion, struct fsan_py_layout *out, const char **why);

/* One frame as the walker reads it. */
struct fsan_py_frame_ref {
    uint64_t code;   /* the code object (checked against code_type), 0 when not one */
    int64_t offset;  /* byte offset of the executing instruction in the code, -1 when unknown */
    uint64_t key;    /* (code, instruction) identity, for interning sites */
};

uint64_t fsan_py_read_ptr(const struct fsan_py_mem *mem, uint64_t addr);
/* The innermost frame of thread state tstate, 0 when it runs no Python. */
uint64_t fsan_py_thread_frame(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t tstate);
/* The caller of frame, skipping the interpreter's own entry frames; 0 at the end. */
uint64_t fsan_py_frame_caller(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame);
/* Is frame one of the interpreter's own entry frames (3.12+), not Python code? */
int fsan_py_frame_is_shim(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame);
/* The code object and instruction of frame; code_type: &PyCode_Type in the walked process. */
void fsan_py_frame_read(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t frame,
                        uint64_t code_type, struct fsan_py_frame_ref *out);
/* The thread state of the thread whose native id is tid, in any
 * interpreter of the runtime at address runtime; 0 when none. */
uint64_t fsan_py_find_thread(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                             long tid);
/* ts when it is one of the interpreters' thread states (still listed), 0
 * otherwise: a thread state remembered elsewhere (3.10 has no native id to
 * find it by). */
uint64_t fsan_py_thread_listed(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                               uint64_t ts);
/* A reader for another process (or this one): process_vm_readv on
 * mem->pid.  Fault-proof: a bad address gives -EFAULT. */
int fsan_py_read_process(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n);

/* One frame as fsan_py_walk_thread hands it out: strings are the
 * walker's copies, valid during the call only; line 0 when unknown. */
typedef void (*fsan_py_frame_fn)(void *ctx, const char *file, const char *function, int line);

/* Every Python frame of thread tid, innermost first, at most max_frames:
 * each(ctx, ...) per frame.  runtime and code_type: the addresses of
 * _PyRuntime and PyCode_Type in the walked process; L: the layout after
 * fsan_py_layout_adopt.  3.10's thread states carry no kernel thread id:
 * there tid is matched only when the interpreter has one thread state (a
 * fork child after PyOS_AfterFork_Child).  Returns the number of frames,
 * or -ESRCH when no thread state is tid's.  AS-safe. */
int fsan_py_walk_thread(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t runtime,
                        uint64_t code_type, long tid, int max_frames, fsan_py_frame_fn each, void *ctx);

/* A Python str object as UTF-8 in buf (at most cap - 1 bytes, NUL
 * terminated, cut at a character boundary): its length, or -1 when obj is
 * not a compact str. */
int fsan_py_read_str(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t obj, char *buf,
                     size_t cap);
/* The source line of the instruction at byte offset in code, read from
 * its line table (no call into the interpreter); 0 when unknown. */
int fsan_py_code_line(const struct fsan_py_layout *L, const struct fsan_py_mem *mem, uint64_t code, int64_t offset);

#endif

/* lint_fork.c — the child's branch after every fork call of an ELF object,
 * found by disassembly, and the first call in it of a function that is not
 * async-signal-safe before exec or _exit (the unsafe-after-fork rule of
 * `forksan lint`).
 *
 * How it goes, for each call of fork (or _Fork) through the PLT or the GOT:
 *  1. From the instruction after the call, follow the value fork returned
 *     (rax, then wherever it is copied: registers, stack slots) until a
 *     conditional branch tests it.  Each branch is decided for the values
 *     fork can return — -1, 0 and a pid — and the walk goes on along the
 *     side that 0 takes until the pid leaves it: that side is the child's.
 *  2. From there, walk the child's code breadth first: both sides of every
 *     branch (except those that test the fork value, which is 0 now),
 *     direct jumps, direct calls into the object's own functions to a
 *     bounded depth, until exec or _exit (lintcalls.def) ends a path.  The
 *     first call of an UNSAFE function is the finding.
 *
 * DESIGN
 * Precision first: a false positive is the worst bug a linter can have,
 * so every doubt ends a path silently.  A function lintcalls.def does not
 * know is neither reported nor followed.  An indirect jump (a switch's
 * table) or call ends nothing but is not followed.  A path that runs into
 * the start of another function (code after a call that never returns)
 * ends, and so does the path after a call into a library function that
 * the object's own code also jumps to from elsewhere (a sign the call
 * does not return).  A function of the object that never reaches its
 * `ret` does not return to its caller.  A fork value stored through a
 * pointer (not a stack slot or a global) can come back unseen and be
 * tested again, so the path ends there; a child that forks again walks on
 * as that fork's parent.
 *
 * A fork wrapper (xfork(), safe_fork(): a function of the object that
 * returns what fork returned, after handling the error) is followed one
 * level up: a function is one when every path from its fork call that
 * the child or the parent can take reaches its `ret` with the fork value
 * in rax (a path only the error takes may do anything: exit, return -1),
 * or when it tail-jumps to fork.  Its callers' calls of it are then fork
 * calls, walked as above from the instruction after them.  A wrapper of a
 * wrapper, or one that returns the value through a pointer, is not
 * followed (forksan(7) says so).
 *
 * The disassembler is Capstone: it decodes one instruction at a time at
 * any address with its operands and the registers it writes, which is
 * what following a value and a path needs; libopcodes (binutils) prints
 * text only, and elfutils' disassembler has no operand details.
 */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

/* Capstone is loaded by the first lint, not linked into the command: its
 * ~80,000 relocations cost every `forksan run` and `forksan report` more
 * than a millisecond at start-up for a library only lint uses.  The
 * functions are called through this table, under their own names. */
static struct {
    cs_err (*open)(cs_arch, cs_mode, csh *);
    cs_err (*option)(csh, cs_opt_type, size_t);
    bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
    cs_insn *(*malloc)(csh);
    void (*free)(cs_insn *, size_t);
    cs_err (*close)(csh *);
    cs_err (*regs_access)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *);
} capstone;

int fsan_lint_disassembler(char *err, size_t errlen)
{
    if (capstone.open)
        return 0;
    void *lib = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libcapstone.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load the Capstone disassembler (Debian: apt-get install libcapstone4): %s",
                 dlerror());
        return -1;
    }
#define CAPSTONE_FN(field, name) *(void **)&capstone.field = dlsym(lib, name)
    CAPSTONE_FN(option, "cs_option");
    CAPSTONE_FN(disasm_iter, "cs_disasm_iter");
    CAPSTONE_FN(malloc, "cs_malloc");
    CAPSTONE_FN(free, "cs_free");
    CAPSTONE_FN(close, "cs_close");
    CAPSTONE_FN(regs_access, "cs_regs_access");
    CAPSTONE_FN(open, "cs_open");
#undef CAPSTONE_FN
    if (!capstone.open || !capstone.option || !capstone.disasm_iter || !capstone.malloc || !capstone.free ||
        !capstone.close || !capstone.regs_access) {
        snprintf(err, errlen, "the Capstone library found lacks a function forksan lint needs (version 4 or later is)");
        capstone.open = NULL;
        return -1;
    }
    return 0;
}

#define cs_open capstone.open
#define cs_option capstone.option
#define cs_disasm_iter capstone.disasm_iter
#define cs_malloc capstone.malloc
#define cs_free capstone.free
#define cs_close capstone.close
#define cs_regs_access capstone.regs_access

/* ---- what calls mean (lintcalls.def) -------------------------------------- */

enum call_kind { CALL_UNKNOWN, CALL_END, CALL_STOP, CALL_SAFE, CALL_UNSAFE };

static const struct {
    const char *name;
    enum call_kind kind;
    const char *why;
} known_calls[] = {
#define FSAN_LINT_CALL(name, kind, why) {name, CALL_##kind, why},
#include "lintcalls.def"
#undef FSAN_LINT_CALL
};

static enum call_kind call_kind(const char *name, const char **why)
{
    for (size_t i = 0; i < sizeof known_calls / sizeof known_calls[0]; i++)
        if (strcmp(known_calls[i].name, name) == 0) {
            *why = known_calls[i].why;
            return known_calls[i].kind;
        }
    return CALL_UNKNOWN;
}

/* ---- limits ------------------------------------------------------------ */

#define TEST_WINDOW 96       /* instructions from the fork call to its test */
#define PATH_BUDGET 6000     /* instructions walked per function body */
#define MAX_SLOTS 8          /* stack slots that hold the fork value */
#define MAX_QUEUE 4096

/* ---- registers -------------------------------------------------------- */

/* The 64-bit register a general-purpose register is part of (0 = rax ..
 * 15 = r15, in encoding order), or -1. */
static int gpr(x86_reg r)
{
    switch (r) {
    case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: case X86_REG_AH: return 0;
    case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: return 1;
    case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: return 2;
    case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BL: case X86_REG_BH: return 3;
    case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL: return 4;
    case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL: return 5;
    case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return 6;
    case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return 7;
    case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return 8;
    case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return 9;
    case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B: return 10;
    case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B: return 11;
    case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B: return 12;
    case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B: return 13;
    case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B: return 14;
    case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B: return 15;
    default: return -1;
    }
}

/* Registers a call may change (System V AMD64): rax rcx rdx rsi rdi r8-r11. */
#define CALLER_SAVED ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 6) | (1u << 7) | (0xfu << 8))

/* ---- the fork value ------------------------------------------------------ */

/* What fork can have returned on a path: -1, 0, or a pid. */
enum { MAY_ERROR = 1, MAY_CHILD = 2, MAY_PARENT = 4 };

/* Where the value fork returned is, and what the last compare of it was. */
struct fork_value {
    unsigned regs;           /* bit i: gpr i holds it */
    struct {
        int base;            /* gpr of the base register (rsp or rbp) */
        int64_t disp;
    } slots[MAX_SLOTS];
    int nslots;
    int flags_valid;         /* the flags hold "value compared with flags_imm" */
    int64_t flags_imm;
    unsigned may;            /* MAY_* still possible on this path */
    int escaped;             /* stored where it cannot be followed (through a pointer) */
};

/* The base of a slot addressed from rip: the slot is the absolute address. */
#define RIP_BASE 16

/* A stack slot (rsp or rbp based) or a global (rip based; next is the
 * address of the next instruction) as (base, disp). */
static int slot_key(const cs_x86_op *op, uint64_t next, int *base, int64_t *disp)
{
    if (op->type != X86_OP_MEM || op->mem.index != X86_REG_INVALID || op->mem.segment != X86_REG_INVALID)
        return 0;
    if (op->mem.base == X86_REG_RIP) {
        *base = RIP_BASE;
        *disp = (int64_t)(next + (uint64_t)op->mem.disp);
        return 1;
    }
    *base = gpr(op->mem.base);
    *disp = op->mem.disp;
    return *base == 4 || *base == 5;
}

static int slot_of(const struct fork_value *v, const cs_x86_op *op, uint64_t next)
{
    int base;
    int64_t disp;
    if (!slot_key(op, next, &base, &disp))
        return -1;
    for (int i = 0; i < v->nslots; i++)
        if (v->slots[i].base == base && v->slots[i].disp == disp)
            return i;
    return -2; /* a slot, not one that holds the value */
}

static void slot_forget(struct fork_value *v, int i)
{
    v->slots[i] = v->slots[--v->nslots];
}

static void slot_add(struct fork_value *v, const cs_x86_op *op, uint64_t next)
{
    int base;
    int64_t disp;
    if (slot_of(v, op, next) != -2 || !slot_key(op, next, &base, &disp))
        return;
    if (v->nslots == MAX_SLOTS) {
        v->escaped = 1;
        return;
    }
    v->slots[v->nslots].base = base;
    v->slots[v->nslots].disp = disp;
    v->nslots++;
}

/* 1 when the operand holds the fork value. */
static int holds(const struct fork_value *v, const cs_x86_op *op, uint64_t next)
{
    if (op->type == X86_OP_REG) {
        int r = gpr(op->reg);
        return r >= 0 && op->size >= 4 && (v->regs & (1u << r));
    }
    return op->type == X86_OP_MEM && op->size >= 4 && slot_of(v, op, next) >= 0;
}

/* Whether a conditional jump is taken after comparing value with imm
 * (cmp value, imm; test value, value is the compare with 0).  -1 for a
 * jump that is not a compare's. */
static int taken(unsigned id, int32_t value, int32_t imm)
{
    int64_t diff = (int64_t)value - imm;
    uint32_t uv = (uint32_t)value, ui = (uint32_t)imm;
    switch (id) {
    case X86_INS_JE: return value == imm;
    case X86_INS_JNE: return value != imm;
    case X86_INS_JL: return value < imm;
    case X86_INS_JLE: return value <= imm;
    case X86_INS_JG: return value > imm;
    case X86_INS_JGE: return value >= imm;
    case X86_INS_JS: return (int32_t)(uint32_t)diff < 0;
    case X86_INS_JNS: return (int32_t)(uint32_t)diff >= 0;
    case X86_INS_JB: return uv < ui;
    case X86_INS_JBE: return uv <= ui;
    case X86_INS_JA: return uv > ui;
    case X86_INS_JAE: return uv >= ui;
    default: return -1;
    }
}

/* Splits the values a path may carry at a conditional jump that tests the
 * fork value: *to_target / *to_next receive the MAY_* bits of each side.
 * -1 when the jump is not one this understands. */
static int split(unsigned id, int64_t imm, unsigned may, unsigned *to_target, unsigned *to_next)
{
    static const struct {
        unsigned bit;
        int32_t value;
    } reps[] = {{MAY_ERROR, -1}, {MAY_CHILD, 0}, {MAY_PARENT, 1}, {MAY_PARENT, 0x7fffffff}};
    unsigned target = 0, next = 0, parent_taken = 2;
    for (size_t i = 0; i < sizeof reps / sizeof reps[0]; i++) {
        int t = taken(id, reps[i].value, (int32_t)imm);
        if (t < 0)
            return -1;
        if (reps[i].bit == MAY_PARENT) {
            /* Two pids must go the same way, or the test is not about
             * parent and child. */
            if (parent_taken != 2 && parent_taken != (unsigned)t)
                return -1;
            parent_taken = (unsigned)t;
        }
        if (t)
            target |= reps[i].bit;
        else
            next |= reps[i].bit;
    }
    *to_target = target & may;
    *to_next = next & may;
    return 0;
}

/* A call may change the caller-saved registers and the flags. */
static void forget_call(struct fork_value *v)
{
    v->regs &= ~CALLER_SAVED;
    v->flags_valid = 0;
}

/* Updates v for an instruction that is not a conditional jump. */
static void track(csh cs, const cs_insn *in, struct fork_value *v)
{
    const cs_x86 *x = &in->detail->x86;
    unsigned id = in->id;
    uint64_t next = in->address + in->size;
    if ((id == X86_INS_TEST) && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
        x->operands[1].type == X86_OP_REG && x->operands[0].reg == x->operands[1].reg &&
        holds(v, &x->operands[0], next)) {
        v->flags_valid = 1;
        v->flags_imm = 0;
        return;
    }
    if (id == X86_INS_CMP && x->op_count == 2 && x->operands[1].type == X86_OP_IMM &&
        holds(v, &x->operands[0], next)) {
        v->flags_valid = 1;
        v->flags_imm = x->operands[1].imm;
        return;
    }
    if ((id == X86_INS_MOV || id == X86_INS_MOVSXD) && x->op_count == 2) {
        const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];
        int from = holds(v, src, next);
        if (dst->type == X86_OP_REG && gpr(dst->reg) >= 0) {
            unsigned bit = 1u << gpr(dst->reg);
            v->regs = from && dst->size >= 4 ? v->regs | bit : v->regs & ~bit;
            return;
        }
        if (dst->type == X86_OP_MEM) {
            int slot = slot_of(v, dst, next);
            /* Stored through a pointer, it can come back unseen and be
             * tested again: the path can no longer be told apart. */
            if (from && slot == -1)
                v->escaped = 1;
            else if (from && src->size >= 4)
                slot_add(v, dst, next);
            else if (slot >= 0)
                slot_forget(v, slot);
            return;
        }
    }
    if (id == X86_INS_CDQE)
        return; /* rax = eax sign-extended: still the value */
    if (id == X86_INS_CALL) {
        forget_call(v);
        return;
    }
    /* Anything else: forget what it writes. */
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (cs_regs_access(cs, in, read, &nread, written, &nwritten) != CS_ERR_OK) {
        v->regs = 0;
        v->nslots = 0;
        v->flags_valid = 0;
        return;
    }
    for (uint8_t i = 0; i < nwritten; i++) {
        if (written[i] == X86_REG_EFLAGS)
            v->flags_valid = 0;
        int r = gpr((x86_reg)written[i]);
        if (r < 0)
            continue;
        v->regs &= ~(1u << r);
        /* Slots addressed from a register that moved are lost. */
        for (int s = v->nslots; s-- > 0;)
            if (v->slots[s].base == r)
                slot_forget(v, s);
    }
    for (uint8_t i = 0; i < x->op_count; i++) {
        int slot = (x->operands[i].access & CS_AC_WRITE) ? slot_of(v, &x->operands[i], next) : -1;
        if (slot >= 0)
            slot_forget(v, slot);
    }
}

static const char *const fork_names[] = {"fork", "_Fork"};

static const char *is_fork(const char *name)
{
    for (size_t i = 0; name && i < sizeof fork_names / sizeof fork_names[0]; i++)
        if (strcmp(name, fork_names[i]) == 0)
            return fork_names[i];
    return NULL;
}

/* ---- the walker ---------------------------------------------------------- */

/* What a function of the object does when called (memoised). */
struct summary {
    uint64_t entry;
    int done;         /* 0 while being walked (recursion: assumed to return, clean) */
    int can_return;
    int unsafe;       /* a path reaches an unsafe call */
    uint64_t calls[FSAN_LINT_MAX_DEPTH + 1]; /* the call sites down to it, outermost first */
    size_t ncalls;
    const char *callee, *why;
};

struct walker {
    const struct fsan_lint_elf *e;
    csh cs;
    cs_insn *insn;              /* the instruction being walked */
    cs_insn *stub_insn;         /* a PLT stub's, decoded without losing it */
    struct fsan_keymap stubs;   /* PLT stub -> name + 1 (1: not an import) */
    struct fsan_keymap sum_index; /* entry -> index + 1 in sums */
    struct summary *sums;
    size_t nsums, capsums;
    struct fsan_keymap region_targets; /* function start -> 1 when its targets are in `targets` */
    struct fsan_keymap targets;        /* addresses some direct branch of the object jumps to */
    struct fsan_keymap wrappers;       /* fork wrapper's start -> its fork call + 1 */
};

/* Decodes the instruction at addr into in; 0 when there is none. */
static int decode_into(struct walker *w, uint64_t addr, int allow_plt, cs_insn *in)
{
    const struct fsan_lint_code *c = fsan_lint_elf_code_at(w->e, addr);
    if (!c || (c->is_plt && !allow_plt))
        return 0;
    const uint8_t *p = c->bytes + (addr - c->addr);
    size_t left = (size_t)(c->size - (addr - c->addr));
    uint64_t a = addr;
    return cs_disasm_iter(w->cs, &p, &left, &a, in);
}

static int decode(struct walker *w, uint64_t addr, int allow_plt)
{
    return decode_into(w, addr, allow_plt, w->insn);
}

static const char *got_name(const struct fsan_lint_elf *e, uint64_t slot)
{
    uint64_t name;
    return fsan_keymap_get(&e->got, slot, &name) ? (const char *)(uintptr_t)name : NULL;
}

/* The function a PLT stub jumps to (its first indirect jump through the
 * GOT), or NULL. */
static const char *stub_name(struct walker *w, uint64_t stub)
{
    uint64_t cached;
    if (fsan_keymap_get(&w->stubs, stub, &cached))
        return cached == 1 ? NULL : (const char *)(uintptr_t)cached;
    const char *name = NULL;
    uint64_t addr = stub;
    cs_insn *in = w->stub_insn;
    for (int i = 0; i < 3 && !name && decode_into(w, addr, 1, in); i++) {
        const cs_x86 *x = &in->detail->x86;
        if (in->id == X86_INS_JMP && x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
            x->operands[0].mem.base == X86_REG_RIP && x->operands[0].mem.index == X86_REG_INVALID)
            name = got_name(w->e, in->address + in->size + (uint64_t)x->operands[0].mem.disp);
        addr = in->address + in->size;
    }
    fsan_keymap_put(&w->stubs, stub, name ? (uint64_t)(uintptr_t)name : 1);
    return name;
}


/* In a static program, the C library's functions are its own: the name
 * of the function at addr when it is one lintcalls.def knows or fork
 * (under any of its aliases), else NULL (memoised with the PLT stubs). */
static const char *static_name(struct walker *w, uint64_t addr)
{
    uint64_t cached;
    if (fsan_keymap_get(&w->stubs, addr, &cached))
        return cached == 1 ? NULL : (const char *)(uintptr_t)cached;
    const struct fsan_lint_sym *syms;
    size_t n = fsan_lint_elf_symbols_at(w->e, addr, &syms);
    const char *name = NULL, *why;
    for (size_t i = 0; i < n && !name; i++)
        if (is_fork(syms[i].name) || call_kind(syms[i].name, &why) != CALL_UNKNOWN)
            name = syms[i].name;
    fsan_keymap_put(&w->stubs, addr, name ? (uint64_t)(uintptr_t)name : 1);
    return name;
}

/* Where a call or jump goes: *import names a library function (or is
 * NULL), *local is the object's own code address (or 0). */
static void branch_target(struct walker *w, const cs_insn *in, const char **import, uint64_t *local)
{
    const cs_x86 *x = &in->detail->x86;
    *import = NULL;
    *local = 0;
    if (x->op_count != 1)
        return;
    const cs_x86_op *op = &x->operands[0];
    if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP && op->mem.index == X86_REG_INVALID) {
        *import = got_name(w->e, in->address + in->size + (uint64_t)op->mem.disp);
        return;
    }
    if (op->type != X86_OP_IMM)
        return;
    const struct fsan_lint_code *c = fsan_lint_elf_code_at(w->e, (uint64_t)op->imm);
    if (!c)
        return;
    if (c->is_plt)
        *import = stub_name(w, (uint64_t)op->imm);
    else if (!(w->e->is_static && (*import = static_name(w, (uint64_t)op->imm))))
        *local = (uint64_t)op->imm;
}

static int is_cond_jump(unsigned id)
{
    return id >= X86_INS_JAE && id <= X86_INS_JS && id != X86_INS_JMP && id != X86_INS_JRCXZ &&
           id != X86_INS_JECXZ && id != X86_INS_JCXZ;
}


/* Records every direct branch target of the function around addr, once. */
static void learn_targets(struct walker *w, uint64_t addr)
{
    uint64_t start = fsan_lint_elf_function_start(w->e, addr);
    if (!start || fsan_keymap_get(&w->region_targets, start, NULL))
        return;
    fsan_keymap_put(&w->region_targets, start, 1);
    uint64_t end = fsan_lint_elf_next_function(w->e, start);
    for (uint64_t a = start; a < end && decode(w, a, 0);) {
        unsigned id = w->insn->id;
        uint64_t next = w->insn->address + w->insn->size;
        if (id == X86_INS_JMP || is_cond_jump(id)) {
            const cs_x86 *x = &w->insn->detail->x86;
            if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
                fsan_keymap_put(&w->targets, (uint64_t)x->operands[0].imm, 1);
        }
        a = next;
    }
}

static struct summary *summarize(struct walker *w, uint64_t entry, int depth);

/* One walk: breadth first from start, carrying the fork value when v is
 * not NULL (the child's branch), into out.  depth counts the calls above. */
struct item {
    uint64_t addr;
    struct fork_value v;
};

static void walk(struct walker *w, uint64_t start, const struct fork_value *v0, int depth, struct summary *out)
{
    struct item *queue = malloc(MAX_QUEUE * sizeof *queue);
    struct fsan_keymap seen = {0};
    size_t head = 0, tail = 0, budget = PATH_BUDGET;
    if (!queue)
        return;
    queue[tail].addr = start;
    if (v0)
        queue[tail].v = *v0;
    else
        memset(&queue[tail].v, 0, sizeof queue[tail].v);
    tail++;
    learn_targets(w, start);
    while (head < tail && !out->unsafe && budget > 0) {
        struct item it = queue[head++];
        for (uint64_t addr = it.addr; budget > 0; budget--) {
            if (fsan_keymap_get(&seen, addr, NULL) || fsan_keymap_put(&seen, addr, 1) < 0)
                break;
            /* Running into another function: the call before did not return. */
            if (addr != start && addr != it.addr && fsan_lint_elf_is_function_start(w->e, addr))
                break;
            if (!decode(w, addr, 0))
                break;
            /* w->insn is decoded again by a nested walk: keep what is needed. */
            const cs_insn *in = w->insn;
            unsigned id = in->id;
            uint64_t here = in->address, next = in->address + in->size;
            if (id == X86_INS_RET || id == X86_INS_HLT || id == X86_INS_UD2 || id == X86_INS_INT3) {
                out->can_return |= id == X86_INS_RET;
                break;
            }
            if (is_cond_jump(id)) {
                const cs_x86 *x = &in->detail->x86;
                if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
                    break;
                uint64_t target = (uint64_t)x->operands[0].imm;
                unsigned to_target = it.v.may, to_next = it.v.may;
                if (it.v.flags_valid && split(id, it.v.flags_imm, it.v.may, &to_target, &to_next) < 0)
                    to_target = to_next = it.v.may;
                /* A side the child cannot take is not walked. */
                if ((!it.v.flags_valid || to_target) && tail < MAX_QUEUE) {
                    queue[tail] = it;
                    queue[tail].addr = target;
                    queue[tail].v.may = it.v.flags_valid ? to_target : it.v.may;
                    tail++;
                }
                if (it.v.flags_valid && !to_next)
                    break;
                if (it.v.flags_valid)
                    it.v.may = to_next;
                addr = next;
                continue;
            }
            const char *import;
            uint64_t local;
            if (id == X86_INS_JMP || id == X86_INS_CALL) {
                branch_target(w, in, &import, &local);
                int is_call = id == X86_INS_CALL;
                if (import && v0 && is_call && is_fork(import)) {
                    /* The child forks again: from here on it is that
                     * fork's parent (its own child is examined at that
                     * call site). */
                    memset(&it.v, 0, sizeof it.v);
                    it.v.regs = 1u << 0;
                    it.v.may = MAY_ERROR | MAY_PARENT;
                    addr = next;
                    continue;
                }
                if (import) {
                    const char *why = NULL;
                    enum call_kind kind = call_kind(import, &why);
                    if (kind == CALL_UNSAFE) {
                        out->unsafe = 1;
                        out->calls[0] = here;
                        out->ncalls = 1;
                        out->callee = import;
                        out->why = why;
                        break;
                    }
                    if (kind == CALL_END || kind == CALL_STOP)
                        break;
                    if (!is_call) {
                        out->can_return = 1; /* a tail call returns for us */
                        break;
                    }
                    /* An unknown library function that the code also
                     * reaches by a jump may be one that never returns. */
                    if (kind == CALL_UNKNOWN && fsan_keymap_get(&w->targets, next, NULL))
                        break;
                    forget_call(&it.v);
                    addr = next;
                    continue;
                }
                /* A jump inside the function goes on with the fork value. */
                if (local && !is_call && !fsan_lint_elf_is_function_start(w->e, local)) {
                    addr = local;
                    continue;
                }
                if (local) {
                    struct summary *s = depth + 1 < FSAN_LINT_MAX_DEPTH ? summarize(w, local, depth + 1) : NULL;
                    if (s && s->unsafe) {
                        out->unsafe = 1;
                        out->calls[0] = here;
                        memcpy(out->calls + 1, s->calls, s->ncalls * sizeof *s->calls);
                        out->ncalls = 1 + s->ncalls;
                        out->callee = s->callee;
                        out->why = s->why;
                        break;
                    }
                    if (!is_call) {
                        /* A tail call. */
                        out->can_return |= !s || s->can_return;
                        break;
                    }
                    if (s && !s->can_return)
                        break;
                    if (!s && fsan_keymap_get(&w->targets, next, NULL))
                        break;
                    forget_call(&it.v);
                    addr = next;
                    continue;
                }
                /* Indirect: a jump table or a function pointer.  A jump is
                 * not followed; a call is assumed to return. */
                if (!is_call) {
                    out->can_return = 1;
                    break;
                }
                forget_call(&it.v);
                addr = next;
                continue;
            }
            if (v0) {
                track(w->cs, in, &it.v);
                if (it.v.escaped)
                    break;
            }
            addr = next;
        }
    }
    free(queue);
    fsan_keymap_free(&seen);
    if (budget == 0)
        out->can_return = 1;
}

/* What calling the object's function at entry does (memoised; NULL when
 * memory ran out). */
static struct summary *summarize(struct walker *w, uint64_t entry, int depth)
{
    uint64_t index;
    if (fsan_keymap_get(&w->sum_index, entry, &index)) {
        struct summary *s = &w->sums[index - 1];
        return s->done ? s : NULL;
    }
    if (w->nsums == w->capsums) {
        size_t cap = w->capsums ? 2 * w->capsums : 64;
        struct summary *grown = realloc(w->sums, cap * sizeof *grown);
        if (!grown)
            return NULL;
        w->sums = grown;
        w->capsums = cap;
    }
    size_t mine = w->nsums++;
    if (fsan_keymap_put(&w->sum_index, entry, mine + 1) < 0) {
        w->nsums--;
        return NULL;
    }
    w->sums[mine] = (struct summary){.entry = entry};
    struct summary s = {.entry = entry};
    walk(w, entry, NULL, depth, &s);
    s.done = 1;
    w->sums[mine] = s; /* by index: the walk may have moved w->sums */
    return &w->sums[mine];
}

/* Step 1: the address where the child's branch begins, with the fork value
 * as the child has it; 0 when the test was not found. */
static uint64_t child_branch(struct walker *w, uint64_t after_call, struct fork_value *v)
{
    memset(v, 0, sizeof *v);
    v->regs = 1u << 0; /* rax */
    v->may = MAY_ERROR | MAY_CHILD | MAY_PARENT;
    uint64_t addr = after_call;
    for (int n = 0; n < TEST_WINDOW && decode(w, addr, 0); n++) {
        const cs_insn *in = w->insn;
        unsigned id = in->id;
        uint64_t next = in->address + in->size;
        if (id == X86_INS_RET || id == X86_INS_HLT || id == X86_INS_UD2)
            return 0;
        if (id == X86_INS_JMP) {
            const char *import;
            uint64_t local;
            branch_target(w, in, &import, &local);
            if (!local || fsan_lint_elf_is_function_start(w->e, local))
                return 0;
            addr = local;
            continue;
        }
        if (is_cond_jump(id)) {
            const cs_x86 *x = &in->detail->x86;
            unsigned to_target, to_next;
            if (!v->flags_valid || x->op_count != 1 || x->operands[0].type != X86_OP_IMM ||
                split(id, v->flags_imm, v->may, &to_target, &to_next) < 0)
                return 0; /* a branch on something else: not sure whose path goes on */
            uint64_t target = (uint64_t)x->operands[0].imm;
            unsigned child_side = (to_target & MAY_CHILD) ? to_target : to_next;
            uint64_t child_addr = (to_target & MAY_CHILD) ? target : next;
            if (!(child_side & MAY_CHILD))
                return 0;
            v->may = child_side;
            if (!(child_side & MAY_PARENT))
                return child_addr;
            addr = child_addr;
            continue;
        }
        if (id == X86_INS_CALL) {
            const char *import;
            uint64_t local;
            branch_target(w, in, &import, &local);
            const char *why;
            if (import && call_kind(import, &why) != CALL_UNKNOWN && call_kind(import, &why) != CALL_SAFE)
                return 0;
        }
        track(w->cs, in, v);
        if (v->escaped || (!v->regs && !v->nslots))
            return 0; /* the value is gone, or can no longer be followed */
        addr = next;
    }
    return 0;
}

/* ---- fork wrappers -------------------------------------------------------- */

#define WRAPPER_BUDGET 512 /* instructions from the fork call to the returns */
#define WRAPPER_QUEUE 64

/* 1 when every path from after_call (the instruction after a fork call)
 * that the child or the parent can take returns with the fork value in
 * rax, and the child does return: the function hands fork's result to
 * its caller.  (A function whose child always execs or exits returns only
 * in the parent: its caller's test of 0 is no child's branch.) */
/* The register an instruction sets to 0 (xor r, r; mov r, 0) at 32 bits
 * or more, else -1. */
static int zeroes(const cs_insn *in)
{
    const cs_x86 *x = &in->detail->x86;
    if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || x->operands[0].size < 4)
        return -1;
    if (in->id == X86_INS_XOR && x->operands[1].type == X86_OP_REG && x->operands[1].reg == x->operands[0].reg)
        return gpr(x->operands[0].reg);
    if (in->id == X86_INS_MOV && x->operands[1].type == X86_OP_IMM && x->operands[1].imm == 0)
        return gpr(x->operands[0].reg);
    return -1;
}

static int returns_fork_value(struct walker *w, uint64_t after_call)
{
    struct item queue[WRAPPER_QUEUE];
    struct fsan_keymap seen = {0};
    size_t head = 0, tail = 0, budget = WRAPPER_BUDGET;
    int wrapper = 1, child_returns = 0;
    memset(&queue[0], 0, sizeof queue[0]);
    queue[tail].addr = after_call;
    queue[tail].v.regs = 1u << 0;
    queue[tail++].v.may = MAY_ERROR | MAY_CHILD | MAY_PARENT;
    while (head < tail && wrapper) {
        struct item it = queue[head++];
        uint64_t addr = it.addr;
        /* Paths only a failed fork takes do not matter.  Paths that meet
         * (the child's and the parent's at a shared `return pid`) are
         * walked once for each set of values they carry. */
        while (wrapper && (it.v.may & (MAY_CHILD | MAY_PARENT)) && !fsan_keymap_get(&seen, addr * 8 + it.v.may, NULL)) {
            if (budget-- == 0 || fsan_keymap_put(&seen, addr * 8 + it.v.may, 1) < 0 || !decode(w, addr, 0) ||
                (addr != after_call && fsan_lint_elf_is_function_start(w->e, addr))) {
                wrapper = 0;
                break;
            }
            const cs_insn *in = w->insn;
            const cs_x86 *x = &in->detail->x86;
            unsigned id = in->id;
            addr = in->address + in->size;
            const char *import, *why;
            uint64_t local;
            if (id == X86_INS_RET) {
                wrapper = (it.v.regs & 1u) != 0;
                child_returns |= wrapper && (it.v.may & MAY_CHILD);
                break;
            } else if (is_cond_jump(id)) {
                unsigned to_target = it.v.may, to_next = it.v.may;
                if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM || tail == WRAPPER_QUEUE) {
                    wrapper = 0;
                    break;
                }
                if (it.v.flags_valid && split(id, it.v.flags_imm, it.v.may, &to_target, &to_next) < 0)
                    to_target = to_next = it.v.may;
                queue[tail] = it;
                queue[tail].addr = (uint64_t)x->operands[0].imm;
                queue[tail++].v.may = to_target;
                it.v.may = to_next;
            } else if (id == X86_INS_JMP) {
                /* Inside the function only: a tail call returns another value. */
                branch_target(w, in, &import, &local);
                wrapper = local && !fsan_lint_elf_is_function_start(w->e, local);
                addr = local;
            } else if (id == X86_INS_CALL) {
                branch_target(w, in, &import, &local);
                enum call_kind kind = import ? call_kind(import, &why) : CALL_UNKNOWN;
                if (import && is_fork(import))
                    wrapper = 0; /* a second fork: not one fork's value */
                if (kind == CALL_END || kind == CALL_STOP)
                    break;
                forget_call(&it.v);
            } else if (it.v.may == MAY_CHILD && zeroes(in) >= 0) {
                /* Where only the child goes, the value is 0: a compiler
                 * returns it as `xor eax, eax`. */
                it.v.regs |= 1u << zeroes(in);
            } else {
                track(w->cs, in, &it.v);
                wrapper = !it.v.escaped;
            }
        }
    }
    fsan_keymap_free(&seen);
    return wrapper && child_returns;
}

/* ---- the fork calls --------------------------------------------------- */

static int add_result(struct fsan_lint_unsafe **out, size_t *n, const struct fsan_lint_unsafe *u)
{
    struct fsan_lint_unsafe *grown = realloc(*out, (*n + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *out = grown;
    grown[(*n)++] = *u;
    return 0;
}

/* A call of fork (or of a wrapper) at call: walks the child's branch
 * after it and adds what it finds. */
static int examine_call(struct walker *w, const cs_insn *call, const char *fork_name, uint64_t wrapper,
                        struct fsan_lint_unsafe **out, size_t *n)
{
    struct fork_value v;
    uint64_t child = child_branch(w, call->address + call->size, &v);
    if (!child)
        return 0;
    struct summary s = {.entry = child};
    walk(w, child, &v, 0, &s);
    if (!s.unsafe)
        return 0;
    uint64_t wrapped_fork = 0;
    if (wrapper) {
        fsan_keymap_get(&w->wrappers, wrapper, &wrapped_fork);
        wrapped_fork--;
    }
    struct fsan_lint_unsafe u = {
        .fork_site = call->address,
        .fork_name = fork_name,
        .wrapper_fork_site = wrapped_fork,
        .wrapper = wrapper,
        .ncalls = s.ncalls,
        .callee = s.callee,
        .why = s.why,
    };
    memcpy(u.calls, s.calls, s.ncalls * sizeof *s.calls);
    return add_result(out, n, &u);
}

/* A fork call (or tail jump) at site: its function is a wrapper when it
 * returns fork's value. */
static void learn_wrapper(struct walker *w, const cs_insn *site)
{
    /* A static program's C library forks in functions of its own (fork
     * around _Fork, daemon): none is a wrapper of the program's. */
    uint64_t start = fsan_lint_elf_function_start(w->e, site->address);
    if (!start || w->e->is_static || fsan_keymap_get(&w->wrappers, start, NULL))
        return;
    uint64_t address = site->address;
    if (site->id == X86_INS_JMP || returns_fork_value(w, site->address + site->size))
        fsan_keymap_put(&w->wrappers, start, address + 1);
}

/* Linear sweep of the code: in the first pass, for calls of fork (each
 * examined) and the wrappers around them; in the second, for calls of
 * those wrappers. */
static int sweep(struct walker *w, const struct fsan_lint_code *c, int wrappers_pass, struct fsan_lint_unsafe **out,
                 size_t *n)
{
    const uint8_t *p = c->bytes;
    size_t left = (size_t)c->size;
    uint64_t addr = c->addr;
    /* A second instruction for the sweep: examining a call uses w->insn. */
    cs_insn *in = cs_malloc(w->cs);
    if (!in)
        return -ENOMEM;
    int rc = 0;
    while (left > 0 && rc == 0) {
        if (!cs_disasm_iter(w->cs, &p, &left, &addr, in)) {
            /* Not an instruction (data, padding): step over one byte. */
            p++;
            left--;
            addr++;
            continue;
        }
        if (in->id != X86_INS_CALL && in->id != X86_INS_JMP)
            continue;
        const char *import;
        uint64_t local;
        branch_target(w, in, &import, &local);
        const char *fork_name = is_fork(import);
        if (wrappers_pass) {
            if (in->id == X86_INS_CALL && local && fsan_keymap_get(&w->wrappers, local, NULL))
                rc = examine_call(w, in, "fork", local, out, n);
            continue;
        }
        if (!fork_name)
            continue;
        learn_wrapper(w, in);
        if (in->id == X86_INS_CALL)
            rc = examine_call(w, in, fork_name, 0, out, n);
    }
    cs_free(in, 1);
    return rc;
}

int fsan_lint_fork_sites(const struct fsan_lint_elf *e, struct fsan_lint_unsafe **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct walker w = {.e = e};
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &w.cs) != CS_ERR_OK)
        return -ENOMEM;
    cs_option(w.cs, CS_OPT_DETAIL, CS_OPT_ON);
    w.insn = cs_malloc(w.cs);
    w.stub_insn = cs_malloc(w.cs);
    int rc = w.insn && w.stub_insn ? 0 : -ENOMEM;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; rc == 0 && i < e->ncode && (pass == 0 || w.wrappers.n); i++)
            if (!e->code[i].is_plt)
                rc = sweep(&w, &e->code[i], pass, out, n);
    if (w.insn)
        cs_free(w.insn, 1);
    if (w.stub_insn)
        cs_free(w.stub_insn, 1);
    cs_close(&w.cs);
    fsan_keymap_free(&w.stubs);
    fsan_keymap_free(&w.sum_index);
    fsan_keymap_free(&w.region_targets);
    fsan_keymap_free(&w.targets);
    fsan_keymap_free(&w.wrappers);
    free(w.sums);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

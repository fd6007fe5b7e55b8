/* hooks.c — owns the bootstrap: finding the real function behind every
 * interposer listed in hooks.h, and binding the libc functions the runtime
 * itself calls.
 *
 * DESIGN
 * Every exec'd image pays for what the constructor does, and most images
 * never fork: a dlsym per hook at start-up cost each of them more than the
 * rest of the runtime together.  So nothing is looked up at start-up.  The
 * constructor records, once, the objects loaded with the program (through
 * dl_iterate_phdr) and where each keeps its dynamic symbol table; REAL()
 * then resolves a hook on its first use by a GNU-hash lookup in that
 * record, searching the objects after libforksan in load order, as
 * dlsym(RTLD_NEXT) does: forksan composes with other preloaded interposers
 * (they are "next").  The lookup only reads memory that does not change
 * (no lock, no allocation, no libc call), so it is async-signal-safe: a
 * hook first used in a signal handler or in a fork child is resolved
 * there, correctly.  The symbol version is honoured as the loader does it:
 * a NULL version takes the default version and never a hidden one
 * (pthread_cond_wait@GLIBC_2.2.5 is the LinuxThreads-era ABI); a named
 * version takes exactly that one.  Two threads resolving the same hook
 * store the same address, so a race is benign.
 *
 * The runtime is linked lazily (no -z now): eager binding of the ~50 libc
 * functions it calls cost every image ~35,000 instructions of symbol
 * lookups.  Lazy binding must not run in fork children, though: it would
 * cost each child a loader call and a copy-on-write fault on the GOT page.
 * So the first fork (the first REAL() of a fork-family hook, in the
 * parent, before the fork) resolves every hook and binds every libc
 * function of the runtime's own PLT with the same lookup: every child
 * inherits them resolved, and writes none of them.
 *
 * Only what the lookup cannot decide goes to dlsym/dlvsym: an object
 * without a GNU hash table, more objects than the record holds, or a
 * symbol defined by none of the start-up objects (a library loaded later
 * with RTLD_GLOBAL).  None of these happen with glibc's own functions;
 * dlsym is not async-signal-safe, but it is then no worse than before.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "fsan.h"

_Static_assert(__ELF_NATIVE_CLASS == 64, "the symbol lookup reads 64-bit ELF");

void *fsan__real[FSAN_HOOK_COUNT];

/* The hook names as one block of characters, addressed by offset: a table
 * of string pointers would need one relocation per entry, which every
 * image pays at load time. */
#define FSAN_HOOK_NAME_FIELD(ret, name, params, version) char name[sizeof #name];
#define FSAN_HOOK_NAME_TEXT(ret, name, params, version) #name,
static const struct { FSAN_HOOKS(FSAN_HOOK_NAME_FIELD) } hook_names = {FSAN_HOOKS(FSAN_HOOK_NAME_TEXT)};
#define FSAN_HOOK_NAME_OFFSET(ret, name, params, version) (uint16_t) offsetof(__typeof__(hook_names), name),
static const uint16_t hook_name_offset[] = {FSAN_HOOKS(FSAN_HOOK_NAME_OFFSET)};
#define FSAN_HOOK_VERSION(ret, name, params, version) version,
static const char *const hook_version[] = {FSAN_HOOKS(FSAN_HOOK_VERSION)};
#undef FSAN_HOOK_NAME_FIELD
#undef FSAN_HOOK_NAME_TEXT
#undef FSAN_HOOK_NAME_OFFSET
#undef FSAN_HOOK_VERSION
_Static_assert(sizeof hook_names < 65536, "hook name offsets are 16-bit");

static const char *hook_name(int index)
{
    return (const char *)&hook_names + hook_name_offset[index];
}

/* ---- the record of loaded objects --------------------------------------- */

/* One object's dynamic symbol table, as the loader left it in memory.
 * The constructor records where the object's dynamic section is; the rest
 * is read from it on the first lookup that reaches the object. */
struct loaded_object {
    uintptr_t base;
    const ElfW(Dyn) *dynamic;
    int self;
    _Atomic int ready;          /* the fields below are read */
    const ElfW(Sym) *symtab;
    const char *strtab;
    const uint32_t *gnu_hash;   /* NULL: only the loader can search it */
    const ElfW(Half) *versym;   /* NULL: no symbol versions */
    const ElfW(Verdef) *verdef;
};

#define MAX_OBJECTS 64

static struct loaded_object objects[MAX_OBJECTS];
static int object_count;
static int objects_truncated; /* more objects than the record holds */
static int self_index = -1;   /* libforksan's own place in the order */
static uintptr_t self_start, self_end; /* where libforksan is mapped */
static int objects_recorded;

/* libforksan's own relocations and version needs, for binding its PLT. */
static const ElfW(Rela) *self_plt_relocs;
static size_t self_plt_reloc_count;
static const ElfW(Verneed) *self_verneed;

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

/* The loader adjusts the address entries of an object's dynamic section by
 * its load address, except where that section is read-only (the vDSO). */
static uintptr_t dyn_address(uintptr_t base, ElfW(Addr) value)
{
    return value < base ? base + value : value;
}

static int same_string(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The vDSO is in the loader's list, but not in the global search order. */
static int is_vdso(const char *name)
{
    return name && (same_string(name, "linux-vdso.so.1") || same_string(name, "linux-gate.so.1"));
}

/* AS-safe.  Two threads may read the same object at once: they store
 * the same values. */
static void read_dynamic(struct loaded_object *o)
{
    int self = o->self;
    size_t plt_size = 0;
    for (const ElfW(Dyn) *dyn = o->dynamic; dyn && dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t at = dyn_address(o->base, dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB: o->symtab = (const ElfW(Sym) *)at; break;
        case DT_STRTAB: o->strtab = (const char *)at; break;
        case DT_GNU_HASH: o->gnu_hash = (const uint32_t *)at; break;
        case DT_VERSYM: o->versym = (const ElfW(Half) *)at; break;
        case DT_VERDEF: o->verdef = (const ElfW(Verdef) *)at; break;
        case DT_JMPREL: if (self) self_plt_relocs = (const ElfW(Rela) *)at; break;
        case DT_PLTRELSZ: plt_size = dyn->d_un.d_val; break;
        case DT_VERNEED: if (self) self_verneed = (const ElfW(Verneed) *)at; break;
        }
    }
    if (self)
        self_plt_reloc_count = plt_size / sizeof(ElfW(Rela));
    if (!o->symtab || !o->strtab)
        o->gnu_hash = NULL;
    atomic_store_explicit(&o->ready, 1, memory_order_release);
}

static const struct loaded_object *object(int index)
{
    struct loaded_object *o = &objects[index];
    if (!atomic_load_explicit(&o->ready, memory_order_acquire))
        read_dynamic(o);
    return o;
}

static int record_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (is_vdso(info->dlpi_name))
        return 0;
    if (object_count == MAX_OBJECTS) {
        objects_truncated = 1; /* a symbol found in none of these is left to the loader */
        return 1;
    }
    struct loaded_object *o = &objects[object_count];
    o->base = info->dlpi_addr;
    o->self = info->dlpi_addr == (uintptr_t)__ehdr_start;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            o->dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (o->self) {
        self_index = object_count;
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type != PT_LOAD)
                continue;
            uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
            if (!self_start || start < self_start)
                self_start = start;
            if (end > self_end)
                self_end = end;
        }
    }
    object_count++;
    return 0;
}

/* Not AS-safe (dl_iterate_phdr takes the loader's lock): the constructor
 * calls it, while the program has one thread. */
void fsan__hooks_init(void)
{
    if (objects_recorded)
        return;
    dl_iterate_phdr(record_object, NULL);
    objects_recorded = 1;
}

/* ---- the lookup ----------------------------------------------------------- */

static uint32_t gnu_hash(const char *name)
{
    uint32_t h = 5381;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = h * 33 + *c;
    return h;
}

/* The name of version index ndx in an object's version definitions. */
static const char *defined_version(const struct loaded_object *o, unsigned ndx)
{
    const ElfW(Verdef) *d = o->verdef;
    while (d) {
        if (d->vd_ndx == ndx) {
            const ElfW(Verdaux) *aux = (const ElfW(Verdaux) *)((const char *)d + d->vd_aux);
            return o->strtab + aux->vda_name;
        }
        if (!d->vd_next)
            break;
        d = (const ElfW(Verdef) *)((const char *)d + d->vd_next);
    }
    return NULL;
}

/* The loader's rule: a reference without a version takes an unversioned
 * symbol or the default version, never a hidden one; a reference with a
 * version takes that version, or a symbol of an object (or entry) that
 * has no versions. */
static int version_matches(const struct loaded_object *o, uint32_t index, const char *version)
{
    if (!o->versym)
        return 1;
    ElfW(Half) v = o->versym[index];
    if (!version)
        return !(v & 0x8000);
    if ((v & 0x7fff) <= 1)
        return !(v & 0x8000);
    const char *defined = defined_version(o, v & 0x7fff);
    return defined && same_string(defined, version);
}

static int defines(const struct loaded_object *o, uint32_t index, const char *name, const char *version)
{
    const ElfW(Sym) *sym = &o->symtab[index];
    unsigned type = ELF64_ST_TYPE(sym->st_info), bind = ELF64_ST_BIND(sym->st_info);
    if (sym->st_shndx == SHN_UNDEF || sym->st_value == 0)
        return 0;
    if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT && type != STT_NOTYPE)
        return 0;
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
        return 0;
    return same_string(o->strtab + sym->st_name, name) && version_matches(o, index, version);
}

/* AS-safe: o's GNU hash table, found without reading the rest of its
 * dynamic section (most lookups end at the Bloom filter). */
static const uint32_t *gnu_hash_table(const struct loaded_object *o)
{
    if (atomic_load_explicit(&o->ready, memory_order_acquire))
        return o->gnu_hash;
    for (const ElfW(Dyn) *dyn = o->dynamic; dyn && dyn->d_tag != DT_NULL; dyn++)
        if (dyn->d_tag == DT_GNU_HASH)
            return (const uint32_t *)dyn_address(o->base, dyn->d_un.d_ptr);
    return NULL;
}

/* The Bloom filter of the table says the object defines no such name. */
static int bloom_rejects(const uint32_t *table, uint32_t hash)
{
    uint32_t bloom_size = table[2], bloom_shift = table[3];
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)&table[4];
    const unsigned bits = sizeof(ElfW(Addr)) * 8;
    ElfW(Addr) word = bloom[(hash / bits) & (bloom_size - 1)];
    ElfW(Addr) mask = ((ElfW(Addr))1 << (hash % bits)) | ((ElfW(Addr))1 << ((hash >> bloom_shift) % bits));
    return table[0] == 0 || (word & mask) != mask;
}

/* The symbol's index in o's table, or 0 when o does not define it. */
static uint32_t find_in_object(const struct loaded_object *o, const char *name, uint32_t hash, const char *version)
{
    const uint32_t *table = o->gnu_hash;
    uint32_t nbuckets = table[0], symoffset = table[1], bloom_size = table[2];
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)&table[4];
    const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
    const uint32_t *chain = &buckets[nbuckets];
    if (bloom_rejects(table, hash))
        return 0;
    uint32_t index = buckets[hash % nbuckets];
    if (index < symoffset)
        return 0;
    for (;; index++) {
        uint32_t h = chain[index - symoffset];
        if ((h | 1) == (hash | 1) && defines(o, index, name, version))
            return index;
        if (h & 1)
            return 0;
    }
}

/* AS-safe (an IFUNC's resolver aside, which no hooked libc function has):
 * the first definition of name in the objects from `first` on, in load
 * order.  NULL when none defines it, or when an object that cannot be
 * searched here comes first: the loader must decide. */
static void *lookup(const char *name, const char *version, int first)
{
    uint32_t hash = gnu_hash(name);
    for (int i = first; i < object_count; i++) {
        const uint32_t *table = gnu_hash_table(&objects[i]);
        if (table && bloom_rejects(table, hash))
            continue;
        const struct loaded_object *o = object(i);
        if (!o->gnu_hash)
            return NULL;
        uint32_t index = find_in_object(o, name, hash, version);
        if (!index)
            continue;
        const ElfW(Sym) *sym = &o->symtab[index];
        uintptr_t addr = o->base + sym->st_value;
        if (ELF64_ST_TYPE(sym->st_info) == STT_GNU_IFUNC)
            addr = (uintptr_t)((void *(*)(void))addr)();
        return (void *)addr;
    }
    return NULL;
}

/* AS-safe */
int fsan__hooks_defined(const char *name)
{
    if (!objects_recorded)
        return -1;
    if (lookup(name, NULL, 0))
        return 1;
    for (int i = 0; i < object_count; i++)
        if (!gnu_hash_table(&objects[i]))
            return -1;
    return objects_truncated ? -1 : 0;
}

/* AS-safe when the lookup decides.  See hooks.h. */
void *fsan__hooks_symbol(const char *name)
{
    void *fn = objects_recorded ? lookup(name, NULL, 0) : NULL;
    return fn || fsan__hooks_defined(name) == 0 ? fn : dlsym(RTLD_DEFAULT, name);
}

/* ---- the hooks -------------------------------------------------------------- */

/* AS-safe whenever the lookup decides (see DESIGN). */
static void *resolve(int index)
{
    void *fn = __atomic_load_n(&fsan__real[index], __ATOMIC_RELAXED);
    if (fn)
        return fn;
    if (!objects_recorded) /* a hooked call before the constructor ran */
        fsan__hooks_init();
    if (self_index >= 0)
        fn = lookup(hook_name(index), hook_version[index], self_index + 1);
    if (!fn && hook_version[index])
        fn = dlvsym(RTLD_NEXT, hook_name(index), hook_version[index]);
    if (!fn)
        fn = dlsym(RTLD_NEXT, hook_name(index));
    if (!fn) {
        /* Without the real function the program cannot go on; say which. */
        fsan__log("ERROR", "cannot find the real function behind an interposer; is libc too old?");
        fsan__log("ERROR", hook_name(index));
        _exit(127);
    }
    __atomic_store_n(&fsan__real[index], fn, __ATOMIC_RELAXED);
    return fn;
}

static int is_fork_hook(int index)
{
    return index == FSAN_HOOK_fork || index == FSAN_HOOK__Fork || index == FSAN_HOOK_daemon ||
           index == FSAN_HOOK_forkpty;
}

void *fsan__hooks_resolve_one(int index)
{
    void *fn = resolve(index);
    if (is_fork_hook(index))
        fsan__before_first_fork(); /* runtime.c; it calls fsan__hooks_resolve */
    return fn;
}

/* ---- the runtime's own PLT ------------------------------------------------- */

/* x86_64 only: there an IFUNC resolver (memcpy, strlen) takes no
 * argument, so the lookup can call it as the loader does; elsewhere
 * (aarch64 passes hwcaps) the loader keeps binding lazily. */
#if defined(__x86_64__)
#define PLT_RELOC R_X86_64_JUMP_SLOT
#endif

/* The version our reference to a libc function names (memcpy@GLIBC_2.14). */
static const char *needed_version(unsigned ndx)
{
    const struct loaded_object *self = object(self_index);
    for (const ElfW(Verneed) *n = self_verneed; n;
         n = n->vn_next ? (const ElfW(Verneed) *)((const char *)n + n->vn_next) : NULL) {
        const ElfW(Vernaux) *a = (const ElfW(Vernaux) *)((const char *)n + n->vn_aux);
        for (unsigned i = 0; i < n->vn_cnt; i++) {
            if (a->vna_other == ndx)
                return self->strtab + a->vna_name;
            a = (const ElfW(Vernaux) *)((const char *)a + a->vna_next);
        }
    }
    return NULL;
}

/* Binds each PLT entry of libforksan the loader has not bound yet (its
 * slot still points into libforksan, at the lazy stub) to what the loader
 * would bind it to: the first definition in load order of the version
 * named.  A slot the loader bound is left as it is; what the lookup
 * cannot decide stays with the loader. */
static void bind_own_plt(void)
{
#ifdef PLT_RELOC
    if (self_index < 0)
        return;
    const struct loaded_object *self = object(self_index);
    for (size_t i = 0; i < self_plt_reloc_count; i++) {
        const ElfW(Rela) *r = &self_plt_relocs[i];
        if (ELF64_R_TYPE(r->r_info) != PLT_RELOC)
            continue;
        void **slot = (void **)(self->base + r->r_offset);
        uintptr_t bound = (uintptr_t)__atomic_load_n(slot, __ATOMIC_RELAXED);
        if (bound < self_start || bound >= self_end)
            continue; /* the loader bound it */
        uint32_t sym = ELF64_R_SYM(r->r_info);
        const char *version = self->versym ? needed_version(self->versym[sym] & 0x7fff) : NULL;
        void *fn = lookup(self->strtab + self->symtab[sym].st_name, version, 0);
        if (fn)
            __atomic_store_n(slot, fn, __ATOMIC_RELAXED);
    }
#endif
}

void fsan__hooks_resolve(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (int i = 0; i < FSAN_HOOK_COUNT; i++)
        resolve(i);
    bind_own_plt();
}

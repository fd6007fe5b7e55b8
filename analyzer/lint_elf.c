/* lint_elf.c — one ELF object as `forksan lint` needs it: whether it can be
 * examined at all (and in words why not), its dynamic section (DT_NEEDED,
 * DT_RUNPATH, DT_RPATH, DT_SONAME), its imports, the map from GOT slots to
 * imported names that tells a call through the PLT which function it
 * reaches, its code sections and where its functions start.
 *
 * DESIGN
 * Only x86-64 ELF objects are examined (the disassembly in lint_fork.c
 * knows one instruction set).  A statically linked program has no
 * imports: its fork and printf are its own functions, recognised by the
 * names its symbol table gives them, so a static program is examined
 * only with that table (a stripped one is named and skipped), and never
 * as a library of a closure.  Everything else is named once with the reason and
 * skipped.  Every offset read from the file is checked against the file's
 * size before libelf is asked for the data behind it, so a truncated file
 * is "truncated", never a crash.  Function starts come from the symbol
 * tables and from the .eh_frame_hdr search table, which `strip` keeps
 * (the unwinder needs it): a stripped program still says where each of its
 * functions begins, which is what keeps the walk in lint_fork.c from
 * running off the end of a function into the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lint.h"

static enum fsan_lint_status fail(enum fsan_lint_status st, char *why, size_t whylen, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return st;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_sym(const void *a, const void *b)
{
    const struct fsan_lint_sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The header checks: ELF, 64-bit, x86-64, a loadable type, and every
 * program and section header inside the file. */
static enum fsan_lint_status check_header(struct fsan_lint_elf *e, GElf_Ehdr *eh, char *why, size_t whylen)
{
    if (elf_kind(e->elf) != ELF_K_ELF)
        return fail(FSAN_LINT_NOT_ELF, why, whylen, "not an ELF file");
    if (!gelf_getehdr(e->elf, eh))
        return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt ELF header (truncated?)");
    /* Garbage after the magic reads as any machine: the header tables must
     * lie inside the file before the header's other fields are believed. */
    uint64_t ph_end = eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize;
    uint64_t sh_end = eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize;
    if (eh->e_phoff > e->file_size || ph_end > e->file_size || eh->e_shoff > e->file_size || sh_end > e->file_size)
        return fail(FSAN_LINT_BROKEN, why, whylen, "truncated or corrupt: its header tables lie past the end of the file");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, "32-bit ELF: forksan lint examines x86-64 objects only");
    if (eh->e_machine != EM_X86_64) {
        char text[96];
        snprintf(text, sizeof text, "ELF for another architecture (e_machine %u): forksan lint examines x86-64 objects only",
                 (unsigned)eh->e_machine);
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, text);
    }
    if (eh->e_type == ET_REL)
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, "relocatable object (.o): link it first");
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, "not a program or shared object (core file?)");
    size_t n;
    if (elf_getphdrnum(e->elf, &n) < 0)
        return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt program headers");
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_offset > e->file_size ||
            ph.p_filesz > e->file_size - ph.p_offset)
            return fail(FSAN_LINT_BROKEN, why, whylen, "truncated or corrupt: a segment lies past the end of the file");
    }
    if (elf_getshdrnum(e->elf, &n) < 0)
        return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt section headers");
    if (n == 0)
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, "no section headers (sstrip'ed?): nothing to examine");
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e->elf, scn)) != NULL;) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt section headers (truncated?)");
        if (sh.sh_type != SHT_NOBITS && (sh.sh_offset > e->file_size || sh.sh_size > e->file_size - sh.sh_offset))
            return fail(FSAN_LINT_BROKEN, why, whylen, "truncated or corrupt: a section lies past the end of the file");
    }
    return FSAN_LINT_OK;
}

/* Interpreter and dynamic segment: a program without either is static. */
static enum fsan_lint_status check_dynamic(struct fsan_lint_elf *e, const GElf_Ehdr *eh, char *why, size_t whylen)
{
    size_t n;
    int has_interp = 0, has_dynamic = 0;
    elf_getphdrnum(e->elf, &n);
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e->elf, (int)i, &ph))
            continue;
        has_interp |= ph.p_type == PT_INTERP;
        has_dynamic |= ph.p_type == PT_DYNAMIC;
    }
    e->is_static = !has_dynamic;
    e->is_exec = eh->e_type == ET_EXEC || has_interp || e->is_static;
    return FSAN_LINT_OK;
}

static Elf_Scn *section_of_type(Elf *elf, Elf64_Word type, GElf_Shdr *out)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) != NULL;)
        if (gelf_getshdr(scn, out) && out->sh_type == type)
            return scn;
    return NULL;
}

/* A string of the section strndx, or NULL when it is not inside it. */
static const char *string_at(Elf *elf, size_t strndx, size_t offset)
{
    const char *s = elf_strptr(elf, strndx, offset);
    return s;
}

static int read_dynamic(struct fsan_lint_elf *e, char *why, size_t whylen)
{
    GElf_Shdr sh;
    Elf_Scn *scn = section_of_type(e->elf, SHT_DYNAMIC, &sh);
    if (!scn)
        return 0;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || sh.sh_entsize == 0)
        return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt dynamic section"), -EINVAL;
    size_t count = sh.sh_size / sh.sh_entsize;
    e->needed = calloc(count ? count : 1, sizeof *e->needed);
    if (!e->needed)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
            break;
        const char *s = NULL;
        if (dyn.d_tag == DT_NEEDED || dyn.d_tag == DT_RUNPATH || dyn.d_tag == DT_RPATH || dyn.d_tag == DT_SONAME) {
            s = string_at(e->elf, sh.sh_link, dyn.d_un.d_val);
            if (!s)
                return fail(FSAN_LINT_BROKEN, why, whylen, "corrupt dynamic section: a name lies outside its string table"),
                       -EINVAL;
        }
        if (dyn.d_tag == DT_NEEDED)
            e->needed[e->nneeded++] = s;
        else if (dyn.d_tag == DT_RUNPATH)
            e->runpath = s;
        else if (dyn.d_tag == DT_RPATH)
            e->rpath = s;
        else if (dyn.d_tag == DT_SONAME)
            e->soname = s;
    }
    return 0;
}

static int read_dynsym(struct fsan_lint_elf *e)
{
    GElf_Shdr sh;
    Elf_Scn *scn = section_of_type(e->elf, SHT_DYNSYM, &sh);
    if (!scn || sh.sh_entsize == 0)
        return 0;
    e->dynsym = elf_getdata(scn, NULL);
    Elf_Scn *strscn = elf_getscn(e->elf, sh.sh_link);
    e->dynstr = strscn ? elf_getdata(strscn, NULL) : NULL;
    if (!e->dynsym || !e->dynstr) {
        e->dynsym = NULL;
        return 0;
    }
    e->ndynsym = sh.sh_size / sh.sh_entsize;
    return 0;
}

/* The name of dynamic symbol i, or NULL. */
static const char *dynsym_name(const struct fsan_lint_elf *e, size_t i, GElf_Sym *sym)
{
    if (!e->dynsym || i >= e->ndynsym || !gelf_getsym(e->dynsym, (int)i, sym))
        return NULL;
    if (sym->st_name >= e->dynstr->d_size)
        return NULL;
    const char *name = (const char *)e->dynstr->d_buf + sym->st_name;
    /* The string must end inside the table. */
    return memchr(name, '\0', e->dynstr->d_size - sym->st_name) ? name : NULL;
}

int fsan_lint_elf_imports(const struct fsan_lint_elf *e, const char *name)
{
    for (size_t i = 1; i < e->ndynsym; i++) {
        GElf_Sym sym;
        const char *s = dynsym_name(e, i, &sym);
        if (s && sym.st_shndx == SHN_UNDEF && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

int fsan_lint_elf_imports_strong(const struct fsan_lint_elf *e, const char *name)
{
    for (size_t i = 1; i < e->ndynsym; i++) {
        GElf_Sym sym;
        const char *s = dynsym_name(e, i, &sym);
        if (s && sym.st_shndx == SHN_UNDEF && GELF_ST_BIND(sym.st_info) != STB_WEAK && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

int fsan_lint_elf_imports_prefix(const struct fsan_lint_elf *e, const char *prefix)
{
    size_t len = strlen(prefix);
    for (size_t i = 1; i < e->ndynsym; i++) {
        GElf_Sym sym;
        const char *s = dynsym_name(e, i, &sym);
        if (s && sym.st_shndx == SHN_UNDEF && strncmp(s, prefix, len) == 0)
            return 1;
    }
    return 0;
}

/* GOT slot -> name, from the JUMP_SLOT (lazy or bound PLT) and GLOB_DAT
 * (-fno-plt calls, .plt.got stubs) relocations against .dynsym. */
static int read_relocations(struct fsan_lint_elf *e)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e->elf, scn)) != NULL;) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            continue;
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < count; i++) {
            GElf_Rela rela;
            if (!gelf_getrela(data, (int)i, &rela))
                break;
            unsigned type = (unsigned)GELF_R_TYPE(rela.r_info);
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
                continue;
            GElf_Sym sym;
            const char *name = dynsym_name(e, GELF_R_SYM(rela.r_info), &sym);
            if (!name || !*name)
                continue;
            if (fsan_keymap_put(&e->got, rela.r_offset, (uint64_t)(uintptr_t)name) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int read_code(struct fsan_lint_elf *e)
{
    size_t cap = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e->elf, scn)) != NULL;) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) || sh.sh_size == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data || data->d_size != sh.sh_size)
            continue;
        size_t shstrndx;
        const char *name = elf_getshdrstrndx(e->elf, &shstrndx) == 0 ? elf_strptr(e->elf, shstrndx, sh.sh_name) : NULL;
        if (e->ncode == cap) {
            cap = cap ? 2 * cap : 8;
            struct fsan_lint_code *grown = realloc(e->code, cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            e->code = grown;
        }
        e->code[e->ncode++] = (struct fsan_lint_code){
            .addr = sh.sh_addr,
            .size = sh.sh_size,
            .bytes = data->d_buf,
            .is_plt = name && strncmp(name, ".plt", 4) == 0,
        };
    }
    return 0;
}

/* Function symbols of one symbol table, appended to e->syms. */
static int add_symbols(struct fsan_lint_elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || sh->sh_entsize == 0)
        return 0;
    size_t count = sh->sh_size / sh->sh_entsize;
    for (size_t i = 1; i < count; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
            sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
            continue;
        const char *name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
        if (!name || !*name)
            continue;
        if (e->nsyms == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            struct fsan_lint_sym *grown = realloc(e->syms, *cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            e->syms = grown;
        }
        e->syms[e->nsyms++] = (struct fsan_lint_sym){sym.st_value, sym.st_size, name};
    }
    return 0;
}

/* The .eh_frame_hdr binary search table: one initial location per FDE.
 * Only the encoding every x86-64 toolchain writes (version 1, table of
 * DW_EH_PE_datarel|sdata4 pairs) is read; another leaves the symbols
 * alone to say where functions start. */
static int add_eh_frame_starts(struct fsan_lint_elf *e, size_t *cap)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
        return 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e->elf, scn)) != NULL;) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e->elf, shstrndx, sh.sh_name)) ||
            strcmp(name, ".eh_frame_hdr") != 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        const uint8_t *p = data ? data->d_buf : NULL;
        if (!p || data->d_size < 12 || p[0] != 1 || p[1] != 0x1b || p[2] != 0x03 || p[3] != 0x3b)
            return 0;
        uint32_t count;
        memcpy(&count, p + 8, 4);
        if (count > (data->d_size - 12) / 8)
            return 0;
        for (uint32_t i = 0; i < count; i++) {
            int32_t rel;
            memcpy(&rel, p + 12 + 8 * (size_t)i, 4);
            if (e->nfunc_starts == *cap) {
                *cap = *cap ? 2 * *cap : 256;
                uint64_t *grown = realloc(e->func_starts, *cap * sizeof *grown);
                if (!grown)
                    return -ENOMEM;
                e->func_starts = grown;
            }
            e->func_starts[e->nfunc_starts++] = sh.sh_addr + (uint64_t)(int64_t)rel;
        }
        return 0;
    }
    return 0;
}

static int read_functions(struct fsan_lint_elf *e)
{
    size_t cap = 0, starts_cap = 0;
    GElf_Shdr sh;
    Elf_Scn *scn = section_of_type(e->elf, SHT_SYMTAB, &sh);
    if (!scn)
        scn = section_of_type(e->elf, SHT_DYNSYM, &sh);
    if (scn && add_symbols(e, scn, &sh, &cap) < 0)
        return -ENOMEM;
    if (e->nsyms)
        qsort(e->syms, e->nsyms, sizeof *e->syms, cmp_sym);
    if (add_eh_frame_starts(e, &starts_cap) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < e->nsyms; i++) {
        if (e->nfunc_starts == starts_cap) {
            starts_cap = starts_cap ? 2 * starts_cap : 256;
            uint64_t *grown = realloc(e->func_starts, starts_cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            e->func_starts = grown;
        }
        e->func_starts[e->nfunc_starts++] = e->syms[i].addr;
    }
    if (e->nfunc_starts)
        qsort(e->func_starts, e->nfunc_starts, sizeof *e->func_starts, cmp_u64);
    return 0;
}

static enum fsan_lint_status open_common(struct fsan_lint_elf *e, const char *path, char *why, size_t whylen)
{
    memset(e, 0, sizeof *e);
    e->fd = -1;
    e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (e->fd < 0)
        return fail(FSAN_LINT_UNREADABLE, why, whylen, strerror(errno));
    struct stat st;
    int stat_failed = fstat(e->fd, &st) < 0;
    if (stat_failed || !S_ISREG(st.st_mode)) {
        int err = errno;
        close(e->fd);
        e->fd = -1;
        return stat_failed ? fail(FSAN_LINT_UNREADABLE, why, whylen, strerror(err))
                           : fail(FSAN_LINT_NOT_ELF, why, whylen, "not a regular file");
    }
    e->file_size = (uint64_t)st.st_size;
    e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
    GElf_Ehdr eh;
    enum fsan_lint_status status = FSAN_LINT_NOT_ELF;
    if (!e->elf) {
        /* libelf refuses an empty file and one it cannot map. */
        char magic[4];
        ssize_t got = pread(e->fd, magic, sizeof magic, 0);
        status = got == 4 && memcmp(magic, ELFMAG, SELFMAG) == 0 ? FSAN_LINT_BROKEN : FSAN_LINT_NOT_ELF;
        fail(status, why, whylen, status == FSAN_LINT_BROKEN ? "corrupt ELF file" : "not an ELF file");
    } else {
        status = check_header(e, &eh, why, whylen);
        if (status == FSAN_LINT_OK)
            status = check_dynamic(e, &eh, why, whylen);
    }
    if (status == FSAN_LINT_OK) {
        e->path = strdup(path);
        if (!e->path)
            status = fail(FSAN_LINT_UNREADABLE, why, whylen, strerror(ENOMEM));
    }
    if (status != FSAN_LINT_OK) {
        fsan_lint_elf_close(e);
        return status;
    }
    return FSAN_LINT_OK;
}

/* The dynamic section and symbols; a static program too. */
static enum fsan_lint_status open_dynamic(struct fsan_lint_elf *e, const char *path, char *why, size_t whylen)
{
    enum fsan_lint_status status = open_common(e, path, why, whylen);
    if (status != FSAN_LINT_OK)
        return status;
    int rc = read_dynamic(e, why, whylen);
    if (rc == 0)
        rc = read_dynsym(e);
    if (rc < 0) {
        if (rc == -ENOMEM)
            fail(FSAN_LINT_UNREADABLE, why, whylen, strerror(ENOMEM));
        fsan_lint_elf_close(e);
        return rc == -ENOMEM ? FSAN_LINT_UNREADABLE : FSAN_LINT_BROKEN;
    }
    return FSAN_LINT_OK;
}

enum fsan_lint_status fsan_lint_elf_open_dynamic(struct fsan_lint_elf *e, const char *path, char *why, size_t whylen)
{
    enum fsan_lint_status status = open_dynamic(e, path, why, whylen);
    if (status == FSAN_LINT_OK && e->is_static) {
        fsan_lint_elf_close(e);
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen, "statically linked: not a library the loader can load");
    }
    return status;
}

enum fsan_lint_status fsan_lint_elf_open(struct fsan_lint_elf *e, const char *path, char *why, size_t whylen)
{
    enum fsan_lint_status status = open_dynamic(e, path, why, whylen);
    if (status != FSAN_LINT_OK)
        return status;
    if (e->is_static && !section_of_type(e->elf, SHT_SYMTAB, &(GElf_Shdr){0})) {
        fsan_lint_elf_close(e);
        return fail(FSAN_LINT_UNSUPPORTED, why, whylen,
                    "statically linked and stripped: no symbols to recognise fork or printf by (keep its "
                    "symbol table, or link it dynamically, to lint it)");
    }
    int rc = read_relocations(e);
    if (rc == 0)
        rc = read_code(e);
    if (rc == 0)
        rc = read_functions(e);
    if (rc < 0) {
        fsan_lint_elf_close(e);
        return fail(FSAN_LINT_UNREADABLE, why, whylen, strerror(-rc));
    }
    return FSAN_LINT_OK;
}

void fsan_lint_elf_close(struct fsan_lint_elf *e)
{
    if (e->elf)
        elf_end(e->elf);
    if (e->fd >= 0)
        close(e->fd);
    free(e->path);
    free(e->needed);
    free(e->code);
    free(e->func_starts);
    free(e->syms);
    fsan_keymap_free(&e->got);
    memset(e, 0, sizeof *e);
    e->fd = -1;
}

const struct fsan_lint_sym *fsan_lint_elf_symbol(const struct fsan_lint_elf *e, uint64_t addr)
{
    size_t lo = 0, hi = e->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Symbols may nest or alias: the closest one below that covers addr. */
    for (size_t i = lo; i-- > 0;) {
        const struct fsan_lint_sym *s = &e->syms[i];
        if (addr < s->addr + (s->size ? s->size : 1))
            return s;
        if (lo - i > 4)
            break;
    }
    return NULL;
}

const struct fsan_lint_code *fsan_lint_elf_code_at(const struct fsan_lint_elf *e, uint64_t addr)
{
    for (size_t i = 0; i < e->ncode; i++)
        if (addr >= e->code[i].addr && addr - e->code[i].addr < e->code[i].size)
            return &e->code[i];
    return NULL;
}

/* How many function starts are at or below addr. */
static size_t starts_at_or_below(const struct fsan_lint_elf *e, uint64_t addr)
{
    size_t lo = 0, hi = e->nfunc_starts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->func_starts[mid] <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int fsan_lint_elf_defines(const struct fsan_lint_elf *e, const char *name)
{
    for (size_t i = 0; i < e->nsyms; i++)
        if (strcmp(e->syms[i].name, name) == 0)
            return 1;
    return 0;
}

size_t fsan_lint_elf_symbols_at(const struct fsan_lint_elf *e, uint64_t addr, const struct fsan_lint_sym **first)
{
    size_t lo = 0, hi = e->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->syms[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    while (lo + n < e->nsyms && e->syms[lo + n].addr == addr)
        n++;
    *first = n ? &e->syms[lo] : NULL;
    return n;
}

uint64_t fsan_lint_elf_next_function(const struct fsan_lint_elf *e, uint64_t addr)
{
    size_t n = starts_at_or_below(e, addr);
    return n < e->nfunc_starts ? e->func_starts[n] : UINT64_MAX;
}

uint64_t fsan_lint_elf_function_start(const struct fsan_lint_elf *e, uint64_t addr)
{
    size_t n = starts_at_or_below(e, addr);
    return n > 0 ? e->func_starts[n - 1] : 0;
}

int fsan_lint_elf_is_function_start(const struct fsan_lint_elf *e, uint64_t addr)
{
    return bsearch(&addr, e->func_starts, e->nfunc_starts, sizeof *e->func_starts, cmp_u64) != NULL;
}

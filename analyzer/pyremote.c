/* pyremote.c — finds CPython in another process so that the frame walker
 * (common/pywalk.c) can read its Python stacks from outside: the hang
 * watchdog's view of a hung child.
 *
 * DESIGN
 * The runtime finds the interpreter by dlsym in its own process; from
 * outside the same symbols (_PyRuntime, PyCode_Type, Py_Version) are read
 * from the dynamic symbol table of each mapped file that can hold them
 * (the executable, for Debian's python3; libpython3.N.so for a shared
 * build), placed by where /proc/PID/maps shows the file's first page.
 * 3.10 has no Py_Version: its minor version comes from the file's name
 * (python3.10, libpython3.10.so).  A debug build (Py_REF_DEBUG's symbols)
 * is refused, as the runtime refuses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyremote.h"

struct found {
    uint64_t runtime, code_type, version;
    int debug_build;
};

/* The dynamic symbols of path that say where CPython is, as file
 * addresses (0 when absent); its lowest PT_LOAD address in *first_load.
 * 0 or -1. */
static int read_symbols(const char *path, struct found *f, uint64_t *first_load)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t nphdr = 0;
    *first_load = UINT64_MAX;
    if (elf && elf_getphdrnum(elf, &nphdr) == 0) {
        for (size_t i = 0; i < nphdr; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < *first_load)
                *first_load = ph.p_vaddr & ~(uint64_t)0xfff;
        }
    }
    for (Elf_Scn *scn = elf ? elf_nextscn(elf, NULL) : NULL; scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        Elf_Data *data;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !(data = elf_getdata(scn, NULL)) ||
            sh.sh_entsize == 0)
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            const char *name = gelf_getsym(data, (int)i, &sym) ? elf_strptr(elf, sh.sh_link, sym.st_name) : NULL;
            if (!name || sym.st_shndx == SHN_UNDEF)
                continue;
            if (strcmp(name, "_PyRuntime") == 0)
                f->runtime = sym.st_value;
            else if (strcmp(name, "PyCode_Type") == 0)
                f->code_type = sym.st_value;
            else if (strcmp(name, "Py_Version") == 0)
                f->version = sym.st_value;
            else if (strcmp(name, "_Py_NegativeRefcount") == 0 || strcmp(name, "_Py_GetRefTotal") == 0 ||
                     strcmp(name, "_Py_GetGlobalRefTotal") == 0)
                f->debug_build = 1;
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return *first_load == UINT64_MAX ? -1 : 0;
}

/* "python3.10" or "libpython3.10.so..." in a file name: 3.10's hexversion. */
static unsigned long version_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *at = strstr(base ? base : path, "python3.");
    if (!at)
        return 0;
    unsigned long minor = strtoul(at + strlen("python3."), NULL, 10);
    return minor ? 3ul << 24 | minor << 16 : 0;
}

/* The file mapped at offset 0 in one /proc/PID/maps line: its path in
 * path, its start address; 0 when the line maps no such file. */
static uint64_t mapped_file(const char *line, char *path, size_t cap)
{
    unsigned long long start, end, offset;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &offset, &name_at) < 4 || !name_at ||
        offset != 0 || line[name_at] != '/')
        return 0;
    snprintf(path, cap, "%s", line + name_at);
    path[strcspn(path, "\n")] = '\0';
    return strstr(path, " (deleted)") ? 0 : start;
}

static int read_remote(const struct fsan_py_mem *mem, void *dst, uint64_t addr, size_t n)
{
    return fsan_py_read_process(mem, dst, addr, n);
}

int fsan_py_remote_open(pid_t pid, struct fsan_py_remote *r, const char **why)
{
    char maps[64], line[4096], path[4096];
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(maps, "re");
    if (!f) {
        *why = "cannot read the process's memory map";
        return -errno;
    }
    memset(r, 0, sizeof *r);
    r->mem = (struct fsan_py_mem){read_remote, (int)pid};
    struct found sym = {0};
    uint64_t base = 0, first_load = 0;
    while (!sym.runtime && fgets(line, sizeof line, f)) {
        base = mapped_file(line, path, sizeof path);
        const char *name = strrchr(path, '/');
        if (!base || !name || (strncmp(name + 1, "python3", 7) != 0 && strncmp(name + 1, "libpython3", 10) != 0))
            continue;
        memset(&sym, 0, sizeof sym);
        if (read_symbols(path, &sym, &first_load) < 0)
            sym.runtime = 0;
    }
    fclose(f);
    if (!sym.runtime || !sym.code_type) {
        *why = "no CPython (_PyRuntime) in the process";
        return -ENOENT;
    }
    uint64_t bias = base - first_load;
    unsigned long version = 0;
    if (sym.version && fsan_py_read_process(&r->mem, &version, bias + sym.version, sizeof version) < 0) {
        *why = "cannot read the process's memory (process_vm_readv)";
        return -EPERM;
    }
    r->hexversion = sym.version ? version : version_from_name(path);
    r->runtime = bias + sym.runtime;
    r->code_type = bias + sym.code_type;
    const struct fsan_py_layout *layout = fsan_py_layout_for(r->hexversion);
    if (sym.debug_build || !layout) {
        *why = sym.debug_build ? "a debug build of CPython (Py_DEBUG), whose structures forksan does not know"
                               : "a CPython version whose frame layout this forksan does not know "
                                 "(it reads CPython 3.10 to 3.15)";
        return -ENOTSUP;
    }
    return fsan_py_layout_adopt(layout, &r->mem, r->runtime, r->hexversion, &r->layout, why) < 0 ? -ENOTSUP : 0;
}

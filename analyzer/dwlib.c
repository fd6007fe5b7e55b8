/* dwlib.c — libdw and libelf (elfutils), loaded by the first command that
 * reads an ELF file or its debug information, not linked into forksan.
 *
 * Linked, the two libraries and what they pull in (libz, liblzma, libbz2)
 * are mapped and relocated at every start of the command: `forksan
 * --version` and every `forksan run` paid for them although most runs
 * symbolize nothing (a run with no finding has no stack to name).  So the
 * command is linked without them, and this file defines each function of
 * theirs that the command calls, under the library's own name and with the
 * prototype of the library's header (the compiler checks that the two
 * agree): the first call loads libdw.so.1, which brings libelf.so.1, and
 * every call goes on to the library's function.  The callers (symbolize.c,
 * the lint) are written against the library's API as if it were linked.
 *
 * A caller that can go on without the libraries (the symbolizer: a stack
 * is still module+offset) asks fsan_dwlib_load() first and says once what
 * is missing; a call made without asking ends the command with one line
 * naming the package to install, since what called it cannot do its work.
 * These definitions are hidden: never exported, they cannot stand in for
 * the calls libdw makes into libelf, and a program that links the
 * libraries as well (the unit tests) calls through them to the copy
 * already loaded.
 */
#include "dwlib.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>

#define DWLIB_SONAME "libdw.so.1"
#define DWLIB_PACKAGE "libdw1"

/* Every function of libdw and libelf the command calls: its return type,
 * name, parameters and the arguments that pass them on. */
#define DWLIB_FUNCTIONS(F)                                                                                        \
    F(Dwfl *, dwfl_begin, (const Dwfl_Callbacks *callbacks), (callbacks))                                          \
    F(void, dwfl_end, (Dwfl *dwfl), (dwfl))                                                                          \
    F(const char *, dwfl_lineinfo,                                                                                 \
      (Dwfl_Line *line, Dwarf_Addr *addr, int *linep, int *colp, Dwarf_Word *mtime, Dwarf_Word *length),           \
      (line, addr, linep, colp, mtime, length))                                                                    \
    F(const char *, dwfl_module_addrinfo,                                                                          \
      (Dwfl_Module *mod, GElf_Addr address, GElf_Off *offset, GElf_Sym *sym, GElf_Word *shndxp, Elf **elfp,        \
       Dwarf_Addr *bias),                                                                                          \
      (mod, address, offset, sym, shndxp, elfp, bias))                                                             \
    F(const char *, dwfl_module_addrname, (Dwfl_Module *mod, GElf_Addr address), (mod, address))                   \
    F(Elf *, dwfl_module_getelf, (Dwfl_Module *mod, GElf_Addr *bias), (mod, bias))                                 \
    F(Dwfl_Line *, dwfl_module_getsrc, (Dwfl_Module *mod, Dwarf_Addr addr), (mod, addr))                           \
    F(const char *, dwfl_module_info,                                                                              \
      (Dwfl_Module *mod, void ***userdata, Dwarf_Addr *start, Dwarf_Addr *end, Dwarf_Addr *dwbias,                 \
       Dwarf_Addr *symbias, const char **mainfile, const char **debugfile),                                        \
      (mod, userdata, start, end, dwbias, symbias, mainfile, debugfile))                                           \
    F(int, dwfl_offline_section_address,                                                                           \
      (Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, const char *secname,               \
       GElf_Word shndx, const GElf_Shdr *shdr, Dwarf_Addr *addr),                                                  \
      (mod, userdata, modname, base, secname, shndx, shdr, addr))                                                  \
    F(void, dwfl_report_begin, (Dwfl *dwfl), (dwfl))                                                                 \
    F(int, dwfl_report_end,                                                                                        \
      (Dwfl *dwfl, int (*removed)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *arg), void *arg),          \
      (dwfl, removed, arg))                                                                                        \
    F(Dwfl_Module *, dwfl_report_module, (Dwfl *dwfl, const char *name, Dwarf_Addr start, Dwarf_Addr end),          \
      (dwfl, name, start, end))                                                                                    \
    F(Dwfl_Module *, dwfl_report_offline, (Dwfl *dwfl, const char *name, const char *file_name, int fd),           \
      (dwfl, name, file_name, fd))                                                                                 \
    F(int, dwfl_standard_find_debuginfo,                                                                           \
      (Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, const char *file_name,             \
       const char *debuglink_file, GElf_Word debuglink_crc, char **debuginfo_file_name),                           \
      (mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc, debuginfo_file_name))              \
    F(Elf *, elf_begin, (int fd, Elf_Cmd cmd, Elf *ref), (fd, cmd, ref))                                           \
    F(int, elf_cntl, (Elf *elf, Elf_Cmd cmd), (elf, cmd))                                                          \
    F(int, elf_end, (Elf *elf), (elf))                                                                               \
    F(Elf_Data *, elf_getdata, (Elf_Scn *scn, Elf_Data *data), (scn, data))                                        \
    F(int, elf_getphdrnum, (Elf *elf, size_t *dst), (elf, dst))                                                    \
    F(Elf_Scn *, elf_getscn, (Elf *elf, size_t index), (elf, index))                                               \
    F(int, elf_getshdrnum, (Elf *elf, size_t *dst), (elf, dst))                                                    \
    F(int, elf_getshdrstrndx, (Elf *elf, size_t *dst), (elf, dst))                                                 \
    F(Elf_Kind, elf_kind, (Elf *elf), (elf))                                                                         \
    F(Elf_Scn *, elf_nextscn, (Elf *elf, Elf_Scn *scn), (elf, scn))                                                \
    F(char *, elf_strptr, (Elf *elf, size_t index, size_t offset), (elf, index, offset))                           \
    F(unsigned int, elf_version, (unsigned int version), (version))                                                \
    F(GElf_Dyn *, gelf_getdyn, (Elf_Data *data, int ndx, GElf_Dyn *dst), (data, ndx, dst))                         \
    F(GElf_Ehdr *, gelf_getehdr, (Elf *elf, GElf_Ehdr *dest), (elf, dest))                                         \
    F(GElf_Phdr *, gelf_getphdr, (Elf *elf, int ndx, GElf_Phdr *dst), (elf, ndx, dst))                              \
    F(GElf_Rela *, gelf_getrela, (Elf_Data *data, int ndx, GElf_Rela *dst), (data, ndx, dst))                       \
    F(GElf_Shdr *, gelf_getshdr, (Elf_Scn *scn, GElf_Shdr *dst), (scn, dst))                                       \
    F(GElf_Sym *, gelf_getsym, (Elf_Data *data, int ndx, GElf_Sym *dst), (data, ndx, dst))

/* The library's functions, once loaded. */
static struct {
#define DWLIB_POINTER(ret, name, params, args) ret(*name) params;
    DWLIB_FUNCTIONS(DWLIB_POINTER)
#undef DWLIB_POINTER
} dwlib;
static int dwlib_loaded;

int fsan_dwlib_load(char *err, size_t errlen)
{
    if (dwlib_loaded)
        return 0;
    void *lib = dlopen(DWLIB_SONAME, RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load %s, which reads ELF files and their debug information (Debian: apt-get install %s): %s",
                 DWLIB_SONAME, DWLIB_PACKAGE, dlerror());
        return -1;
    }
#define DWLIB_RESOLVE(ret, name, params, args)                                                                     \
    if (!(*(void **)&dwlib.name = dlsym(lib, #name))) {                                                           \
        snprintf(err, errlen, "the %s found lacks %s (elfutils 0.170 or later has it; Debian: apt-get install %s)", \
                 DWLIB_SONAME, #name, DWLIB_PACKAGE);                                                              \
        return -1;                                                                                                 \
    }
    DWLIB_FUNCTIONS(DWLIB_RESOLVE)
#undef DWLIB_RESOLVE
    dwlib_loaded = 1;
    return 0;
}

/* Loads the libraries for a call made without asking first, or ends the
 * command saying what to install. */
static void dwlib_need(void)
{
    char err[512];
    if (fsan_dwlib_load(err, sizeof err) == 0)
        return;
    fprintf(stderr, "forksan: %s\n", err);
    exit(1);
}

#define DWLIB_FORWARD(ret, name, params, args)                                                                     \
    __attribute__((visibility("hidden"))) ret name params                                                          \
    {                                                                                                              \
        if (!dwlib_loaded)                                                                                         \
            dwlib_need();                                                                                          \
        return dwlib.name args;                                                                                    \
    }
DWLIB_FUNCTIONS(DWLIB_FORWARD)
#undef DWLIB_FORWARD

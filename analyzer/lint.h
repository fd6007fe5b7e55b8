/* lint.h — `forksan lint`: fork hazards found in ELF files without running
 * them.  The command (lint.c) walks the files and directories it is given,
 * opens each ELF object (lint_elf.c), resolves its dependency closure as
 * the dynamic loader would (lint_deps.c) and disassembles the child's
 * branch after every fork call (lint_fork.c); the findings go through the
 * same report model, baseline, suppressions and renderers as `forksan run`.
 * Not a public interface: only the analyzer includes it.
 */
#ifndef FSAN_LINT_H
#define FSAN_LINT_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "keymap.h"

/* `forksan lint [OPTIONS] [--python PYTHON] [FILE|DIR...]` (cli holds
 * --python and --jobs); returns forksan's exit status. */
int fsan_cmd_lint(struct fsan_cli *cli, char **paths, int npaths);

/* The entries of dir but "." and "..", sorted by name (a report must not
 * depend on the file system's order): a malloc'd array of *n malloc'd
 * names, or NULL with errno set when dir cannot be read (lint.c). */
char **fsan_lint_dir_entries(const char *dir, size_t *n);

/* ---- one ELF object (lint_elf.c) ---------------------------------------- */

/* Why a file was not examined.  The first three are "could not be read"
 * (the exit status says so); the others are files lint has nothing to say
 * about, named once each. */
enum fsan_lint_status {
    FSAN_LINT_OK,
    FSAN_LINT_UNREADABLE,  /* open or read failed (errno in the reason) */
    FSAN_LINT_BROKEN,      /* ELF magic, but truncated or corrupt */
    FSAN_LINT_NOT_ELF,
    FSAN_LINT_UNSUPPORTED, /* 32-bit, foreign architecture, static, relocatable, core */
};

/* A code section: where instructions live in the file's address space. */
struct fsan_lint_code {
    uint64_t addr, size;
    const uint8_t *bytes;
    int is_plt; /* .plt, .plt.sec, .plt.got: import stubs */
};

struct fsan_lint_elf {
    char *path;
    int fd;
    Elf *elf;
    uint64_t file_size;
    int is_exec;             /* ET_EXEC or a PIE with an interpreter (a program), else a shared object */
    int is_static;           /* no dynamic segment: its fork and printf are its own functions, known by
                              * their symbols (fsan_lint_elf_open only) */
    /* The dynamic section. */
    const char *soname;      /* NULL when none */
    const char **needed;     /* DT_NEEDED names, in order */
    size_t nneeded;
    const char *runpath;     /* DT_RUNPATH, NULL when none */
    const char *rpath;       /* DT_RPATH, NULL when none */
    /* The dynamic symbol table. */
    Elf_Data *dynsym, *dynstr;
    size_t ndynsym;
    /* The code (lint_fork.c reads it). */
    struct fsan_lint_code *code;
    size_t ncode;
    /* GOT slot -> imported symbol name (JUMP_SLOT and GLOB_DAT relocations). */
    struct fsan_keymap got;
    /* Function starts, sorted: symbols and the .eh_frame_hdr table (which
     * a stripped file keeps). */
    uint64_t *func_starts;
    size_t nfunc_starts;
    /* Function symbols (.symtab, else .dynsym), sorted by address. */
    struct fsan_lint_sym *syms;
    size_t nsyms;
};

struct fsan_lint_sym {
    uint64_t addr, size;
    const char *name;
};

/* Opens path.  On anything but FSAN_LINT_OK, why holds the reason in
 * words (without the file name) and e needs no fsan_lint_elf_close. */
enum fsan_lint_status fsan_lint_elf_open(struct fsan_lint_elf *e, const char *path, char *why, size_t whylen);
/* Reads what the closure needs only (the dynamic section and symbols): a
 * library.  Same results as fsan_lint_elf_open. */
enum fsan_lint_status fsan_lint_elf_open_dynamic(struct fsan_lint_elf *e, const char *path, char *why,
                                                 size_t whylen);
void fsan_lint_elf_close(struct fsan_lint_elf *e);

/* 1 when the object has an undefined dynamic symbol of that name. */
int fsan_lint_elf_imports(const struct fsan_lint_elf *e, const char *name);
/* The same, for a reference that is not weak: a weak undefined reference
 * is how a library asks "is this linked?" without calling it. */
int fsan_lint_elf_imports_strong(const struct fsan_lint_elf *e, const char *name);
/* 1 when it imports a symbol whose name starts with prefix. */
int fsan_lint_elf_imports_prefix(const struct fsan_lint_elf *e, const char *prefix);
/* 1 when the object defines a function symbol of that name (a statically
 * linked program: its own copy of the C library). */
int fsan_lint_elf_defines(const struct fsan_lint_elf *e, const char *name);
/* The function symbols that start exactly at addr (aliases: fork,
 * __libc_fork, __fork): *first and the count, 0 when none. */
size_t fsan_lint_elf_symbols_at(const struct fsan_lint_elf *e, uint64_t addr, const struct fsan_lint_sym **first);
/* The function symbol containing addr, or NULL. */
const struct fsan_lint_sym *fsan_lint_elf_symbol(const struct fsan_lint_elf *e, uint64_t addr);
/* The code section containing addr, or NULL. */
const struct fsan_lint_code *fsan_lint_elf_code_at(const struct fsan_lint_elf *e, uint64_t addr);
/* The next function start after addr (UINT64_MAX when none). */
uint64_t fsan_lint_elf_next_function(const struct fsan_lint_elf *e, uint64_t addr);
/* The start of the function that contains addr: the last start at or
 * below it (0 when none). */
uint64_t fsan_lint_elf_function_start(const struct fsan_lint_elf *e, uint64_t addr);
/* 1 when addr is the start of a function. */
int fsan_lint_elf_is_function_start(const struct fsan_lint_elf *e, uint64_t addr);

/* ---- the dependency closure (lint_deps.c) ------------------------------- */

/* What the closure of one file holds that matters to the rules. */
struct fsan_lint_closure {
    /* The first object found that starts threads, and the chain of
     * DT_NEEDED names that links it ("prog -> libfoo.so.1 -> libglib"). */
    int starts_threads;
    const char *threads_symbol; /* what it imports: "pthread_create", ... */
    char *threads_object;  /* path */
    char *threads_chain;
    /* Libraries of the knowledge table (forkunsafe.def), by table index. */
    struct fsan_lint_table_hit *hits;
    size_t nhits;
    /* Dependencies that could not be found or read, in words, one each. */
    char **problems;
    size_t nproblems;
    /* The libraries in it (indexes in the resolver's cache). */
    struct fsan_keymap libraries;
};

struct fsan_lint_table_hit {
    size_t entry;  /* index in the knowledge table */
    char *path;    /* where the loader would find it */
    char *chain;   /* the DT_NEEDED chain that links it */
};

/* The knowledge table (forkunsafe.def). */
struct fsan_lint_library {
    const char *soname_glob; /* fnmatch pattern for the DT_SONAME / file name */
    const char *name;        /* what people call it */
    const char *breaks;      /* what breaks in a forked child */
    const char *fix;
    const char *source;      /* a public URL that documents the claim */
};
extern const struct fsan_lint_library fsan_lint_libraries[];
extern const size_t fsan_lint_nlibraries;

struct fsan_lint_deps; /* the resolver and its cache of libraries, shared by every file */

struct fsan_lint_deps *fsan_lint_deps_new(void);
void fsan_lint_deps_free(struct fsan_lint_deps *d);
/* Resolves e's closure.  host, when not NULL, is the closure of the
 * program that loads e (a Python interpreter for an extension module):
 * its libraries are loaded already, so they are left out.  0, or
 * -ENOMEM. */
int fsan_lint_closure(struct fsan_lint_deps *d, const struct fsan_lint_elf *e, const struct fsan_lint_closure *host,
                      struct fsan_lint_closure *out);
void fsan_lint_closure_free(struct fsan_lint_closure *c);

/* ---- the child's branch (lint_fork.c) ------------------------------------ */

/* An unsafe call reached in a fork child: the fork call, the unsafe call
 * and the direct calls between them (outermost first: calls[0] is in the
 * forking function, calls[ncalls-1] calls the unsafe function). */
#define FSAN_LINT_MAX_DEPTH 4
struct fsan_lint_unsafe {
    uint64_t fork_site;      /* the call of fork, or of the wrapper */
    const char *fork_name;   /* "fork" or "_Fork" */
    uint64_t wrapper_fork_site; /* through a wrapper: the fork call in it, else 0 */
    uint64_t wrapper;        /* through a wrapper: its address, else 0 */
    uint64_t calls[FSAN_LINT_MAX_DEPTH + 1];
    size_t ncalls;
    const char *callee;      /* the unsafe function */
    const char *why;         /* what it does that is unsafe */
};

/* Finds, for every fork call in e, the first call of a function that is
 * not async-signal-safe reachable in the child before exec or _exit.
 * *out is a malloc'd array of *n entries.  0, or -ENOMEM. */
int fsan_lint_fork_sites(const struct fsan_lint_elf *e, struct fsan_lint_unsafe **out, size_t *n);
/* Loads the disassembler (Capstone) if not done yet: 0, or -1 with err
 * saying what is missing and how to install it. */
int fsan_lint_disassembler(char *err, size_t errlen);

/* ---- a Python interpreter's extension modules (lint_python.c) ---------- */

/* What the interpreter says about itself. */
struct fsan_lint_python {
    char *executable;  /* its ELF file */
    char *version;     /* "3.11.2", or NULL */
    char **suffixes;   /* extension suffixes, in the order import tries them */
    size_t nsuffixes;
    char **path;       /* the directories of sys.path, in order */
    size_t npath;
};

/* An extension module: its name as imported, and its file. */
struct fsan_lint_module {
    char *name;
    char *path;
};

/* Runs python (a command name or a path) to ask it.  0, or -1 with err
 * saying why it could not be asked or did not answer. */
int fsan_lint_python_query(const char *python, struct fsan_lint_python *py, char *err, size_t errlen);
void fsan_lint_python_free(struct fsan_lint_python *py);
/* Every extension module import would find on py's path, in path order.
 * 0, or -ENOMEM. */
int fsan_lint_python_modules(const struct fsan_lint_python *py, struct fsan_lint_module **out, size_t *n);
void fsan_lint_modules_free(struct fsan_lint_module *modules, size_t n);

#endif

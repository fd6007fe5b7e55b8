/* lint.c — `forksan lint [OPTIONS] FILE|DIR...`: fork hazards found in ELF
 * programs and shared objects without running them.
 *
 * The files named, and every file under the directories named, are read
 * one by one (lint_elf.c); each gets its dependency closure (lint_deps.c)
 * and, when that closure can have threads and the file calls fork, the
 * walk of every child's branch (lint_fork.c).  What they find becomes
 * findings of the report model (common/model.h): unsafe-after-fork with
 * the unsafe call and the fork call as locations, symbolized with libdw
 * (function, file:line with debug information, module+offset without);
 * fork-unsafe-library with the chain of DT_NEEDED names that links the
 * library.  From there it is the end of forksan run's pipeline: the
 * --baseline comparison, the suppressions, one renderer, the exit status.
 *
 * DESIGN
 * A file that cannot be examined is one line, with the file and the
 * reason, in the report's notices, and the run goes on.  Files that could
 * not be read (I/O errors, a corrupt or truncated ELF file, a symlink
 * loop, a missing dependency, a file named on the command line that is
 * not ELF) make the exit status FSAN_EXIT_INCOMPLETE unless findings
 * already fail the run: a clean report with holes must not read as clean.
 * Files lint has nothing to say about (32-bit, another architecture,
 * statically linked and stripped) are named and do not change the status; files that
 * are not ELF at all inside a directory (scripts) are only counted.
 * Directory walks do not follow symbolic links to directories (a loop
 * cannot start), and a file reached twice (a link and its target) is
 * examined once, under the first name in sorted order.
 *
 * With --python PYTHON, the extension modules on that interpreter's
 * import path (lint_python.c) are items too: each gets its closure, less
 * what the interpreter loads itself, and a module that brings in code
 * creating threads is a thread-capable-extension note (a library of the
 * knowledge table, fork-unsafe-library).
 *
 * Files are examined -j at a time by worker threads, each item into a
 * result of its own; the results are merged in the order of the items,
 * so the report is the same for any -j.  The resolver's library cache is
 * shared, behind a lock: a closure costs little once its libraries are
 * read, and the disassembly, where the time goes, runs in parallel.
 * Notices reach stderr at the merge, in that order too.
 */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline.h"
#include "catalogue.h"
#include "lint.h"
#include "progress.h"
#include "supervise.h"
#include "suppress.h"

/* What to examine: a file, or an extension module of --python. */
struct lint_item {
    char *path;
    char *module;  /* the module's dotted name, or NULL for a file */
    int named;     /* named on the command line */
};

/* What examining one item found: merged into the report in item order. */
struct lint_result {
    char **notices;
    size_t nnotices;
    struct fsan_finding *findings;
    size_t nfindings, cap;
    size_t unreadable;     /* files that could not be read */
    size_t not_elf;        /* files in directories that are not ELF */
    int examined;
    int oom;
};

/* The state of one `forksan lint` run. */
struct lint_run {
    struct fsan_cli *cli;
    struct fsan_report report;
    struct fsan_lint_deps *deps;
    pthread_mutex_t deps_lock;   /* the resolver's cache is shared by the workers */
    struct fsan_lint_closure host; /* --python: what the interpreter loads itself */
    struct lint_item *items;     /* in order */
    size_t nitems, cap;
    struct lint_result *results; /* one per item */
    struct fsan_keymap inodes;   /* (device, inode) already listed */
    struct lint_result walk;     /* what the walk of the arguments found */
    /* The workers: the next item to take, how many are done. */
    pthread_mutex_t lock;
    size_t next, done;
    int oom;
};

/* ---- notices ------------------------------------------------------------ */

static void notice(struct lint_result *out, const char *path, const char *reason)
{
    char *text;
    if (asprintf(&text, "%s: %s", path, reason) < 0) {
        out->oom = 1;
        return;
    }
    char **grown = realloc(out->notices, (out->nnotices + 1) * sizeof *grown);
    if (!grown) {
        free(text);
        out->oom = 1;
        return;
    }
    out->notices = grown;
    grown[out->nnotices++] = text;
}

/* ---- the files ---------------------------------------------------------- */

static void add_item(struct lint_run *run, const char *path, const char *module, int named)
{
    if (run->nitems == run->cap) {
        size_t cap = run->cap ? 2 * run->cap : 256;
        struct lint_item *grown = realloc(run->items, cap * sizeof *grown);
        if (!grown) {
            run->oom = 1;
            return;
        }
        run->items = grown;
        run->cap = cap;
    }
    struct lint_item *it = &run->items[run->nitems];
    it->path = strdup(path);
    it->module = module ? strdup(module) : NULL;
    it->named = named;
    if (!it->path || (module && !it->module)) {
        free(it->path);
        free(it->module);
        run->oom = 1;
        return;
    }
    run->nitems++;
}

static void add_file(struct lint_run *run, const char *path, const struct stat *st, int named)
{
    uint64_t key = ((uint64_t)st->st_dev << 44) ^ (uint64_t)st->st_ino;
    if (fsan_keymap_get(&run->inodes, key, NULL))
        return;
    if (fsan_keymap_put(&run->inodes, key, 1) < 0) {
        run->oom = 1;
        return;
    }
    add_item(run, path, NULL, named);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **fsan_lint_dir_entries(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[*n] = strdup(de->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_names);
    else if (!names)
        names = malloc(1); /* an empty directory is not an error */
    return names;
}

static void add_path(struct lint_run *run, const char *path, int named, int depth);

static void add_dir(struct lint_run *run, const char *dir, int depth)
{
    size_t n;
    char **names = fsan_lint_dir_entries(dir, &n);
    if (!names) {
        char reason[160];
        snprintf(reason, sizeof reason, "cannot read the directory: %s", strerror(errno));
        notice(&run->walk, dir, reason);
        run->walk.unreadable++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]) <
            (int)sizeof path)
            add_path(run, path, 0, depth + 1);
        free(names[i]);
    }
    free(names);
}

static void add_path(struct lint_run *run, const char *path, int named, int depth)
{
    struct stat lst, st;
    if (lstat(path, &lst) < 0) {
        notice(&run->walk, path, strerror(errno));
        run->walk.unreadable++;
        return;
    }
    if (stat(path, &st) < 0) {
        notice(&run->walk, path, errno == ELOOP    ? "symbolic link loop"
                                 : errno == ENOENT ? "dangling symbolic link"
                                                   : strerror(errno));
        run->walk.unreadable++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        /* Inside a walk, a link to a directory is not followed. */
        if (S_ISLNK(lst.st_mode) && !named)
            return;
        if (depth > 64) {
            notice(&run->walk, path, "directories nested too deep; not examined");
            return;
        }
        add_dir(run, path, depth);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        if (named) {
            notice(&run->walk, path, "not a regular file");
            run->walk.unreadable++;
        }
        return;
    }
    add_file(run, path, &st, named);
}

/* ---- symbols ------------------------------------------------------------ */

/* libdw over one file, offline: its own addresses are the file's. */
struct lint_symbols {
    Dwfl *dwfl;
    Dwfl_Module *mod;
    Dwarf_Addr shift; /* libdw's address of the module minus the file's */
};

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static void symbols_open(struct lint_symbols *s, const struct fsan_lint_elf *e)
{
    memset(s, 0, sizeof *s);
    s->dwfl = dwfl_begin(&offline_callbacks);
    if (!s->dwfl)
        return;
    s->mod = dwfl_report_offline(s->dwfl, e->path, e->path, -1);
    dwfl_report_end(s->dwfl, NULL, NULL);
    if (!s->mod)
        return;
    /* The lowest PT_LOAD address of the file is where libdw puts the
     * module's start (offline, an ET_DYN object may be placed at 0). */
    Dwarf_Addr start = 0;
    dwfl_module_info(s->mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    size_t n;
    uint64_t lowest = UINT64_MAX;
    if (elf_getphdrnum(e->elf, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < lowest)
                lowest = ph.p_vaddr;
        }
    s->shift = lowest == UINT64_MAX ? 0 : start - (lowest & ~(uint64_t)0xfff);
}

static void symbols_close(struct lint_symbols *s)
{
    if (s->dwfl)
        dwfl_end(s->dwfl);
}

static char *dup_or_oom(struct lint_result *out, const char *s)
{
    char *copy = s ? strdup(s) : NULL;
    if (s && !copy)
        out->oom = 1;
    return copy;
}

/* The name of the function at addr: libdw's, else the symbol table's, or
 * NULL. */
static const char *function_name(const struct fsan_lint_elf *e, struct lint_symbols *sym, uint64_t addr)
{
    const char *function = sym->mod ? dwfl_module_addrname(sym->mod, addr + sym->shift) : NULL;
    if (!function) {
        const struct fsan_lint_sym *s = fsan_lint_elf_symbol(e, addr);
        function = s ? s->name : NULL;
    }
    return function;
}

/* A frame for the instruction at addr of e. */
static void site_frame(struct lint_result *out, const struct fsan_lint_elf *e, struct lint_symbols *sym,
                       uint64_t addr, struct fsan_frame *f)
{
    memset(f, 0, sizeof *f);
    f->address = addr;
    f->module_offset = addr;
    f->language = "c";
    f->module = dup_or_oom(out, e->path);
    if (sym->mod) {
        Dwfl_Line *line = dwfl_module_getsrc(sym->mod, addr + sym->shift);
        int lineno = 0;
        const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file) {
            f->file = dup_or_oom(out, file);
            f->line = lineno;
        }
    }
    f->function = dup_or_oom(out, function_name(e, sym, addr));
}

/* ---- findings ----------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The fingerprint: the rule, the file's name, and per location its role,
 * then each frame's function and source file (never a line, so editing
 * elsewhere keeps it) or, without a function, its offset in the file. */
static void fingerprint(struct fsan_finding *f, const char *path, const char *extra)
{
    uint64_t h = fsan_fnv1a(FSAN_FNV_SEED, f->rule);
    h = fsan_fnv1a(fsan_fnv1a(h, "|"), base_name(path));
    h = fsan_fnv1a(fsan_fnv1a(h, "|"), extra);
    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *l = &f->locations[i];
        h = fsan_fnv1a(fsan_fnv1a(h, "|"), l->role);
        for (size_t j = 0; j < l->nframes; j++) {
            const struct fsan_frame *fr = &l->frames[j];
            if (fr->function) {
                h = fsan_fnv1a(fsan_fnv1a(h, fr->function), fr->file ? base_name(fr->file) : "");
            } else {
                char offset[32];
                snprintf(offset, sizeof offset, "+%llx", (unsigned long long)fr->module_offset);
                h = fsan_fnv1a(h, offset);
            }
        }
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016llx", (unsigned long long)h);
}

static struct fsan_finding *new_finding(struct lint_result *out, enum fsan_rule_index rule, char *message)
{
    if (!message) {
        out->oom = 1;
        return NULL;
    }
    if (out->nfindings == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 8;
        struct fsan_finding *grown = realloc(out->findings, cap * sizeof *grown);
        if (!grown) {
            free(message);
            out->oom = 1;
            return NULL;
        }
        out->findings = grown;
        out->cap = cap;
    }
    struct fsan_finding *f = &out->findings[out->nfindings++];
    memset(f, 0, sizeof *f);
    const struct fsan_rule_info *info = fsan_rule_info(rule);
    f->rule = info->id;
    f->severity = info->default_severity;
    f->message = message;
    f->count = 1;
    return f;
}

static struct fsan_location *new_location(struct lint_result *out, struct fsan_finding *f, enum fsan_role role,
                                          char *description, size_t nframes)
{
    struct fsan_location *grown = realloc(f->locations, (f->nlocations + 1) * sizeof *grown);
    if (!grown) {
        free(description);
        out->oom = 1;
        return NULL;
    }
    f->locations = grown;
    struct fsan_location *l = &grown[f->nlocations++];
    memset(l, 0, sizeof *l);
    l->role = fsan_role_name(role);
    l->description = description;
    l->frames = calloc(nframes ? nframes : 1, sizeof *l->frames);
    if (!l->frames)
        out->oom = 1;
    return l;
}

static char *text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *text(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : s;
}

static void unsafe_finding(struct lint_result *out, const struct fsan_lint_elf *e, struct lint_symbols *sym,
                           const struct fsan_lint_closure *closure, const struct fsan_lint_unsafe *u)
{
    char through[128] = "";
    if (u->wrapper) {
        const char *name = function_name(e, sym, u->wrapper);
        if (name)
            snprintf(through, sizeof through, " (called through %s)", name);
        else
            snprintf(through, sizeof through, " (called through the function at +0x%llx)",
                     (unsigned long long)u->wrapper);
    }
    char *message = text("the child of %s()%s calls %s (%s) before exec or _exit, in a program that can have "
                         "other threads at the fork (%s starts threads)",
                         u->fork_name, through, u->callee, u->why ? u->why : "not async-signal-safe",
                         base_name(closure->threads_object));
    struct fsan_finding *f = new_finding(out, FSAN_RULE_UNSAFE_AFTER_FORK, message);
    if (!f)
        return;
    struct fsan_location *use = new_location(
        out, f, FSAN_ROLE_USE, text("the child calls %s, which is not async-signal-safe:", u->callee), u->ncalls);
    /* Innermost first: the unsafe call, then the calls that lead to it. */
    for (size_t i = u->ncalls; use && use->frames && i-- > 0;)
        site_frame(out, e, sym, u->calls[i], &use->frames[use->nframes++]);
    /* Through a wrapper: the fork call in it, then the call of the wrapper. */
    struct fsan_location *fork_at =
        new_location(out, f, FSAN_ROLE_FORK, text("%s() called at:", u->fork_name), u->wrapper ? 2 : 1);
    if (fork_at && fork_at->frames && u->wrapper)
        site_frame(out, e, sym, u->wrapper_fork_site, &fork_at->frames[fork_at->nframes++]);
    if (fork_at && fork_at->frames)
        site_frame(out, e, sym, u->fork_site, &fork_at->frames[fork_at->nframes++]);
    fingerprint(f, e->path, u->callee);
}

/* A frame that names a whole file: a library, a program, a module. */
static void file_frame(struct lint_result *out, struct fsan_location *l, const char *function, const char *path)
{
    if (!l || !l->frames)
        return;
    struct fsan_frame *fr = &l->frames[l->nframes++];
    fr->function = dup_or_oom(out, function);
    fr->file = dup_or_oom(out, path);
    fr->module = dup_or_oom(out, path);
    fr->language = "c";
}

/* name: how the report calls the file at path (its base name, or the
 * module's dotted name), who: the same in the message's words. */
static void library_finding(struct lint_result *out, const char *name, const char *who, const char *path,
                            const struct fsan_lint_table_hit *hit)
{
    const struct fsan_lint_library *lib = &fsan_lint_libraries[hit->entry];
    char *message = text("%s links %s: %s", who, lib->name, lib->breaks);
    struct fsan_finding *f = new_finding(out, FSAN_RULE_FORK_UNSAFE_LIBRARY, message);
    if (!f)
        return;
    struct fsan_location *l =
        new_location(out, f, FSAN_ROLE_USE, text("linked through %s; fix: %s (source: %s)", hit->chain, lib->fix,
                                                 lib->source),
                     2);
    /* The library where the loader finds it, then the file that links it. */
    file_frame(out, l, base_name(hit->path), hit->path);
    file_frame(out, l, name, path);
    fingerprint(f, path, lib->soname_glob);
}

/* An extension module whose closure, less the interpreter's, creates
 * threads. */
static void module_threads_finding(struct lint_result *out, const struct lint_item *it,
                                   const struct fsan_lint_closure *closure)
{
    const char *object = base_name(closure->threads_object);
    int itself = strcmp(closure->threads_object, it->path) == 0;
    char *message = text("extension module %s links code that creates threads: %s imports %s; if those threads "
                         "run when the program forks, the child has none of them",
                         it->module, itself ? "the module itself" : object, closure->threads_symbol);
    struct fsan_finding *f = new_finding(out, FSAN_RULE_THREAD_CAPABLE_EXTENSION, message);
    if (!f)
        return;
    struct fsan_location *l = new_location(
        out, f, FSAN_ROLE_USE,
        itself ? text("`import %s` loads it; forksan run shows whether its threads exist at a fork:", it->module)
               : text("`import %s` loads %s (%s); forksan run shows whether its threads exist at a fork:",
                      it->module, object, closure->threads_chain),
        2);
    file_frame(out, l, object, closure->threads_object);
    file_frame(out, l, it->module, it->path);
    char extra[PATH_MAX];
    snprintf(extra, sizeof extra, "%s|%s", it->module, object);
    fingerprint(f, it->path, extra);
}

/* ---- one file ----------------------------------------------------------- */

/* 1 when the file makes child processes with fork. */
static const char *forks_with(const struct fsan_lint_elf *e)
{
    static const char *const names[] = {"fork", "_Fork", "daemon"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (e->is_static ? fsan_lint_elf_defines(e, names[i]) : fsan_lint_elf_imports(e, names[i]))
            return names[i];
    return NULL;
}

/* The closure of e, less host's when not NULL, with the resolver locked;
 * its problems become notices.  0, or -1 when memory ran out. */
static int closure_of(struct lint_run *run, struct lint_result *out, const struct fsan_lint_elf *e,
                      const struct fsan_lint_closure *host, struct fsan_lint_closure *closure)
{
    pthread_mutex_lock(&run->deps_lock);
    int rc = fsan_lint_closure(run->deps, e, host, closure);
    pthread_mutex_unlock(&run->deps_lock);
    if (rc < 0) {
        out->oom = 1;
        return -1;
    }
    for (size_t i = 0; i < closure->nproblems; i++)
        notice(out, e->path, closure->problems[i]);
    if (closure->nproblems)
        out->unreadable++;
    return 0;
}

/* Opens the item's file: 0, or -1 after saying why it was not examined. */
static int open_item(struct lint_result *out, const struct lint_item *it, struct fsan_lint_elf *e)
{
    char why[256];
    enum fsan_lint_status status = it->module ? fsan_lint_elf_open_dynamic(e, it->path, why, sizeof why)
                                              : fsan_lint_elf_open(e, it->path, why, sizeof why);
    if (status == FSAN_LINT_NOT_ELF && !it->named && !it->module) {
        out->not_elf++;
        return -1;
    }
    if (status != FSAN_LINT_OK) {
        notice(out, it->path, why);
        if (status != FSAN_LINT_UNSUPPORTED)
            out->unreadable++;
        return -1;
    }
    out->examined = 1;
    return 0;
}

static void lint_module(struct lint_run *run, const struct lint_item *it, struct lint_result *out)
{
    struct fsan_lint_elf e;
    struct fsan_lint_closure closure;
    if (open_item(out, it, &e) < 0)
        return;
    if (closure_of(run, out, &e, &run->host, &closure) == 0) {
        /* A library of the table says more than "creates threads". */
        char *who = text("extension module %s", it->module);
        for (size_t i = 0; who && i < closure.nhits; i++)
            library_finding(out, it->module, who, it->path, &closure.hits[i]);
        if (!who)
            out->oom = 1;
        free(who);
        if (!closure.nhits && closure.starts_threads)
            module_threads_finding(out, it, &closure);
        fsan_lint_closure_free(&closure);
    }
    fsan_lint_elf_close(&e);
}

static void lint_file(struct lint_run *run, const struct lint_item *it, struct lint_result *out)
{
    struct fsan_lint_elf e;
    struct fsan_lint_closure closure;
    if (open_item(out, it, &e) < 0)
        return;
    if (closure_of(run, out, &e, NULL, &closure) < 0) {
        fsan_lint_elf_close(&e);
        return;
    }
    const char *forks = forks_with(&e);
    if (closure.starts_threads && forks) {
        struct fsan_lint_unsafe *sites;
        size_t n;
        if (fsan_lint_fork_sites(&e, &sites, &n) < 0) {
            out->oom = 1;
        } else {
            struct lint_symbols sym;
            if (n)
                symbols_open(&sym, &e);
            for (size_t i = 0; i < n; i++)
                unsafe_finding(out, &e, &sym, &closure, &sites[i]);
            if (n)
                symbols_close(&sym);
            free(sites);
        }
    }
    /* A program that forks, or a library (whoever loads it may fork). */
    if (forks || !e.is_exec)
        for (size_t i = 0; i < closure.nhits; i++)
            library_finding(out, base_name(e.path), base_name(e.path), e.path, &closure.hits[i]);
    fsan_lint_closure_free(&closure);
    fsan_lint_elf_close(&e);
}

/* ---- --python ------------------------------------------------------------ */

/* Asks the interpreter, lists its modules as items, and resolves the
 * closure of the interpreter itself (what its modules do not bring in).
 * 0, or an exit status after printing the problem. */
static int add_python(struct lint_run *run, const char *python)
{
    struct fsan_lint_python py;
    char err[512];
    if (fsan_lint_python_query(python, &py, err, sizeof err) < 0) {
        fprintf(stderr, "forksan: lint: --python '%s': %s; name a Python 3 interpreter, such as "
                        "--python /usr/bin/python3\n", python, err);
        return FSAN_EXIT_USAGE;
    }
    struct fsan_lint_module *modules;
    size_t n;
    if (fsan_lint_python_modules(&py, &modules, &n) < 0) {
        fsan_lint_python_free(&py);
        run->oom = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        add_item(run, modules[i].path, modules[i].name, 0);
    fsan_lint_modules_free(modules, n);
    struct fsan_lint_elf e;
    char why[256];
    if (fsan_lint_elf_open_dynamic(&e, py.executable, why, sizeof why) == FSAN_LINT_OK) {
        if (fsan_lint_closure(run->deps, &e, NULL, &run->host) < 0)
            run->oom = 1;
        fsan_lint_elf_close(&e);
    } else {
        /* Without it, what the interpreter loads counts against its modules. */
        char reason[512];
        snprintf(reason, sizeof reason, "the interpreter's file cannot be examined (%s): the libraries it loads "
                 "itself are counted against its modules", why);
        notice(&run->walk, py.executable, reason);
    }
    char summary[256];
    snprintf(summary, sizeof summary, "Python %s (%s): %zu extension module%s in %zu director%s of its import path",
             py.version ? py.version : "?", py.executable, n, n == 1 ? "" : "s", py.npath,
             py.npath == 1 ? "y" : "ies");
    notice(&run->walk, python, summary);
    fsan_lint_python_free(&py);
    return 0;
}

/* ---- the command -------------------------------------------------------- */

/* Same fingerprint twice (one source built into two files of one name):
 * the later one also hashes its full path, so that each stays its own. */
static void unique_fingerprints(struct fsan_report *r)
{
    struct fsan_keymap seen = {0};
    for (size_t i = 0; i < r->nfindings; i++) {
        uint64_t h = strtoull(r->findings[i].fingerprint, NULL, 16);
        if (fsan_keymap_get(&seen, h, NULL)) {
            uint64_t again = fsan_fnv1a(h, r->findings[i].locations && r->findings[i].locations[0].nframes
                                               ? r->findings[i].locations[0].frames[0].module
                                               : "");
            snprintf(r->findings[i].fingerprint, sizeof r->findings[i].fingerprint, "%016llx",
                     (unsigned long long)again);
            h = again;
        }
        fsan_keymap_put(&seen, h, 1);
    }
    fsan_keymap_free(&seen);
}

static void free_result(struct lint_result *r)
{
    struct fsan_report owned = {
        .findings = r->findings, .nfindings = r->nfindings, .notices = r->notices, .nnotices = r->nnotices};
    fsan_report_free(&owned);
    memset(r, 0, sizeof *r);
}

static void free_run(struct lint_run *run)
{
    for (size_t i = 0; i < run->nitems; i++) {
        free(run->items[i].path);
        free(run->items[i].module);
        if (run->results)
            free_result(&run->results[i]);
    }
    free(run->items);
    free(run->results);
    free_result(&run->walk);
    fsan_keymap_free(&run->inodes);
    fsan_lint_closure_free(&run->host);
    fsan_lint_deps_free(run->deps);
    fsan_report_free(&run->report);
    pthread_mutex_destroy(&run->deps_lock);
    pthread_mutex_destroy(&run->lock);
}

/* ---- the workers ----------------------------------------------------------- */

/* Takes items until none is left; progress is shown under the lock. */
static void *worker(void *arg)
{
    struct lint_run *run = arg;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        size_t i = run->next < run->nitems ? run->next++ : SIZE_MAX;
        pthread_mutex_unlock(&run->lock);
        if (i == SIZE_MAX)
            return NULL;
        const struct lint_item *it = &run->items[i];
        if (it->module)
            lint_module(run, it, &run->results[i]);
        else
            lint_file(run, it, &run->results[i]);
        pthread_mutex_lock(&run->lock);
        fsan_progress_step(++run->done);
        pthread_mutex_unlock(&run->lock);
    }
}

static int cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Examines every item with jobs threads (this one among them). */
static void run_workers(struct lint_run *run, int jobs)
{
    if ((size_t)jobs > run->nitems)
        jobs = run->nitems ? (int)run->nitems : 1;
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    int started = 0;
    for (int i = 1; threads && i < jobs; i++) {
        if (pthread_create(&threads[i], NULL, worker, run) != 0)
            break; /* fewer workers: slower, not wrong */
        started++;
    }
    worker(run);
    for (int i = 1; i <= started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}

/* Moves one result into the report, in item order. */
static void merge(struct lint_run *run, struct lint_result *r, size_t *findings_cap)
{
    struct fsan_report *rep = &run->report;
    if (r->oom)
        run->oom = 1;
    rep->files += (size_t)r->examined;
    if (r->nnotices) {
        char **grown = realloc(rep->notices, (rep->nnotices + r->nnotices) * sizeof *grown);
        if (!grown) {
            run->oom = 1;
            return;
        }
        rep->notices = grown;
        for (size_t i = 0; i < r->nnotices; i++) {
            /* The report may go to a file: whoever watches the terminal
             * still hears what could not be read. */
            if (run->cli->output)
                fprintf(stderr, "forksan: lint: %s\n", r->notices[i]);
            grown[rep->nnotices++] = r->notices[i];
        }
        free(r->notices);
        r->notices = NULL;
        r->nnotices = 0;
    }
    if (r->nfindings) {
        if (rep->nfindings + r->nfindings > *findings_cap) {
            size_t cap = 2 * (rep->nfindings + r->nfindings);
            struct fsan_finding *grown = realloc(rep->findings, cap * sizeof *grown);
            if (!grown) {
                run->oom = 1;
                return;
            }
            rep->findings = grown;
            *findings_cap = cap;
        }
        memcpy(rep->findings + rep->nfindings, r->findings, r->nfindings * sizeof *r->findings);
        rep->nfindings += r->nfindings;
        free(r->findings);
        r->findings = NULL;
        r->nfindings = 0;
    }
}

int fsan_cmd_lint(struct fsan_cli *cli, char **paths, int npaths)
{
    if (!cli->supp && fsan_load_filters(cli) != 0)
        return FSAN_EXIT_USAGE;
    char err[512];
    if (fsan_lint_disassembler(err, sizeof err) < 0) {
        fprintf(stderr, "forksan: lint: %s\n", err);
        return 1;
    }
    elf_version(EV_CURRENT);
    struct lint_run run = {.cli = cli};
    pthread_mutex_init(&run.deps_lock, NULL);
    pthread_mutex_init(&run.lock, NULL);
    run.report.tool_version = FORKSAN_VERSION;
    run.report.exit_status = -1;
    run.report.lint = 1;
    run.deps = fsan_lint_deps_new();
    if (!run.deps) {
        fprintf(stderr, "forksan: out of memory\n");
        free_run(&run);
        return 1;
    }
    for (int i = 0; i < npaths; i++)
        add_path(&run, paths[i], 1, 0);
    /* The interpreter runs before any worker thread exists. */
    if (cli->lint_python) {
        int status = add_python(&run, cli->lint_python);
        if (status) {
            free_run(&run);
            return status;
        }
    }
    run.results = calloc(run.nitems ? run.nitems : 1, sizeof *run.results);
    if (!run.results)
        run.oom = 1;
    if (!run.oom) {
        fsan_progress_start("linting files", run.nitems);
        run_workers(&run, cli->lint_jobs > 0 ? cli->lint_jobs : cpu_count());
        fsan_progress_end();
    }
    size_t findings_cap = 0, not_elf = 0, unreadable = run.walk.unreadable;
    merge(&run, &run.walk, &findings_cap);
    for (size_t i = 0; i < run.nitems && !run.oom; i++) {
        not_elf += run.results[i].not_elf;
        unreadable += run.results[i].unreadable;
        merge(&run, &run.results[i], &findings_cap);
    }
    if (not_elf) {
        char count[96];
        snprintf(count, sizeof count, "%zu file%s in the directories named %s not ELF (scripts, data): skipped",
                 not_elf, not_elf == 1 ? "" : "s", not_elf == 1 ? "is" : "are");
        struct lint_result skipped = {0};
        notice(&skipped, "lint", count);
        merge(&run, &skipped, &findings_cap);
        free_result(&skipped);
    }
    if (run.oom) {
        fprintf(stderr, "forksan: out of memory\n");
        free_run(&run);
        return 1;
    }
    unique_fingerprints(&run.report);
    if (run.report.nfindings)
        qsort(run.report.findings, run.report.nfindings, sizeof *run.report.findings, fsan_finding_cmp);
    run.report.unreadable = unreadable;
    enum fsan_severity worst = FSAN_SEV_NONE;
    int rc = fsan_finish_report(cli, &run.report, &worst);
    free_run(&run);
    if (rc < 0)
        return 1;
    if (cli->fail_on != FSAN_SEV_NONE && worst >= cli->fail_on)
        return cli->exitcode;
    return unreadable ? FSAN_EXIT_INCOMPLETE : 0;
}

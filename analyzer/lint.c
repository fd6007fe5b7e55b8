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
 * statically linked) are named and do not change the status; files that
 * are not ELF at all inside a directory (scripts) are only counted.
 * Directory walks do not follow symbolic links to directories (a loop
 * cannot start), and a file reached twice (a link and its target) is
 * examined once, under the first name in sorted order.
 */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* The state of one `forksan lint` run. */
struct lint_run {
    struct fsan_cli *cli;
    struct fsan_report report;
    struct fsan_lint_deps *deps;
    char **files;          /* what to examine, in order */
    int *named;            /* files[i] was named on the command line */
    size_t nfiles, cap;
    struct fsan_keymap inodes; /* (device, inode) already listed */
    size_t unreadable;     /* files that could not be read */
    size_t not_elf;        /* files in directories that are not ELF */
    size_t findings_cap;
    int oom;
};

/* ---- notices ------------------------------------------------------------ */

static void notice(struct lint_run *run, const char *path, const char *reason)
{
    char *text;
    if (asprintf(&text, "%s: %s", path, reason) < 0) {
        run->oom = 1;
        return;
    }
    char **grown = realloc(run->report.notices, (run->report.nnotices + 1) * sizeof *grown);
    if (!grown) {
        free(text);
        run->oom = 1;
        return;
    }
    run->report.notices = grown;
    grown[run->report.nnotices++] = text;
    /* The report may go to a file: whoever watches the terminal still
     * hears what could not be read. */
    if (run->cli->output)
        fprintf(stderr, "forksan: lint: %s\n", text);
}

/* ---- the files ---------------------------------------------------------- */

static void add_file(struct lint_run *run, const char *path, const struct stat *st, int named)
{
    uint64_t key = ((uint64_t)st->st_dev << 44) ^ (uint64_t)st->st_ino;
    if (fsan_keymap_get(&run->inodes, key, NULL))
        return;
    if (run->nfiles == run->cap) {
        size_t cap = run->cap ? 2 * run->cap : 256;
        char **files = realloc(run->files, cap * sizeof *files);
        if (files)
            run->files = files;
        int *flags = realloc(run->named, cap * sizeof *flags);
        if (flags)
            run->named = flags;
        if (!files || !flags) {
            run->oom = 1;
            return;
        }
        run->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy || fsan_keymap_put(&run->inodes, key, 1) < 0) {
        free(copy);
        run->oom = 1;
        return;
    }
    run->named[run->nfiles] = named;
    run->files[run->nfiles++] = copy;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(struct lint_run *run, const char *path, int named, int depth);

/* Every entry of a directory, in name order (reports must not depend on
 * the file system's order). */
static void add_dir(struct lint_run *run, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        char reason[160];
        snprintf(reason, sizeof reason, "cannot read the directory: %s", strerror(errno));
        notice(run, dir, reason);
        run->unreadable++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
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
        notice(run, path, strerror(errno));
        run->unreadable++;
        return;
    }
    if (stat(path, &st) < 0) {
        notice(run, path, errno == ELOOP    ? "symbolic link loop"
                          : errno == ENOENT ? "dangling symbolic link"
                                            : strerror(errno));
        run->unreadable++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        /* Inside a walk, a link to a directory is not followed. */
        if (S_ISLNK(lst.st_mode) && !named)
            return;
        if (depth > 64) {
            notice(run, path, "directories nested too deep; not examined");
            return;
        }
        add_dir(run, path, depth);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        if (named) {
            notice(run, path, "not a regular file");
            run->unreadable++;
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

static char *dup_or_oom(struct lint_run *run, const char *s)
{
    char *copy = s ? strdup(s) : NULL;
    if (s && !copy)
        run->oom = 1;
    return copy;
}

/* A frame for the instruction at addr of e. */
static void site_frame(struct lint_run *run, const struct fsan_lint_elf *e, struct lint_symbols *sym, uint64_t addr,
                       struct fsan_frame *f)
{
    memset(f, 0, sizeof *f);
    f->address = addr;
    f->module_offset = addr;
    f->language = "c";
    f->module = dup_or_oom(run, e->path);
    const char *function = NULL;
    if (sym->mod) {
        function = dwfl_module_addrname(sym->mod, addr + sym->shift);
        Dwfl_Line *line = dwfl_module_getsrc(sym->mod, addr + sym->shift);
        int lineno = 0;
        const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file) {
            f->file = dup_or_oom(run, file);
            f->line = lineno;
        }
    }
    if (!function) {
        const struct fsan_lint_sym *s = fsan_lint_elf_symbol(e, addr);
        function = s ? s->name : NULL;
    }
    f->function = dup_or_oom(run, function);
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

static struct fsan_finding *new_finding(struct lint_run *run, enum fsan_rule_index rule, char *message)
{
    struct fsan_report *r = &run->report;
    if (!message) {
        run->oom = 1;
        return NULL;
    }
    if (r->nfindings == run->findings_cap) {
        size_t cap = run->findings_cap ? 2 * run->findings_cap : 64;
        struct fsan_finding *grown = realloc(r->findings, cap * sizeof *grown);
        if (!grown) {
            free(message);
            run->oom = 1;
            return NULL;
        }
        r->findings = grown;
        run->findings_cap = cap;
    }
    struct fsan_finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    const struct fsan_rule_info *info = fsan_rule_info(rule);
    f->rule = info->id;
    f->severity = info->default_severity;
    f->message = message;
    f->count = 1;
    return f;
}

static struct fsan_location *new_location(struct lint_run *run, struct fsan_finding *f, enum fsan_role role,
                                          char *description, size_t nframes)
{
    struct fsan_location *grown = realloc(f->locations, (f->nlocations + 1) * sizeof *grown);
    if (!grown) {
        free(description);
        run->oom = 1;
        return NULL;
    }
    f->locations = grown;
    struct fsan_location *l = &grown[f->nlocations++];
    memset(l, 0, sizeof *l);
    l->role = fsan_role_name(role);
    l->description = description;
    l->frames = calloc(nframes ? nframes : 1, sizeof *l->frames);
    if (!l->frames)
        run->oom = 1;
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

static void unsafe_finding(struct lint_run *run, const struct fsan_lint_elf *e, struct lint_symbols *sym,
                           const struct fsan_lint_closure *closure, const struct fsan_lint_unsafe *u)
{
    char *message = text("the child of %s() calls %s (%s) before exec or _exit, in a program that can have "
                         "other threads at the fork (%s starts threads)",
                         u->fork_name, u->callee, u->why ? u->why : "not async-signal-safe",
                         base_name(closure->threads_object));
    struct fsan_finding *f = new_finding(run, FSAN_RULE_UNSAFE_AFTER_FORK, message);
    if (!f)
        return;
    struct fsan_location *use = new_location(
        run, f, FSAN_ROLE_USE, text("the child calls %s, which is not async-signal-safe:", u->callee), u->ncalls);
    /* Innermost first: the unsafe call, then the calls that lead to it. */
    for (size_t i = u->ncalls; use && use->frames && i-- > 0;)
        site_frame(run, e, sym, u->calls[i], &use->frames[use->nframes++]);
    struct fsan_location *fork_at =
        new_location(run, f, FSAN_ROLE_FORK, text("%s() called at:", u->fork_name), 1);
    if (fork_at && fork_at->frames)
        site_frame(run, e, sym, u->fork_site, &fork_at->frames[fork_at->nframes++]);
    fingerprint(f, e->path, u->callee);
}

static void library_finding(struct lint_run *run, const struct fsan_lint_elf *e, const struct fsan_lint_table_hit *hit)
{
    const struct fsan_lint_library *lib = &fsan_lint_libraries[hit->entry];
    char *message = text("%s links %s: %s", base_name(e->path), lib->name, lib->breaks);
    struct fsan_finding *f = new_finding(run, FSAN_RULE_FORK_UNSAFE_LIBRARY, message);
    if (!f)
        return;
    struct fsan_location *l =
        new_location(run, f, FSAN_ROLE_USE, text("linked through %s; fix: %s (source: %s)", hit->chain, lib->fix,
                                                 lib->source),
                     2);
    if (l && l->frames) {
        /* The file that links it, and the library where the loader finds it. */
        struct fsan_frame *fr = &l->frames[l->nframes++];
        fr->function = dup_or_oom(run, base_name(hit->path));
        fr->file = dup_or_oom(run, hit->path);
        fr->module = dup_or_oom(run, hit->path);
        fr->language = "c";
        fr = &l->frames[l->nframes++];
        fr->function = dup_or_oom(run, base_name(e->path));
        fr->file = dup_or_oom(run, e->path);
        fr->module = dup_or_oom(run, e->path);
        fr->language = "c";
    }
    fingerprint(f, e->path, lib->soname_glob);
}

/* ---- one file ----------------------------------------------------------- */

/* 1 when the file makes child processes with fork. */
static const char *forks_with(const struct fsan_lint_elf *e)
{
    static const char *const names[] = {"fork", "_Fork", "daemon"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (fsan_lint_elf_imports(e, names[i]))
            return names[i];
    return NULL;
}

static void lint_file(struct lint_run *run, const char *path, int named)
{
    struct fsan_lint_elf e;
    char why[256];
    enum fsan_lint_status status = fsan_lint_elf_open(&e, path, why, sizeof why);
    if (status == FSAN_LINT_NOT_ELF && !named) {
        run->not_elf++;
        return;
    }
    if (status != FSAN_LINT_OK) {
        notice(run, path, why);
        if (status != FSAN_LINT_UNSUPPORTED)
            run->unreadable++;
        return;
    }
    run->report.files++;
    struct fsan_lint_closure closure;
    if (fsan_lint_closure(run->deps, &e, &closure) < 0) {
        run->oom = 1;
        fsan_lint_elf_close(&e);
        return;
    }
    for (size_t i = 0; i < closure.nproblems; i++)
        notice(run, path, closure.problems[i]);
    if (closure.nproblems)
        run->unreadable++;
    const char *forks = forks_with(&e);
    if (closure.starts_threads && forks) {
        struct fsan_lint_unsafe *sites;
        size_t n;
        if (fsan_lint_fork_sites(&e, &sites, &n) < 0) {
            run->oom = 1;
        } else {
            struct lint_symbols sym;
            if (n)
                symbols_open(&sym, &e);
            for (size_t i = 0; i < n; i++)
                unsafe_finding(run, &e, &sym, &closure, &sites[i]);
            if (n)
                symbols_close(&sym);
            free(sites);
        }
    }
    /* A program that forks, or a library (whoever loads it may fork). */
    if (forks || !e.is_exec)
        for (size_t i = 0; i < closure.nhits; i++)
            library_finding(run, &e, &closure.hits[i]);
    fsan_lint_closure_free(&closure);
    fsan_lint_elf_close(&e);
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

static void free_run(struct lint_run *run)
{
    for (size_t i = 0; i < run->nfiles; i++)
        free(run->files[i]);
    free(run->files);
    free(run->named);
    fsan_keymap_free(&run->inodes);
    fsan_lint_deps_free(run->deps);
    fsan_report_free(&run->report);
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
    run.report.tool_version = FORKSAN_VERSION;
    run.report.exit_status = -1;
    run.report.lint = 1;
    run.deps = fsan_lint_deps_new();
    if (!run.deps) {
        fprintf(stderr, "forksan: out of memory\n");
        return 1;
    }
    for (int i = 0; i < npaths; i++)
        add_path(&run, paths[i], 1, 0);
    fsan_progress_start("linting files", run.nfiles);
    for (size_t i = 0; i < run.nfiles && !run.oom; i++) {
        lint_file(&run, run.files[i], run.named[i]);
        fsan_progress_step(i + 1);
    }
    fsan_progress_end();
    if (run.not_elf) {
        char count[96];
        snprintf(count, sizeof count, "%zu file%s in the directories named %s not ELF (scripts, data): skipped",
                 run.not_elf, run.not_elf == 1 ? "" : "s", run.not_elf == 1 ? "is" : "are");
        notice(&run, "lint", count);
    }
    if (run.oom) {
        fprintf(stderr, "forksan: out of memory\n");
        free_run(&run);
        return 1;
    }
    unique_fingerprints(&run.report);
    qsort(run.report.findings, run.report.nfindings, sizeof *run.report.findings, fsan_finding_cmp);
    run.report.unreadable = run.unreadable;
    enum fsan_severity worst = FSAN_SEV_NONE;
    int rc = fsan_finish_report(cli, &run.report, &worst);
    free_run(&run);
    if (rc < 0)
        return 1;
    if (cli->fail_on != FSAN_SEV_NONE && worst >= cli->fail_on)
        return cli->exitcode;
    return run.unreadable ? FSAN_EXIT_INCOMPLETE : 0;
}

/* lint_deps.c — the dependency closure of an ELF object, found the way the
 * dynamic loader finds it, and what in it matters to fork: whether some
 * object in it starts threads, and which libraries of the knowledge table
 * (forkunsafe.def) it links.
 *
 * Search order for a DT_NEEDED name without a '/' (ld.so(8)): the DT_RPATH
 * of the object that needs it and then of the program, unless the object
 * has a DT_RUNPATH; the DT_RUNPATH of that object; /etc/ld.so.cache; the
 * default directories.  $ORIGIN is the directory of the object whose path
 * it is in.  LD_LIBRARY_PATH is left out on purpose: lint judges the file
 * as it is installed, not the shell it happens to be run from.  A
 * candidate that is not an x86-64 ELF object is skipped, as the loader
 * skips it.
 *
 * DESIGN
 * A closure shares most of its libraries with every other program (libc,
 * libglib, libstdc++), so each library is read once per run and kept by
 * its real path: a directory of a thousand programs reads a few hundred
 * libraries, not a thousand closures.  "Starts threads" means the object
 * imports pthread_create (or thrd_create, or libstdc++'s std::thread
 * start): such a library can have a thread running at any fork its
 * program makes.  libstdc++ itself imports pthread_create only to serve
 * std::thread, so it counts only through the object that imports
 * std::thread; libc defines pthread_create and imports nothing.  A weak
 * reference (libselinux has one) only asks whether threads are linked
 * in, and does not count.  A library whose threads start only in
 * functions its caller must name (liblzma's multi-threaded coders: the
 * thread_gates table below, each entry with its source) counts only in a
 * closure where some other object imports one of those functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lint.h"

/* The knowledge table, from forkunsafe.def. */
const struct fsan_lint_library fsan_lint_libraries[] = {
#define FSAN_FORK_UNSAFE_LIBRARY(glob, name, breaks, fix, source) {glob, name, breaks, fix, source},
#include "forkunsafe.def"
#undef FSAN_FORK_UNSAFE_LIBRARY
};
const size_t fsan_lint_nlibraries = sizeof fsan_lint_libraries / sizeof fsan_lint_libraries[0];

/* Libraries that import pthread_create but create threads only inside
 * the functions listed: whoever wants the threads calls one by name. */
static const struct {
    const char *soname_glob;
    const char *starters[3];
} thread_gates[] = {
    /* The multi-threaded .xz coders are the only users of threads in
     * liblzma: https://github.com/tukaani-project/xz/blob/master/src/liblzma/api/lzma/container.h */
    {"liblzma.so.*", {"lzma_stream_encoder_mt", "lzma_stream_decoder_mt", NULL}},
};
#define NGATES (sizeof thread_gates / sizeof thread_gates[0])

static const char *const default_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

/* One library, read once. */
struct library {
    char *path;       /* real path */
    char *soname;     /* DT_SONAME, else the file name */
    char **needed;
    size_t nneeded;
    char *runpath, *rpath; /* $ORIGIN already replaced */
    const char *threads_symbol; /* what it imports that creates threads, or NULL */
    int gate;                   /* its threads wait behind thread_gates[gate], or -1 */
    unsigned opens;             /* bit g: it imports a starter of thread_gates[g] */
    ssize_t table_entry; /* index in fsan_lint_libraries, or -1 */
};

struct cache_entry {
    char *name, *path;
    size_t order; /* position in the cache file */
};

struct fsan_lint_deps {
    struct library *libs;
    size_t nlibs, cap;
    struct fsan_keymap by_path; /* hash of the real path -> index + 1 in libs */
    struct cache_entry *cache;  /* /etc/ld.so.cache, sorted by name */
    size_t ncache;
};

/* ---- /etc/ld.so.cache ---------------------------------------------------- */

#define CACHE_MAGIC_NEW "glibc-ld.so.cache1.1"
#define CACHE_MAGIC_OLD "ld.so-1.7.0"
#define CACHE_FLAG_ELF_LIBC6 0x0003
#define CACHE_FLAG_X8664_LIB64 0x0300

static int cmp_cache(const void *a, const void *b)
{
    const struct cache_entry *x = a, *y = b;
    int by_name = strcmp(x->name, y->name);
    return by_name ? by_name : (x->order > y->order) - (x->order < y->order);
}

/* Entries of the x86-64 libc6 kind without a hwcap subdirectory, in the
 * cache's own order (the loader takes the first), then sorted by name
 * keeping the first of equal names.  A missing or unreadable cache is an
 * empty one: the default directories still apply. */
static int read_ld_cache(struct fsan_lint_deps *d, const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 48) {
        close(fd);
        return 0;
    }
    size_t size = (size_t)st.st_size;
    const char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return 0;
    size_t base = 0;
    if (memcmp(map, CACHE_MAGIC_OLD, strlen(CACHE_MAGIC_OLD)) == 0) {
        uint32_t nold;
        memcpy(&nold, map + 12, 4);
        base = (16 + (size_t)nold * 12 + 7) & ~(size_t)7;
    }
    int rc = 0;
    if (base + 48 <= size && memcmp(map + base, CACHE_MAGIC_NEW, strlen(CACHE_MAGIC_NEW)) == 0) {
        uint32_t n;
        memcpy(&n, map + base + 20, 4);
        if (n > (size - base - 48) / 24)
            n = 0;
        d->cache = calloc(n ? n : 1, sizeof *d->cache);
        if (!d->cache)
            rc = -ENOMEM;
        for (uint32_t i = 0; rc == 0 && i < n; i++) {
            const char *entry = map + base + 48 + (size_t)i * 24;
            int32_t flags;
            uint32_t key, value;
            uint64_t hwcap;
            memcpy(&flags, entry, 4);
            memcpy(&key, entry + 4, 4);
            memcpy(&value, entry + 8, 4);
            memcpy(&hwcap, entry + 16, 8);
            if ((flags & 0xff) != CACHE_FLAG_ELF_LIBC6 || (flags & 0xff00) != CACHE_FLAG_X8664_LIB64 || hwcap != 0)
                continue;
            if (base + key >= size || base + value >= size || !memchr(map + base + key, '\0', size - base - key) ||
                !memchr(map + base + value, '\0', size - base - value))
                continue;
            struct cache_entry *ce = &d->cache[d->ncache];
            ce->name = strdup(map + base + key);
            ce->path = strdup(map + base + value);
            if (!ce->name || !ce->path) {
                free(ce->name);
                free(ce->path);
                rc = -ENOMEM;
                break;
            }
            ce->order = d->ncache++;
        }
    }
    munmap((void *)map, size);
    if (rc == 0 && d->ncache > 1) {
        qsort(d->cache, d->ncache, sizeof *d->cache, cmp_cache);
        /* Equal names: the one the cache listed first wins. */
        size_t kept = 0;
        for (size_t i = 0; i < d->ncache; i++) {
            if (kept > 0 && strcmp(d->cache[kept - 1].name, d->cache[i].name) == 0) {
                free(d->cache[i].name);
                free(d->cache[i].path);
                continue;
            }
            d->cache[kept++] = d->cache[i];
        }
        d->ncache = kept;
    }
    return rc;
}

static int cmp_cache_name(const void *key, const void *entry)
{
    return strcmp(key, ((const struct cache_entry *)entry)->name);
}

static const char *cache_lookup(const struct fsan_lint_deps *d, const char *name)
{
    const struct cache_entry *hit = bsearch(name, d->cache, d->ncache, sizeof *d->cache, cmp_cache_name);
    return hit ? hit->path : NULL;
}

/* ---- reading a library ---------------------------------------------------- */

static uint64_t hash_text(const char *s)
{
    return fsan_fnv1a(FSAN_FNV_SEED, s);
}

/* path with $ORIGIN / ${ORIGIN} replaced by origin (the object's
 * directory). */
static char *expand_origin(const char *path, const char *origin)
{
    if (!path)
        return NULL;
    size_t cap = strlen(path) + 1;
    for (const char *p = strstr(path, "ORIGIN"); p; p = strstr(p + 1, "ORIGIN"))
        cap += strlen(origin);
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (const char *p = path; *p;) {
        size_t skip = strncmp(p, "$ORIGIN", 7) == 0 ? 7 : strncmp(p, "${ORIGIN}", 9) == 0 ? 9 : 0;
        if (skip) {
            o = stpcpy(o, origin);
            p += skip;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, (size_t)(slash == path ? 1 : slash - path)) : strdup(".");
}

/* What the object imports that starts threads (see DESIGN above), in
 * words, or NULL. */
static const char *object_starts_threads(const struct fsan_lint_elf *e, const char *soname)
{
    /* A static program's threads are its own copy of pthread_create,
     * linked in only when something calls it. */
    if (e->is_static)
        return fsan_lint_elf_defines(e, "pthread_create") ? "pthread_create"
               : fsan_lint_elf_defines(e, "thrd_create") ? "thrd_create"
                                                         : NULL;
    if (fsan_lint_elf_imports_prefix(e, "_ZNSt6thread15_M_start_thread"))
        return "std::thread";
    if (soname && strncmp(soname, "libstdc++.so", 12) == 0)
        return NULL;
    if (fsan_lint_elf_imports_strong(e, "pthread_create"))
        return "pthread_create";
    return fsan_lint_elf_imports_strong(e, "thrd_create") ? "thrd_create" : NULL;
}

static ssize_t table_entry_of(const char *soname, const char *path)
{
    const char *file = strrchr(path, '/');
    file = file ? file + 1 : path;
    for (size_t i = 0; i < fsan_lint_nlibraries; i++)
        if (fnmatch(fsan_lint_libraries[i].soname_glob, soname, 0) == 0 ||
            fnmatch(fsan_lint_libraries[i].soname_glob, file, 0) == 0)
            return (ssize_t)i;
    return -1;
}

/* Fills lib from the open object e (path: its real path). */
static int fill_library(struct library *lib, const struct fsan_lint_elf *e, const char *path)
{
    char *origin = dir_of(path);
    const char *file = strrchr(path, '/');
    lib->path = strdup(path);
    lib->soname = strdup(e->soname ? e->soname : file ? file + 1 : path);
    lib->needed = calloc(e->nneeded ? e->nneeded : 1, sizeof *lib->needed);
    lib->runpath = origin ? expand_origin(e->runpath, origin) : NULL;
    lib->rpath = origin ? expand_origin(e->rpath, origin) : NULL;
    free(origin);
    if (!lib->path || !lib->soname || !lib->needed || (e->runpath && !lib->runpath) || (e->rpath && !lib->rpath))
        return -ENOMEM;
    for (size_t i = 0; i < e->nneeded; i++) {
        if (!(lib->needed[i] = strdup(e->needed[i])))
            return -ENOMEM;
        lib->nneeded++;
    }
    lib->threads_symbol = object_starts_threads(e, lib->soname);
    lib->gate = -1;
    for (size_t g = 0; g < NGATES; g++) {
        if (fnmatch(thread_gates[g].soname_glob, lib->soname, 0) == 0)
            lib->gate = (int)g;
        for (size_t i = 0; thread_gates[g].starters[i]; i++)
            if (fsan_lint_elf_imports(e, thread_gates[g].starters[i]))
                lib->opens |= 1u << g;
    }
    lib->table_entry = table_entry_of(lib->soname, path);
    return 0;
}

static void free_library(struct library *lib)
{
    free(lib->path);
    free(lib->soname);
    for (size_t i = 0; i < lib->nneeded; i++)
        free(lib->needed[i]);
    free(lib->needed);
    free(lib->runpath);
    free(lib->rpath);
}

/* The library at candidate (any path), read once per run.  Returns its
 * index, -ENOENT when candidate is not a loadable x86-64 object (the
 * loader goes on searching), or -ENOMEM. */
static ssize_t load_library(struct fsan_lint_deps *d, const char *candidate)
{
    char real[PATH_MAX];
    if (!realpath(candidate, real))
        return -ENOENT;
    uint64_t index;
    if (fsan_keymap_get(&d->by_path, hash_text(real), &index) && strcmp(d->libs[index - 1].path, real) == 0)
        return (ssize_t)index - 1;
    struct fsan_lint_elf e;
    char why[256];
    if (fsan_lint_elf_open_dynamic(&e, real, why, sizeof why) != FSAN_LINT_OK)
        return -ENOENT;
    if (d->nlibs == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        struct library *grown = realloc(d->libs, cap * sizeof *grown);
        if (!grown) {
            fsan_lint_elf_close(&e);
            return -ENOMEM;
        }
        d->libs = grown;
        d->cap = cap;
    }
    struct library *lib = &d->libs[d->nlibs];
    memset(lib, 0, sizeof *lib);
    int rc = fill_library(lib, &e, real);
    fsan_lint_elf_close(&e);
    if (rc == 0)
        rc = fsan_keymap_put(&d->by_path, hash_text(real), d->nlibs + 1);
    if (rc < 0) {
        free_library(lib);
        return -ENOMEM;
    }
    return (ssize_t)d->nlibs++;
}

/* Tries name in each directory of the colon-separated list dirs. */
static ssize_t search_dirs(struct fsan_lint_deps *d, const char *dirs, const char *name)
{
    while (dirs && *dirs) {
        size_t len = strcspn(dirs, ":");
        char candidate[PATH_MAX];
        if (len > 0 && snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, dirs, name) < (int)sizeof candidate) {
            ssize_t found = load_library(d, candidate);
            if (found != -ENOENT)
                return found;
        }
        dirs += len + (dirs[len] == ':');
    }
    return -ENOENT;
}

/* Where the loader finds name for the object `from` of a program whose
 * own DT_RPATH is program_rpath. */
static ssize_t resolve(struct fsan_lint_deps *d, const char *name, const char *from_rpath, const char *from_runpath,
                       const char *program_rpath)
{
    if (strchr(name, '/'))
        return load_library(d, name);
    ssize_t found = -ENOENT;
    if (!from_runpath) {
        found = search_dirs(d, from_rpath, name);
        if (found == -ENOENT && program_rpath != from_rpath)
            found = search_dirs(d, program_rpath, name);
    }
    if (found == -ENOENT)
        found = search_dirs(d, from_runpath, name);
    if (found == -ENOENT) {
        const char *cached = cache_lookup(d, name);
        if (cached)
            found = load_library(d, cached);
    }
    for (size_t i = 0; found == -ENOENT && i < sizeof default_dirs / sizeof default_dirs[0]; i++)
        found = search_dirs(d, default_dirs[i], name);
    return found;
}

/* ---- the closure -------------------------------------------------------- */

struct fsan_lint_deps *fsan_lint_deps_new(void)
{
    struct fsan_lint_deps *d = calloc(1, sizeof *d);
    if (d && read_ld_cache(d, "/etc/ld.so.cache") < 0) {
        fsan_lint_deps_free(d);
        return NULL;
    }
    return d;
}

void fsan_lint_deps_free(struct fsan_lint_deps *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nlibs; i++)
        free_library(&d->libs[i]);
    free(d->libs);
    for (size_t i = 0; i < d->ncache; i++) {
        free(d->cache[i].name);
        free(d->cache[i].path);
    }
    free(d->cache);
    fsan_keymap_free(&d->by_path);
    free(d);
}

static int add_problem(struct fsan_lint_closure *c, char *text)
{
    if (!text)
        return -ENOMEM;
    char **grown = realloc(c->problems, (c->nproblems + 1) * sizeof *grown);
    if (!grown) {
        free(text);
        return -ENOMEM;
    }
    c->problems = grown;
    c->problems[c->nproblems++] = text;
    return 0;
}

static int add_hit(struct fsan_lint_closure *c, const struct library *lib, const char *chain)
{
    for (size_t i = 0; i < c->nhits; i++)
        if ((ssize_t)c->hits[i].entry == lib->table_entry)
            return 0;
    struct fsan_lint_table_hit *grown = realloc(c->hits, (c->nhits + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    c->hits = grown;
    struct fsan_lint_table_hit *h = &c->hits[c->nhits];
    h->entry = (size_t)lib->table_entry;
    h->path = strdup(lib->path);
    h->chain = strdup(chain);
    if (!h->path || !h->chain) {
        free(h->path);
        free(h->chain);
        return -ENOMEM;
    }
    c->nhits++;
    return 0;
}

/* The library of the closure so far (seen), or of the host's closure,
 * whose DT_SONAME is name. */
static ssize_t loaded_soname(const struct fsan_lint_deps *d, const struct fsan_keymap *seen, const char *name)
{
    for (size_t i = 0; seen && i < seen->cap; i++)
        if (seen->slots[i].used && strcmp(d->libs[seen->slots[i].key].soname, name) == 0)
            return (ssize_t)seen->slots[i].key;
    return -ENOENT;
}

/* Objects of a closure whose threads wait behind a gate: the first of
 * each, and which gates the closure opens. */
struct gated {
    char *path[NGATES], *chain[NGATES];
    const char *symbol[NGATES];
    unsigned opens;
};

static void gated_free(struct gated *g)
{
    for (size_t i = 0; i < NGATES; i++) {
        free(g->path[i]);
        free(g->chain[i]);
    }
}

/* The first object of the closure found to start threads; one behind a
 * gate waits in *g until the whole closure is known. */
static int note_threads(struct fsan_lint_closure *out, struct gated *g, const struct library *lib, const char *path,
                        const char *chain)
{
    const char *symbol = lib->threads_symbol;
    g->opens |= lib->opens;
    if (symbol && lib->gate >= 0) {
        size_t i = (size_t)lib->gate;
        if (g->path[i])
            return 0;
        g->symbol[i] = symbol;
        g->path[i] = strdup(path);
        g->chain[i] = strdup(chain);
        return g->path[i] && g->chain[i] ? 0 : -ENOMEM;
    }
    if (!symbol || out->starts_threads)
        return 0;
    out->starts_threads = 1;
    out->threads_symbol = symbol;
    out->threads_object = strdup(path);
    out->threads_chain = strdup(chain);
    return out->threads_object && out->threads_chain ? 0 : -ENOMEM;
}

/* Breadth first, as the loader orders the closure; the chain to each
 * library is the one of the first object that needed it.  The host's
 * libraries are loaded already: a name they answer is theirs, and
 * neither they nor what they link count. */
int fsan_lint_closure(struct fsan_lint_deps *d, const struct fsan_lint_elf *e, const struct fsan_lint_closure *host,
                      struct fsan_lint_closure *out)
{
    memset(out, 0, sizeof *out);
    const char *file = strrchr(e->path, '/');
    file = file ? file + 1 : e->path;
    struct library root = {0};
    struct gated gated = {0};
    char real[PATH_MAX];
    if (fill_library(&root, e, realpath(e->path, real) ? real : e->path) < 0)
        goto oom;
    if (note_threads(out, &gated, &root, e->path, file) < 0)
        goto oom;
    struct fsan_keymap *seen = &out->libraries;
    const struct fsan_keymap *loaded = host ? &host->libraries : NULL;
    /* The queue holds library indexes (-1: the root) with their chains. */
    size_t cap = 16, head = 0, tail = 0;
    ssize_t *queue = malloc(cap * sizeof *queue);
    char **chains = malloc(cap * sizeof *chains);
    if (!queue || !chains)
        goto oom_queue;
    queue[tail] = -1;
    if (!(chains[tail++] = strdup(file)))
        goto oom_queue;
    while (head < tail) {
        ssize_t from = queue[head];
        char *chain = chains[head++];
        /* libs may move while libraries load: re-read from through the index. */
        size_t nneeded = from < 0 ? root.nneeded : d->libs[from].nneeded;
        for (size_t i = 0; i < nneeded; i++) {
            const struct library *parent = from < 0 ? &root : &d->libs[from];
            const char *name = parent->needed[i];
            /* A name the closure already loaded is that object, wherever
             * the searching object would have looked (ld.so does the
             * same: it matches loaded objects by DT_SONAME first). */
            if (loaded_soname(d, loaded, name) >= 0)
                continue;
            /* libpython is the interpreter's own code, threads included,
             * even when the interpreter carries it inside its binary. */
            if (host && strncmp(name, "libpython", 9) == 0)
                continue;
            ssize_t found = loaded_soname(d, seen, name);
            if (found == -ENOENT)
                found = resolve(d, name, parent->rpath, parent->runpath, root.rpath);
            if (found == -ENOMEM)
                goto oom_chain;
            if (found < 0) {
                char *text;
                if (asprintf(&text, "dependency '%s' (needed by %s) not found", name,
                             from < 0 ? file : d->libs[from].soname) < 0)
                    text = NULL;
                if (add_problem(out, text) < 0)
                    goto oom_chain;
                continue;
            }
            if (fsan_keymap_get(seen, (uint64_t)found, NULL) || (loaded && fsan_keymap_get(loaded, (uint64_t)found, NULL)))
                continue;
            if (fsan_keymap_put(seen, (uint64_t)found, 1) < 0)
                goto oom_chain;
            const struct library *lib = &d->libs[found];
            char *lib_chain;
            if (asprintf(&lib_chain, "%s -> %s", chain, name) < 0)
                goto oom_chain;
            if (note_threads(out, &gated, lib, lib->path, lib_chain) < 0 ||
                (lib->table_entry >= 0 && add_hit(out, lib, lib_chain) < 0)) {
                free(lib_chain);
                goto oom_chain;
            }
            if (tail == cap) {
                cap *= 2;
                ssize_t *q = realloc(queue, cap * sizeof *q);
                if (q)
                    queue = q;
                char **ch = realloc(chains, cap * sizeof *ch);
                if (ch)
                    chains = ch;
                if (!q || !ch) {
                    free(lib_chain);
                    goto oom_chain;
                }
            }
            queue[tail] = found;
            chains[tail++] = lib_chain;
        }
        free(chain);
    }
    free(queue);
    free(chains);
    free_library(&root);
    /* A gated object starts threads when the closure calls its starters. */
    for (size_t g = 0; g < NGATES && !out->starts_threads; g++) {
        if (!gated.path[g] || !(gated.opens & (1u << g)))
            continue;
        out->starts_threads = 1;
        out->threads_symbol = gated.symbol[g];
        out->threads_object = gated.path[g];
        out->threads_chain = gated.chain[g];
        gated.path[g] = gated.chain[g] = NULL;
    }
    gated_free(&gated);
    return 0;

oom_chain:
    free(chains[head - 1]);
oom_queue:
    for (size_t i = head; chains && i < tail; i++)
        free(chains[i]);
    free(queue);
    free(chains);
oom:
    free_library(&root);
    gated_free(&gated);
    fsan_lint_closure_free(out);
    return -ENOMEM;
}

void fsan_lint_closure_free(struct fsan_lint_closure *c)
{
    fsan_keymap_free(&c->libraries);
    free(c->threads_object);
    free(c->threads_chain);
    for (size_t i = 0; i < c->nhits; i++) {
        free(c->hits[i].path);
        free(c->hits[i].chain);
    }
    free(c->hits);
    for (size_t i = 0; i < c->nproblems; i++)
        free(c->problems[i]);
    free(c->problems);
    memset(c, 0, sizeof *c);
}

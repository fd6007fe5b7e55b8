/* symbolize.c — turn addresses recorded inside a target process into
 * function, file:line and module+offset, after the fact, with libdw.
 *
 * The runtime records raw return addresses and, once per process image, the
 * text of /proc/self/maps.  The analyzer runs later, often after the target
 * has exited, so nothing here may look at /proc/PID of the target: the maps
 * text is the whole truth about where each object was loaded, and the ELF
 * files on disk are opened by path to recover names and line numbers.  A
 * file that has disappeared or is unreadable still yields its path and the
 * offset inside it, which is enough for a person with addr2line.
 *
 * DESIGN
 * The maps text is parsed by hand instead of with
 * dwfl_linux_proc_maps_report(): that function gives up on the first line it
 * does not understand (losing the module it was assembling), silently drops
 * [vdso] unless it can read the live process's auxv, and keeps no record of
 * the mapping offsets we need when a file cannot be opened.  Our parser
 * keeps every well-formed file-backed line plus [vdso], skips anything else,
 * sorts the lines by address and groups consecutive lines of the same file
 * (path, device and inode) into one module, exactly as libdwfl would.  Each
 * file module is reported with dwfl_report_module() from the address where
 * file offset 0 is mapped; libdwfl then computes the load bias lazily, when
 * the ELF is first needed, as that address minus the page-aligned p_vaddr of
 * the first PT_LOAD, which is right for PIE executables, shared objects and
 * fixed-address executables alike.  The find_elf callback is our own: it
 * opens only regular files (a FIFO or device named in the maps must never
 * block us), and it hands libelf the whole file and closes the descriptor,
 * so an analyzer holding many sessions cannot run out of descriptors.
 *
 * Everything is cached because the same addresses come back thousands of
 * times: a parent's snapshot and each forked child's snapshot are usually
 * byte-identical.  Three levels exist.  (1) The maps text itself, hashed and
 * compared in full, maps to a parsed address space; the most recently used
 * one is checked first with a single memcmp, so a run of identical texts
 * never even hashes.  (2) Address spaces whose file-backed lines are
 * identical share one layout — one Dwfl session and one result table —
 * because only those lines influence a symbol; texts that differ only in
 * [heap], stacks or anonymous memory therefore reuse the same libdw work.
 * (3) Each layout memoizes the finished struct fsan_symbol per (address,
 * is_return_address).  All strings are interned in one table owned by the
 * symbolizer, so every pointer handed out stays valid, and equal strings are
 * the same pointer, until fsan_symbolizer_free().  The symbolizer is not
 * thread-safe; the analyzer owns one per thread if it ever needs more.
 */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dwlib.h"

/* ---- hashing ------------------------------------------------------------ */

/* The finalizer from MurmurHash3: it spreads every input bit over the whole
 * word, so the low bits used as a bucket index are well mixed. */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Hashes 32 bytes per step in four independent lanes, because maps texts
 * run to tens or hundreds of kilobytes and a byte-at-a-time (or a single
 * dependent multiply chain) hash would dominate the cost of switching
 * between address spaces.  The inputs are not adversarial, so speed
 * matters more than strength. */
static uint64_t hash_bytes(const void *data, size_t len)
{
    static const uint64_t k = 0x9fb21c651e98df25ull;
    const unsigned char *p = data;
    uint64_t lane[4] = { len, 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull,
                         0x94d049bb133111ebull };
    while (len >= 32) {
        for (int i = 0; i < 4; i++) {
            uint64_t w;
            memcpy(&w, p + 8 * i, 8);
            lane[i] = (lane[i] ^ w) * k;
            lane[i] ^= lane[i] >> 31;
        }
        p += 32;
        len -= 32;
    }
    uint64_t h = mix64(lane[0]) ^ mix64(lane[1] + 1) ^ mix64(lane[2] + 2)
               ^ mix64(lane[3] + 3);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return mix64(h ^ tail ^ ((uint64_t)len << 56));
}

static uint64_t hash_combine(uint64_t h, uint64_t v)
{
    return mix64(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

/* ---- an intrusive chained hash table ---------------------------------- */

/* Interned strings, address spaces and layouts all live in tables of this
 * kind.  The owning struct embeds the node as its first member, so a node
 * pointer converts back to its owner with a cast, and the caller does the
 * equality test because only it knows what the key is. */
struct chain_node {
    struct chain_node *next;
    uint64_t hash;
};

struct chain_table {
    struct chain_node **buckets;
    size_t nbuckets; /* a power of two, or 0 before the first insert */
    size_t count;
};

static struct chain_node *chain_first(const struct chain_table *t, uint64_t hash)
{
    if (t->nbuckets == 0)
        return NULL;
    return t->buckets[hash & (t->nbuckets - 1)];
}

static int chain_insert(struct chain_table *t, struct chain_node *n)
{
    if (t->count >= t->nbuckets) {
        /* Doubling keeps chains short (load factor at most one) at an
         * amortized constant cost per insert. */
        size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
        struct chain_node **b = calloc(nb, sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < t->nbuckets; i++) {
            struct chain_node *c = t->buckets[i];
            while (c != NULL) {
                struct chain_node *next = c->next;
                c->next = b[c->hash & (nb - 1)];
                b[c->hash & (nb - 1)] = c;
                c = next;
            }
        }
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = nb;
    }
    struct chain_node **slot = &t->buckets[n->hash & (t->nbuckets - 1)];
    n->next = *slot;
    *slot = n;
    t->count++;
    return 0;
}

static void chain_destroy(struct chain_table *t, void (*destroy)(struct chain_node *))
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct chain_node *c = t->buckets[i];
        while (c != NULL) {
            struct chain_node *next = c->next;
            destroy(c);
            c = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->count = 0;
}

/* ---- data ---------------------------------------------------------------- */

struct interned {
    struct chain_node node;
    size_t len;
    char text[]; /* NUL-terminated */
};

enum mapping_kind { MAPPING_FILE, MAPPING_VDSO };

/* One useful line of a maps text: a file-backed mapping or the vdso. */
struct mapping {
    uint64_t start, end, offset, inode;
    unsigned dev_major, dev_minor;
    const char *path; /* interned, so equal paths are equal pointers */
    enum mapping_kind kind;
    size_t module;    /* index into layout.modules, set by grouping */
};

/* Consecutive mappings of one file, i.e. one loaded ELF object. */
struct module {
    const char *path;     /* interned */
    uint64_t base;        /* where file offset 0 is (or would be) mapped */
    uint64_t end;
    enum mapping_kind kind;
    Dwfl_Module *dwmod;   /* NULL for the vdso or if libdwfl refused it */
};

/* One memoized answer; `used` marks an occupied open-addressing slot. */
struct result {
    uint64_t addr;
    bool used;
    bool is_return_address;
    struct fsan_symbol sym;
};

/* Everything that decides a symbol: the file-backed mappings.  Shared by
 * every address space whose maps text has the same such lines. */
struct layout {
    struct chain_node node;
    struct mapping *mappings; /* sorted by start */
    size_t nmappings;
    struct module *modules;
    size_t nmodules;
    Dwfl *dwfl;               /* NULL when there is no file module */
    struct result *results;   /* open addressing, power-of-two capacity */
    size_t results_cap, results_count;
};

/* One distinct maps text. */
struct space {
    struct chain_node node;
    struct layout *layout;
    size_t len;
    char text[];
};

struct fsan_symbolizer {
    struct chain_table strings;
    struct chain_table layouts;
    struct chain_table spaces;
    struct space *last; /* checked first: runs of identical texts are common */
    int libdw;          /* 1 loaded, -1 missing (said once), 0 not tried yet */
};

/* ---- interning -------------------------------------------------------- */

/* Returns the symbolizer's copy of the `len` bytes at `str` in *out, making
 * one if needed, so callers may hand the pointer out for good. */
static int intern(struct fsan_symbolizer *s, const char *str, size_t len,
                  const char **out)
{
    uint64_t h = hash_bytes(str, len);
    for (struct chain_node *n = chain_first(&s->strings, h); n; n = n->next) {
        struct interned *i = (struct interned *)n;
        if (n->hash == h && i->len == len && memcmp(i->text, str, len) == 0) {
            *out = i->text;
            return 0;
        }
    }
    struct interned *i = malloc(sizeof *i + len + 1);
    if (i == NULL)
        return -ENOMEM;
    i->node.hash = h;
    i->len = len;
    memcpy(i->text, str, len);
    i->text[len] = '\0';
    if (chain_insert(&s->strings, &i->node) < 0) {
        free(i);
        return -ENOMEM;
    }
    *out = i->text;
    return 0;
}

/* Interns a NUL-terminated string that may be absent or empty; both mean
 * "unknown" to our callers, so both come back as NULL. */
static int intern_cstr(struct fsan_symbolizer *s, const char *str, const char **out)
{
    *out = NULL;
    if (str == NULL || str[0] == '\0')
        return 0;
    return intern(s, str, strlen(str), out);
}

/* ---- parsing the maps text -------------------------------------------- */

/* A read position in a line that is not NUL-terminated. */
struct cursor {
    const char *p, *end;
};

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a number in `base` (16 or 10); fails on no digits or on overflow,
 * because a truncated or corrupted number must not become a wrong address. */
static bool scan_number(struct cursor *c, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = c->p;
    while (c->p < c->end) {
        int d = hex_digit(*c->p);
        if (d < 0 || (unsigned)d >= base)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
        c->p++;
    }
    *out = v;
    return c->p > start;
}

static bool scan_char(struct cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* Skips the field separator; the kernel pads the path column with spaces. */
static bool skip_blanks(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    return c->p > start;
}

static bool skip_word(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    return c->p > start;
}

/* Parses "start-end perms offset major:minor inode [path]".  Returns 1 and
 * fills *m for a line we keep, 0 for a line we skip (anonymous, [heap] and
 * other pseudo-paths, or malformed), negative errno on allocation failure. */
static int parse_line(struct fsan_symbolizer *s, const char *line, size_t len,
                      struct mapping *m)
{
    struct cursor c = { line, line + len };
    uint64_t major, minor;

    if (!scan_number(&c, 16, &m->start) || !scan_char(&c, '-')
        || !scan_number(&c, 16, &m->end) || !skip_blanks(&c)
        || !skip_word(&c) || !skip_blanks(&c)
        || !scan_number(&c, 16, &m->offset) || !skip_blanks(&c)
        || !scan_number(&c, 16, &major) || !scan_char(&c, ':')
        || !scan_number(&c, 16, &minor) || !skip_blanks(&c)
        || !scan_number(&c, 10, &m->inode))
        return 0;
    if (m->start >= m->end || major > UINT32_MAX || minor > UINT32_MAX)
        return 0;
    if (c.p < c.end && !skip_blanks(&c))
        return 0; /* the inode ran into other characters */
    m->dev_major = (unsigned)major;
    m->dev_minor = (unsigned)minor;

    const char *path = c.p;
    size_t plen = (size_t)(c.end - c.p);
    /* A path with a NUL byte cannot be opened and only comes from garbage. */
    if (plen == 0 || memchr(path, '\0', plen) != NULL)
        return 0;
    if (plen == 6 && memcmp(path, "[vdso]", 6) == 0)
        m->kind = MAPPING_VDSO;
    else if (path[0] == '/')
        m->kind = MAPPING_FILE;
    else
        return 0;
    m->module = 0;
    return intern(s, path, plen, &m->path) < 0 ? -ENOMEM : 1;
}

static int compare_mappings(const void *a, const void *b)
{
    const struct mapping *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Turns a maps text into the sorted array of mappings we keep.  Malformed
 * lines are skipped rather than fatal: a truncated snapshot still has
 * plenty of good lines, and the header promises no failure but ENOMEM. */
static int parse_maps(struct fsan_symbolizer *s, const char *text, size_t len,
                      struct mapping **out, size_t *nout)
{
    struct mapping *v = NULL;
    size_t n = 0, cap = 0;
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        struct mapping m;
        int rc = parse_line(s, p, (size_t)(line_end - p), &m);
        if (rc < 0) {
            free(v);
            return rc;
        }
        if (rc > 0) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                struct mapping *nv = realloc(v, ncap * sizeof *nv);
                if (nv == NULL) {
                    free(v);
                    return -ENOMEM;
                }
                v = nv;
                cap = ncap;
            }
            v[n++] = m;
        }
        p = nl ? nl + 1 : end;
    }
    /* The kernel already prints in address order; sorting makes both the
     * binary search and the layout comparison independent of that. */
    if (n > 1)
        qsort(v, n, sizeof *v, compare_mappings);
    *out = v;
    *nout = n;
    return 0;
}

/* ---- layouts (one Dwfl session each) ---------------------------------- */

static bool same_file(const struct mapping *a, const struct mapping *b)
{
    return a->kind == MAPPING_FILE && b->kind == MAPPING_FILE
        && a->path == b->path && a->inode == b->inode
        && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

static uint64_t hash_mappings(const struct mapping *v, size_t n)
{
    uint64_t h = n;
    for (size_t i = 0; i < n; i++) {
        h = hash_combine(h, v[i].start);
        h = hash_combine(h, v[i].end);
        h = hash_combine(h, v[i].offset);
        h = hash_combine(h, v[i].inode);
        h = hash_combine(h, ((uint64_t)v[i].dev_major << 32) | v[i].dev_minor);
        h = hash_combine(h, (uint64_t)(uintptr_t)v[i].path ^ (uint64_t)v[i].kind);
    }
    return h;
}

/* Field by field, because struct padding is not guaranteed to be zero. */
static bool same_mappings(const struct mapping *a, const struct mapping *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].start != b[i].start || a[i].end != b[i].end
            || a[i].offset != b[i].offset || a[i].inode != b[i].inode
            || a[i].dev_major != b[i].dev_major || a[i].dev_minor != b[i].dev_minor
            || a[i].path != b[i].path || a[i].kind != b[i].kind)
            return false;
    }
    return true;
}

/* Dwfl_Callbacks.find_elf.  Unlike dwfl_linux_proc_find_elf it never falls
 * back to reading /proc/PID/mem, which would be another process by now. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name,
                    Dwarf_Addr base, char **file_name, Elf **elfp)
{
    if (name[0] != '/')
        return -1;
    /* O_NONBLOCK keeps a FIFO named in the maps from blocking the open; the
     * fstat after opening (not a stat before) decides on the very file. */
    int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
        if (elf != NULL)
            elf_end(elf);
        close(fd);
        errno = ENOEXEC;
        return -1;
    }
    *file_name = strdup(name); /* libdwfl owns and frees it; NULL is fine */
    *elfp = elf;
    /* ELF_C_FDREAD pulls in whatever libelf did not mmap and detaches the
     * descriptor, so we can close it now; if that fails, libdwfl keeps the
     * descriptor and closes it in dwfl_end(). */
    if (elf_cntl(elf, ELF_C_FDREAD) == 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf,
    /* Looks for separate debug info by build-id and .gnu_debuglink under
     * /usr/lib/debug; with DEBUGINFOD_URLS set it may also ask a server. */
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static void layout_destroy(struct chain_node *n)
{
    struct layout *l = (struct layout *)n;
    if (l->dwfl != NULL)
        dwfl_end(l->dwfl);
    free(l->mappings);
    free(l->modules);
    free(l->results);
    free(l);
}

/* Whether libdw can name symbols: it is loaded by the first address space
 * that has a file to look in (dwlib.c says why), and when it is missing
 * the report still comes out, its frames as module+offset, with one line
 * saying what to install. */
static bool libdw_ready(struct fsan_symbolizer *s)
{
    if (s->libdw == 0) {
        char err[512];
        s->libdw = fsan_dwlib_load(err, sizeof err) == 0 ? 1 : -1;
        if (s->libdw > 0)
            /* libelf refuses to work until a version has been agreed on;
             * libdwfl does this for the files it opens itself, but our
             * find_elf calls elf_begin first. */
            elf_version(EV_CURRENT);
        else
            fprintf(stderr, "forksan: %s; stack frames are shown as module+offset\n", err);
    }
    return s->libdw > 0;
}

/* Groups the mappings into modules and reports the file modules to a new
 * Dwfl.  Takes ownership of `v`.  libdwfl opens nothing yet: each ELF is
 * read on the first lookup that lands in it. */
static int layout_create(struct fsan_symbolizer *s, struct mapping *v, size_t n, uint64_t hash,
                         struct layout **out)
{
    struct layout *l = calloc(1, sizeof *l);
    if (l == NULL) {
        free(v);
        return -ENOMEM;
    }
    l->node.hash = hash;
    l->mappings = v;
    l->nmappings = n;
    if (n > 0 && (l->modules = calloc(n, sizeof *l->modules)) == NULL)
        goto nomem;

    /* Group like libdwfl's own maps reader: a mapping continues the module
     * of the previous kept mapping when it is the same file; anonymous
     * lines in between (.bss, alignment holes) do not break the group. */
    bool any_file = false;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && same_file(&v[i - 1], &v[i])) {
            struct module *mod = &l->modules[l->nmodules - 1];
            mod->end = v[i].end;
        } else {
            struct module *mod = &l->modules[l->nmodules++];
            mod->path = v[i].path;
            mod->kind = v[i].kind;
            mod->end = v[i].end;
            /* The first line is normally file offset 0, but if the loader
             * (or the snapshot) started later in the file, back up so the
             * base is still where offset 0 would sit. */
            mod->base = v[i].offset <= v[i].start ? v[i].start - v[i].offset
                                                  : v[i].start;
            any_file |= v[i].kind == MAPPING_FILE;
        }
        v[i].module = l->nmodules - 1;
    }

    if (any_file && libdw_ready(s)) {
        l->dwfl = dwfl_begin(&dwfl_callbacks);
        if (l->dwfl == NULL)
            goto nomem;
        dwfl_report_begin(l->dwfl);
        for (size_t i = 0; i < l->nmodules; i++) {
            struct module *mod = &l->modules[i];
            /* libdwfl derives the bias from the start we report here
             * (start minus the first PT_LOAD's aligned p_vaddr), which is
             * why the start must be the file's offset-0 address.  A NULL
             * result only costs us names for this module. */
            if (mod->kind == MAPPING_FILE)
                mod->dwmod = dwfl_report_module(l->dwfl, mod->path, mod->base,
                                                mod->end);
        }
        if (dwfl_report_end(l->dwfl, NULL, NULL) != 0)
            goto nomem;
    }
    *out = l;
    return 0;

nomem:
    layout_destroy(&l->node);
    return -ENOMEM;
}

/* Finds the layout equal to the parsed mappings or makes one.  Takes
 * ownership of `v` either way. */
static int layout_get(struct fsan_symbolizer *s, struct mapping *v, size_t n,
                      struct layout **out)
{
    uint64_t h = hash_mappings(v, n);
    for (struct chain_node *c = chain_first(&s->layouts, h); c; c = c->next) {
        struct layout *l = (struct layout *)c;
        if (c->hash == h && l->nmappings == n && same_mappings(l->mappings, v, n)) {
            free(v);
            *out = l;
            return 0;
        }
    }
    struct layout *l;
    int rc = layout_create(s, v, n, h, &l);
    if (rc < 0)
        return rc;
    if (chain_insert(&s->layouts, &l->node) < 0) {
        layout_destroy(&l->node);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

/* ---- address spaces ----------------------------------------------------- */

static void space_destroy(struct chain_node *n)
{
    free(n);
}

static void string_destroy(struct chain_node *n)
{
    free(n);
}

static int space_get(struct fsan_symbolizer *s, const char *text, size_t len,
                     struct layout **out)
{
    /* The fast path: the analyzer walks one process's records at a time
     * and forked children repeat their parent's text, so a memcmp against
     * the last text usually settles it without hashing. */
    struct space *last = s->last;
    if (last != NULL && last->len == len && memcmp(last->text, text, len) == 0) {
        *out = last->layout;
        return 0;
    }

    uint64_t h = hash_bytes(text, len);
    for (struct chain_node *c = chain_first(&s->spaces, h); c; c = c->next) {
        struct space *sp = (struct space *)c;
        if (c->hash == h && sp->len == len && memcmp(sp->text, text, len) == 0) {
            s->last = sp;
            *out = sp->layout;
            return 0;
        }
    }

    struct mapping *v;
    size_t n;
    int rc = parse_maps(s, text, len, &v, &n);
    if (rc < 0)
        return rc;
    struct layout *l;
    rc = layout_get(s, v, n, &l);
    if (rc < 0)
        return rc;
    /* The layout stays in its table even if what follows fails; it is
     * valid and will be found again next time. */
    struct space *sp = malloc(sizeof *sp + len);
    if (sp == NULL)
        return -ENOMEM;
    sp->node.hash = h;
    sp->layout = l;
    sp->len = len;
    memcpy(sp->text, text, len);
    if (chain_insert(&s->spaces, &sp->node) < 0) {
        free(sp);
        return -ENOMEM;
    }
    s->last = sp;
    *out = l;
    return 0;
}

/* ---- memoized results --------------------------------------------------- */

static size_t result_slot(const struct layout *l, uint64_t addr, int is_ret)
{
    return (size_t)mix64(addr ^ ((uint64_t)is_ret << 63)) & (l->results_cap - 1);
}

static const struct result *result_find(const struct layout *l, uint64_t addr,
                                        bool is_ret)
{
    if (l->results_cap == 0)
        return NULL;
    for (size_t i = result_slot(l, addr, is_ret);; i = (i + 1) & (l->results_cap - 1)) {
        const struct result *r = &l->results[i];
        if (!r->used)
            return NULL;
        if (r->addr == addr && r->is_return_address == is_ret)
            return r;
    }
}

static int result_insert(struct layout *l, uint64_t addr, bool is_ret,
                         const struct fsan_symbol *sym)
{
    /* Linear probing stays fast while the table is at most half full. */
    if ((l->results_count + 1) * 2 > l->results_cap) {
        size_t ncap = l->results_cap ? l->results_cap * 2 : 256;
        struct result *nr = calloc(ncap, sizeof *nr);
        if (nr == NULL)
            return -ENOMEM;
        struct result *old = l->results;
        size_t ocap = l->results_cap;
        l->results = nr;
        l->results_cap = ncap;
        for (size_t i = 0; i < ocap; i++) {
            if (!old[i].used)
                continue;
            size_t j = result_slot(l, old[i].addr, old[i].is_return_address);
            while (nr[j].used)
                j = (j + 1) & (ncap - 1);
            nr[j] = old[i];
        }
        free(old);
    }
    size_t j = result_slot(l, addr, is_ret);
    while (l->results[j].used)
        j = (j + 1) & (l->results_cap - 1);
    l->results[j] = (struct result){
        .addr = addr, .used = true, .is_return_address = is_ret, .sym = *sym,
    };
    l->results_count++;
    return 0;
}

/* ---- the lookup itself ------------------------------------------------- */

static const struct mapping *find_mapping(const struct layout *l, uint64_t addr)
{
    /* The last mapping whose start is <= addr is the only candidate. */
    size_t lo = 0, hi = l->nmappings;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->mappings[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || addr >= l->mappings[lo - 1].end)
        return NULL;
    return &l->mappings[lo - 1];
}

static int resolve(struct fsan_symbolizer *s, const struct layout *l,
                   uint64_t addr, bool is_ret, struct fsan_symbol *out)
{
    const struct mapping *m = find_mapping(l, addr);
    if (m == NULL)
        return 0;
    const struct module *mod = &l->modules[m->module];
    out->module = mod->path;
    out->module_offset = addr - mod->base;

    Dwarf_Addr bias = 0;
    if (mod->dwmod == NULL || dwfl_module_getelf(mod->dwmod, &bias) == NULL)
        return 0; /* No ELF: the path and the offset from its base are all. */
    out->module_offset = addr - bias;

    /* A return address points after the call, possibly at the first
     * instruction of the next line or even of the next function (after a
     * call to a noreturn function), so both the function and the line are
     * looked up for the call instruction's last byte. */
    Dwarf_Addr pc = is_ret && addr > 0 ? addr - 1 : addr;
    int rc;
    GElf_Off sym_off;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod->dwmod, pc, &sym_off, &sym,
                                            NULL, NULL, NULL);
    if ((rc = intern_cstr(s, name, &out->function)) < 0)
        return rc;

    Dwfl_Line *line = dwfl_module_getsrc(mod->dwmod, pc);
    if (line != NULL) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if ((rc = intern_cstr(s, file, &out->file)) < 0)
            return rc;
        out->line = out->file != NULL && lineno > 0 ? lineno : 0;
    }
    return 0;
}

/* ---- public API -------------------------------------------------------- */

struct fsan_symbolizer *fsan_symbolizer_new(void)
{
    return calloc(1, sizeof(struct fsan_symbolizer));
}

void fsan_symbolizer_free(struct fsan_symbolizer *s)
{
    if (s == NULL)
        return;
    chain_destroy(&s->spaces, space_destroy);
    chain_destroy(&s->layouts, layout_destroy);
    chain_destroy(&s->strings, string_destroy);
    free(s);
}

int fsan_symbolize(struct fsan_symbolizer *s, const char *maps, size_t maps_len,
                   uint64_t addr, int is_return_address, struct fsan_symbol *out)
{
    if (out == NULL)
        return -EINVAL;
    *out = (struct fsan_symbol){ 0 };
    if (s == NULL || (maps == NULL && maps_len > 0))
        return -EINVAL;
    if (maps == NULL)
        maps = "";

    struct layout *l;
    int rc = space_get(s, maps, maps_len, &l);
    if (rc < 0)
        return rc;

    bool is_ret = is_return_address != 0;
    const struct result *r = result_find(l, addr, is_ret);
    if (r != NULL) {
        *out = r->sym;
        return 0;
    }
    struct fsan_symbol sym = { 0 };
    rc = resolve(s, l, addr, is_ret, &sym);
    /* On ENOMEM we still report what was found but do not memoize a
     * partial answer. */
    *out = sym;
    if (rc < 0)
        return rc;
    return result_insert(l, addr, is_ret, &sym);
}

/* gen-options.c — prints the FORKSAN_OPTIONS list of forksan(1) as roff.
 *
 * `make man` runs this program and puts its output where man/forksan.1.in
 * has the line @FORKSAN_OPTIONS@; `make man-check` does the same into
 * build/ and fails when the committed page differs.
 *
 * DESIGN
 * The options have exactly one table, common/options.def, and this program
 * expands it with the same X-macro trick as common/options.h and
 * common/options.c instead of keeping a copy: a new option, a changed
 * default or a reworded help string reaches the man page by rebuilding it,
 * and man-check catches a page that was not rebuilt.  The wording of the
 * allowed values follows the parser in common/options.c (which keeps its
 * table static, so the few words it uses are repeated here, next to the one
 * fact each depends on).  Every string taken from the table goes through
 * roff_text(), which escapes what roff would otherwise interpret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* The words the parser accepts for a MODE option, indexed by enum fsan_mode. */
static const char *const mode_names[] = {
    [FSAN_MODE_OBSERVE] = "observe",
    [FSAN_MODE_STRICT] = "strict",
    [FSAN_MODE_SAFE] = "safe",
};
#define N_MODES ((long)(sizeof mode_names / sizeof mode_names[0]))

static int failed;

/* Decodes the UTF-8 sequence at *p into *cp; returns its length, or 0 when
 * it is not valid UTF-8. */
static int utf8_decode(const unsigned char *p, unsigned long *cp)
{
    int len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
    if (len == 0 || (len == 3 && p[0] > 0xef))
        return 0;
    unsigned long v = p[0] & (0x7fu >> len);
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Writes s as roff text: a backslash becomes \e, a control character a
 * space, a '.' or '\'' that would start a line is protected with \&, the
 * hyphens of a word that starts with '-' (an option such as --fail-on)
 * become \- so they print as the minus signs a user types, and a non-ASCII
 * character becomes \[uXXXX] so the page stays ASCII whatever the locale of
 * the formatter. */
static void roff_text(const char *s)
{
    int line_start = 1, in_option = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') {
            putchar('\n');
            line_start = 1;
            in_option = 0;
            continue;
        }
        if (line_start && (c == '.' || c == '\''))
            fputs("\\&", stdout);
        line_start = 0;
        if (c == ' ' || c == '\t' || c < 0x20 || c == 0x7f) {
            putchar(' ');
            in_option = 0;
            continue;
        }
        if (c == '-' && (in_option || p == s || p[-1] == ' ' || p[-1] == '(' || p[-1] == '\'' || p[-1] == '"'))
            in_option = 1;
        if (c >= 0x80) {
            unsigned long cp;
            int len = utf8_decode((const unsigned char *)p, &cp);
            if (len == 0) {
                fprintf(stderr, "gen-options: invalid UTF-8 in \"%s\"\n", s);
                failed = 1;
                continue;
            }
            printf("\\[u%04lX]", cp);
            p += len - 1;
            in_option = 0;
        } else if (c == '\\')
            fputs("\\e", stdout);
        else if (c == '-' && in_option)
            fputs("\\-", stdout);
        else
            putchar(c);
    }
}

/* One emitter per option type.  Marked unused so that a table without
 * some type still builds under -Werror. */

/* .TP, the tag line (name=VALUES), then the help text on its own line. */
static void begin_option(const char *name, const char *values_roff, const char *help)
{
    fputs(".TP\n\\fB", stdout);
    roff_text(name);
    printf("\\fR=%s\n", values_roff);
    roff_text(help);
    putchar('\n');
}

__attribute__((unused)) static void emit_bool(const char *name, long def, const char *help)
{
    begin_option(name, "\\fB0\\fR|\\fB1\\fR", help);
    printf("Boolean: \\fB0\\fR or \\fB1\\fR (also \\fBfalse\\fR/\\fBtrue\\fR, \\fBno\\fR/\\fByes\\fR).\n");
    printf("Default: \\fB%ld\\fR.\n", def);
}

__attribute__((unused)) static void emit_int(const char *name, long def, long min, long max, const char *help)
{
    begin_option(name, "\\fIN\\fR", help);
    printf("Integer from \\fB%ld\\fR to \\fB%ld\\fR.\n", min, max);
    printf("Default: \\fB%ld\\fR.\n", def);
}

__attribute__((unused)) static void emit_mode(const char *name, long def, long min, long max, const char *help)
{
    if (min < 0 || max >= N_MODES || def < min || def > max) {
        fprintf(stderr, "gen-options: option '%s': mode range %ld..%ld or default %ld has no name here; "
                        "update mode_names in man/gen-options.c\n", name, min, max, def);
        failed = 1;
        return;
    }
    char values[256];
    size_t len = 0;
    for (long i = min; i <= max && len < sizeof values; i++)
        len += (size_t)snprintf(values + len, sizeof values - len, "%s\\fB%s\\fR", i > min ? "|" : "",
                                mode_names[i]);
    begin_option(name, values, help);
    printf("Default: \\fB%s\\fR.\n", mode_names[def]);
}

__attribute__((unused)) static void emit_path(const char *name, const char *def, const char *help)
{
    begin_option(name, "\\fIPATH\\fR", help);
    printf("A path of at most %d bytes; it may contain \\(aq,\\(aq and spaces, only \\(aq:\\(aq ends it.\n",
           FSAN_OPTION_PATH_MAX - 1);
    if (def[0] == '\0') {
        printf("Default: empty.\n");
    } else {
        fputs("Default: \\fB", stdout);
        roff_text(def);
        fputs("\\fR.\n", stdout);
    }
}

#define FSAN_GEN_BOOL(name, def, min, max, help) emit_bool(#name, (long)(def), help);
#define FSAN_GEN_INT(name, def, min, max, help) emit_int(#name, (long)(def), (long)(min), (long)(max), help);
#define FSAN_GEN_MODE(name, def, min, max, help) emit_mode(#name, (long)(def), (long)(min), (long)(max), help);
#define FSAN_GEN_PATH(name, def, min, max, help) emit_path(#name, def, help);
#define FSAN_OPTION(type, name, def, min, max, help) FSAN_GEN_##type(name, def, min, max, help)

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s > options.roff\n"
                        "Prints the FORKSAN_OPTIONS list (from common/options.def) as roff for forksan(1).\n",
                argv[0]);
        return 2;
    }
#include "options.def"
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen-options: writing the option list");
        return 1;
    }
    return failed ? 1 : 0;
}
#undef FSAN_OPTION

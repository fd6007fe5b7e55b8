/* gen-rules.c — prints the rule descriptions of forksan(7) as roff.
 *
 * `make man` runs this program and puts its output where man/forksan.7.in
 * has the line @FORKSAN_RULES@; `make man-check` does the same into build/
 * and fails when the committed man/forksan.7 differs.
 *
 * DESIGN
 * The rules have exactly one description, common/rules.def, which is also
 * what `forksan explain` prints and what the SARIF report carries as rule
 * help.  This program expands that X-macro table into the same struct as
 * common/catalogue.c instead of keeping a copy of any text, so a reworded
 * fix reaches the man page by rebuilding it, and man-check catches a page
 * that was not rebuilt.  Each rule becomes a subsection named by its id
 * and default severity, its title, and four tagged paragraphs with the
 * headings `forksan explain` uses: What happens, Fix (C), Fix (Python) and
 * Example.
 *
 * The catalogue's texts are plain text, so everything taken from them goes
 * through roff_prose() or roff_code(), which escape what roff would
 * otherwise interpret: backslashes, a '.' or '\'' that would start a
 * control line, and non-ASCII characters (written as \[uXXXX] so the page
 * stays ASCII whatever the formatter's locale).  In prose, the hyphens of a
 * rule id or of an option-like word (one that starts with '-') become \-
 * so that they print as the minus signs a user types and searches for; a
 * blank line starts a new paragraph and each sentence starts a new source
 * line, as roff expects; names from code, options and rule ids are never
 * hyphenated at a line break.  In an example every character is literal: all
 * hyphens become \-, and quotes, backquotes, carets and tildes become the
 * ASCII glyphs, so the code can be copied from the rendered page.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"

#define FSAN_RULE(id, cname, sev, title, expl, fix_c, fix_py, example) {id, sev, title, expl, fix_c, fix_py, example},
static const struct fsan_rule_info rules[] = {
#include "rules.def"
};
#undef FSAN_RULE
#define N_RULES (sizeof rules / sizeof rules[0])

/* The names of the default severities, as common/model.c prints them. */
static const char *const severity_names[] = {
    [FSAN_SEV_NOTE] = "note",
    [FSAN_SEV_WARNING] = "warning",
    [FSAN_SEV_ERROR] = "error",
};
#define N_SEVERITIES (sizeof severity_names / sizeof severity_names[0])

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

/* Writes the non-ASCII character at p as \[uXXXX]; returns how many bytes
 * it used (at least 1, so that an invalid byte is skipped). */
static int put_non_ascii(const char *p, const char *rule_id)
{
    unsigned long cp;
    int len = utf8_decode((const unsigned char *)p, &cp);
    if (len == 0) {
        fprintf(stderr, "gen-rules: rule '%s': invalid UTF-8 in common/rules.def\n", rule_id);
        failed = 1;
        return 1;
    }
    printf("\\[u%04lX]", cp);
    return len;
}

static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* 1 when the word of len bytes at p is a rule id of the catalogue. */
static int is_rule_id(const char *p, size_t len)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (strlen(rules[i].id) == len && memcmp(rules[i].id, p, len) == 0)
            return 1;
    return 0;
}

/* 1 when the space at p ends a sentence: it follows '.', '?' or '!' and the
 * next word starts with a letter or a digit (a sentence may start with a
 * lower-case name, such as fork). */
static int ends_sentence(const char *start, const char *p)
{
    if (p == start || !strchr(".?!", p[-1]))
        return 0;
    while (*p == ' ')
        p++;
    return isalnum((unsigned char)*p);
}

/* 1 when the token (a run of non-blank bytes) at p must not be hyphenated
 * at the end of a line: a name from code (it has '_', '(', '=' or a '.'
 * inside, as in os.register_at_fork), an option, or a rule id.  Breaking
 * such a name makes it impossible to copy or to search for. */
static int is_code_token(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != ' ' && *q != '\n' && *q != '\t')
        q++;
    for (const char *r = p; r < q; r++) {
        if (strchr("_(=", *r) || (*r == '.' && r + 1 < q && isalnum((unsigned char)r[1])))
            return 1;
        if (is_word_char(*r) && (r == p || !is_word_char(r[-1]))) {
            size_t len = 0;
            while (r + len < q && is_word_char(r[len]))
                len++;
            if (*r == '-' || is_rule_id(r, len))
                return 1;
        }
    }
    return 0;
}

/* Writes one paragraph of prose (up to end) as roff text lines, without
 * the final newline. */
static void roff_paragraph(const char *start, const char *end, const char *rule_id)
{
    int line_start = 1, literal_hyphens = 0;
    for (const char *p = start; p < end; p++) {
        char c = *p;
        if (c == '\n' || c == '\t')
            c = ' ';
        if (c == ' ') {
            if (line_start)
                continue; /* no leading spaces: roff would keep them */
            if (ends_sentence(start, p)) {
                putchar('\n');
                line_start = 1;
            } else if (p + 1 < end) {
                putchar(' ');
            }
            continue;
        }
        if (line_start && (c == '.' || c == '\''))
            fputs("\\&", stdout);
        line_start = 0;
        if ((p == start || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t') && is_code_token(p, end))
            fputs("\\%", stdout);
        if (is_word_char(c) && (p == start || !is_word_char(p[-1]))) {
            size_t len = 0;
            while (p + len < end && is_word_char(p[len]))
                len++;
            literal_hyphens = c == '-' || is_rule_id(p, len);
        } else if (!is_word_char(c)) {
            literal_hyphens = 0;
        }
        if ((unsigned char)c >= 0x80)
            p += put_non_ascii(p, rule_id) - 1;
        else if (c == '\\')
            fputs("\\e", stdout);
        else if (c == '-' && literal_hyphens)
            fputs("\\-", stdout);
        else if ((unsigned char)c < 0x20 || c == 0x7f)
            putchar(' ');
        else
            putchar(c);
    }
}

/* Writes prose: paragraphs (separated by a blank line) become text lines
 * separated by .IP, which keeps the indentation of the tagged paragraph the
 * text belongs to. */
static void roff_prose(const char *text, const char *rule_id)
{
    const char *p = text;
    int first = 1;
    for (;;) {
        const char *brk = strstr(p, "\n\n");
        const char *end = brk ? brk : p + strlen(p);
        if (end > p) {
            if (!first)
                puts(".IP");
            roff_paragraph(p, end, rule_id);
            putchar('\n');
            first = 0;
        }
        if (!brk)
            break;
        p = brk + 2;
        while (*p == '\n')
            p++;
    }
    if (first) {
        fprintf(stderr, "gen-rules: rule '%s': a text in common/rules.def is empty\n", rule_id);
        failed = 1;
    }
}

/* Writes an example program between .EX and .EE, every character literal. */
static void roff_code(const char *code, const char *rule_id)
{
    int line_start = 1;
    puts(".EX");
    for (const char *p = code; *p; p++) {
        char c = *p;
        if (c == '\n') {
            putchar('\n');
            line_start = 1;
            continue;
        }
        if (line_start && (c == '.' || c == '\''))
            fputs("\\&", stdout);
        line_start = 0;
        switch (c) {
        case '\\': fputs("\\e", stdout); break;
        case '-': fputs("\\-", stdout); break;
        case '\'': fputs("\\(aq", stdout); break;
        case '`': fputs("\\(ga", stdout); break;
        case '^': fputs("\\(ha", stdout); break;
        case '~': fputs("\\(ti", stdout); break;
        default:
            if ((unsigned char)c >= 0x80)
                p += put_non_ascii(p, rule_id) - 1;
            else
                putchar(c);
        }
    }
    if (!line_start)
        putchar('\n');
    puts(".EE");
}

/* A rule id as roff: every hyphen is a minus sign a user types. */
static void roff_id(const char *id)
{
    for (const char *p = id; *p; p++) {
        if (*p == '-')
            fputs("\\-", stdout);
        else
            putchar(*p);
    }
}

static void emit_rule(const struct fsan_rule_info *r)
{
    unsigned sev = (unsigned)r->default_severity;
    if (sev >= N_SEVERITIES || !severity_names[sev]) {
        fprintf(stderr, "gen-rules: rule '%s': default severity %u has no name here; "
                        "update severity_names in man/gen-rules.c\n", r->id, sev);
        failed = 1;
        return;
    }
    fputs(".SS \"", stdout);
    roff_id(r->id);
    printf(" (%s)\"\n", severity_names[sev]);
    fputs("\\fI", stdout);
    roff_paragraph(r->title, r->title + strlen(r->title), r->id);
    puts("\\fR");
    puts(".TP 4\n.I \"What happens\"");
    roff_prose(r->explanation, r->id);
    puts(".TP\n.I \"Fix (C)\"");
    roff_prose(r->fix_c, r->id);
    puts(".TP\n.I \"Fix (Python)\"");
    roff_prose(r->fix_python, r->id);
    puts(".TP\n.I Example");
    if (r->example[0] == '\0') {
        fprintf(stderr, "gen-rules: rule '%s': the example in common/rules.def is empty\n", r->id);
        failed = 1;
    }
    roff_code(r->example, r->id);
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s > rules.roff\n"
                        "Prints the rule descriptions (from common/rules.def) as roff for forksan(7).\n",
                argv[0]);
        return 2;
    }
    puts(".\\\" The rule descriptions below are generated from common/rules.def");
    puts(".\\\" by man/gen-rules.c; edit them there.");
    for (size_t i = 0; i < N_RULES; i++)
        emit_rule(&rules[i]);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen-rules: writing the rule list");
        return 1;
    }
    return failed ? 1 : 0;
}

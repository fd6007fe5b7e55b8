/* render_sarif.c — the report as SARIF 2.1.0 (`--format sarif`).
 *
 * SARIF (OASIS Static Analysis Results Interchange Format) is what code
 * scanning services, IDE result viewers and many CI dashboards read, so
 * this renderer lets forksan's findings appear next to those of compilers
 * and linters without a converter.  The document has exactly one run:
 *
 *   version "2.1.0", $schema, runs [{
 *     tool.driver   {name "forksan", version, rules [one reportingDescriptor
 *                    per catalogue entry, in catalogue order: id, name,
 *                    shortDescription (title), fullDescription (explanation),
 *                    help {text, markdown} (explanation, both fixes, the
 *                    example), defaultConfiguration.level]}
 *     invocations   [{executionSuccessful (false when a trace or, for
 *                    forksan lint, a file could not be read whole),
 *                    exitCode (the watched command's
 *                    status, when known), toolExecutionNotifications (the
 *                    report's notices), properties.command (its argv)}]
 *     originalUriBaseIds {"%SRCROOT%": file URI of the working directory}
 *     results       [one per finding: ruleId, ruleIndex, level, message,
 *                    locations (the user's frame of the primary location),
 *                    relatedLocations (the other locations), stacks (every
 *                    location's frames), partialFingerprints {"forksan/v1"},
 *                    baselineState, properties {count, pids, baseline}]
 *     properties    {suppressed, unmatchedSuppressions, fixed (--baseline)}
 *   }]
 *
 * DESIGN
 * A result's primary location is the place a person must edit, so it is
 * the innermost frame that has a source file in the location that tells
 * the story of the rule: the child's attempt for child-deadlock, the
 * unsafe call for unsafe-after-fork (forksan lint), else where
 * the lock was acquired, else the fork site, else the first location with
 * frames.  Viewers show relatedLocations as clickable secondary sites and
 * stacks as full call stacks, so every location appears in both: the first
 * as one line, the second with all its frames.  Paths become URIs the way
 * code scanning services resolve them: a relative path stays relative (it
 * is relative to the build directory, which is usually the checkout), an
 * absolute path under the working directory becomes relative to the
 * "%SRCROOT%" base (which originalUriBaseIds pins to that directory), and
 * any other absolute path becomes a file:// URI; bytes that a URI may not
 * carry are percent-encoded so the "uri-reference" format holds.  A finding
 * with no source file anywhere still gets a result, located logically by
 * function name when one is known, because dropping it would hide an error
 * from the very dashboards SARIF feeds.  The catalogue is written whole,
 * not only the rules that fired, so ruleIndex is simply the catalogue
 * index and a viewer can explain a rule even in a clean run.  Everything
 * is written through jsonw.c, like the JSON report; the only text built
 * here is the rule help, in a memory stream, and messages trimmed of the
 * colon with which the text report introduces a stack.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "jsonw.h"
#include "model.h"
#include "render.h"

#define SARIF_SCHEMA_URI "https://json.schemastore.org/sarif-2.1.0.json"
#define SRCROOT "%SRCROOT%"

/* ---- small helpers for "key": value ------------------------------------- */

/* SARIF's message object: {"text": …}.  Trailing blanks and a trailing
 * colon are dropped: the model's sentences are written to introduce a stack
 * in the text report ("fork called at:"), while a SARIF viewer shows the
 * message alone.  A NULL text would be invalid (the schema wants a
 * string), so it becomes "". */
static void member_message(struct fsan_json *w, const char *key, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    char *trimmed;

    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == ':'))
        len--;
    fsan_json_key(w, key);
    fsan_json_begin_object(w);
    trimmed = text ? strndup(text, len) : NULL;
    /* Out of memory, the untrimmed text is still a correct message. */
    fsan_json_member_string(w, "text", trimmed ? trimmed : text ? text : "");
    free(trimmed);
    fsan_json_end_object(w);
}

/* The SARIF level for a severity; "none" is SARIF's word for "not a
 * problem", which is what FSAN_SEV_NONE means. */
static const char *sarif_level(enum fsan_severity s)
{
    switch (s) {
    case FSAN_SEV_ERROR: return "error";
    case FSAN_SEV_WARNING: return "warning";
    case FSAN_SEV_NOTE: return "note";
    default: return "none";
    }
}

/* ---- URIs ---------------------------------------------------------------- */

/* Characters a URI path may carry literally (RFC 3986 unreserved, "/" and
 * the harmless sub-delimiters).  ':' is left out on purpose: in the first
 * segment of a relative reference it would read as a scheme. */
static int uri_safe(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~/!$&'()*+,;=@", c) != NULL;
}

/* Writes prefix followed by path, percent-encoded, as one JSON string. */
static int write_uri(struct fsan_json *w, const char *prefix, const char *path)
{
    size_t n = strlen(prefix), len = strlen(path);
    char *uri = malloc(n + 3 * len + 1);

    if (!uri)
        return -ENOMEM;
    memcpy(uri, prefix, n);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (uri_safe(*p)) {
            uri[n++] = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            uri[n++] = '%';
            uri[n++] = hex[*p >> 4];
            uri[n++] = hex[*p & 15];
        }
    }
    uri[n] = '\0';
    fsan_json_string(w, uri);
    free(uri);
    return 0;
}

/* The renderer's state: the JSON writer, the working directory with a
 * trailing '/' (paths under it are written relative to %SRCROOT%), and the
 * first failure that the writer itself cannot see. */
struct sarif_ctx {
    struct fsan_json w;
    char srcroot[PATH_MAX + 1];
    size_t srcroot_len; /* 0: no %SRCROOT% */
    int error;          /* first allocation failure, a negative errno */
};

static void init_srcroot(struct sarif_ctx *c)
{
    if (!getcwd(c->srcroot, PATH_MAX) || c->srcroot[0] != '/')
        return;
    c->srcroot_len = strlen(c->srcroot);
    if (c->srcroot[c->srcroot_len - 1] != '/') {
        c->srcroot[c->srcroot_len++] = '/';
        c->srcroot[c->srcroot_len] = '\0';
    }
}

static void write_artifact_location(struct sarif_ctx *c, const char *file)
{
    struct fsan_json *w = &c->w;
    int rc;

    fsan_json_key(w, "artifactLocation");
    fsan_json_begin_object(w);
    fsan_json_key(w, "uri");
    if (file[0] != '/') {
        rc = write_uri(w, "", file);
    } else if (c->srcroot_len && strncmp(file, c->srcroot, c->srcroot_len) == 0) {
        rc = write_uri(w, "", file + c->srcroot_len);
        fsan_json_member_string(w, "uriBaseId", SRCROOT);
    } else {
        rc = write_uri(w, "file://", file);
    }
    if (rc < 0) {
        fsan_json_null(w); /* keeps the writer consistent; the error wins */
        c->error = c->error ? c->error : rc;
    }
    fsan_json_end_object(w);
}

/* ---- locations ----------------------------------------------------------- */

/* The innermost frame with a source file, or NULL. */
static const struct fsan_frame *user_frame(const struct fsan_location *l)
{
    for (size_t i = 0; i < l->nframes; i++)
        if (l->frames[i].file && l->frames[i].file[0])
            return &l->frames[i];
    return NULL;
}

static const struct fsan_location *find_role(const struct fsan_finding *f, const char *role)
{
    for (size_t i = 0; i < f->nlocations; i++)
        if (f->locations[i].role && strcmp(f->locations[i].role, role) == 0)
            return &f->locations[i];
    return NULL;
}

/* The location a person must look at first (see DESIGN above). */
static const struct fsan_location *primary_location(const struct fsan_finding *f)
{
    const struct fsan_location *l = NULL;

    if (f->rule && strcmp(f->rule, "child-deadlock") == 0)
        l = find_role(f, fsan_role_name(FSAN_ROLE_ATTEMPT));
    /* forksan lint: the unsafe call in the child is what to edit. */
    if (f->rule && strcmp(f->rule, "unsafe-after-fork") == 0)
        l = find_role(f, fsan_role_name(FSAN_ROLE_USE));
    if (!l)
        l = find_role(f, fsan_role_name(FSAN_ROLE_ACQUIRED));
    if (!l)
        l = find_role(f, fsan_role_name(FSAN_ROLE_FORK));
    for (size_t i = 0; !l && i < f->nlocations; i++)
        if (f->locations[i].nframes > 0)
            l = &f->locations[i];
    return l;
}

static void write_physical_location(struct sarif_ctx *c, const struct fsan_frame *fr)
{
    struct fsan_json *w = &c->w;

    fsan_json_key(w, "physicalLocation");
    fsan_json_begin_object(w);
    write_artifact_location(c, fr->file);
    if (fr->line > 0) {
        fsan_json_key(w, "region");
        fsan_json_begin_object(w);
        fsan_json_member_int(w, "startLine", fr->line);
        fsan_json_end_object(w);
    }
    fsan_json_end_object(w);
}

static void write_logical_location(struct fsan_json *w, const char *function)
{
    fsan_json_key(w, "logicalLocations");
    fsan_json_begin_array(w);
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "name", function);
    fsan_json_member_string(w, "kind", "function");
    fsan_json_end_object(w);
    fsan_json_end_array(w);
}

/* A location object for one frame: physical when the frame has a file,
 * logical when it has only a function, and the message when given. */
static void write_frame_location(struct sarif_ctx *c, const struct fsan_frame *fr, long long id,
                                 const char *message)
{
    struct fsan_json *w = &c->w;

    fsan_json_begin_object(w);
    if (id >= 0)
        fsan_json_member_int(w, "id", id);
    if (fr->file && fr->file[0])
        write_physical_location(c, fr);
    if (fr->function)
        write_logical_location(w, fr->function);
    if (message)
        member_message(w, "message", message);
    fsan_json_end_object(w);
}

/* The text a location is shown with: its description, or its role. */
static const char *location_text(const struct fsan_location *l)
{
    return l->description ? l->description : l->role ? l->role : "location";
}

static void write_primary(struct sarif_ctx *c, const struct fsan_location *primary)
{
    const struct fsan_frame *fr = primary ? user_frame(primary) : NULL;

    /* Without a file, fall back to the innermost frame that names a
     * function, so the result still says where; with neither, the result
     * has no location at all, which SARIF allows. */
    for (size_t i = 0; !fr && primary && i < primary->nframes; i++)
        if (primary->frames[i].function)
            fr = &primary->frames[i];
    if (!fr)
        return;
    fsan_json_key(&c->w, "locations");
    fsan_json_begin_array(&c->w);
    write_frame_location(c, fr, -1, location_text(primary));
    fsan_json_end_array(&c->w);
}

/* Every other location's user frame, numbered from 1 so that ids are
 * unique within the result. */
static void write_related(struct sarif_ctx *c, const struct fsan_finding *f,
                          const struct fsan_location *primary)
{
    long long id = 1;
    int opened = 0;

    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *l = &f->locations[i];
        const struct fsan_frame *fr = user_frame(l);
        if (l == primary || !fr)
            continue;
        if (!opened) {
            fsan_json_key(&c->w, "relatedLocations");
            fsan_json_begin_array(&c->w);
            opened = 1;
        }
        write_frame_location(c, fr, id++, location_text(l));
    }
    if (opened)
        fsan_json_end_array(&c->w);
}

static void write_stack_frame(struct sarif_ctx *c, const struct fsan_location *l,
                              const struct fsan_frame *fr)
{
    struct fsan_json *w = &c->w;

    fsan_json_begin_object(w);
    fsan_json_key(w, "location");
    write_frame_location(c, fr, -1, NULL);
    if (fr->module)
        fsan_json_member_string(w, "module", fr->module);
    if (l->has_thread)
        fsan_json_member_int(w, "threadId", l->tid);
    fsan_json_key(w, "properties");
    fsan_json_begin_object(w);
    fsan_json_key(w, "address");
    fsan_json_hex(w, fr->address);
    fsan_json_key(w, "moduleOffset");
    fsan_json_hex(w, fr->module_offset);
    fsan_json_member_string(w, "language", fr->language);
    fsan_json_end_object(w);
    fsan_json_end_object(w);
}

/* One stack per location that has frames; the schema wants at least one
 * frame in a stack, so frameless locations are left out. */
static void write_stacks(struct sarif_ctx *c, const struct fsan_finding *f)
{
    struct fsan_json *w = &c->w;
    int opened = 0;

    for (size_t i = 0; i < f->nlocations; i++) {
        const struct fsan_location *l = &f->locations[i];
        if (l->nframes == 0)
            continue;
        if (!opened) {
            fsan_json_key(w, "stacks");
            fsan_json_begin_array(w);
            opened = 1;
        }
        fsan_json_begin_object(w);
        member_message(w, "message", location_text(l));
        fsan_json_key(w, "frames");
        fsan_json_begin_array(w);
        for (size_t j = 0; j < l->nframes; j++)
            write_stack_frame(c, l, &l->frames[j]);
        fsan_json_end_array(w);
        fsan_json_key(w, "properties");
        fsan_json_begin_object(w);
        fsan_json_member_string(w, "role", l->role);
        if (l->has_thread && l->thread_name)
            fsan_json_member_string(w, "threadName", l->thread_name);
        fsan_json_end_object(w);
        fsan_json_end_object(w);
    }
    if (opened)
        fsan_json_end_array(w);
}

/* ---- results ------------------------------------------------------------- */

static long long rule_index(const char *id)
{
    for (int i = 0; i < FSAN_RULE_COUNT; i++)
        if (id && strcmp(fsan_rule_info((enum fsan_rule_index)i)->id, id) == 0)
            return i;
    return -1;
}

static void write_result(struct sarif_ctx *c, const struct fsan_finding *f)
{
    struct fsan_json *w = &c->w;
    const struct fsan_location *primary = primary_location(f);
    long long index = rule_index(f->rule);

    fsan_json_begin_object(w);
    fsan_json_member_string(w, "ruleId", f->rule);
    /* A rule the catalogue does not know (a newer analyzer than catalogue)
     * has no descriptor to point at, and -1 is SARIF's "no index". */
    if (index >= 0)
        fsan_json_member_int(w, "ruleIndex", index);
    fsan_json_member_string(w, "level", sarif_level(f->severity));
    member_message(w, "message", f->message);
    write_primary(c, primary);
    write_related(c, f, primary);
    write_stacks(c, f);
    fsan_json_key(w, "partialFingerprints");
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "forksan/v1", f->fingerprint);
    fsan_json_end_object(w);
    if (f->baseline)
        fsan_json_member_string(w, "baselineState", f->baseline);
    fsan_json_key(w, "properties");
    fsan_json_begin_object(w);
    fsan_json_key(w, "count");
    fsan_json_uint(w, f->count);
    fsan_json_key(w, "pids");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < f->npids; i++)
        fsan_json_int(w, f->pids[i]);
    fsan_json_end_array(w);
    if (f->baseline)
        fsan_json_member_string(w, "baseline", f->baseline);
    fsan_json_end_object(w);
    fsan_json_end_object(w);
}

/* ---- rules --------------------------------------------------------------- */

/* "child-deadlock" -> "ChildDeadlock": SARIF's reportingDescriptor.name is
 * meant to be an identifier-like, human-readable name. */
static void write_rule_name(struct fsan_json *w, const char *id)
{
    char name[128];
    size_t n = 0;
    int upper = 1;

    for (const char *p = id; *p && n + 1 < sizeof name; p++) {
        if (*p == '-') {
            upper = 1;
            continue;
        }
        name[n++] = upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        upper = 0;
    }
    name[n] = '\0';
    fsan_json_member_string(w, "name", name);
}

/* Markdown text with every character that could start markup escaped, so
 * that catalogue prose such as "pthread_atfork" or "*args" stays literal. */
static void put_markdown_text(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (strchr("\\`*_[]<>#|", *p))
            fputc('\\', out);
        fputc(*p, out);
    }
}

/* A fenced code block whose fence is longer than any backtick run inside,
 * so the example cannot close it early. */
static void put_markdown_code(FILE *out, const char *code)
{
    size_t longest = 0, run = 0;

    for (const char *p = code; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    for (size_t i = 0; i < fence; i++)
        fputc('`', out);
    fprintf(out, "\n%s\n", code);
    for (size_t i = 0; i < fence; i++)
        fputc('`', out);
    fputc('\n', out);
}

/* Builds the help text (plain or markdown) in a memory stream and writes it
 * as one JSON string. */
static void write_rule_help(struct sarif_ctx *c, const struct fsan_rule_info *rule, int markdown)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);

    if (!m) {
        c->error = c->error ? c->error : -ENOMEM;
        fsan_json_null(&c->w);
        return;
    }
    if (markdown) {
        fputs("**", m);
        put_markdown_text(m, rule->title);
        fputs("**\n\n", m);
        put_markdown_text(m, rule->explanation);
        fputs("\n\n**Fix in C:** ", m);
        put_markdown_text(m, rule->fix_c);
        fputs("\n\n**Fix in Python:** ", m);
        put_markdown_text(m, rule->fix_python);
        fputs("\n\n**Example:**\n\n", m);
        put_markdown_code(m, rule->example);
    } else {
        fprintf(m, "%s\n\n%s\n\nFix in C: %s\n\nFix in Python: %s\n\nExample: %s\n", rule->title,
                rule->explanation, rule->fix_c, rule->fix_python, rule->example);
    }
    if (fclose(m) != 0 || !text) {
        c->error = c->error ? c->error : -ENOMEM;
        fsan_json_null(&c->w);
    } else {
        fsan_json_string(&c->w, text);
    }
    free(text);
}

static void write_rule(struct sarif_ctx *c, const struct fsan_rule_info *rule)
{
    struct fsan_json *w = &c->w;

    fsan_json_begin_object(w);
    fsan_json_member_string(w, "id", rule->id);
    write_rule_name(w, rule->id);
    member_message(w, "shortDescription", rule->title);
    member_message(w, "fullDescription", rule->explanation);
    fsan_json_key(w, "help");
    fsan_json_begin_object(w);
    fsan_json_key(w, "text");
    write_rule_help(c, rule, 0);
    fsan_json_key(w, "markdown");
    write_rule_help(c, rule, 1);
    fsan_json_end_object(w);
    fsan_json_key(w, "defaultConfiguration");
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "level", sarif_level(rule->default_severity));
    fsan_json_end_object(w);
    fsan_json_end_object(w);
}

static void write_tool(struct sarif_ctx *c, const struct fsan_report *r)
{
    struct fsan_json *w = &c->w;

    fsan_json_key(w, "tool");
    fsan_json_begin_object(w);
    fsan_json_key(w, "driver");
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "name", "forksan");
    fsan_json_member_string(w, "fullName", "forksan fork-hazard sanitizer");
    if (r->tool_version)
        fsan_json_member_string(w, "version", r->tool_version);
    fsan_json_key(w, "rules");
    fsan_json_begin_array(w);
    for (int i = 0; i < FSAN_RULE_COUNT; i++)
        write_rule(c, fsan_rule_info((enum fsan_rule_index)i));
    fsan_json_end_array(w);
    fsan_json_end_object(w);
    fsan_json_end_object(w);
}

/* ---- the run ------------------------------------------------------------- */

/* The invocation describes the watched command: SARIF has no better home
 * for its exit status, and the report's notices (a truncated trace, a
 * command that could not be watched) are exactly what
 * toolExecutionNotifications are for.  executionSuccessful is false only
 * when some trace could not be written whole (a full disk): the analysis
 * then saw less than the run did. */
static void write_invocation(struct sarif_ctx *c, const struct fsan_report *r)
{
    struct fsan_json *w = &c->w;

    fsan_json_key(w, "invocations");
    fsan_json_begin_array(w);
    fsan_json_begin_object(w);
    fsan_json_key(w, "executionSuccessful");
    fsan_json_bool(w, r->incomplete == 0 && r->unreadable == 0);
    if (r->exit_status >= 0)
        fsan_json_member_int(w, "exitCode", r->exit_status);
    if (r->nnotices > 0) {
        fsan_json_key(w, "toolExecutionNotifications");
        fsan_json_begin_array(w);
        for (size_t i = 0; i < r->nnotices; i++) {
            fsan_json_begin_object(w);
            fsan_json_member_string(w, "level", "warning");
            member_message(w, "message", r->notices[i]);
            fsan_json_end_object(w);
        }
        fsan_json_end_array(w);
    }
    fsan_json_key(w, "properties");
    fsan_json_begin_object(w);
    fsan_json_key(w, "command");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < r->ncommand; i++)
        fsan_json_string(w, r->command[i]);
    fsan_json_end_array(w);
    fsan_json_end_object(w);
    fsan_json_end_object(w);
    fsan_json_end_array(w);
}

static void write_srcroot(struct sarif_ctx *c)
{
    struct fsan_json *w = &c->w;

    if (!c->srcroot_len)
        return;
    fsan_json_key(w, "originalUriBaseIds");
    fsan_json_begin_object(w);
    fsan_json_key(w, SRCROOT);
    fsan_json_begin_object(w);
    fsan_json_key(w, "uri");
    if (write_uri(w, "file://", c->srcroot) < 0) {
        fsan_json_null(w);
        c->error = c->error ? c->error : -ENOMEM;
    }
    fsan_json_end_object(w);
    fsan_json_end_object(w);
}

/* What has no SARIF object of its own: suppression bookkeeping and the
 * baseline's fixed findings (kept out of results, where code scanning
 * services would show them as open). */
static void write_run_properties(struct sarif_ctx *c, const struct fsan_report *r)
{
    struct fsan_json *w = &c->w;

    fsan_json_key(w, "properties");
    fsan_json_begin_object(w);
    fsan_json_key(w, "suppressed");
    fsan_json_uint(w, r->nsuppressed);
    fsan_json_key(w, "unmatchedSuppressions");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < r->nunmatched; i++)
        fsan_json_string(w, r->unmatched_suppressions[i]);
    fsan_json_end_array(w);
    if (r->has_baseline) {
        fsan_json_key(w, "fixed");
        fsan_json_begin_array(w);
        for (size_t i = 0; i < r->nfixed; i++) {
            const struct fsan_fixed_finding *x = &r->fixed[i];
            fsan_json_begin_object(w);
            fsan_json_member_string(w, "ruleId", x->rule);
            fsan_json_member_string(w, "level", sarif_level(x->severity));
            fsan_json_member_string(w, "message", x->message);
            fsan_json_member_string(w, "fingerprint", x->fingerprint);
            fsan_json_end_object(w);
        }
        fsan_json_end_array(w);
    }
    fsan_json_end_object(w);
}

int fsan_render_sarif(FILE *out, const struct fsan_report *r)
{
    struct sarif_ctx *c;
    int rc;

    if (out == NULL || r == NULL)
        return -EINVAL;
    /* PATH_MAX bytes are too many for the stack of a library function. */
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    init_srcroot(c);
    fsan_json_init(&c->w, out);
    fsan_json_begin_object(&c->w);
    fsan_json_member_string(&c->w, "$schema", SARIF_SCHEMA_URI);
    fsan_json_member_string(&c->w, "version", "2.1.0");
    fsan_json_key(&c->w, "runs");
    fsan_json_begin_array(&c->w);
    fsan_json_begin_object(&c->w);
    write_tool(c, r);
    write_invocation(c, r);
    write_srcroot(c);
    fsan_json_key(&c->w, "results");
    fsan_json_begin_array(&c->w);
    for (size_t i = 0; i < r->nfindings; i++)
        write_result(c, &r->findings[i]);
    fsan_json_end_array(&c->w);
    write_run_properties(c, r);
    fsan_json_end_object(&c->w);
    fsan_json_end_array(&c->w);
    fsan_json_end_object(&c->w);
    rc = fsan_json_finish(&c->w);
    if (c->error)
        rc = c->error;
    free(c);
    return rc;
}

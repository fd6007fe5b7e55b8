/* render_json.c — the machine-readable report (`--format json`).
 *
 * The schema, one object:
 *
 *   tool        {"name": "forksan", "version": string}
 *   command     [string, …]   argv of the watched command, may be empty
 *   exit_status int, or null when unknown
 *   processes   [{pid, ppid, exe (string|null), forked_by_tid (int|null,
 *                 null when not a fork child), threads_at_fork, execed (bool),
 *                 exit ({how, status} | null when unknown)}, …]
 *   findings    [{rule, severity ("error"|"warning"|"note"), message,
 *                 fingerprint, count, pids [int, …],
 *                 locations [{role, thread ({tid, name (string|null)} | null),
 *                   description (string|null),
 *                   frames [{function, file, line (int|null), module,
 *                     address ("0x…"), module_offset ("0x…"), language}, …]
 *                 }, …]}, …]
 *   notices     [string, …]
 *   summary     {"error": n, "warning": n, "note": n}  (findings, not processes),
 *               and "incomplete_traces": n, processes whose traces could not
 *               be written whole (a full disk): then findings may be missing;
 *               forksan lint adds "files": n examined and "unreadable_files": n
 *   findings[].baseline  "new" | "unchanged", or null without --baseline
 *   fixed       [{rule, severity, message, fingerprint}, …] baseline findings
 *               this run no longer has, or null without --baseline
 *   suppressions {"suppressed": n, "unmatched": ["FILE:LINE: TEXT", …]}
 *
 * Every string that may be unknown is null rather than "" or absent, so a
 * consumer can tell "unknown" from "empty" and never meets a missing key.
 * Frames are innermost first, as in the text report.
 *
 * DESIGN
 * The schema is a public interface (CI scripts and dashboards read it), so
 * this file is deliberately a flat transcription of it: one small function
 * per object type, in schema order, with every key written unconditionally.
 * Adding a key is compatible; renaming, removing or changing a type is not.
 * Addresses are strings in hex because JSON numbers are doubles in most
 * readers and lose precision above 2^53, and because people compare them
 * with hex addresses from other tools.  All formatting and escaping lives in
 * jsonw.c; this file never writes a byte by itself.
 */
#include <errno.h>

#include "jsonw.h"
#include "model.h"
#include "render.h"

/* ---- small helpers for "key": value ------------------------------------- */

/* An int, or null when the model marks it unknown; what "unknown" means
 * differs per field (0 for a tid or line, negative for an exit status), so
 * the caller decides. */
static void member_int_or_null(struct fsan_json *w, const char *key, long long value, int known)
{
    fsan_json_key(w, key);
    if (known)
        fsan_json_int(w, value);
    else
        fsan_json_null(w);
}

static void member_hex(struct fsan_json *w, const char *key, uint64_t value)
{
    fsan_json_key(w, key);
    fsan_json_hex(w, value);
}

static void string_array(struct fsan_json *w, const char *key, char *const *strings, size_t n)
{
    fsan_json_key(w, key);
    fsan_json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        fsan_json_string(w, strings[i]);
    fsan_json_end_array(w);
}

/* ---- processes ----------------------------------------------------------- */

static void write_exit(struct fsan_json *w, const struct fsan_exit_info *e)
{
    fsan_json_key(w, "exit");
    if (!e->known) {
        fsan_json_null(w);
        return;
    }
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "how", e->how);
    member_int_or_null(w, "status", e->status, e->status >= 0);
    fsan_json_end_object(w);
}

static void write_process(struct fsan_json *w, const struct fsan_process *p)
{
    fsan_json_begin_object(w);
    fsan_json_member_int(w, "pid", p->pid);
    fsan_json_member_int(w, "ppid", p->ppid);
    fsan_json_member_string(w, "exe", p->exe);
    member_int_or_null(w, "forked_by_tid", p->forked_by_tid, p->forked_by_tid != 0);
    fsan_json_member_int(w, "threads_at_fork", p->threads_at_fork);
    fsan_json_key(w, "execed");
    fsan_json_bool(w, p->execed);
    write_exit(w, &p->exit);
    fsan_json_end_object(w);
}

/* ---- findings ------------------------------------------------------------ */

static void write_frame(struct fsan_json *w, const struct fsan_frame *f)
{
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "function", f->function);
    fsan_json_member_string(w, "file", f->file);
    member_int_or_null(w, "line", f->line, f->line != 0);
    fsan_json_member_string(w, "module", f->module);
    member_hex(w, "address", f->address);
    member_hex(w, "module_offset", f->module_offset);
    fsan_json_member_string(w, "language", f->language);
    fsan_json_end_object(w);
}

static void write_thread(struct fsan_json *w, const struct fsan_location *l)
{
    fsan_json_key(w, "thread");
    if (!l->has_thread) {
        fsan_json_null(w);
        return;
    }
    fsan_json_begin_object(w);
    fsan_json_member_int(w, "tid", l->tid);
    fsan_json_member_string(w, "name", l->thread_name);
    fsan_json_end_object(w);
}

static void write_location(struct fsan_json *w, const struct fsan_location *l)
{
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "role", l->role);
    write_thread(w, l);
    fsan_json_member_string(w, "description", l->description);
    fsan_json_key(w, "frames");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < l->nframes; i++)
        write_frame(w, &l->frames[i]);
    fsan_json_end_array(w);
    fsan_json_end_object(w);
}

static void write_finding(struct fsan_json *w, const struct fsan_finding *f)
{
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "rule", f->rule);
    fsan_json_member_string(w, "severity", fsan_severity_name(f->severity));
    fsan_json_member_string(w, "message", f->message);
    fsan_json_member_string(w, "fingerprint", f->fingerprint);
    fsan_json_key(w, "count");
    fsan_json_uint(w, f->count);
    fsan_json_key(w, "pids");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < f->npids; i++)
        fsan_json_int(w, f->pids[i]);
    fsan_json_end_array(w);
    fsan_json_key(w, "locations");
    fsan_json_begin_array(w);
    for (size_t i = 0; i < f->nlocations; i++)
        write_location(w, &f->locations[i]);
    fsan_json_end_array(w);
    fsan_json_member_string(w, "baseline", f->baseline);
    fsan_json_end_object(w);
}

/* ---- baseline and suppressions ------------------------------------------- */

static void write_fixed(struct fsan_json *w, const struct fsan_report *r)
{
    fsan_json_key(w, "fixed");
    if (!r->has_baseline) {
        fsan_json_null(w);
        return;
    }
    fsan_json_begin_array(w);
    for (size_t i = 0; i < r->nfixed; i++) {
        fsan_json_begin_object(w);
        fsan_json_member_string(w, "rule", r->fixed[i].rule);
        fsan_json_member_string(w, "severity", fsan_severity_name(r->fixed[i].severity));
        fsan_json_member_string(w, "message", r->fixed[i].message);
        fsan_json_member_string(w, "fingerprint", r->fixed[i].fingerprint);
        fsan_json_end_object(w);
    }
    fsan_json_end_array(w);
}

static void write_suppressions(struct fsan_json *w, const struct fsan_report *r)
{
    fsan_json_key(w, "suppressions");
    fsan_json_begin_object(w);
    fsan_json_key(w, "suppressed");
    fsan_json_uint(w, r->nsuppressed);
    string_array(w, "unmatched", r->unmatched_suppressions, r->nunmatched);
    fsan_json_end_object(w);
}

/* ---- the document -------------------------------------------------------- */

static void write_tool(struct fsan_json *w, const struct fsan_report *r)
{
    fsan_json_key(w, "tool");
    fsan_json_begin_object(w);
    fsan_json_member_string(w, "name", "forksan");
    fsan_json_member_string(w, "version", r->tool_version);
    fsan_json_end_object(w);
}

/* The summary counts findings (merged across processes), the same numbers
 * the text report's SUMMARY line gives. */
static void write_summary(struct fsan_json *w, const struct fsan_report *r)
{
    size_t count[FSAN_SEV_ERROR + 1] = {0};

    for (size_t i = 0; i < r->nfindings; i++)
        if ((unsigned)r->findings[i].severity <= FSAN_SEV_ERROR)
            count[r->findings[i].severity]++;
    fsan_json_key(w, "summary");
    fsan_json_begin_object(w);
    fsan_json_member_int(w, "error", (long long)count[FSAN_SEV_ERROR]);
    fsan_json_member_int(w, "warning", (long long)count[FSAN_SEV_WARNING]);
    fsan_json_member_int(w, "note", (long long)count[FSAN_SEV_NOTE]);
    fsan_json_member_int(w, "incomplete_traces", (long long)r->incomplete);
    if (r->lint) {
        fsan_json_member_int(w, "files", (long long)r->files);
        fsan_json_member_int(w, "unreadable_files", (long long)r->unreadable);
    }
    fsan_json_end_object(w);
}

int fsan_render_json(FILE *out, const struct fsan_report *r)
{
    struct fsan_json w;

    if (out == NULL || r == NULL)
        return -EINVAL;
    fsan_json_init(&w, out);
    fsan_json_begin_object(&w);
    write_tool(&w, r);
    string_array(&w, "command", r->command, r->ncommand);
    member_int_or_null(&w, "exit_status", r->exit_status, r->exit_status >= 0);
    fsan_json_key(&w, "processes");
    fsan_json_begin_array(&w);
    for (size_t i = 0; i < r->nprocesses; i++)
        write_process(&w, &r->processes[i]);
    fsan_json_end_array(&w);
    fsan_json_key(&w, "findings");
    fsan_json_begin_array(&w);
    for (size_t i = 0; i < r->nfindings; i++)
        write_finding(&w, &r->findings[i]);
    fsan_json_end_array(&w);
    string_array(&w, "notices", r->notices, r->nnotices);
    write_summary(&w, r);
    write_fixed(&w, r);
    write_suppressions(&w, r);
    fsan_json_end_object(&w);
    return fsan_json_finish(&w);
}

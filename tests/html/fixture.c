/* fixture.c — a hand-built report for the HTML check: `fixture PAGE JSON`
 * writes it with fsan_render_html and fsan_render_json.
 *
 * Real runs cannot yet give everything the page must handle — the analyzer
 * does not record Python frames, and a run has only the processes its
 * scenario makes — so this report has them on purpose: Python frames with
 * markup and quotes in the file name, native frames without a file or a
 * symbol or a module, a finding seen in several processes, a finding whose
 * pid is in no process (it goes to the "other" row), a process whose start
 * time is unknown, exits by signal and by exec and an unknown one, and a
 * notice with markup.  The check loads the page like the real ones and
 * compares it with the JSON of the very same model.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "render.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct fsan_frame py_frames[] = {
    {"handler", "app/<x>\"q\".py", 7, NULL, 0, 0, "python"},
    {"PyEval_EvalCode", NULL, 0, "/usr/bin/python3.11", 0x5236bb, 0x1236bb, "c"},
    {"<module>", "main.py", 0, NULL, 0, 0, "python"},
    {NULL, NULL, 0, "/usr/bin/python3.11", 0x647d97, 0x247d97, "c"},
    {NULL, NULL, 0, NULL, 0xdeadbeef, 0, "c"},
};

static struct fsan_frame c_frames[] = {
    {"take</pre><b>lock", "src/a&b.c", 12, "/opt/app", 0x401136, 0x1136, "c"},
    {"start_thread", "./nptl/pthread_create.c", 442, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x7f00000891f5,
     0x891f5, "c"},
};

static struct fsan_location loc_a[] = {
    {"attempt", 1, 101, NULL, "the child tries to take the lock at:", py_frames, N(py_frames)},
    {"acquired", 1, 99, "<img src=x onerror=alert(1)>", NULL, c_frames, N(c_frames)},
};

static struct fsan_location loc_b[] = {
    {"use", 0, 0, NULL, NULL, c_frames, 1},
    {"check", 1, 105, "w\n\x1b[31m", "pid checked at:", NULL, 0},
};

static int pids_a[] = {101};
static int pids_b[] = {999};
static int pids_c[] = {101, 102, 103};

static struct fsan_finding findings[] = {
    {"child-deadlock", FSAN_SEV_ERROR, "blocks on <lock> & \"waits\" forever", "0123456789abcdef", 1, pids_a,
     N(pids_a), loc_a, N(loc_a), "new"},
    {"orphaned-lock", FSAN_SEV_WARNING, "a pid that is no process", "fedcba9876543210", 1, pids_b, N(pids_b),
     loc_b, N(loc_b), NULL},
    {"threads-at-fork", FSAN_SEV_NOTE, "seen in three children", "00000000deadbeef", 3, pids_c, N(pids_c),
     NULL, 0, NULL},
};

#define T0 1764106000000000000ull

static struct fsan_process processes[] = {
    {100, 1, "/opt/app/server", 0, 0, 0, 0, {1, "exit", 0}, T0, NULL},
    {101, 100, "/opt/app/server", 100, 3, 1, 0, {1, "signal", 9}, T0 + 2500000, "main server.c:40"},
    {102, 100, "/bin/sh", 100, 3, 1, 1, {1, "exec", 0}, T0 + 7000000, "spawn server.c:88"},
    {103, 101, "/opt/app/<server>", 101, 1, 1, 0, {0, NULL, 0}, 0, NULL},
};

static char *command[] = {"/opt/app/server", "--flag=<a&b>"};
static char *notices[] = {"trace truncated <here> & there"};

int main(int argc, char **argv)
{
    struct fsan_report r;
    FILE *page, *json;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: fixture PAGE JSON\n");
        return 2;
    }
    memset(&r, 0, sizeof r);
    r.tool_version = "fixture";
    r.command = command;
    r.ncommand = N(command);
    r.exit_status = 0;
    r.processes = processes;
    r.nprocesses = N(processes);
    r.findings = findings;
    r.nfindings = N(findings);
    r.notices = notices;
    r.nnotices = N(notices);
    page = fopen(argv[1], "w");
    json = fopen(argv[2], "w");
    if (page == NULL || json == NULL) {
        perror("fixture");
        return 1;
    }
    rc = fsan_render_html(page, &r) | fsan_render_json(json, &r);
    if (fclose(page) != 0 || fclose(json) != 0 || rc != 0) {
        fprintf(stderr, "fixture: writing failed\n");
        return 1;
    }
    return 0;
}

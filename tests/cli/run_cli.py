#!/usr/bin/env python3
"""run_cli.py — checks of the `forksan` command itself: help and version,
bad input (unknown command, bad option values, malformed FORKSAN_OPTIONS,
an unusable trace directory, a statically linked program), damaged traces
(corrupt and truncated files), and the exit-status contract (66 when a
finding reaches --fail-on, the command's own status otherwise).

Every check names what it asserts and fails for exactly that reason.  The
programs come from BUILD/scenarios (built by `make scenarios`); a static
test program is compiled here when libc.a is installed, else that check is
skipped.

Output: one line per check, "ok NAME", "FAIL NAME: why" (with details
indented below) or "skip NAME: why", then the plain summary line
"N passed, N failed".  Exit status 1 when any check failed.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 30
USAGE = 2
NOT_FOUND = 127
DEFAULT_EXITCODE = 66

# The trace format (probes/trace_format.h): a 16-byte file header, then
# records of an 8-byte header {u16 type; u16 flags; u32 size} + payload.
FILE_HEADER = 16
RECORD_HEADER = struct.Struct("<HHI")
REC_MAPS = 2


class Skip(Exception):
    pass


class Checks:
    def __init__(self, build, work):
        self.build, self.work = build, work
        self.forksan = os.path.join(build, "bin", "forksan")
        self.passed = self.failed = self.skipped = 0
        self._real_run = None

    # ---- helpers -------------------------------------------------------------

    def program(self, name):
        path = os.path.join(self.build, "scenarios", name)
        if not os.access(path, os.X_OK):
            raise AssertionError("scenario program %s is not built (run make scenarios)" % path)
        return path

    def run(self, args, env_extra=None, env_drop=("FORKSAN_OPTIONS",)):
        env = dict(os.environ)
        for k in env_drop:
            env.pop(k, None)
        env.update(env_extra or {})
        return subprocess.run([self.forksan] + args, capture_output=True, text=True, timeout=TIMEOUT, cwd=self.work,
                              env=env)

    def real_run(self):
        """One real run with findings, its traces kept: `forksan run
        --trace-dir DIR -- mutex_forker_normal 7` (the forker relocks a
        mutex it held at fork: child-deadlock; the program exits 7)."""
        if self._real_run is None:
            tdir = os.path.join(self.work, "real-traces")
            proc = self.run(["run", "--trace-dir", tdir, "--", self.program("mutex_forker_normal"), "7"])
            traces = sorted(n for n in os.listdir(tdir) if n.startswith("forksan.") and n.endswith(".trace")) \
                if os.path.isdir(tdir) else []
            self._real_run = (proc, tdir, traces)
        return self._real_run

    def real_traces(self):
        proc, tdir, traces = self.real_run()
        if not traces:
            raise AssertionError("the real run left no traces in %s; stderr:\n%s" % (tdir, proc.stderr))
        return tdir, traces

    def check(self, name, fn):
        try:
            problem = fn()
        except Skip as exc:
            self.skipped += 1
            print("skip %s: %s" % (name, exc))
            sys.stdout.flush()
            return
        except subprocess.TimeoutExpired as exc:
            problem = "timed out after %ss: %s" % (exc.timeout, " ".join(map(str, exc.cmd)))
        except AssertionError as exc:
            problem = str(exc)
        if problem:
            self.failed += 1
            first, _, rest = problem.partition("\n")
            print("FAIL %s: %s" % (name, first))
            if rest:
                print("     " + rest.rstrip().replace("\n", "\n     "))
        else:
            self.passed += 1
            print("ok %s" % name)
        sys.stdout.flush()


def show(proc):
    return "exit %d\nstdout: %r\nstderr: %r" % (proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:])


def records(data):
    """(offset, type, size) of every whole record of a trace file."""
    out, off = [], FILE_HEADER
    while off + RECORD_HEADER.size <= len(data):
        rtype, _, size = RECORD_HEADER.unpack_from(data, off)
        out.append((off, rtype, size))
        off += RECORD_HEADER.size + size
    return out


def version_from_makefile():
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M)
    return m.group(1) if m else None


# ---- the checks ------------------------------------------------------------------

def check_help(c):
    proc = c.run(["--help"])
    if proc.returncode != 0:
        return "--help exited %d, expected 0\n%s" % (proc.returncode, show(proc))
    missing = [w for w in ("forksan run", "forksan report", "forksan explain") if w not in proc.stdout]
    if missing:
        return "--help on stdout does not mention %s\n%s" % (", ".join(missing), show(proc))
    return None


def check_version(c):
    proc = c.run(["--version"])
    want = version_from_makefile()
    if proc.returncode != 0:
        return "--version exited %d, expected 0\n%s" % (proc.returncode, show(proc))
    if proc.stdout != "forksan %s\n" % want:
        return "--version printed %r, expected %r (VERSION in the Makefile)" % (proc.stdout, "forksan %s\n" % want)
    return None


def check_command_not_found(c):
    proc = c.run(["run", "--", "no-such-command-xyz"])
    lines = proc.stderr.splitlines()
    if proc.returncode != NOT_FOUND:
        return "exit %d, expected %d\n%s" % (proc.returncode, NOT_FOUND, show(proc))
    if len(lines) != 1 or "command not found" not in lines[0] or "no-such-command-xyz" not in lines[0]:
        return "stderr is not one line naming the command and saying 'command not found'\n%s" % show(proc)
    return None


def check_bad_format(c):
    proc = c.run(["run", "--format", "yaml", "--", "echo", "the-command-ran"])
    if proc.returncode != USAGE:
        return "exit %d, expected %d\n%s" % (proc.returncode, USAGE, show(proc))
    if "yaml" not in proc.stderr:
        return "the error does not name the bad value 'yaml'\n%s" % show(proc)
    if "the-command-ran" in proc.stdout:
        return "the command ran despite the usage error\n%s" % show(proc)
    return None


def check_bad_runtime_option(c):
    proc = c.run(["run", "--", "echo", "the-command-ran"], env_extra={"FORKSAN_OPTIONS": "mode=loud"})
    if proc.returncode != USAGE:
        return "exit %d, expected %d\n%s" % (proc.returncode, USAGE, show(proc))
    if "mode" not in proc.stderr or "loud" not in proc.stderr or "FORKSAN_OPTIONS" not in proc.stderr:
        return "the error does not name FORKSAN_OPTIONS, the option 'mode' and the value 'loud'\n%s" % show(proc)
    if "the-command-ran" in proc.stdout:
        return "the command ran despite the bad option\n%s" % show(proc)
    return None


def check_bad_runtime_option_range(c):
    proc = c.run(["run", "--", "echo", "the-command-ran"], env_extra={"FORKSAN_OPTIONS": "exitcode=999"})
    if proc.returncode != USAGE:
        return "exit %d, expected %d\n%s" % (proc.returncode, USAGE, show(proc))
    if "exitcode" not in proc.stderr or "999" not in proc.stderr:
        return "the error does not name the option 'exitcode' and the value '999'\n%s" % show(proc)
    if "the-command-ran" in proc.stdout:
        return "the command ran despite the bad option\n%s" % show(proc)
    return None


def check_unwritable_trace_dir(c):
    bad = "/proc/forksan-x"
    proc = c.run(["run", "--trace-dir", bad, "--", "echo", "the-command-ran"])
    if proc.returncode != USAGE:
        return "exit %d, expected %d\n%s" % (proc.returncode, USAGE, show(proc))
    lines = proc.stderr.splitlines()
    if not lines or bad not in proc.stderr or "trace dir" not in proc.stderr:
        return "stderr does not say which trace directory failed\n%s" % show(proc)
    if "the-command-ran" in proc.stdout:
        return "the command ran although its traces could not be kept\n%s" % show(proc)
    return None


def check_static_program(c):
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libc.a") and not os.path.exists("/usr/lib/libc.a"):
        raise Skip("no libc.a: cannot build a statically linked program")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise Skip("no C compiler")
    src = os.path.join(c.work, "static_hello.c")
    exe = os.path.join(c.work, "static_hello")
    with open(src, "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("static program ran"); return 5; }\n')
    build = subprocess.run([cc, "-static", "-o", exe, src], capture_output=True, text=True, timeout=TIMEOUT)
    if build.returncode != 0:
        raise Skip("cc -static failed: %s" % build.stderr.strip().splitlines()[-1:])
    proc = c.run(["run", "--", exe])
    if "statically linked" not in proc.stderr:
        return "no warning mentioning 'statically linked'\n%s" % show(proc)
    if "static program ran" not in proc.stdout:
        return "the static program's own output is missing (it must still run)\n%s" % show(proc)
    if proc.returncode != 5:
        return "exit %d, expected the program's own 5\n%s" % (proc.returncode, show(proc))
    return None


def check_report_missing_dir(c):
    missing = os.path.join(c.work, "no-such-trace-dir")
    proc = c.run(["report", missing])
    if proc.returncode != USAGE:
        return "exit %d, expected %d\n%s" % (proc.returncode, USAGE, show(proc))
    if missing not in proc.stderr:
        return "the error does not name the directory\n%s" % show(proc)
    return None


def check_exit_status_fail_on_default(c):
    proc, tdir, traces = c.real_run()
    if proc.returncode != DEFAULT_EXITCODE:
        return "forksan run on a child-deadlock exited %d, expected %d (default --fail-on error)\n%s" % (
            proc.returncode, DEFAULT_EXITCODE, show(proc))
    if "child-deadlock" not in proc.stderr:
        return "the report on stderr does not mention child-deadlock\n%s" % show(proc)
    return None


def check_exit_status_fail_on_never(c):
    proc = c.run(["run", "--fail-on", "never", "--", c.program("mutex_forker_normal"), "7"])
    if proc.returncode != 7:
        return "exit %d, expected the command's own 7 with --fail-on never\n%s" % (proc.returncode, show(proc))
    if "child-deadlock" not in proc.stderr:
        return "the finding is missing from the report (--fail-on never must not hide it)\n%s" % show(proc)
    return None


def check_exit_status_custom_exitcode(c):
    proc = c.run(["run", "--exitcode", "70", "--", c.program("mutex_forker_normal"), "7"])
    if proc.returncode != 70:
        return "exit %d, expected --exitcode 70\n%s" % (proc.returncode, show(proc))
    return None


def check_exit_status_clean(c):
    proc = c.run(["run", "--", c.program("single_thread_fork"), "5"])
    if proc.returncode != 5:
        return "a clean program exiting 5 made forksan exit %d, expected 5\n%s" % (proc.returncode, show(proc))
    return None


def check_report_exit_status(c):
    tdir, _ = c.real_traces()
    loud = c.run(["report", tdir])
    quiet = c.run(["report", "--fail-on", "never", tdir])
    if loud.returncode != DEFAULT_EXITCODE:
        return "forksan report on a child-deadlock exited %d, expected %d\n%s" % (
            loud.returncode, DEFAULT_EXITCODE, show(loud))
    if quiet.returncode != 0:
        return "forksan report --fail-on never exited %d, expected 0\n%s" % (quiet.returncode, show(quiet))
    return None


def load_json_report(c, tdir):
    out = os.path.join(c.work, "report-%s.json" % os.path.basename(tdir))
    proc = c.run(["report", "--format", "json", "-o", out, "--fail-on", "never", tdir])
    if proc.returncode < 0 or proc.returncode >= 128:
        raise AssertionError("forksan report crashed (exit %d)\n%s" % (proc.returncode, show(proc)))
    try:
        with open(out) as f:
            return proc, json.load(f)
    except (OSError, ValueError) as exc:
        raise AssertionError("no valid JSON report (%s)\n%s" % (exc, show(proc)))


def check_report_corrupt_trace(c):
    """A directory with the real run's traces plus forksan.1.trace: a copy
    of the child's trace whose second record has an unknown type.  The
    report must still render the child-deadlock from the good files and
    name the corrupt file and the offset of the bad record."""
    src, traces = c.real_traces()
    tdir = os.path.join(c.work, "corrupt-traces")
    os.mkdir(tdir, 0o700)
    for name in traces:
        shutil.copy(os.path.join(src, name), tdir)
    victim = max(traces, key=lambda n: os.path.getsize(os.path.join(src, n)))
    with open(os.path.join(src, victim), "rb") as f:
        data = bytearray(f.read())
    recs = records(data)
    if len(recs) < 2:
        return "the real trace %s has fewer than two records" % victim
    bad_offset = recs[1][0]
    struct.pack_into("<H", data, bad_offset, 0x7777)
    with open(os.path.join(tdir, "forksan.1.trace"), "wb") as f:
        f.write(data)

    text = c.run(["report", "--fail-on", "never", tdir])
    if text.returncode < 0 or text.returncode >= 128:
        return "forksan report crashed (exit %d)\n%s" % (text.returncode, show(text))
    if text.returncode != 0:
        return "forksan report exited %d, expected 0 with --fail-on never\n%s" % (text.returncode, show(text))
    both = text.stdout + text.stderr
    if "child-deadlock" not in both:
        return "the text report lost the finding from the good traces\n%s" % show(text)
    if not re.search(r"forksan\.1\.trace.*offset %d\b" % bad_offset, both):
        return "the text report does not name forksan.1.trace and offset %d\n%s" % (bad_offset, show(text))

    _, rep = load_json_report(c, tdir)
    if not any(f["rule"] == "child-deadlock" for f in rep["findings"]):
        return "the JSON report lost the finding from the good traces: %s" % [f["rule"] for f in rep["findings"]]
    if not any("forksan.1.trace" in n and ("offset %d" % bad_offset) in n for n in rep["notices"]):
        return "no JSON notice names forksan.1.trace and offset %d: %r" % (bad_offset, rep["notices"])
    return None


def check_report_truncated_trace(c):
    """A copy of the real run's traces in which the child's trace is cut in
    the middle of a record (as when the process is killed mid-write): a
    notice says the file is truncated and where; the report still renders."""
    src, traces = c.real_traces()
    tdir = os.path.join(c.work, "truncated-traces")
    os.mkdir(tdir, 0o700)
    for name in traces:
        shutil.copy(os.path.join(src, name), tdir)
    victim = max(traces, key=lambda n: os.path.getsize(os.path.join(src, n)))
    with open(os.path.join(src, victim), "rb") as f:
        data = f.read()
    recs = records(data)
    cut = [r for r in recs if r[1] == REC_MAPS and r[2] > 16]
    if not cut:
        return "the real trace %s has no maps record to cut" % victim
    cut_offset, _, cut_size = cut[0]
    with open(os.path.join(tdir, victim), "wb") as f:
        f.write(data[:cut_offset + RECORD_HEADER.size + cut_size // 2])

    text = c.run(["report", "--fail-on", "never", tdir])
    if text.returncode < 0 or text.returncode >= 128:
        return "forksan report crashed (exit %d)\n%s" % (text.returncode, show(text))
    both = text.stdout + text.stderr
    if not re.search(r"%s.*truncated.*offset %d\b" % (re.escape(victim), cut_offset), both):
        return "the text report has no notice that %s is truncated at offset %d\n%s" % (victim, cut_offset, show(text))
    if "SUMMARY:" not in both:
        return "the text report did not render (no SUMMARY line)\n%s" % show(text)
    _, rep = load_json_report(c, tdir)
    if not any(victim in n and "truncated" in n for n in rep["notices"]):
        return "no JSON notice says %s is truncated: %r" % (victim, rep["notices"])
    return None


def check_explain(c):
    proc = c.run(["explain", "child-deadlock"])
    if proc.returncode != 0:
        return "exit %d, expected 0\n%s" % (proc.returncode, show(proc))
    if not proc.stdout.startswith("child-deadlock") or "error" not in proc.stdout.splitlines()[0]:
        return "the explanation does not start with the rule id and its severity\n%s" % show(proc)
    return None


def check_explain_unknown(c):
    proc = c.run(["explain", "no-such-rule"])
    if proc.returncode != USAGE:
        return "exit %d, expected %d for an unknown rule\n%s" % (proc.returncode, USAGE, show(proc))
    if "no-such-rule" not in proc.stderr:
        return "the error does not name the unknown rule\n%s" % show(proc)
    return None


CHECKS = [
    ("help", check_help),
    ("version", check_version),
    ("run-command-not-found", check_command_not_found),
    ("run-bad-format", check_bad_format),
    ("run-bad-FORKSAN_OPTIONS-value", check_bad_runtime_option),
    ("run-FORKSAN_OPTIONS-out-of-range", check_bad_runtime_option_range),
    ("run-unwritable-trace-dir", check_unwritable_trace_dir),
    ("run-static-program", check_static_program),
    ("report-missing-dir", check_report_missing_dir),
    ("report-corrupt-trace", check_report_corrupt_trace),
    ("report-truncated-trace", check_report_truncated_trace),
    ("exit-66-on-child-deadlock", check_exit_status_fail_on_default),
    ("exit-own-status-with-fail-on-never", check_exit_status_fail_on_never),
    ("exit-custom-exitcode", check_exit_status_custom_exitcode),
    ("exit-own-status-when-clean", check_exit_status_clean),
    ("report-exit-status", check_report_exit_status),
    ("explain-child-deadlock", check_explain),
    ("explain-unknown-rule", check_explain_unknown),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("names", nargs="*", help="run only these checks")
    opts = parser.parse_args()
    build = os.path.abspath(opts.build)
    with tempfile.TemporaryDirectory(prefix="forksan-cli.") as work:
        c = Checks(build, work)
        for name, fn in CHECKS:
            if not opts.names or name in opts.names:
                c.check(name, lambda fn=fn: fn(c))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

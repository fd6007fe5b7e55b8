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
import glob
import json
import resource
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 30
USAGE = 2
NOT_FOUND = 127
DEFAULT_EXITCODE = 66

# The trace format (common/trace_format.h): a 16-byte file header, then
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


def check_command_needs_only_libc(c):
    """libdw, libelf, libunwind and Capstone are loaded when first needed
    (analyzer/dwlib.c, remote_stack.c, lint_fork.c): a library the command
    links is mapped and relocated at every start of it."""
    if not shutil.which("readelf"):
        raise Skip("readelf is not installed (binutils)")
    out = subprocess.run(["readelf", "-d", c.forksan], capture_output=True, text=True, timeout=TIMEOUT).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out)
    extra = [n for n in needed if not n.startswith(("libc.so", "ld-linux"))]
    if not needed or extra:
        return "the command links %s besides libc (NEEDED: %s)" % (", ".join(extra) or "nothing", ", ".join(needed))
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


def check_report_many_bad_traces(c):
    """Sixty copies of the real run's child trace, eighteen of them damaged
    (six truncated, six with an unknown record type, six from an older
    format).  The report still comes out with the finding of the good
    ones; the damage is told in one notice per kind, which names every bad
    file exactly once, instead of a line per file."""
    src, traces = c.real_traces()
    child = max(traces, key=lambda n: os.path.getsize(os.path.join(src, n)))
    with open(os.path.join(src, child), "rb") as f:
        good = f.read()
    recs = records(bytearray(good))
    tdir = os.path.join(c.work, "many-bad-traces")
    os.mkdir(tdir, 0o700)
    bad = {"truncated": [], "corrupt": [], "version": []}
    for i in range(60):
        name = "forksan.%d.trace" % (1000 + i)
        data = bytearray(good)
        kind = ("truncated", "corrupt", "version")[i % 3] if i < 18 else None
        if kind == "truncated":
            data = data[:recs[-1][0] + 3]
        elif kind == "corrupt":
            struct.pack_into("<H", data, recs[1][0], 0x7777)
        elif kind == "version":
            struct.pack_into("<I", data, 8, 4)
        if kind:
            bad[kind].append(name)
        with open(os.path.join(tdir, name), "wb") as f:
            f.write(data)
    _, rep = load_json_report(c, tdir)
    if not any(f["rule"] == "child-deadlock" for f in rep["findings"]):
        return "the finding of the good traces is lost: %s" % [f["rule"] for f in rep["findings"]]
    about = [n for n in rep["notices"] if "traces are" in n]
    if len(about) != 3:
        return "expected one notice per kind of damage (3), got %d: %r" % (len(about), rep["notices"])
    words = {"truncated": "truncated", "corrupt": "corrupt", "version": "another trace format version"}
    for kind, names in bad.items():
        notice = [n for n in about if words[kind] in n]
        if len(notice) != 1 or not notice[0].startswith("%d of 60 traces are" % len(names)):
            return "no notice counts the %d %s traces: %r" % (len(names), kind, about)
        listed = re.findall(r"forksan\.\d+\.trace", notice[0].split(" (the first: ")[0])
        if sorted(listed) != sorted(names):
            return "the %s notice does not name each such file once: %r" % (kind, listed)
    return None


def check_report_hostile_files(c):
    """The real run's traces plus what a hostile or broken program could
    leave in the trace directory: a FIFO and a link to /dev/zero under
    trace names, and a 102-byte trace whose SITE record claims id 16777216.
    The report must come out at once (no read blocks on the FIFO or runs
    forever on /dev/zero, no table grows to the claimed id), keep the real
    finding, and name each bad file in a notice."""
    src, traces = c.real_traces()
    tdir = os.path.join(c.work, "hostile-traces")
    os.mkdir(tdir, 0o700)
    for name in traces:
        shutil.copy(os.path.join(src, name), tdir)
    os.mkfifo(os.path.join(tdir, "forksan.2.trace"))
    os.symlink("/dev/zero", os.path.join(tdir, "forksan.3.trace"))
    with open(os.path.join(src, traces[0]), "rb") as f:
        real = f.read()
    off, _, size = records(bytearray(real))[0]
    process = real[off:off + RECORD_HEADER.size + size]  # the real PROCESS record, whole
    site = RECORD_HEADER.pack(3, 0, 16) + struct.pack("<IHHQ", 1 << 24, 0, 1, 0x401000)
    with open(os.path.join(tdir, "forksan.4.trace"), "wb") as f:
        f.write(real[:FILE_HEADER] + process + site)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    proc = c.run(["report", "--format", "json", "-o", os.path.join(c.work, "hostile.json"), "--fail-on", "never", tdir])
    took = time.monotonic() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        return "forksan report exited %d\n%s" % (proc.returncode, show(proc))
    if took > 5:
        return "the report took %.1fs" % took
    if rss_mb > 100 and rss_mb > before / 1024:
        return "forksan report used %d MB" % rss_mb
    with open(os.path.join(c.work, "hostile.json")) as f:
        rep = json.load(f)
    if not any(f["rule"] == "child-deadlock" for f in rep["findings"]):
        return "the report lost the real finding: %s" % [f["rule"] for f in rep["findings"]]
    for name, why in (("forksan.2.trace", "not a regular file"), ("forksan.3.trace", "symbolic link"),
                      ("forksan.4.trace", "offset")):
        if not any(name in n and why in n for n in rep["notices"]):
            return "no notice names %s (%s): %r" % (name, why, rep["notices"])
    return None


def check_run_fifo_planted_by_program(c):
    """The traced program itself plants a FIFO under a trace name in the
    trace directory it finds in FORKSAN_OPTIONS: `forksan run` still ends,
    with the program's status, and names the FIFO."""
    script = ('d=${FORKSAN_OPTIONS#*trace_dir=}; d=${d%%:*}; mkfifo "$d/forksan.999999.trace"; exit 3')
    proc = c.run(["run", "--format", "json", "-o", os.path.join(c.work, "fifo.json"), "--", "/bin/sh", "-c", script])
    if proc.returncode != 3:
        return "forksan run exited %d, expected the program's 3\n%s" % (proc.returncode, show(proc))
    with open(os.path.join(c.work, "fifo.json")) as f:
        rep = json.load(f)
    if not any("forksan.999999.trace" in n and "not a regular file" in n for n in rep["notices"]):
        return "no notice names the planted FIFO: %r" % rep["notices"]
    return None


def check_run_stopped_by_sigterm(c):
    """`timeout -s TERM 2 forksan run -- sleep 60`: forksan passes the
    signal on, reports, and ends, leaving no temporary trace directory
    behind; a command that ignores SIGTERM costs at most the grace period
    (3 s), then forksan reports without it."""
    tmp = os.path.join(c.work, "sigterm-tmp")
    os.mkdir(tmp, 0o700)
    env = dict(os.environ, TMPDIR=tmp)
    env.pop("FORKSAN_OPTIONS", None)
    t0 = time.monotonic()
    proc = subprocess.run(["timeout", "-s", "TERM", "2", c.forksan, "run", "--", "sleep", "60"], capture_output=True,
                          text=True, timeout=TIMEOUT, env=env)
    took = time.monotonic() - t0
    if took > 10:
        return "forksan run took %.1fs to end after SIGTERM" % took
    if "SUMMARY: forksan" not in proc.stderr:
        return "no report after SIGTERM\n%s" % show(proc)
    left = os.listdir(tmp)
    if left:
        return "temporary trace directory left behind: %s" % left
    # A command that ignores SIGTERM: forksan waits its grace period (3 s),
    # then reports without it.
    pidfile = os.path.join(c.work, "stubborn.pid")
    t0 = time.monotonic()
    proc = subprocess.run(["timeout", "-s", "TERM", "1", c.forksan, "run", "--", "/bin/sh", "-c",
                           "trap '' TERM; echo $$ > %s; exec sleep 30 </dev/null >/dev/null 2>&1" % pidfile],
                          capture_output=True, text=True, timeout=TIMEOUT, env=env)
    took = time.monotonic() - t0
    try:
        with open(pidfile) as f:
            os.kill(int(f.read()), signal.SIGKILL)
    except (OSError, ValueError):
        pass
    if took > 8 or "did not end within 3 s of SIGTERM" not in proc.stderr or "SUMMARY: forksan" not in proc.stderr:
        return "a command ignoring SIGTERM: forksan took %.1fs\n%s" % (took, show(proc))
    left = os.listdir(tmp)
    if left:
        return "temporary trace directory left behind after the grace period: %s" % left
    return None


def check_trace_dir_trust(c):
    """A trace directory other users can write into: `forksan run
    --trace-dir` refuses it (exit 2, naming the fix) before running
    anything; a bare preload uses it but warns.  A missing trace_dir of a
    bare preload is created, private (0700)."""
    open_dir = os.path.join(c.work, "world-writable")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o777)
    marker = os.path.join(c.work, "ran")
    proc = c.run(["run", "--trace-dir", open_dir, "--", "/bin/sh", "-c", "touch '%s'" % marker])
    if proc.returncode != 2 or "writable by other users" not in proc.stderr or "chmod 700" not in proc.stderr:
        return "forksan run did not refuse a 0777 trace directory (exit %d)\n%s" % (proc.returncode, show(proc))
    if os.path.exists(marker):
        return "the command ran although the trace directory was refused"
    runtime = os.path.join(c.build, "lib", "libforksan.so")
    env = dict(os.environ, LD_PRELOAD=runtime, FORKSAN_OPTIONS="trace_dir=" + open_dir)
    bare = subprocess.run(["/bin/true"], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    if "writable by every user" not in bare.stderr:
        return "a bare preload did not warn about a 0777 trace_dir: %r" % bare.stderr
    missing = os.path.join(c.work, "not-yet")
    env["FORKSAN_OPTIONS"] = "trace_dir=" + missing
    subprocess.run(["/bin/true"], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    if not os.path.isdir(missing) or (os.stat(missing).st_mode & 0o777) != 0o700:
        return "a bare preload did not create its missing trace_dir with mode 0700"
    return None


def check_hostile_names_escaped(c):
    """A Python thread whose name holds a terminal escape (OSC title, BEL),
    a C1 control, a right-to-left override and a backslash holds a lock at
    fork; the child takes the lock.  Neither the runtime's live report (bare
    preload, stderr) nor the command's text report writes any of those
    characters: each shows as its escape (forksan(1), OUTPUT)."""
    script = os.path.join(c.work, "hostile_name.py")
    with open(script, "w") as f:
        f.write(HOSTILE_NAME_SCRIPT % {"scenarios": os.path.join(ROOT, "tests", "scenarios")})
    shown = "evil\\x1b]0;pwn\\x07\\u009b\\u202e\\\\end"
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    proc = c.run(["run", "--", "/usr/bin/python3", script])
    runtime = os.path.join(c.build, "lib", "libforksan.so")
    tdir = os.path.join(c.work, "hostile-name-traces")
    env = dict(os.environ, LD_PRELOAD=runtime, FORKSAN_OPTIONS="trace_dir=" + tdir)
    bare = subprocess.run(["/usr/bin/python3", script], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    for what, text in (("forksan run's report", proc.stdout + proc.stderr), ("the runtime's live report", bare.stderr)):
        if "child-deadlock" not in text or shown not in text:
            return "%s does not show the escaped thread name %s\n%s" % (what, shown, text[-2000:])
        hit = bad.search(text)
        if hit:
            return "%s writes the raw character %r to the terminal" % (what, hit.group())
    return None


HOSTILE_NAME_SCRIPT = """import sys, threading, time
sys.path.insert(0, %(scenarios)r)
from pyfork import fork_child, wait_child_bounded
lock = threading.Lock()
holding = threading.Event()
done = False
def holder():
    with lock:
        holding.set()
        while not done:
            time.sleep(0.01)
t = threading.Thread(target=holder, name="evil\\x1b]0;pwn\\x07\\u009b\\u202e\\\\end")
t.start()
holding.wait(5)
pid = fork_child(lambda: lock.acquire())
wait_child_bounded(pid)
done = True
t.join()
"""


def check_full_disk(c):
    """The trace directory is on a full filesystem (a 64 KiB tmpfs filled
    before the run).  A child-deadlock the traces lose still reaches the
    report, from the runtime's live report through forksan run's FIFO; the
    report starts with a notice naming the incomplete traces and the cause;
    a run whose only trace is lost exits 74, never as clean; the FIFO is
    gone afterwards."""
    if os.geteuid() != 0:
        raise Skip("needs root to mount a small tmpfs")
    full = os.path.join(c.work, "full")
    os.mkdir(full)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", full]).returncode != 0:
        raise Skip("cannot mount a tmpfs here")
    try:
        try:
            with open(os.path.join(full, "filler"), "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass
        report = os.path.join(c.work, "full.json")
        proc = c.run(["run", "--format", "json", "-o", report, "--trace-dir", os.path.join(full, "a"), "--",
                      c.program("mutex_forker_normal"), "7"])
        if proc.returncode != 66:
            return "a lost child-deadlock: exit %d, expected 66\n%s" % (proc.returncode, show(proc))
        with open(report) as f:
            rep = json.load(f)
        if not rep["notices"] or not rep["notices"][0].startswith("incomplete traces:") \
                or "No space left on device" not in rep["notices"][0]:
            return "the first notice does not name the incomplete traces: %r" % rep["notices"][:2]
        if not any(f["rule"] == "child-deadlock" and f["severity"] == "error" for f in rep["findings"]):
            return "the live child-deadlock is missing from the report: %r" % rep["findings"]
        if rep["summary"].get("incomplete_traces", 0) < 1:
            return "summary.incomplete_traces is %r" % rep["summary"].get("incomplete_traces")
        proc = c.run(["run", "--trace-dir", os.path.join(full, "b"), "--", c.program("stdio_bytes")])
        if proc.returncode != 74 or not re.search(r"^SUMMARY: .*incomplete", proc.stderr, re.M):
            return "a run whose trace was lost: exit %d, expected 74 and an incomplete SUMMARY\n%s" % (
                proc.returncode, show(proc))
        left = [n for d in ("a", "b") for n in os.listdir(os.path.join(full, d)) if n.startswith("forksan.sup.")]
        if left:
            return "the FIFO was left behind: %s" % left
    finally:
        subprocess.run(["umount", full])
    return None


def check_recycled_pid_keeps_findings(c):
    """The kernel recycles pids: child A ends with an orphaned-lock, then
    another process gets A's pid and writes an image of its own (a fork
    child that exec'd).  The report keeps A's finding (it is not an exec
    of A), counts both processes, and gives the finding to A alone."""
    report = os.path.join(c.work, "recycled.json")
    proc = c.run(["run", "--format", "json", "-o", report, "--fail-on", "never", "--trace-dir",
                  os.path.join(c.work, "recycled"), "--", c.program("pid_recycled")])
    if proc.returncode == 77:
        raise Skip("pids cannot be recycled here (needs root and /proc/sys/kernel/ns_last_pid)")
    m = re.search(r"recycled pid (\d+)", proc.stdout)
    if proc.returncode != 0 or not m:
        return "the program failed: exit %d\n%s" % (proc.returncode, show(proc))
    pid = int(m.group(1))
    rep = json_of(report)
    orphaned = [f for f in rep["findings"] if f["rule"] == "orphaned-lock"]
    if len(orphaned) != 1 or orphaned[0]["pids"] != [pid] or orphaned[0]["count"] != 1:
        return "child %d's orphaned-lock is not reported once for it alone: %r" % (
            pid, [(f["rule"], f["pids"], f["count"]) for f in rep["findings"]])
    same_pid = [p for p in rep["processes"] if p["pid"] == pid]
    if len(same_pid) != 2:
        return "pid %d names two processes, the report lists %d: %r" % (pid, len(same_pid), same_pid)
    return None


def check_clean_python_children_write_nothing(c):
    """A Python program forks 200 children that end at once: the main
    thread holds a lock of CPython's own at every fork (its thread state
    lock, and the import lock inside os.fork), which alone is no reason
    for a trace.  No child leaves a file; the count of processes in the
    report is the command alone."""
    script = os.path.join(c.work, "clean_children.py")
    with open(script, "w") as f:
        f.write("import os\nfor i in range(200):\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n"
                "    os.waitpid(pid, 0)\nprint('ok')\n")
    tdir = os.path.join(c.work, "clean-children-traces")
    # Debian's interpreter and one pyenv build of each minor version found.
    pythons = ["/usr/bin/python3"] + [found[0] for found in (
        sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.%d.*/bin/python3" % minor)))
        for minor in (10, 11, 12, 13)) if found]
    for py in pythons:
        shutil.rmtree(tdir, ignore_errors=True)
        proc = c.run(["run", "--trace-dir", tdir, "--", py, script])
        if proc.returncode != 0 or proc.stdout != "ok\n":
            return "%s: exit %d\n%s" % (py, proc.returncode, show(proc))
        traces = [n for n in os.listdir(tdir) if n.endswith(".trace")]
        if traces:
            return "%s: %d clean children left traces (%s ...)" % (py, len(traces), traces[0])
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


# ---- the rule catalogue: explain and forksan(7) -----------------------------------
# common/rules.def is the one description of every rule: `forksan explain`
# prints it and man/forksan.7 is generated from it.  These checks read the ids
# straight from rules.def (not from the command), so a rule that one of the two
# readers lost is caught.

EXPLAIN_SECTIONS = ("What happens", "Fix (C)", "Fix (Python)", "Example")
RULE_RE = re.compile(r'^FSAN_RULE\(\s*"([^"]+)"\s*,\s*\w+\s*,\s*FSAN_SEV_(\w+)', re.M)


def catalogue_rules():
    """[(id, severity)] of every FSAN_RULE in common/rules.def, in order."""
    with open(os.path.join(ROOT, "common", "rules.def")) as f:
        rules = [(rid, sev.lower()) for rid, sev in RULE_RE.findall(f.read())]
    if not rules:
        raise AssertionError("found no FSAN_RULE(\"id\", ...) in common/rules.def")
    return rules


def explain_sections(text):
    """{heading: text under it} of an explanation, or a problem string."""
    lines = text.splitlines()
    where = []
    for heading in EXPLAIN_SECTIONS:
        if lines.count(heading) != 1:
            return "the heading line %r appears %d times, expected once" % (heading, lines.count(heading))
        where.append(lines.index(heading))
    if where != sorted(where):
        return "the sections are not in the order %s" % ", ".join(EXPLAIN_SECTIONS)
    bodies = {}
    for i, heading in enumerate(EXPLAIN_SECTIONS):
        end = where[i + 1] if i + 1 < len(where) else len(lines)
        bodies[heading] = "\n".join(lines[where[i] + 1:end]).strip()
    return bodies


def check_explain_every_rule(c):
    problems = []
    for rid, severity in catalogue_rules():
        proc = c.run(["explain", rid])
        if proc.returncode != 0:
            problems.append("%s: exit %d, expected 0\n%s" % (rid, proc.returncode, show(proc)))
            continue
        first = (proc.stdout.splitlines() or [""])[0]
        if not first.startswith(rid) or severity not in first:
            problems.append("%s: the first line %r does not give the id and the severity %r" % (rid, first, severity))
        bodies = explain_sections(proc.stdout)
        if isinstance(bodies, str):
            problems.append("%s: %s\n%s" % (rid, bodies, show(proc)))
            continue
        empty = [h for h in EXPLAIN_SECTIONS if not bodies[h]]
        if empty:
            problems.append("%s: empty section(s) %s\n%s" % (rid, ", ".join(empty), show(proc)))
    return "\n".join(problems) or None


def check_explain_lists_every_rule(c):
    proc = c.run(["explain"])
    if proc.returncode != 0:
        return "exit %d, expected 0\n%s" % (proc.returncode, show(proc))
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    want = [rid for rid, _ in catalogue_rules()]
    if listed != want:
        return "'forksan explain' lists %s, expected the catalogue's %s" % (listed, want)
    return None


def render_man_page(page):
    """The text of `man --warnings -E UTF-8 -l PAGE`; fails on any warning."""
    if not shutil.which("man") or not shutil.which("groff"):
        raise Skip("man or groff is not installed")
    path = os.path.join(ROOT, "man", page)
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    env.pop("MANPAGER", None)
    env.pop("PAGER", None)
    proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], capture_output=True, text=True,
                          timeout=TIMEOUT, env=env)
    if proc.returncode != 0 or proc.stderr.strip():
        raise AssertionError("man --warnings -l %s: exit %d, warnings:\n%s" % (path, proc.returncode, proc.stderr))
    return proc.stdout


def check_man7_every_rule(c):
    text = render_man_page("forksan.7")
    missing = [rid for rid, _ in catalogue_rules() if rid not in text]
    if missing:
        return "the rendered forksan(7) does not mention %s (run 'make man')" % ", ".join(missing)
    headings = [h for h in EXPLAIN_SECTIONS if h not in text]
    if headings:
        return "the rendered forksan(7) has no %s heading (run 'make man')" % ", ".join(headings)
    return None


def check_man3_renders(c):
    text = render_man_page("forksan.3")
    missing = [w for w in ("forksan_is_active", "forksan_version") if w not in text]
    if missing:
        return "the rendered forksan(3) does not mention %s" % ", ".join(missing)
    return None


# ---- suppressions, baselines and the text report's options ------------------------
# The real run (mutex_forker_normal 7: one child-deadlock, exit 66 by default)
# is the subject: a suppression must take its finding away and give back the
# program's own status 7; a baseline must decide whether it is new.  Checks of
# `run` read the report from -o FILE: the deadlocking child's own immediate
# report (the runtime's child_report) also goes to stderr, and it is not the
# analyzer's report these options shape.

ESC = "\x1b["


def write_file(c, name, text):
    path = os.path.join(c.work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def json_of(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise AssertionError("no valid JSON report in %s (%s)" % (path, exc))


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise AssertionError("no text report in %s (%s)" % (path, exc))


def headlines(text):
    return [l for l in text.splitlines() if re.match(r"^==\d+==(ERROR|WARNING|NOTE): forksan: ", l)]


def check_suppression_removes_child_deadlock(c):
    supp = write_file(c, "deadlock.supp", "# the known deadlock of the scenario\n"
                      "child-deadlock:file:mutex_forker_normal.c\n")
    out = os.path.join(c.work, "suppressed.json")
    txt = os.path.join(c.work, "suppressed.txt")
    proc = c.run(["run", "-o", txt, "--suppressions", supp, "--", c.program("mutex_forker_normal"), "7"])
    if proc.returncode != 7:
        return "exit %d, expected the program's own 7 once its only error is suppressed\n%s" % (
            proc.returncode, show(proc))
    text = read_text(txt)
    if any("child-deadlock" in l for l in headlines(text)):
        return "the suppressed child-deadlock is still reported:\n%s" % text[-1500:]
    if not re.search(r"^suppressed: 1 finding$", text, re.M):
        return "the text report does not say 'suppressed: 1 finding':\n%s" % text[-1500:]
    proc = c.run(["run", "--format", "json", "-o", out, "--suppressions", supp, "--",
                  c.program("mutex_forker_normal"), "7"])
    rep = json_of(out)
    if rep.get("suppressions", {}).get("suppressed") != 1 or rep["suppressions"].get("unmatched") != []:
        return "JSON suppressions is %r, expected {'suppressed': 1, 'unmatched': []}" % rep.get("suppressions")
    if any(f["rule"] == "child-deadlock" for f in rep["findings"]):
        return "the JSON report still has the suppressed child-deadlock"
    return None


def check_suppression_from_forksan_options(c):
    supp = write_file(c, "env.supp", "child-deadlock:*\n")
    txt = os.path.join(c.work, "env-suppressed.txt")
    proc = c.run(["run", "-o", txt, "--", c.program("mutex_forker_normal"), "7"],
                  env_extra={"FORKSAN_OPTIONS": "suppressions=%s" % supp})
    if proc.returncode != 7:
        return "FORKSAN_OPTIONS=suppressions=FILE: exit %d, expected the program's own 7\n%s" % (
            proc.returncode, show(proc))
    text = read_text(txt)
    if any("child-deadlock" in l for l in headlines(text)) or not re.search(r"^suppressed: 1 finding$", text, re.M):
        return "the child-deadlock suppressed through FORKSAN_OPTIONS is still reported:\n%s" % text[-1500:]
    return None


def check_suppression_unmatched_is_reported(c):
    supp = write_file(c, "stale.supp", "\n# stale\nthreads-at-fork:function:no_such_function_xyz\n")
    entry = "%s:3: threads-at-fork:function:no_such_function_xyz" % supp
    tdir, _ = c.real_traces()
    proc = c.run(["report", "--suppressions", supp, tdir])
    if proc.returncode != DEFAULT_EXITCODE:
        return "exit %d, expected %d (the entry matches nothing, the child-deadlock stays)\n%s" % (
            proc.returncode, DEFAULT_EXITCODE, show(proc))
    if not re.search(r"^==\d+==NOTE: forksan: suppression matched nothing.*: %s$" % re.escape(entry),
                     proc.stderr, re.M):
        return "no NOTE naming the unmatched entry %r\n%s" % (entry, show(proc))
    out = os.path.join(c.work, "stale.json")
    c.run(["report", "--format", "json", "-o", out, "--suppressions", supp, tdir])
    unmatched = json_of(out).get("suppressions", {}).get("unmatched")
    if unmatched != [entry]:
        return "JSON suppressions.unmatched is %r, expected [%r]" % (unmatched, entry)
    return None


def check_suppression_file_error(c):
    supp = write_file(c, "bad.supp", "child-deadlock:*\nchild-deadlock:lock:0x1234\n")
    proc = c.run(["run", "--suppressions", supp, "--", "echo", "the-command-ran"])
    if proc.returncode != USAGE:
        return "exit %d, expected %d for a bad suppression file\n%s" % (proc.returncode, USAGE, show(proc))
    if "%s:2:" % supp not in proc.stderr or "'lock'" not in proc.stderr:
        return "the error does not name %s:2 and the unknown kind 'lock'\n%s" % (supp, show(proc))
    if "the-command-ran" in proc.stdout:
        return "the command ran despite the bad suppression file\n%s" % show(proc)
    return None


def baseline_of_real_run(c, name):
    tdir, _ = c.real_traces()
    out = os.path.join(c.work, name)
    proc = c.run(["report", "--format", "json", "-o", out, "--fail-on", "never", tdir])
    rep = json_of(out)
    if not any(f["rule"] == "child-deadlock" for f in rep["findings"]):
        raise AssertionError("the real run's JSON report has no child-deadlock to baseline\n%s" % show(proc))
    return tdir, out, rep


def check_baseline_unchanged_does_not_fail(c):
    tdir, base, _ = baseline_of_real_run(c, "base-same.json")
    proc = c.run(["report", "--baseline", base, tdir])
    if proc.returncode != 0:
        return "exit %d, expected 0: every finding is in the baseline, none is new\n%s" % (proc.returncode, show(proc))
    lines = headlines(proc.stderr)
    if not lines or not all(l.endswith(" [unchanged]") for l in lines):
        return "not every finding's headline ends in [unchanged]\n%s" % show(proc)
    if not re.search(r"^baseline: 0 new, %d unchanged, 0 fixed$" % len(lines), proc.stderr, re.M):
        return "no 'baseline: 0 new, %d unchanged, 0 fixed' line\n%s" % (len(lines), show(proc))
    return None


def check_baseline_new_finding_fails(c):
    tdir, _, rep = baseline_of_real_run(c, "base-full.json")
    gone = {"rule": "orphaned-lock", "severity": "warning", "message": "an old finding, fixed since",
            "fingerprint": "00000000deadbeef", "count": 1, "pids": [], "locations": []}
    rep["findings"] = [f for f in rep["findings"] if f["rule"] != "child-deadlock"] + [gone]
    base = write_file(c, "base-old.json", json.dumps(rep))
    proc = c.run(["report", "--baseline", base, tdir])
    if proc.returncode != DEFAULT_EXITCODE:
        return "exit %d, expected %d: the child-deadlock is not in the baseline, so it is new\n%s" % (
            proc.returncode, DEFAULT_EXITCODE, show(proc))
    if not any("child-deadlock" in l and l.endswith(" [new]") for l in headlines(proc.stderr)):
        return "the child-deadlock headline is not marked [new]\n%s" % show(proc)
    if not re.search(r"^fixed since the baseline \(1\):\n  \[fixed\] orphaned-lock \(warning\) 00000000deadbeef: ",
                     proc.stderr, re.M):
        return "the baseline finding 00000000deadbeef is not listed as fixed\n%s" % show(proc)
    out = os.path.join(c.work, "base-new.json")
    c.run(["report", "--format", "json", "-o", out, "--baseline", base, tdir])
    now = json_of(out)
    marks = {f["rule"]: f.get("baseline") for f in now["findings"]}
    if marks.get("child-deadlock") != "new":
        return "JSON baseline of child-deadlock is %r, expected 'new'" % marks.get("child-deadlock")
    if [f.get("fingerprint") for f in now.get("fixed") or []] != ["00000000deadbeef"]:
        return "JSON fixed is %r, expected the one finding 00000000deadbeef" % now.get("fixed")
    return None


def check_baseline_malformed(c):
    tdir, _ = c.real_traces()
    text = '{"tool": {"name": "forksan"}, "findings": [,]}'
    offset = text.index("[,") + 1
    base = write_file(c, "broken.json", text)
    proc = c.run(["report", "--baseline", base, tdir])
    if proc.returncode != USAGE:
        return "exit %d, expected %d for a malformed baseline\n%s" % (proc.returncode, USAGE, show(proc))
    if base not in proc.stderr or "offset %d:" % offset not in proc.stderr:
        return "the error does not name %s and offset %d (the stray ',')\n%s" % (base, offset, show(proc))
    return None


def run_on_tty(c, args, env_extra=None):
    """forksan with its stderr on a pseudo-terminal; returns (status, stderr)."""
    import pty
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("FORKSAN_OPTIONS", None)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    proc = subprocess.Popen([c.forksan] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                            cwd=c.work, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=TIMEOUT), b"".join(chunks).decode("utf-8", "replace")


def check_color(c):
    tdir, _ = c.real_traces()
    always = c.run(["report", "--color", "always", tdir])
    never = c.run(["report", "--color", "never", tdir])
    if ESC not in always.stderr:
        return "--color always wrote no ESC [ sequence\n%s" % show(always)
    if not re.search(r"^==\d+==\x1b\[[0-9;]*mERROR\x1b\[0m: forksan: child-deadlock", always.stderr, re.M):
        return "--color always did not colour the ERROR of the headline\n%s" % show(always)
    if ESC in never.stderr:
        return "--color never wrote an ESC [ sequence\n%s" % show(never)
    auto_pipe = c.run(["report", tdir])
    if ESC in auto_pipe.stderr:
        return "--color auto (the default) coloured a report that goes to a pipe\n%s" % show(auto_pipe)
    if not re.search(r"^SUMMARY: forksan: ", always.stderr, re.M):
        return "with --color always the SUMMARY line no longer starts a line\n%s" % show(always)
    _, tty = run_on_tty(c, ["report", tdir])
    _, tty_no_color = run_on_tty(c, ["report", tdir], {"NO_COLOR": "1"})
    if ESC not in tty:
        return "--color auto on a terminal wrote no ESC [ sequence:\n%r" % tty[-800:]
    if ESC in tty_no_color:
        return "--color auto on a terminal with NO_COLOR=1 wrote ESC [ sequences:\n%r" % tty_no_color[-800:]
    return None


def check_tree(c):
    txt = os.path.join(c.work, "tree.txt")
    proc = c.run(["run", "-o", txt, "--tree", "--fail-on", "never", "--", c.program("mutex_forker_normal"), "7"])
    text = read_text(txt)
    lines = text.splitlines()
    if "process tree:" not in lines:
        return "no 'process tree:' block:\n%s\n%s" % (text[-1500:], show(proc))
    start = lines.index("process tree:")
    root = re.match(r"^  pid (\d+) .*mutex_forker_normal, exit 7$", lines[start + 1] if start + 1 < len(lines) else "")
    child = re.match(r"^  `- pid (\d+) .*, forked by thread (\d+) at main .*mutex_forker_normal\.c:\d+",
                     lines[start + 2] if start + 2 < len(lines) else "")
    if not root or not child:
        return "the tree is not the command (exit 7) with its forked child below it:\n%s" % "\n".join(
            lines[start:start + 4])
    if child.group(2) != root.group(1) or child.group(1) == root.group(1):
        return "the child line does not name its parent %s as the forking thread" % root.group(1)
    if lines.index("process tree:") > min(i for i, l in enumerate(lines) if l.startswith("==")):
        return "the tree is not printed before the findings:\n%s" % text[-1500:]
    return None


REPORT_POLISH_CHECKS = [
    ("recycled-pid-keeps-findings", check_recycled_pid_keeps_findings),
    ("report-many-bad-traces-summarised", check_report_many_bad_traces),
    ("suppression-removes-child-deadlock", check_suppression_removes_child_deadlock),
    ("suppression-from-FORKSAN_OPTIONS", check_suppression_from_forksan_options),
    ("suppression-unmatched-reported", check_suppression_unmatched_is_reported),
    ("suppression-file-error-names-line", check_suppression_file_error),
    ("baseline-unchanged-does-not-fail", check_baseline_unchanged_does_not_fail),
    ("baseline-new-finding-fails-and-fixed-listed", check_baseline_new_finding_fails),
    ("baseline-malformed-names-offset", check_baseline_malformed),
    ("color-always-never-auto-NO_COLOR", check_color),
    ("tree-child-under-parent", check_tree),
]


# ---- Python frames (synthetic traces) ----------------------------------------------

TRACE_VERSION = int(re.search(r"FSAN_TRACE_VERSION (\d+)u",
                              open(os.path.join(ROOT, "common", "trace_format.h")).read()).group(1))
REC_PROCESS, REC_SITE, REC_THREAD, REC_HELD, REC_DEADLOCK = 1, 3, 4, 5, 8
REC_PYSITE, REC_PYREF, REC_PYINFO = 13, 14, 15
PYREF_FORK, PYREF_THREAD, PYREF_HELD, PYREF_ATTEMPT = 1, 2, 3, 4


def record(rtype, payload):
    return RECORD_HEADER.pack(rtype, 0, len(payload)) + payload


def pysite(site_id, frames):
    """A PYSITE record: frames are (line, file, function), innermost first."""
    body = struct.pack("<IHH", site_id, len(frames), 0)
    for line, path, func in frames:
        path, func = path.encode(), func.encode()
        body += struct.pack("<IHH", line, len(path), len(func)) + path + func
    return record(REC_PYSITE, body)


def pyref(what, site_id, key, name=""):
    return record(REC_PYREF, struct.pack("<IIQ32s", what, site_id, key, name.encode()))


def python_child_trace(pid, pyinfo_reason=None):
    """A fork child of a Python program, written as the runtime would: the
    vanished thread 11 ("lock-holder" in Python) held mutex 0xa000, taken at
    worker.py:12; the child deadlocks on it at main.py:55.  Native sites
    have no MAPS, so their frames are bare addresses (0x1100..., 0x2200...)."""
    forker, holder, lock = 10, 11, 0xA000
    out = b"FSANTRC\n" + struct.pack("<II", TRACE_VERSION, FILE_HEADER)
    out += record(REC_PROCESS, struct.pack("<IIIIQII", pid, 100, 1, forker, 1000 + pid, 4, 0) + b"/usr/bin/python3")
    out += record(REC_THREAD, struct.pack("<IIQII16s", forker, 1 | 4, 0, 0, 0, b"python3"))
    out += record(REC_THREAD, struct.pack("<IIQII16s", holder, 2, 0, 3, 1, b"holder"))
    out += record(REC_HELD, struct.pack("<QIIHHIII", lock, holder, 1, 1, 0, 0, 1, 0))
    out += record(REC_DEADLOCK, struct.pack("<QHHIIIIIII", lock, 1, 1, 1, forker, 2, holder, 1, 0, 0))
    for site_id in (1, 2, 3, 4):
        base = site_id * 0x1100
        out += record(REC_SITE, struct.pack("<IHHQQ", site_id, 0, 2, base, base + 1))
    out += pysite(1, [(12, "/app/worker.py", "hold"), (975, "/usr/lib/python3.11/threading.py", "run")])
    out += pysite(2, [(55, "/app/main.py", "child")])
    out += pysite(3, [(50, "/app/main.py", "main")])
    out += pyref(PYREF_HELD, 1, lock)
    out += pyref(PYREF_THREAD, 1, holder, "lock-holder")
    out += pyref(PYREF_ATTEMPT, 2, lock)
    out += pyref(PYREF_FORK, 3, 0)
    if pyinfo_reason is not None:
        out += record(REC_PYINFO, struct.pack("<II", 2, 0x030E00F0) + pyinfo_reason.encode())
    return out


def check_native_frames(c):
    """forksan report on a synthetic Python child trace: by default the
    stacks show the Python traceback lines only, the vanished thread is
    called by its Python name, and an UNAVAILABLE PYINFO is a notice;
    --native-frames adds the native frames after the Python ones."""
    tdir = os.path.join(c.work, "python-traces")
    os.mkdir(tdir, 0o700)
    with open(os.path.join(tdir, "forksan.200.trace"), "wb") as f:
        f.write(python_child_trace(200, pyinfo_reason="no debug offsets"))
    want = ['File "/app/main.py", line 55, in child', 'File "/app/worker.py", line 12, in hold',
            'File "/app/main.py", line 50, in main', '"lock-holder"',
            "Python frames unavailable in pid 200: no debug offsets"]
    native = re.compile(r"0x0*2200\b")
    plain = c.run(["report", "--fail-on", "never", "-o", "-", tdir])
    if plain.returncode != 0:
        return "forksan report exited %d, expected 0\n%s" % (plain.returncode, show(plain))
    missing = [w for w in want if w not in plain.stdout]
    if missing:
        return "the default report lacks %r\n%s" % (missing, show(plain))
    if native.search(plain.stdout):
        return "the default report shows native frames beside Python ones\n%s" % show(plain)
    both = c.run(["report", "--native-frames", "--fail-on", "never", "-o", "-", tdir])
    if both.returncode != 0:
        return "forksan report --native-frames exited %d, expected 0\n%s" % (both.returncode, show(both))
    missing = [w for w in want if w not in both.stdout]
    if missing:
        return "the --native-frames report lacks %r\n%s" % (missing, show(both))
    py = both.stdout.find('File "/app/main.py", line 55, in child')
    m = native.search(both.stdout, py)
    if not m:
        return "--native-frames does not show the attempt's native frame after its Python one\n%s" % show(both)
    return None


def check_bad_hang_timeout(c):
    for value in ("-1", "ten", "", "86401"):
        proc = c.run(["run", "--hang-timeout", value, "--", "echo", "the-command-ran"])
        if proc.returncode != USAGE:
            return "--hang-timeout %r: exit %d, expected %d\n%s" % (value, proc.returncode, USAGE, show(proc))
        if "--hang-timeout" not in proc.stderr or ("'%s'" % value) not in proc.stderr:
            return "--hang-timeout %r: the error does not name the option and the value\n%s" % (value, show(proc))
        if "the-command-ran" in proc.stdout:
            return "--hang-timeout %r: the command ran despite the usage error\n%s" % (value, show(proc))
    return None


def check_bad_safe_quiesce_ms(c):
    """safe_quiesce_ms not a number, or out of range: the error names the
    option and the value, and the command does not run."""
    for value in ("ten", "-1", "10001"):
        proc = c.run(["run", "--mode", "safe", "--", "echo", "the-command-ran"],
                     env_extra={"FORKSAN_OPTIONS": "safe_quiesce_ms=" + value})
        if proc.returncode != USAGE:
            return "safe_quiesce_ms=%s: exit %d, expected %d\n%s" % (value, proc.returncode, USAGE, show(proc))
        if "safe_quiesce_ms" not in proc.stderr or ("'%s'" % value) not in proc.stderr:
            return "safe_quiesce_ms=%s: the error does not name the option and the value\n%s" % (value, show(proc))
        if "the-command-ran" in proc.stdout:
            return "safe_quiesce_ms=%s: the command ran despite the bad option\n%s" % (value, show(proc))
    return None


def check_bad_mode(c):
    proc = c.run(["run", "--mode", "careful", "--", "echo", "the-command-ran"])
    if proc.returncode != USAGE or "careful" not in proc.stderr or "safe" not in proc.stderr:
        return "--mode careful: expected a usage error naming the value and the modes\n%s" % show(proc)
    return None


def check_safe_mode_bare_preload(c):
    """FORKSAN_OPTIONS=mode=safe with a bare LD_PRELOAD, no forksan run: the
    child takes the mutex its parent's vanished thread held, and ends with 0
    (observe mode: it is killed after 1.5 s, "child ended: -1")."""
    env = {"LD_PRELOAD": os.path.join(c.build, "lib", "libforksan.so")}
    program = c.program("safe_locks")
    for mode, want in (("safe", "child ended: 0"), ("observe", "child ended: -1")):
        env["FORKSAN_OPTIONS"] = "mode=%s:child_report=0" % mode
        proc = subprocess.run([program, "mutex", "keep"], capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=c.work, env=dict(os.environ, **env))
        if want not in proc.stdout:
            return "mode=%s: expected %r\n%s" % (mode, want, show(proc))
    # With child reports on and no trace directory, no report will tell
    # what was done: the child says it in one line.
    env["FORKSAN_OPTIONS"] = "mode=safe"
    proc = subprocess.run([program, "mutex", "keep"], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=c.work, env=dict(os.environ, **env))
    if not re.search(r"^==\d+==NOTE: forksan: remedied \(safe mode\): re-initialised lock 0x[0-9a-f]+, held at fork",
                     proc.stderr, re.M):
        return "no one-line remedied note on stderr without a trace directory\n%s" % show(proc)
    return None


def check_safe_mode_semaphore_destroyed(c):
    """Safe mode waits (quiesce, 3 s budget) for a semaphore another thread
    holds; that thread destroys it 20 ms later instead of posting it.  The
    fork goes on, the semaphore is left alone, and the report has a
    remedied note saying it was destroyed."""
    tdir = os.path.join(c.work, "sem-destroyed")
    os.mkdir(tdir, 0o700)
    env = {"LD_PRELOAD": os.path.join(c.build, "lib", "libforksan.so"),
           "FORKSAN_OPTIONS": "mode=safe:safe_quiesce_ms=3000:child_report=0:trace_dir=" + tdir}
    proc = subprocess.run([c.program("safe_sem_destroyed")], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=c.work, env=dict(os.environ, **env))
    if "child ended: 0" not in proc.stdout:
        return "the child did not end on its own\n%s" % show(proc)
    _, rep = load_json_report(c, tdir)
    notes = [f["message"] for f in rep["findings"] if f["rule"] == "remedied"]
    if not any("destroyed while safe mode waited" in m for m in notes):
        return "no remedied note says the semaphore was destroyed: %r" % notes
    return None


def check_hang_text_report(c):
    """The watchdog says at once on stderr that a child hangs (a parent
    waiting for it could keep the run from ever ending), and the text
    report shows the child's stack at the hang."""
    proc = c.run(["run", "--hang-timeout", "1", "--color", "never", "--",
                  c.program("hang_futex_vanished")])
    at_once = re.search(r"^forksan: forked child (\d+) hangs: .*waits on the futex at 0x", proc.stderr, re.M)
    if not at_once:
        return "no line saying at once that the child hangs\n%s" % show(proc)
    headline = re.search(r"^==\d+==ERROR: forksan: child-hang: forked child %s hangs" % at_once.group(1), proc.stderr,
                         re.M)
    if not headline or headline.start() < at_once.start():
        return "no child-hang headline for pid %s after that line\n%s" % (at_once.group(1), show(proc))
    if not re.search(r"#\d+ 0x[0-9a-f]+ in futex_lock \S*hang_futex_vanished\.c:\d+", proc.stderr):
        return "the report does not show the child's frame in futex_lock\n%s" % show(proc)
    if proc.returncode != DEFAULT_EXITCODE:
        return "exit %d, expected %d (child-hang is an error)\n%s" % (proc.returncode, DEFAULT_EXITCODE, show(proc))
    return None


def check_report_keeps_child_hang(c):
    """forksan run keeps what its watchdog found in the trace directory: a
    later forksan report of it has the same child-hang (fingerprint, the
    child's frame in futex_lock).  A hang file that is not one is a notice,
    and the rest of the report stands."""
    tdir = os.path.join(c.work, "hang-traces")
    run_json = os.path.join(c.work, "hang-run.json")
    proc = c.run(["run", "--hang-timeout", "1", "--trace-dir", tdir, "--format", "json", "-o", run_json, "--",
                  c.program("hang_futex_vanished")])
    ran = [f for f in json_of(run_json)["findings"] if f["rule"] == "child-hang"]
    if len(ran) != 1:
        return "forksan run reported %d child-hang findings, expected 1\n%s" % (len(ran), show(proc))
    proc, data = load_json_report(c, tdir)
    kept = [f for f in data["findings"] if f["rule"] == "child-hang"]
    if [f["fingerprint"] for f in kept] != [ran[0]["fingerprint"]]:
        return "forksan report of the directory: child-hang %s, forksan run had %s\n%s" % (
            [f["fingerprint"] for f in kept], ran[0]["fingerprint"], show(proc))
    frames = [fr.get("function") for loc in kept[0]["locations"] if loc["role"] == "child" for fr in loc["frames"]]
    if "futex_lock" not in frames:
        return "the kept child-hang lacks the child's frame in futex_lock: %s" % frames
    if kept[0]["message"] != ran[0]["message"]:
        return "the kept child-hang says %r, forksan run said %r" % (kept[0]["message"], ran[0]["message"])
    hang_files = [n for n in os.listdir(tdir) if n.endswith(".hang")]
    with open(os.path.join(tdir, hang_files[0]), "r+b") as f:
        f.write(b"NOTATRACE")
    proc, data = load_json_report(c, tdir)
    if any(f["rule"] == "child-hang" for f in data["findings"]):
        return "a damaged hang file still made a child-hang\n%s" % show(proc)
    if not any("bad magic" in n and "child-hang it kept is not reported" in n for n in data.get("notices", [])):
        return "no notice names the damaged hang file: %s" % data.get("notices")
    if not any(f["rule"] == "threads-at-fork" for f in data["findings"]):
        return "the traces' findings are gone with the damaged hang file\n%s" % show(proc)
    return None


def check_report_keeps_hang_python_frames(c):
    """A hung Python child: its Python frames (read_reply at the os.read,
    called from child) come before the native stack of its thread, in
    forksan run's report and in a later forksan report of the directory
    (kept in the .hang file), in every format."""
    script = os.path.join(ROOT, "tests", "scenarios", "py_hang_pipe.py")
    with open(script) as f:
        read_line = next(i for i, text in enumerate(f, 1) if "@mark:read" in text)
    tdir = os.path.join(c.work, "hang-py-traces")
    run_json = os.path.join(c.work, "hang-py-run.json")
    proc = c.run(["run", "--hang-timeout", "1", "--trace-dir", tdir, "--format", "json", "-o", run_json, "--",
                  "/usr/bin/python3", script])
    ran = [f for f in json_of(run_json)["findings"] if f["rule"] == "child-hang"]
    kept = [f for f in load_json_report(c, tdir)[1]["findings"] if f["rule"] == "child-hang"]
    for name, found in (("forksan run", ran), ("forksan report of the directory", kept)):
        if len(found) != 1:
            return "%s: %d child-hang findings, expected 1\n%s" % (name, len(found), show(proc))
        child = [loc for loc in found[0]["locations"] if loc["role"] == "child"][0]
        frames = [(fr.get("language"), fr.get("function"), fr.get("line")) for fr in child["frames"]]
        languages = [lang for lang, _, _ in frames]
        if frames[0] != ("python", "read_reply", read_line) or frames[1][:2] != ("python", "child") or \
                "c" not in languages or "python" in languages[languages.index("c"):]:
            return "%s: the child's frames are not read_reply:%d, child ... then the native ones: %s" % (
                name, read_line, frames[:5])
    if kept[0]["fingerprint"] != ran[0]["fingerprint"]:
        return "the kept child-hang's fingerprint %s differs from forksan run's %s" % (
            kept[0]["fingerprint"], ran[0]["fingerprint"])
    want = 'File "%s", line %d, in read_reply' % (script, read_line)
    text = c.run(["report", "--color", "never", "--fail-on", "never", tdir])
    if want not in text.stderr + text.stdout:
        return "the text report lacks %r\n%s" % (want, show(text))
    for fmt in ("sarif", "html"):
        out = os.path.join(c.work, "hang-py.%s" % fmt)
        rendered = c.run(["report", "--format", fmt, "-o", out, "--fail-on", "never", tdir])
        with open(out) as f:
            body = f.read()
        if "read_reply" not in body or "py_hang_pipe.py" not in body:
            return "the %s report lacks the Python frame read_reply\n%s" % (fmt, show(rendered))
    return None


def check_hang_undumpable_unprivileged(c):
    """forksan run as an ordinary user (nobody), the hung child not
    dumpable (prctl(PR_SET_DUMPABLE, 0)): ptrace and the /proc files that
    need ptrace access (syscall, maps) are closed to the watchdog.  The
    child-hang still comes out, from /proc/PID/stat and schedstat, as a
    warning that says what it cannot tell, with a notice saying why there
    are no stacks; the child is left alone."""
    if os.geteuid() != 0:
        raise Skip("needs root, to run forksan as the user nobody with setpriv")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skip("no setpriv (util-linux) to run forksan as the user nobody")
    home = tempfile.mkdtemp(prefix="forksan-nobody.")
    try:
        os.chown(home, 65534, 65534)
        tdir, out = os.path.join(home, "traces"), os.path.join(home, "report.json")
        proc = subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", c.forksan, "run",
                               "--hang-timeout", "1", "--trace-dir", tdir, "--format", "json", "-o", out, "--",
                               c.program("hang_futex_vanished"), "undumpable"],
                              capture_output=True, text=True, timeout=TIMEOUT, cwd=home)
        if "child ended: -1" not in proc.stdout:
            return "the child was not left alone to hang (its parent did not have to kill it)\n%s" % show(proc)
        try:
            data = json_of(out)
        except (OSError, ValueError, AssertionError) as exc:
            return "no JSON report (%s)\n%s" % (exc, show(proc))
        hangs = [f for f in data["findings"] if f["rule"] == "child-hang"]
        if len(hangs) != 1 or hangs[0]["severity"] != "warning" or "not dumpable" not in hangs[0]["message"]:
            return "expected one child-hang warning saying the child is not dumpable: %s\n%s" % (
                [(f["severity"], f["message"]) for f in hangs], show(proc))
        if not any("no stacks of the hung child" in n and "PR_SET_DUMPABLE" in n for n in data.get("notices", [])):
            return "no notice says why the stacks are missing: %s" % data.get("notices")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return None


CHECKS = [
    ("help", check_help),
    ("version", check_version),
    ("command-needs-only-libc", check_command_needs_only_libc),
    ("run-command-not-found", check_command_not_found),
    ("run-bad-format", check_bad_format),
    ("run-bad-FORKSAN_OPTIONS-value", check_bad_runtime_option),
    ("run-FORKSAN_OPTIONS-out-of-range", check_bad_runtime_option_range),
    ("run-unwritable-trace-dir", check_unwritable_trace_dir),
    ("run-static-program", check_static_program),
    ("report-missing-dir", check_report_missing_dir),
    ("report-corrupt-trace", check_report_corrupt_trace),
    ("report-hostile-files", check_report_hostile_files),
    ("run-fifo-planted-by-program", check_run_fifo_planted_by_program),
    ("run-stopped-by-sigterm", check_run_stopped_by_sigterm),
    ("trace-dir-trust", check_trace_dir_trust),
    ("hostile-names-escaped", check_hostile_names_escaped),
    ("run-on-a-full-disk", check_full_disk),
    ("clean-python-children-write-nothing", check_clean_python_children_write_nothing),
    ("report-truncated-trace", check_report_truncated_trace),
    ("exit-66-on-child-deadlock", check_exit_status_fail_on_default),
    ("exit-own-status-with-fail-on-never", check_exit_status_fail_on_never),
    ("exit-custom-exitcode", check_exit_status_custom_exitcode),
    ("exit-own-status-when-clean", check_exit_status_clean),
    ("report-exit-status", check_report_exit_status),
    ("explain-child-deadlock", check_explain),
    ("explain-unknown-rule", check_explain_unknown),
    ("explain-every-rule", check_explain_every_rule),
    ("explain-lists-every-rule", check_explain_lists_every_rule),
    ("man7-renders-every-rule", check_man7_every_rule),
    ("man3-renders", check_man3_renders),
    ("report-native-frames", check_native_frames),
    ("run-bad-hang-timeout", check_bad_hang_timeout),
    ("run-hang-text-report", check_hang_text_report),
    ("report-keeps-child-hang", check_report_keeps_child_hang),
    ("report-keeps-hang-python-frames", check_report_keeps_hang_python_frames),
    ("run-hang-undumpable-unprivileged", check_hang_undumpable_unprivileged),
    ("run-bad-safe_quiesce_ms", check_bad_safe_quiesce_ms),
    ("run-bad-mode", check_bad_mode),
    ("safe-mode-bare-preload", check_safe_mode_bare_preload),
    ("safe-mode-semaphore-destroyed", check_safe_mode_semaphore_destroyed),
]

CHECKS += REPORT_POLISH_CHECKS


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

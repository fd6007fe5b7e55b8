#!/usr/bin/env python3
"""lockpath_syscalls.py — the lock path of a process that has not forked
makes no system call of the runtime's own (issue 15).

CPython's threading locks are POSIX semaphores, and the runtime records
the .py line of every acquire.  It once read the frames of a blocking
wait (which runs without the GIL) through process_vm_readv on itself,
with a getpid for every word: 43,752 of each for 20,000 queue items.
Here lockpath_queue.py passes ITEMS items through a queue.Queue between
two threads under the runtime, with strace counting process_vm_readv and
getpid per thread.  The parent's threads may make at most BOUND of them
together, whatever ITEMS is: one getpid at start-up and one at exit, and
the few fault-proof reads of the interpreter's shutdown, which waits on a
lock with no thread state left (there the fault-proof read is the right
one).  The fork child is not counted: it reads the frames of threads that
vanished, fault-proof, as it must.

The same run checks that the Python stacks are still read, and read
right: the report's child-deadlock names the .py line where the lock's
holder waited for it (@mark:contended), and the child's attempt
(@mark:attempt).

Needs strace and CPython 3.11 at /usr/bin/python3 (skipped otherwise,
saying so).  Prints "ok NAME" or "FAIL NAME: why" per check, then
"N passed, N failed"; exit status 1 when a check failed.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
WORKLOAD = os.path.join(HERE, "lockpath_queue.py")
ITEMS = 2000
BOUND = 16
TIMEOUT = 120


def marker_line(name):
    with open(WORKLOAD) as f:
        for number, text in enumerate(f, 1):
            if re.search(r"#\s*@mark:%s\b" % re.escape(name), text):
                return number
    raise AssertionError("marker @mark:%s not in %s" % (name, WORKLOAD))


def skip_reason():
    if not shutil.which("strace"):
        return "strace is not installed"
    if not os.access(PYTHON, os.X_OK):
        return "%s is missing" % PYTHON
    version = subprocess.run([PYTHON, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
                             capture_output=True, text=True).stdout.strip()
    if version != "True":
        return "%s is not CPython 3.11 (the frames the runtime reads)" % PYTHON
    return None


def count_syscalls(path):
    """process_vm_readv and getpid calls in one strace -ff output file."""
    n = 0
    with open(path) as f:
        for line in f:
            if re.match(r"(process_vm_readv|getpid)\(", line):
                n += 1
    return n


def run(build, work):
    lib = os.path.join(build, "lib", "libforksan.so")
    traces = os.path.join(work, "traces")
    prefix = os.path.join(work, "strace")
    options = "trace_dir=%s:mode=strict:strict_grace_ms=100:child_report=0" % traces
    cmd = ["strace", "-f", "-ff", "-qq", "-o", prefix, "-e", "trace=process_vm_readv,getpid",
           "-E", "LD_PRELOAD=" + lib, "-E", "FORKSAN_OPTIONS=" + options, PYTHON, WORKLOAD, str(ITEMS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=work)
    match = re.search(r"^child (\d+)$", proc.stdout, re.M)
    if proc.returncode != 0 or not match:
        raise AssertionError("the workload failed (status %d):\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))
    child = match.group(1)
    per_thread = {}
    for path in glob.glob(prefix + ".*"):
        tid = path.rsplit(".", 1)[1]
        if tid != child:
            per_thread[tid] = count_syscalls(path)
    return per_thread, traces


def report(build, traces):
    forksan = os.path.join(build, "bin", "forksan")
    proc = subprocess.run([forksan, "report", "--format", "json", "-o", "-", "--fail-on", "never", traces],
                          capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise AssertionError("forksan report failed (status %d): %s" % (proc.returncode, proc.stderr))
    return json.loads(proc.stdout)["findings"]


def has_line(findings, role, line):
    for f in findings:
        if f["rule"] != "child-deadlock":
            continue
        for loc in f["locations"]:
            if loc["role"] == role and any(
                    frame.get("file") and os.path.basename(frame["file"]) == os.path.basename(WORKLOAD) and
                    frame.get("line") == line for frame in loc["frames"]):
                return True
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    why = skip_reason()
    if why:
        print("skip lockpath-syscalls: %s" % why)
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    with tempfile.TemporaryDirectory() as work:
        per_thread, traces = run(build, work)
        total = sum(per_thread.values())
        name = "lockpath-no-syscalls-in-parent"
        if total <= BOUND:
            print("ok %s (%d process_vm_readv + getpid calls for %d queue items, at most %d)" %
                  (name, total, ITEMS, BOUND))
            passed += 1
        else:
            print("FAIL %s: the parent made %d process_vm_readv + getpid calls for %d queue items, at most %d "
                  "allowed\n    per thread: %s" % (name, total, ITEMS, BOUND, per_thread))
            failed += 1
        findings = report(build, traces)
        for role, mark in (("acquired", "contended"), ("attempt", "attempt")):
            name = "lockpath-python-line-%s" % role
            line = marker_line(mark)
            if has_line(findings, role, line):
                print("ok %s (%s:%d)" % (name, os.path.basename(WORKLOAD), line))
                passed += 1
            else:
                print("FAIL %s: no child-deadlock whose %s location is %s:%d\n    findings: %s" %
                      (name, role, os.path.basename(WORKLOAD), line,
                       json.dumps([(f["rule"], [(loc["role"], [(fr.get("file"), fr.get("line")) for fr in loc["frames"]])
                                                for loc in f["locations"]]) for f in findings])[:3000]))
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

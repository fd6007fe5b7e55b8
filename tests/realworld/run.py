#!/usr/bin/env python3
"""run.py — real programs run bare and under `forksan run`: forksan's precision.

    python3 tests/realworld/run.py --build build [--only NAME...] [--quick] [--list]

Targets (sequential; the machine may have only two cores):

- cpython:MODULE — CPython 3.11's own regression tests with Debian's
  /usr/bin/python3 (`python3 -m test -v MODULE`, package
  libpython3.11-testsuite).  Each module runs bare twice (a test whose two
  bare outcomes differ is flaky: reported, never failing) and once under
  `forksan run --format json`; per-test outcomes parsed from the `-v` lines
  must be the same bare and under forksan.
- postgres — PostgreSQL 15: initdb, the postmaster under forksan (as the
  postgres user), `pgbench -i` and a short `pgbench -c 4 -j 2 -T 10`,
  `pg_ctl stop -m fast`.
- redis — redis-server on a loopback port, loaded by redis-benchmark while
  BGSAVE runs several times; /proc/PID/task is read while each BGSAVE child
  lives, to check the child's threads-at-fork finding names those threads.
- nginx — master + 2 workers that drop privileges (user nobody), ~200
  requests, SIGQUIT; under forksan with FORKSAN_OPTIONS=trace_all=1, so the
  workers' traces (written after they became nobody) must reach the report.

Common checks under forksan: a report was written; the program's own
stdout/stderr (and log files forksan's runtime could have written to) hold
no line that forksan's runtime wrote (`forksan:` or `==PID==`): observe
mode must leave the program's streams alone; no "tables full" notice; every
finding at warning or error is in the allowlist (tests/realworld/expected.txt).
Findings are reported exactly as forksan gives them: nothing is hidden.

Writes BUILD/realworld/results.json and BUILD/realworld/precision.md, keeps
each run's output and report in BUILD/realworld/TARGET/, and ends with the
plain summary line "N passed, N failed" (checks); exit status 1 when a
check failed.
"""
import argparse
import fnmatch
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
PG_BIN = "/usr/lib/postgresql/15/bin"
SEVERITIES = ("error", "warning", "note")
# A line forksan's runtime (or the command) wrote: observe mode must not
# write into the program's own streams.
FORKSAN_LINE = re.compile(r"forksan:|^==\d+==")


def log(msg):
    print(msg, flush=True)


# ---- processes ------------------------------------------------------------------

def bare_environment(extra=None):
    """The environment without anything that would load or configure forksan."""
    env = dict(os.environ)
    env.pop("FORKSAN_OPTIONS", None)
    preload = [p for p in env.pop("LD_PRELOAD", "").split(":") if p and "libforksan" not in p]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    env.update(extra or {})
    return env


def kill_group(proc, grace=10.0):
    """Stops proc's whole process group: SIGTERM, then SIGKILL after grace."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    try:  # stragglers that outlived their leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def start(cmd, out_path, env, cwd):
    """Starts cmd in its own process group, stdout and stderr to out_path."""
    with open(out_path, "wb") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)


def run(cmd, out_path, env, cwd, timeout):
    """Runs cmd to its end (or timeout, then stops its process group).
    Returns {rc, seconds, timed_out}."""
    t0 = time.monotonic()
    proc = start(cmd, out_path, env, cwd)
    timed_out = False
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        # forksan forwards SIGTERM to the program: give it a chance to report.
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
    finally:
        kill_group(proc)
    return {"rc": proc.returncode, "seconds": round(time.monotonic() - t0, 1), "timed_out": timed_out}


def quiet(cmd, timeout=60, env=None, cwd=None):
    """Runs a helper command; returns (rc, output)."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, env=env, cwd=cwd, text=True, errors="replace")
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def forksan_lines(text, limit=8):
    """The lines forksan wrote into a program's stream (count, first few)."""
    lines = [line for line in text.splitlines() if FORKSAN_LINE.search(line)]
    return len(lines), lines[:limit]


# ---- forksan ------------------------------------------------------------------

class Forksan:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.cli = os.path.join(self.build, "bin", "forksan")
        self.runtime = os.path.join(self.build, "lib", "libforksan.so")

    def command(self, report, cmd, cli=None):
        return [cli or self.cli, "run", "--format", "json", "-o", report, "--fail-on", "never", "--"] + list(cmd)

    def for_mode(self, mode, report, cmd, cli=None):
        """cmd as the bare run starts it, or under forksan run (an earlier
        report at the same path removed first, so a stale one never passes)."""
        if mode != "forksan":
            return cmd
        if os.path.exists(report):
            os.unlink(report)
        return self.command(report, cmd, cli)

    def recover(self, tmpdir, report):
        """After a killed run: a report from the trace directory forksan left
        in TMPDIR, when there is one."""
        for d in sorted(glob.glob(os.path.join(tmpdir, "forksan.*"))):
            if os.path.isdir(d):
                rc, out = quiet([self.cli, "report", "--format", "json", "-o", report, "--fail-on", "never", d],
                                timeout=600)
                if os.path.exists(report):
                    return "report recovered from the trace directory %s" % d
                return "forksan report %s failed (%d): %s" % (d, rc, out[-500:])
        return None

    def copy_to(self, dest):
        """A copy of the command and runtime another user can read."""
        os.makedirs(os.path.join(dest, "bin"))
        os.makedirs(os.path.join(dest, "lib"))
        shutil.copy2(self.cli, os.path.join(dest, "bin", "forksan"))
        shutil.copy2(self.runtime, os.path.join(dest, "lib", "libforksan.so"))
        for d in (dest, os.path.join(dest, "bin"), os.path.join(dest, "lib")):
            os.chmod(d, 0o755)
        return os.path.join(dest, "bin", "forksan")


def load_report(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except FileNotFoundError:
        return None, "no report written"
    except (OSError, ValueError) as e:
        return None, "report unreadable: %s" % e


# ---- findings and the allowlist ---------------------------------------------------

def first_frame(finding):
    """(role, frame) of the first frame of the first location that has one."""
    for loc in finding.get("locations") or []:
        if loc.get("frames"):
            return loc.get("role"), loc["frames"][0]
    return None, None


def frame_text(frame):
    if not frame:
        return "-"
    fn = frame.get("function") or "?"
    if frame.get("file"):
        return "%s %s:%s" % (fn, frame["file"], frame.get("line") if frame.get("line") is not None else "?")
    if frame.get("module"):
        return "%s (%s+%s)" % (fn, frame["module"], frame.get("module_offset"))
    return "%s %s" % (fn, frame.get("address") or "")


def short_frame(frame):
    text = frame_text(frame)
    for prefix in ("/usr/lib/python3.11/", "/usr/lib/x86_64-linux-gnu/"):
        text = text.replace(prefix, "")
    return text


def normalize_message(message):
    message = re.sub(r"0x[0-9a-fA-F]+", "0x…", message)
    message = re.sub(r"\b\d+\b", "N", message)
    return message


class Allowlist:
    """tests/realworld/expected.txt: `TARGET RULE MATCH JUSTIFICATION...`,
    one entry a line; TARGET is a target name or glob; MATCH is a
    fingerprint (hex), `func:GLOB` or `file:GLOB` (the first frame of the
    finding's first location that has frames)."""

    def __init__(self, path):
        self.path = path
        self.entries = []
        if not os.path.exists(path):
            return
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 3)
                if len(parts) < 4:
                    raise SystemExit("%s:%d: want TARGET RULE MATCH JUSTIFICATION" % (path, number))
                target, rule, match, why = parts
                if not (re.fullmatch(r"[0-9a-f]{8,}", match) or match.startswith(("func:", "file:"))):
                    raise SystemExit("%s:%d: MATCH must be a fingerprint, func:GLOB or file:GLOB" % (path, number))
                self.entries.append({"target": target, "rule": rule, "match": match, "why": why,
                                     "where": "%s:%d" % (os.path.basename(path), number)})

    def lookup(self, target, finding):
        _, frame = first_frame(finding)
        for e in self.entries:
            if not fnmatch.fnmatchcase(target, e["target"]) or e["rule"] not in (finding["rule"], "*"):
                continue
            m = e["match"]
            if m.startswith("func:"):
                if frame and fnmatch.fnmatchcase(frame.get("function") or "", m[5:]):
                    return e
            elif m.startswith("file:"):
                if frame and fnmatch.fnmatchcase(frame.get("file") or "", m[5:]):
                    return e
            elif finding.get("fingerprint") == m:
                return e
        return None


def summarize_findings(target, report, allow):
    """The report's findings grouped: same rule, severity, first frame and
    message up to numbers and addresses.  Nothing is dropped."""
    groups = {}
    for f in report.get("findings") or []:
        role, frame = first_frame(f)
        entry = allow.lookup(target, f)
        key = (f["rule"], f["severity"], frame_text(frame), normalize_message(f["message"]),
               entry["where"] if entry else None)
        g = groups.get(key)
        if not g:
            g = groups[key] = {"rule": f["rule"], "severity": f["severity"], "count": 0, "findings": 0,
                               "fingerprints": [], "message": f["message"], "first_frame_role": role,
                               "first_frame": frame_text(frame), "short_frame": short_frame(frame),
                               "threads": [], "allowed": bool(entry),
                               "justification": entry["why"] if entry else None,
                               "allowlist_entry": entry["where"] if entry else None}
        g["count"] += f.get("count") or 1
        g["findings"] += 1
        if f.get("fingerprint") and f["fingerprint"] not in g["fingerprints"]:
            g["fingerprints"].append(f["fingerprint"])
        for loc in f.get("locations") or []:
            name = (loc.get("thread") or {}).get("name")
            if loc.get("role") in ("thread", "acquired") and name and name not in g["threads"]:
                g["threads"].append(name)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(groups.values(), key=lambda g: (order.get(g["severity"], 9), g["rule"], -g["count"]))


# ---- the result of one target -------------------------------------------------------

class Target:
    def __init__(self, name, quick, runner, description):
        self.name, self.quick, self.runner, self.description = name, quick, runner, description


class Result:
    def __init__(self, target, outdir):
        self.name = target.name
        self.description = target.description
        self.outdir = outdir
        self.checks = []
        self.seconds = {}
        self.bare_ok = None
        self.forksan_ok = None
        self.report = None
        self.report_path = None
        self.findings = []
        self.info = {}

    def check(self, name, ok, detail="", status=None):
        status = status or ("pass" if ok else "fail")
        self.checks.append({"name": name, "status": status, "detail": detail})
        mark = {"pass": "ok", "fail": "FAIL", "flaky": "flaky", "info": "info"}[status]
        first = detail.splitlines()[0] if detail else ""
        log("   [%s] %s%s" % (mark, name, (": " + first) if first else ""))
        for extra in detail.splitlines()[1:12]:
            log("          %s" % extra)

    def failed(self):
        return [c for c in self.checks if c["status"] == "fail"]

    def common_checks(self, report_path, streams, allow, recovered=None):
        """Checks every target makes on its forksan run."""
        self.report_path = report_path
        report, err = load_report(report_path)
        self.check("forksan report written", report is not None,
                   (err or "") + ((" (" + recovered + ")") if recovered else ""))
        lines = []
        for label, text in streams:
            n, first = forksan_lines(text)
            if n:
                lines.append("%s: %d line(s) written by forksan, e.g.:" % (label, n))
                lines.extend("  " + line[:200] for line in first[:4])
        self.check("program output free of forksan lines (observe mode)", not lines, "\n".join(lines))
        if report is None:
            return
        self.report = report
        self.findings = summarize_findings(self.name, report, allow)
        notices = report.get("notices") or []
        full = [n for n in notices if "tables full" in n]
        self.check("no 'tables full' notice", not full,
                   "%d of %d notices say tables full, e.g. %s" % (len(full), len(notices), full[0]) if full else "")
        bad = [g for g in self.findings if g["severity"] in ("error", "warning") and not g["allowed"]]
        detail = ["%s %s x%d: %s | %s" % (g["severity"], g["rule"], g["count"], g["message"][:110], g["short_frame"])
                  for g in bad]
        self.check("no warning/error outside the allowlist", not bad,
                   ("%d group(s):\n" % len(bad) + "\n".join(detail)) if bad else "")

    def as_json(self):
        report = self.report or {}
        notices = report.get("notices") or []
        return {
            "name": self.name, "description": self.description,
            "seconds": self.seconds, "bare_ok": self.bare_ok, "forksan_ok": self.forksan_ok,
            "checks": self.checks,
            "passed": all(c["status"] != "fail" for c in self.checks),
            "summary": report.get("summary"),
            "processes": len(report.get("processes") or []),
            "notices": notices[:20], "notices_total": len(notices),
            "findings": self.findings,
            "report": os.path.relpath(self.report_path, ROOT) if self.report_path else None,
            "info": self.info,
        }


# ---- CPython's regression tests ---------------------------------------------------------

# test_multiprocessing_fork is large: these classes fork a lot (processes,
# pools, managers, queues, locks shared with children) and run in well
# under a minute bare.
MP_CLASSES = ["WithProcessesTestProcess", "WithProcessesTestPool", "WithProcessesTestQueue",
              "WithProcessesTestLock", "WithProcessesTestSemaphore", "WithProcessesTestCondition",
              "WithProcessesTestEvent", "WithProcessesTestBarrier", "WithProcessesTestPoolWorkerLifetime",
              "WithProcessesTestPoolWorkerErrors", "WithProcessesTestLogging", "WithManagerTestPool",
              "TestForkAwareThreadLock", "TestInitializers"]

# (module, extra regrtest arguments, regrtest --timeout in seconds, quick)
CPYTHON_MODULES = [
    ("test_fork1", [], 300, True),
    ("test_thread", [], 300, True),
    ("test_threading", [], 600, False),
    ("test_os", [], 300, True),
    ("test_subprocess", [], 600, False),
    # Loopback only, but the module asks for the 'network' resource.
    ("test_socketserver", ["-u", "network"], 300, False),
    ("test_logging", [], 600, False),
    ("test_concurrent_futures", [], 1200, False),
    ("test_multiprocessing_fork", [a for c in MP_CLASSES for a in ("-m", c)], 900, False),
]

# Test classes that time their tests (test_concurrent_futures) print
# "0.06s ok" and start the next line with the last skip's "0.00s ".
TEST_START = re.compile(r"^(?:\d+\.\d+s )?(\w+) \(([\w.]+)\)(.*)$")
SUBTEST = re.compile(r"^  (\w+) \(([\w.]+)\) .* \.\.\. (FAIL|ERROR)$")
STATUS = re.compile(r"(?:^|\.\.\. )(?:\d+\.\d+s )?(ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$")
SUMMARY_BLOCK = re.compile(r"^(FAIL|ERROR): (\w+) \(([\w.]+)\)")


def parse_unittest(text):
    """Per-test outcomes from `python -m test -v` output:
    {test id: ok|FAIL|ERROR|skipped|expected failure|unexpected success|no result}."""
    statuses = {}
    current = None
    for line in text.splitlines():
        m = TEST_START.match(line)
        if m and m.group(2).endswith("." + m.group(1)):
            current = m.group(2)
            statuses.setdefault(current, [])
            s = STATUS.search(m.group(3))
            if s:
                statuses[current].append(s.group(1))
            continue
        m = SUBTEST.match(line)
        if m and m.group(2).endswith("." + m.group(1)):
            statuses.setdefault(m.group(2), []).append(m.group(3))
            continue
        if line.startswith("=" * 70) or line.startswith("-" * 70) or re.match(r"^Ran \d+ tests? in ", line):
            current = None
            continue
        m = SUMMARY_BLOCK.match(line)
        if m:
            test_id = m.group(3) if m.group(3).endswith("." + m.group(2)) else "%s %s" % (m.group(2), m.group(3))
            statuses.setdefault(test_id, []).append(m.group(1))
            continue
        if current:
            s = STATUS.search(line)
            if s:
                statuses[current].append(s.group(1))
    outcomes = {}
    for test_id, seen in statuses.items():
        seen = ["skipped" if s.startswith("skipped") else s for s in seen]
        if "ERROR" in seen:
            outcomes[test_id] = "ERROR"
        elif "FAIL" in seen:
            outcomes[test_id] = "FAIL"
        elif seen:
            outcomes[test_id] = seen[-1]
        else:
            outcomes[test_id] = "no result"
    return outcomes


def regrtest_result(text):
    m = re.findall(r"^Tests result: (.*)$", text, re.M)
    if m:
        return m[-1].strip()
    m = re.findall(r"^== Tests result: (.*) ==$", text, re.M)
    return m[-1].strip() if m else "no result line"


def outcome_counts(outcomes):
    counts = {}
    for o in outcomes.values():
        counts[o] = counts.get(o, 0) + 1
    return counts


def cpython_target(module, extra, timeout, quick):
    def runner(ctx, res):
        cmd = [PYTHON, "-m", "test", "-v", "--timeout", str(timeout), module] + extra
        env_extra = {"TMPDIR": ctx.tmp, "PYTHONHASHSEED": "0"}
        env = bare_environment(env_extra)
        for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONDEVMODE"):
            env.pop(var, None)
        bare = []
        for i in (1, 2):
            path = os.path.join(res.outdir, "bare%d.log" % i)
            r = run(cmd, path, env, ctx.tmp, timeout + 120)
            text = read_text(path)
            r["outcomes"] = parse_unittest(text)
            r["result"] = regrtest_result(text)
            bare.append(r)
            res.seconds["bare%d" % i] = r["seconds"]
            log("   bare run %d: %.1fs, exit %s%s, %s, %s" % (i, r["seconds"], r["rc"], " (TIMEOUT)" if r["timed_out"] else "",
                                                           r["result"], outcome_counts(r["outcomes"])))
        report = os.path.join(res.outdir, "report.json")
        if os.path.exists(report):
            os.unlink(report)
        path = os.path.join(res.outdir, "forksan.log")
        r = run(ctx.forksan.command(report, cmd), path, env, ctx.tmp, timeout + 120)
        text = read_text(path)
        recovered = ctx.forksan.recover(ctx.tmp, report) if not os.path.exists(report) else None
        r["outcomes"] = parse_unittest(text)
        r["result"] = regrtest_result(text)
        res.seconds["forksan"] = r["seconds"]
        log("   forksan run: %.1fs, exit %s%s, %s, %s" % (r["seconds"], r["rc"], " (TIMEOUT)" if r["timed_out"] else "",
                                                      r["result"], outcome_counts(r["outcomes"])))
        res.bare_ok = bare[0]["rc"] == 0
        res.forksan_ok = r["rc"] == 0
        res.info = {"command": cmd, "bare_results": [b["result"] for b in bare], "forksan_result": r["result"],
                    "bare_exit": [b["rc"] for b in bare], "forksan_exit": r["rc"],
                    "bare_counts": outcome_counts(bare[0]["outcomes"]), "forksan_counts": outcome_counts(r["outcomes"])}

        b1, b2, fo = bare[0]["outcomes"], bare[1]["outcomes"], r["outcomes"]
        flaky, diffs = [], []
        for test_id in sorted(set(b1) | set(b2) | set(fo)):
            o1, o2, of = b1.get(test_id, "not run"), b2.get(test_id, "not run"), fo.get(test_id, "not run")
            if o1 != o2:
                flaky.append("%s: bare %s / %s, forksan %s" % (test_id, o1, o2, of))
            elif of != o1:
                diffs.append("%s: bare %s, forksan %s" % (test_id, o1, of))
        res.info["flaky"] = flaky
        res.info["differences"] = diffs
        ran = sum(int(n) for n in re.findall(r"^Ran (\d+) tests? in ", read_text(os.path.join(res.outdir, "bare1.log")), re.M))
        res.check("tests parsed", (bool(b1) or "skipped" in bare[0]["result"].lower()) and len(b1) >= ran,
                  "%d test outcomes parsed from the first bare run, unittest says it ran %d" % (len(b1), ran))
        if flaky:
            res.check("flaky bare (ignored)", True, "%d test(s):\n%s" % (len(flaky), "\n".join(flaky)), status="flaky")
        res.check("same per-test outcomes bare and under forksan", not diffs,
                  ("%d difference(s):\n" % len(diffs) + "\n".join(diffs)) if diffs else
                  "%d tests" % len(set(b1) | set(fo)))
        same_rc = bare[0]["rc"] == bare[1]["rc"]
        res.check("same exit status bare and under forksan", r["rc"] == bare[0]["rc"] or not same_rc,
                  "bare %s/%s, forksan %s%s" % (bare[0]["rc"], bare[1]["rc"], r["rc"],
                                                 " (TIMEOUT)" if r["timed_out"] else ""),
                  status=None if same_rc else "flaky")
        res.common_checks(report, [("stdout+stderr", text)], ctx.allow, recovered)

    return Target("cpython:" + module, quick, runner,
                  "CPython 3.11 regrtest: python3 -m test -v %s%s" % (module, " (-m classes)" if extra and extra[0] == "-m" else ""))


# ---- PostgreSQL ------------------------------------------------------------------------------

def postgres_target(quick):
    def runner(ctx, res):
        pw = pwd.getpwnam("postgres")
        base = tempfile.mkdtemp(prefix="forksan-rw-pg-")
        os.chmod(base, 0o755)
        try:
            cli = ctx.forksan.copy_to(os.path.join(base, "forksan"))
            data, sock, tmp = (os.path.join(base, d) for d in ("data", "sock", "tmp"))
            for d in (sock, tmp):
                os.mkdir(d)
            for d in (base, sock, tmp):
                os.chown(d, pw.pw_uid, pw.pw_gid)
            as_pg = ["runuser", "-u", "postgres", "--", "env", "TMPDIR=" + tmp]
            env = bare_environment()
            rc, out = quiet(as_pg + [PG_BIN + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                            timeout=180, env=env, cwd=base)
            if rc != 0:
                res.check("initdb", False, out[-1500:])
                return
            seconds = 5 if ctx.quick else 10
            runs = {}
            for mode in ("bare", "forksan"):
                port = free_port()
                server = [PG_BIN + "/postgres", "-D", data, "-p", str(port), "-k", sock,
                          "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "logging_collector=off"]
                pg_report = os.path.join(base, "report.json")
                server = ctx.forksan.for_mode(mode, pg_report, server, cli)
                log_path = os.path.join(res.outdir, "%s.log" % mode)
                r = {"pgbench_init": None, "pgbench": None, "tps": None, "transactions": 0}
                t0 = time.monotonic()
                proc = start(as_pg + server, log_path, env, base)
                try:
                    ok = wait_port(port, proc, 60)
                    # The port opens before recovery ends ("the database
                    # system is starting up"): wait until it accepts.
                    deadline = time.monotonic() + 60
                    while ok and time.monotonic() < deadline:
                        rc, _ = quiet(as_pg + [PG_BIN + "/pg_isready", "-h", sock, "-p", str(port)], timeout=30, env=env,
                                      cwd=base)
                        if rc == 0:
                            break
                        time.sleep(0.2)
                    r["started"] = ok
                    if ok:
                        client = as_pg + [PG_BIN + "/pgbench", "-h", sock, "-p", str(port)]
                        rc, out = quiet(client + ["-i", "-s", "2", "postgres"], timeout=300, env=env, cwd=base)
                        r["pgbench_init"] = rc
                        with open(os.path.join(res.outdir, "%s.pgbench-init.txt" % mode), "w") as f:
                            f.write(out)
                        rc, out = quiet(client + ["-c", "4", "-j", "2", "-T", str(seconds), "postgres"],
                                        timeout=seconds + 120, env=env, cwd=base)
                        r["pgbench"] = rc
                        with open(os.path.join(res.outdir, "%s.pgbench.txt" % mode), "w") as f:
                            f.write(out)
                        m = re.search(r"number of transactions actually processed: (\d+)", out)
                        r["transactions"] = int(m.group(1)) if m else 0
                        m = re.search(r"number of failed transactions: (\d+)", out)
                        r["failed_transactions"] = int(m.group(1)) if m else None
                        m = re.search(r"tps = ([\d.]+)", out)
                        r["tps"] = float(m.group(1)) if m else None
                    rc, out = quiet(as_pg + [PG_BIN + "/pg_ctl", "stop", "-D", data, "-m", "fast", "-w", "-t", "60"],
                                    timeout=120, env=env, cwd=base)
                    r["pg_ctl_stop"] = rc
                    try:
                        proc.wait(120)
                    except subprocess.TimeoutExpired:
                        r["stop_timeout"] = True
                finally:
                    kill_group(proc)
                    quiet(as_pg + [PG_BIN + "/pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-t", "20"],
                          timeout=60, env=env, cwd=base)
                r["rc"] = proc.returncode
                r["seconds"] = round(time.monotonic() - t0, 1)
                res.seconds[mode] = r["seconds"]
                text = read_text(log_path)
                r["shut_down"] = "database system is shut down" in text
                runs[mode] = r
                log("   %s: %.1fs, exit %s, pgbench -i %s, pgbench %s: %d transactions (%s tps), log says shut down: %s"
                    % (mode, r["seconds"], r["rc"], r["pgbench_init"], r["pgbench"], r["transactions"], r["tps"],
                       r["shut_down"]))
                if mode == "forksan":
                    if os.path.exists(pg_report):
                        shutil.copy(pg_report, os.path.join(res.outdir, "report.json"))
                    r["log_text"] = text
            res.info = {k: {kk: vv for kk, vv in v.items() if kk != "log_text"} for k, v in runs.items()}
            for mode in ("bare", "forksan"):
                r = runs[mode]
                good = bool(r["started"] and r["pgbench_init"] == 0 and r["pgbench"] == 0 and r["transactions"] > 0
                            and not r.get("failed_transactions"))
                if mode == "bare":
                    res.bare_ok = good and r["rc"] == 0
                else:
                    res.forksan_ok = good and r["rc"] == 0
                res.check("%s: pgbench -i and pgbench succeed" % mode, good,
                          "started %s, pgbench -i exit %s, pgbench exit %s, %d transactions, %s failed"
                          % (r["started"], r["pgbench_init"], r["pgbench"], r["transactions"], r.get("failed_transactions")))
                res.check("%s: postgres exits cleanly" % mode, r["rc"] == 0 and r["shut_down"],
                          "exit status %s, 'database system is shut down' %s" % (r["rc"], "logged" if r["shut_down"] else "NOT logged"))
            res.common_checks(os.path.join(res.outdir, "report.json"),
                              [("postgres stdout+stderr", runs["forksan"]["log_text"])], ctx.allow)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    return Target("postgres", quick, runner,
                  "PostgreSQL 15 postmaster: pgbench -i -s 2, pgbench -c 4 -j 2 -T 10 (5 with --quick), pg_ctl stop -m fast")


# ---- Redis ---------------------------------------------------------------------------------------

class Resp:
    """A minimal Redis client (RESP2), enough for BGSAVE, INFO and SHUTDOWN."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:].decode(errors="replace")
        if kind == b"+":
            return rest
        if kind == b"-":
            return RuntimeError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)


def redis_info(client, section):
    text = client.call("INFO", section)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def proc_threads(pid):
    """[(tid, comm)] of a live process from /proc."""
    out = []
    for task in sorted(glob.glob("/proc/%d/task/*" % pid), key=lambda p: int(os.path.basename(p))):
        try:
            with open(os.path.join(task, "comm")) as f:
                out.append((int(os.path.basename(task)), f.read().strip()))
        except OSError:
            pass
    return out


def proc_children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def redis_target(quick):
    def runner(ctx, res):
        requests = 100000 if ctx.quick else 300000
        bgsaves = 3 if ctx.quick else 6
        runs = {}
        for mode in ("bare", "forksan"):
            d = tempfile.mkdtemp(prefix="redis-", dir=ctx.tmp)
            port = free_port()
            server = ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                      "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
                      "--dbfilename", "dump.rdb"]
            report = os.path.join(res.outdir, "report.json")
            server = ctx.forksan.for_mode(mode, report, server)
            log_path = os.path.join(res.outdir, "%s.log" % mode)
            env = bare_environment({"TMPDIR": ctx.tmp})
            r = {"bgsaves": [], "benchmark_rc": None}
            t0 = time.monotonic()
            proc = start(server, log_path, env, d)
            bench = None
            client = None
            try:
                if not wait_port(port, proc, 30):
                    r["started"] = False
                    raise RuntimeError("redis did not start")
                r["started"] = True
                client = Resp(port)
                redis_pid = int(redis_info(client, "server")["process_id"])
                r["redis_pid"] = redis_pid
                bench_out = os.path.join(res.outdir, "%s.benchmark.txt" % mode)
                bench = start(["/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q",
                               "-n", str(requests), "-P", "16", "-r", "100000", "-d", "256",
                               "-t", "set,get,lpush,incr"], bench_out, env, d)
                time.sleep(0.5)
                deadline = time.monotonic() + 240
                while len(r["bgsaves"]) < bgsaves and time.monotonic() < deadline:
                    reply = client.call("BGSAVE")
                    if isinstance(reply, Exception):
                        time.sleep(0.2)
                        continue
                    save = {"reply": reply, "child": None, "parent_threads": None, "child_threads": None}
                    while time.monotonic() < deadline:
                        info = redis_info(client, "persistence")
                        if info.get("rdb_bgsave_in_progress") == "1":
                            if save["parent_threads"] is None:
                                kids = proc_children(redis_pid)
                                save["parent_threads"] = proc_threads(redis_pid)
                                if kids:
                                    save["child"] = kids[-1]
                                    save["child_threads"] = proc_threads(kids[-1])
                            time.sleep(0.01)
                            continue
                        save["status"] = info.get("rdb_last_bgsave_status")
                        save["keys"] = redis_info(client, "keyspace").get("db0", "")
                        break
                    r["bgsaves"].append(save)
                    time.sleep(0.3 if bench.poll() is None else 0.1)
                try:
                    bench.wait(240)
                except subprocess.TimeoutExpired:
                    pass
                r["benchmark_rc"] = bench.returncode
                r["benchmark"] = read_text(bench_out).replace("\r", "\n").strip().splitlines()[-4:]
                try:
                    reply = client.call("SHUTDOWN", "NOSAVE")  # the server closes the connection: no reply
                    r["shutdown_reply"] = str(reply)
                except ConnectionError:
                    pass
            except (ConnectionError, OSError, RuntimeError) as e:
                r["error"] = str(e)
            finally:
                if client:
                    try:
                        client.close()
                    except OSError:
                        pass
                if bench is not None:
                    kill_group(bench)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    r["stop_timeout"] = True
                kill_group(proc)
            r["rc"] = proc.returncode
            r["seconds"] = round(time.monotonic() - t0, 1)
            res.seconds[mode] = r["seconds"]
            r["log_text"] = read_text(log_path)
            runs[mode] = r
            sampled = [s for s in r["bgsaves"] if s["parent_threads"]]
            log("   %s: %.1fs, exit %s, benchmark exit %s, %d BGSAVE(s) (%s), %d sampled while running%s"
                % (mode, r["seconds"], r["rc"], r["benchmark_rc"], len(r["bgsaves"]),
                   ",".join(str(s.get("status")) for s in r["bgsaves"]), len(sampled),
                   ", error: " + r["error"] if r.get("error") else ""))
            shutil.rmtree(d, ignore_errors=True)
        res.info = {k: {kk: vv for kk, vv in v.items() if kk != "log_text"} for k, v in runs.items()}
        for mode in ("bare", "forksan"):
            r = runs[mode]
            good = (r.get("started") and r["benchmark_rc"] == 0 and len(r["bgsaves"]) == bgsaves
                    and all(s.get("status") == "ok" for s in r["bgsaves"]))
            if mode == "bare":
                res.bare_ok = bool(good) and r["rc"] == 0
            else:
                res.forksan_ok = bool(good) and r["rc"] == 0
            res.check("%s: benchmark and %d BGSAVEs succeed" % (mode, bgsaves), bool(good),
                      "benchmark exit %s, BGSAVE status %s%s" % (r["benchmark_rc"],
                                                                 [s.get("status") for s in r["bgsaves"]],
                                                                 ", " + r["error"] if r.get("error") else ""))
            res.check("%s: redis exits cleanly on SHUTDOWN NOSAVE" % mode, r["rc"] == 0, "exit status %s" % r["rc"])
        res.common_checks(os.path.join(res.outdir, "report.json"), [("redis stdout+stderr", runs["forksan"]["log_text"])],
                          ctx.allow)
        redis_threads_check(res, runs["forksan"])

    return Target("redis", quick, runner,
                  "redis-server: redis-benchmark -P 16 load with BGSAVE during it, SHUTDOWN NOSAVE")


def redis_threads_check(res, run_):
    """The BGSAVE child's threads-at-fork finding must name exactly the
    threads /proc showed in the parent (all but the forking main thread)."""
    report = res.report or {}
    sampled = [s for s in run_["bgsaves"] if s.get("parent_threads") and s.get("child")]
    if not sampled:
        res.check("BGSAVE child's threads-at-fork names the threads /proc shows", False,
                  "no BGSAVE was caught running: nothing to compare")
        return
    problems, seen = [], []
    for s in sampled:
        pid = run_["redis_pid"]
        expected = sorted(name for tid, name in s["parent_threads"] if tid != pid)
        seen.append("child %d: /proc/%d/task: %s" % (s["child"], pid, ", ".join("%d %s" % t for t in s["parent_threads"])))
        found = [f for f in report.get("findings") or [] if f["rule"] == "threads-at-fork" and s["child"] in (f.get("pids") or [])]
        if not found:
            procs = [p for p in report.get("processes") or [] if p.get("pid") == s["child"]]
            problems.append("child %d: no threads-at-fork finding (process %s in the report%s); /proc shows other threads %s"
                            % (s["child"], "listed" if procs else "NOT listed",
                               ", threads_at_fork=%s" % procs[0].get("threads_at_fork") if procs else "", expected))
            continue
        threads = sorted(((loc.get("thread") or {}).get("name") or "?", (loc.get("thread") or {}).get("tid"))
                         for loc in found[0]["locations"] if loc.get("role") == "thread")
        names = [name for name, _ in threads]
        forker = [(loc.get("thread") or {}).get("name") for loc in found[0]["locations"] if loc.get("role") == "fork"]
        if names != expected:
            procs = [p for p in report.get("processes") or [] if p.get("pid") == s["child"]]
            problems.append("child %d: threads-at-fork (%s) names %d thread(s) %s (forking thread %s; threads_at_fork=%s), "
                            "/proc shows %d other thread(s) %s"
                            % (s["child"], found[0]["severity"], len(names), ", ".join("%s %s" % (t, n) for n, t in threads),
                               forker, procs[0].get("threads_at_fork") if procs else "?", len(expected), expected))
    res.info.setdefault("forksan", {})["threads_seen"] = seen
    res.check("BGSAVE child's threads-at-fork names the threads /proc shows", not problems,
              "\n".join(problems + seen[:3]) if problems else "%d BGSAVE child(ren) compared; %s" % (len(sampled), seen[0]))


# ---- nginx ------------------------------------------------------------------------------------------

NGINX_CONF = """\
user nobody nogroup;
worker_processes 2;
master_process on;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port};
        root {d}/html;
        location / {{ }}
    }}
}}
"""


def nginx_target(quick):
    def runner(ctx, res):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        count = 200
        runs = {}
        for mode in ("bare", "forksan"):
            d = tempfile.mkdtemp(prefix="nginx-", dir="/tmp")
            os.chmod(d, 0o755)
            try:
                port = free_port()
                os.mkdir(os.path.join(d, "html"))
                with open(os.path.join(d, "html", "index.html"), "w") as f:
                    f.write("hello from forksan's realworld test\n" * 20)
                for p in (os.path.join(d, "html"), os.path.join(d, "html", "index.html")):
                    os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)
                conf = os.path.join(d, "nginx.conf")
                with open(conf, "w") as f:
                    f.write(NGINX_CONF.format(d=d, port=port))
                server = [nginx, "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf]
                report = os.path.join(res.outdir, "report.json")
                server = ctx.forksan.for_mode(mode, report, server)
                log_path = os.path.join(res.outdir, "%s.log" % mode)
                env = bare_environment({"TMPDIR": ctx.tmp})
                if mode == "forksan":
                    # Every process writes its trace, clean workers too, so
                    # the report shows whether a worker that switched to
                    # nobody could still write (otherwise a worker with
                    # nothing to say writes nothing, by design).
                    env["FORKSAN_OPTIONS"] = "trace_all=1"
                r = {"statuses": {}, "workers": []}
                t0 = time.monotonic()
                proc = start(server, log_path, env, d)
                try:
                    r["started"] = wait_port(port, proc, 30)
                    if r["started"]:
                        master = int(read_text(os.path.join(d, "nginx.pid")).strip() or 0)
                        r["master_pid"] = master
                        r["workers"] = [(c, proc_threads(c)[0][1] if proc_threads(c) else "?") for c in proc_children(master)]
                        for _ in range(count):
                            try:
                                with urllib.request.urlopen("http://127.0.0.1:%d/index.html" % port, timeout=10) as resp:
                                    resp.read()
                                    status = resp.status
                            except urllib.error.HTTPError as e:
                                status = e.code
                            except OSError as e:
                                status = "error: %s" % e
                            r["statuses"][str(status)] = r["statuses"].get(str(status), 0) + 1
                        os.kill(master, signal.SIGQUIT)
                    try:
                        proc.wait(60)
                    except subprocess.TimeoutExpired:
                        r["stop_timeout"] = True
                finally:
                    kill_group(proc)
                r["rc"] = proc.returncode
                r["seconds"] = round(time.monotonic() - t0, 1)
                res.seconds[mode] = r["seconds"]
                r["log_text"] = read_text(log_path)
                r["error_log"] = read_text(os.path.join(d, "error.log"))
                with open(os.path.join(res.outdir, "%s.error.log" % mode), "w") as f:
                    f.write(r["error_log"])
                runs[mode] = r
                log("   %s: %.1fs, exit %s, responses %s, workers %s"
                    % (mode, r["seconds"], r["rc"], r["statuses"], r["workers"]))
            finally:
                shutil.rmtree(d, ignore_errors=True)
        res.info = {k: {kk: vv for kk, vv in v.items() if kk not in ("log_text", "error_log")} for k, v in runs.items()}
        for mode in ("bare", "forksan"):
            r = runs[mode]
            good = r["started"] and r["statuses"] == {"200": count}
            if mode == "bare":
                res.bare_ok = bool(good) and r["rc"] == 0
            else:
                res.forksan_ok = bool(good) and r["rc"] == 0
            res.check("%s: all %d requests 200" % (mode, count), bool(good), "responses %s" % r["statuses"])
            res.check("%s: nginx exits cleanly on SIGQUIT" % mode, r["rc"] == 0 and not r.get("stop_timeout"),
                      "exit status %s%s" % (r["rc"], " (did not stop in 60s)" if r.get("stop_timeout") else ""))
        f = runs["forksan"]
        res.common_checks(os.path.join(res.outdir, "report.json"),
                          [("nginx stdout+stderr", f["log_text"]), ("nginx error.log (the workers' stderr)", f["error_log"])],
                          ctx.allow)
        report = res.report or {}
        workers = [w for w, _ in f["workers"]]
        listed = {p.get("pid"): p for p in report.get("processes") or []}
        res.info["forksan"]["report_processes"] = [{k: p.get(k) for k in ("pid", "ppid", "exe", "threads_at_fork", "exit")}
                                                   for p in report.get("processes") or []]
        missing = [w for w in workers if w not in listed]
        res.check("report's processes include the %d worker processes" % len(workers), bool(workers) and not missing,
                  "workers %s (from /proc), missing from the report: %s; report lists %s"
                  % (workers, missing, ["%s (ppid %s)" % (p.get("pid"), p.get("ppid")) for p in report.get("processes") or []]))

    return Target("nginx", quick, runner,
                  "nginx master + 2 workers as nobody, 200 requests, SIGQUIT")


# ---- the run ------------------------------------------------------------------------------------------

TARGETS = [cpython_target(*m) for m in CPYTHON_MODULES] + [postgres_target(True), redis_target(True), nginx_target(True)]


class Context:
    def __init__(self, forksan, allow, tmp, quick):
        self.forksan, self.allow, self.tmp, self.quick = forksan, allow, tmp, quick


def md_escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_markdown(path, results, meta):
    out = ["# forksan on real programs: precision", "",
           "%s (branch commit %s), %s, %s. Findings are forksan's own JSON report, unfiltered; "
           "grouped by rule, severity, first frame and message (numbers and addresses ignored)." %
           (meta["forksan_version"], meta["commit"], meta["date"], meta["selection"]), ""]
    run_ats = sorted({r.get("run_at", "?")[:16] for r in results})
    if len(run_ats) > 1:
        out += ["Targets rerun with --only replace their rows; the others keep an earlier run's (runs at %s)."
                % ", ".join(run_ats), ""]
    out += [
           "errors / warnings / notes: forksan's summary (distinct findings); processes: listed in the report.", "",
           "| program | bare | forksan | bare s | forksan s | errors | warnings | notes | processes | checks failed |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        summ = r["summary"] or {}
        bare_s = "/".join(str(r["seconds"][k]) for k in ("bare1", "bare2", "bare") if k in r["seconds"])
        failed = [c["name"] for c in r["checks"] if c["status"] == "fail"]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], {True: "pass", False: "FAIL", None: "-"}[r["bare_ok"]],
            {True: "pass", False: "FAIL", None: "-"}[r["forksan_ok"]], bare_s, r["seconds"].get("forksan", "-"),
            summ.get("error", "-"), summ.get("warning", "-"), summ.get("note", "-"), r["processes"],
            md_escape("; ".join(failed)) or "none"))
    out += ["", "## Warnings and errors", "",
            "Each row: one group of findings (count = occurrences summed over the group's findings). "
            "A row without a justification is not in tests/realworld/expected.txt and fails the check.", "",
            "| program | severity | rule | count | fingerprint(s) | message | first frame | justification |",
            "|---|---|---|---|---|---|---|---|"]
    any_row = False
    for r in results:
        for g in r["findings"]:
            if g["severity"] not in ("error", "warning"):
                continue
            any_row = True
            fps = g["fingerprints"][:3] + (["… %d more" % (len(g["fingerprints"]) - 3)] if len(g["fingerprints"]) > 3 else [])
            out.append("| %s | %s | %s | %d | %s | %s | %s: `%s` | %s |" % (
                r["name"], g["severity"], g["rule"], g["count"], md_escape(" ".join(fps)), md_escape(g["message"]),
                g["first_frame_role"], md_escape(g["short_frame"]),
                md_escape(g["justification"]) if g["allowed"] else "**not allowlisted**"))
    if not any_row:
        out.append("| (none) | | | | | | | |")
    out += ["", "## Notes", "", "| program | rule | count | message | first frame |", "|---|---|---|---|---|"]
    for r in results:
        for g in r["findings"]:
            if g["severity"] == "note":
                out.append("| %s | %s | %d | %s | %s: `%s` |" % (r["name"], g["rule"], g["count"], md_escape(g["message"]),
                                                            g["first_frame_role"], md_escape(g["short_frame"])))
    out += ["", "## Failed checks", ""]
    for r in results:
        for c in r["checks"]:
            if c["status"] in ("fail", "flaky"):
                lines = c["detail"].splitlines()
                out.append("- **%s** — %s%s: %s" % (r["name"], c["name"], " (flaky, not failing)" if c["status"] == "flaky" else "",
                                                     md_escape(lines[0] if lines else "")))
                for line in lines[1:25]:
                    out.append("    - %s" % md_escape(line))
                if len(lines) > 25:
                    out.append("    - … %d more (results.json)" % (len(lines) - 25))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


README_BEGIN = "<!-- precision table: generated by tests/realworld/run.py --readme; do not edit -->"
README_END = "<!-- end of precision table -->"


def write_readme(path, results, meta):
    """Replaces the precision table of README.md (between its markers) with
    this run's: per program the outcome and the findings by severity, then
    every warning and error with its justification from the allowlist."""
    out = [README_BEGIN, "",
           "Measured by `make realworld` (%s, commit %s, %s):" % (meta["forksan_version"], meta["commit"],
                                                                         meta["date"][:10]), "",
           "| program | outcome bare / forksan | errors | warnings | notes |", "|---|---|---|---|---|"]
    for r in results:
        summ = r["summary"] or {}
        word = {True: "pass", False: "FAIL", None: "-"}
        out.append("| %s | %s / %s | %s | %s | %s |" % (r["name"], word[r["bare_ok"]], word[r["forksan_ok"]],
                                                   summ.get("error", "-"), summ.get("warning", "-"), summ.get("note", "-")))
    rows = [(r, g) for r in results for g in r["findings"] if g["severity"] in ("error", "warning")]
    if rows:
        out += ["", "Every finding above note, and why it is reported:", "",
                "| program | finding | where | why |", "|---|---|---|---|"]
        for r, g in rows:
            out.append("| %s | %s %s (×%d) | `%s` | %s |" % (r["name"], g["severity"], g["rule"], g["count"],
                                                          md_escape(g["short_frame"]),
                                                          md_escape(g["justification"]) if g["allowed"] else "**not allowlisted**"))
    out += ["", README_END]
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        raise SystemExit("%s has no precision table markers" % path)
    head, rest = text.split(README_BEGIN, 1)
    tail = rest.split(README_END, 1)[1]
    with open(path, "w") as f:
        f.write(head + "\n".join(out) + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="targets to run (names or globs, e.g. cpython:test_os redis 'cpython:*')")
    ap.add_argument("--quick", action="store_true", help="the fast subset (make realworld-quick)")
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    ap.add_argument("--allowlist", default=os.path.join(HERE, "expected.txt"))
    ap.add_argument("--readme", action="store_true", help="also rewrite the precision table in README.md")
    args = ap.parse_args()

    if args.list:
        for t in TARGETS:
            print("%-32s %s%s" % (t.name, t.description, "  [quick]" if t.quick else ""))
        return 0
    targets = [t for t in TARGETS if not args.quick or t.quick]
    if args.only:
        targets = [t for t in TARGETS if any(fnmatch.fnmatchcase(t.name, p) or t.name == "cpython:" + p for p in args.only)]
        if not targets:
            print("no target matches %s (--list shows them)" % args.only, file=sys.stderr)
            return 2
    build = os.path.abspath(args.build)
    forksan = Forksan(build)
    for path in (forksan.cli, forksan.runtime):
        if not os.path.exists(path):
            print("missing %s: build forksan first (make all)" % path, file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("note: not root: postgres (runuser) and nginx (user nobody) need root", file=sys.stderr)
    allow = Allowlist(args.allowlist)
    outroot = os.path.join(build, "realworld")
    os.makedirs(outroot, exist_ok=True)
    rc, version = quiet([forksan.cli, "--version"])
    rc, commit = quiet(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    selection = ("targets " + " ".join(args.only)) if args.only else ("quick subset" if args.quick else "all targets")
    meta = {"forksan_version": version.strip(), "commit": commit.strip(), "quick": args.quick, "selection": selection,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "allowlist": os.path.relpath(args.allowlist, ROOT),
            "allowlist_entries": len(allow.entries)}

    # --only reruns some targets: the other targets' results of an earlier
    # run stay in results.json and precision.md (each with its own run_at).
    previous = {}
    if args.only:
        try:
            with open(os.path.join(outroot, "results.json")) as f:
                previous = {t["name"]: t for t in json.load(f)["targets"]}
        except (OSError, ValueError, KeyError):
            previous = {}
    names = [t.name for t in TARGETS]

    def merged(current):
        done = {r["name"]: r for r in current}
        out = [done.get(n) or previous.get(n) for n in names]
        return [r for r in out if r]

    results = []
    t_start = time.monotonic()
    for i, t in enumerate(targets, 1):
        outdir = os.path.join(outroot, t.name.replace(":", "-"))
        shutil.rmtree(outdir, ignore_errors=True)
        os.makedirs(outdir)
        os.chmod(outdir, 0o755)
        log("== realworld [%d/%d] %s — %s" % (i, len(targets), t.name, t.description))
        res = Result(t, outdir)
        tmp = tempfile.mkdtemp(prefix="forksan-rw-")
        os.chmod(tmp, 0o755)
        t0 = time.monotonic()
        try:
            t.runner(Context(forksan, allow, tmp, args.quick), res)
        except Exception as e:  # a harness error is a failed check, and the next target still runs
            import traceback
            res.check("harness ran to the end", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()[-1500:]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        summ = (res.report or {}).get("summary") or {}
        log("   %s: %.0fs, findings error %s / warning %s / note %s, %d check(s) failed"
            % (t.name, time.monotonic() - t0, summ.get("error", "-"), summ.get("warning", "-"), summ.get("note", "-"),
               len(res.failed())))
        entry = res.as_json()
        entry["run_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        entry["commit"] = meta["commit"]
        results.append(entry)
        # Written after every target, so an interrupted run leaves what it has.
        with open(os.path.join(outroot, "results.json"), "w") as f:
            json.dump({"meta": meta, "targets": merged(results)}, f, indent=1)
        write_markdown(os.path.join(outroot, "precision.md"), merged(results), meta)

    if args.readme:
        write_readme(os.path.join(ROOT, "README.md"), merged(results), meta)
    passed = sum(1 for r in results for c in r["checks"] if c["status"] != "fail")
    failed = sum(1 for r in results for c in r["checks"] if c["status"] == "fail")
    log("== realworld: %d target(s) in %.0fs; %s, %s" % (len(results), time.monotonic() - t_start,
                                                      os.path.relpath(os.path.join(outroot, "results.json"), ROOT),
                                                      os.path.relpath(os.path.join(outroot, "precision.md"), ROOT)))
    for r in results:
        bad = [c["name"] for c in r["checks"] if c["status"] == "fail"]
        log("   %-30s %s" % (r["name"], ("FAILED: " + "; ".join(bad)) if bad else "passed"))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

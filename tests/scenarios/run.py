#!/usr/bin/env python3
"""run.py — scenario tests: real programs run under the real `forksan run`.

Each scenario names a program (a C file in this folder, built by make into
BUILD/scenarios/, or a Python script run by an interpreter given by absolute
path), the forksan options, and what the JSON report must contain: rule,
severity and the user's file:line in a given location role.  Lines are never
hard-coded: the source marks them with a comment `@mark:NAME` and the runner
looks the marker up, so editing a scenario cannot silently break a check.

A clean control asserts the opposite: no finding above `note`.

`same_as_bare=True` checks observe mode's promise (never change what the
program does): the program
is also run WITHOUT forksan (no LD_PRELOAD, no FORKSAN_OPTIONS) and its
stdout and exit status must be identical to those under `forksan run`.
Use it only on programs whose output is deterministic.  Every
scenario ends on its own (the programs bound their own waits), and the
runner also puts a timeout on each run.

Output ends with the plain summary line "N passed, N failed".
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEVERITY = {"note": 1, "warning": 2, "error": 3}
RUNTIME_LINE = re.compile(r"^==\d+==[A-Z]+: forksan: ")


def marker_line(path, name):
    """The line number of the `@mark:NAME` comment in path."""
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if re.search(r"@mark:%s\b" % re.escape(name), text):
                return number
    raise AssertionError("marker @mark:%s not found in %s" % (name, path))


class Expect:
    """A finding that must be present."""

    def __init__(self, rule, severity=None, role=None, source=None, mark=None, thread_name=None,
                 message_has=None, not_mark=None, name_only=False, file_only=False, function_has=None):
        self.function_has = function_has  # some frame of that location is in a function with this in its name
        self.not_mark = not_mark  # a marked line that must NOT be in that location
        self.name_only = name_only  # match role + thread name, no frame
        self.file_only = file_only  # any frame of `source`, whatever the line (stdlib files)
        self.rule, self.severity, self.role = rule, severity, role
        self.source, self.mark, self.thread_name = source, mark, thread_name
        self.message_has = message_has

    def describe(self):
        where = ""
        if self.role:
            where = " with %s at %s:@%s" % (self.role, self.source, self.mark)
        return "%s(%s)%s" % (self.rule, self.severity or "any", where)

    def matches(self, finding):
        if finding["rule"] != self.rule:
            return False
        if self.severity and finding["severity"] != self.severity:
            return False
        if self.message_has and self.message_has not in finding["message"]:
            return False
        if not self.role:
            return True
        line = None if (self.name_only or self.file_only) else marker_line(os.path.join(HERE, self.source), self.mark)
        for loc in finding["locations"]:
            if loc["role"] != self.role:
                continue
            if self.thread_name and (loc.get("thread") or {}).get("name") != self.thread_name:
                continue
            if self.function_has and not any(self.function_has in (frame.get("function") or "")
                                             for frame in loc["frames"]):
                continue
            if self.name_only:
                return True
            if self.file_only:
                if any(frame.get("file") and os.path.basename(frame["file"]) == self.source for frame in loc["frames"]):
                    return True
                continue
            lines = [frame.get("line") for frame in loc["frames"]
                     if frame.get("file") and os.path.basename(frame["file"]) == self.source]
            if self.not_mark and marker_line(os.path.join(HERE, self.source), self.not_mark) in lines:
                continue
            if line in lines:
                return True
        return False


class Scenario:
    def __init__(self, name, program, expect=(), clean=False, absent=(), args=(), forksan_args=(),
                 interpreter=None, exit_status=None, stdout_has=None, timeout=60, notice_has=None, same_as_bare=False,
                 at_most=None, quiet=False, notes_ok=(), absent_notice=None, stdout_is=None):
        self.stdout_is = stdout_is  # the program's whole output, exactly
        self.absent_notice = absent_notice  # no report notice may contain this
        # quiet: no finding at all, at any severity, but notes of the rules
        # in notes_ok (a control whose remaining note is a true fact).
        self.quiet, self.notes_ok = quiet, set(notes_ok)
        self.at_most = dict(at_most or {})  # rule -> the most findings of it allowed
        self.name, self.program, self.expect, self.clean = name, program, list(expect), clean
        self.absent, self.args, self.forksan_args = list(absent), list(args), list(forksan_args)
        self.interpreter, self.exit_status, self.stdout_has = interpreter, exit_status, stdout_has
        self.timeout, self.same_as_bare = timeout, same_as_bare
        self.notice_has = notice_has  # a report notice must contain this

    def command(self, build):
        if self.interpreter:
            return [self.interpreter, os.path.join(HERE, self.program)] + self.args
        return [os.path.join(build, "scenarios", self.program)] + self.args


def bare_environment():
    """The environment without anything that would load or configure forksan."""
    env = dict(os.environ)
    env.pop("FORKSAN_OPTIONS", None)
    preload = [p for p in env.pop("LD_PRELOAD", "").split(":") if p and "libforksan" not in p]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    return env


def compare_with_bare(s, build, proc):
    """Observe mode must not change what the program does: same stdout,
    same exit status as a run without forksan."""
    bare = subprocess.run(s.command(build), capture_output=True, text=True, timeout=s.timeout, cwd=ROOT,
                          env=bare_environment())
    problems = []
    if bare.stdout != proc.stdout:
        problems.append("stdout differs from the bare run:\n  bare:    %r\n  forksan: %r" % (bare.stdout, proc.stdout))
    # --keep-traces: forksan's own line naming where the traces are kept.
    stderr = re.sub(r"^forksan: traces kept in '[^\n]*'\n", "", proc.stderr, flags=re.M)
    if bare.stderr != stderr:
        problems.append("stderr differs from the bare run:\n  bare:    %r\n  forksan: %r" % (bare.stderr, proc.stderr))
    if bare.returncode != proc.returncode:
        problems.append("exit status %d under forksan, %d bare" % (proc.returncode, bare.returncode))
    return problems


def run_scenario(s, build, keep=None):
    forksan = os.path.join(build, "bin", "forksan")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        kept = ["--trace-dir", os.path.join(keep, s.name)] if keep else []
        cmd = [forksan, "run", "--format", "json", "-o", report, "--fail-on", "never"] + kept + s.forksan_args + ["--"] + s.command(build)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=s.timeout, cwd=ROOT)
        problems = []
        if not os.path.exists(report):
            return ["no report written; stderr:\n" + proc.stderr]
        with open(report) as f:
            data = json.load(f)
    findings = data["findings"]
    for e in s.expect:
        if not any(e.matches(f) for f in findings):
            problems.append("expected %s" % e.describe())
    for rule in s.absent:
        if any(f["rule"] == rule for f in findings):
            problems.append("unexpected %s" % rule)
    for rule, most in s.at_most.items():
        n = sum(1 for f in findings if f["rule"] == rule)
        if n > most:
            problems.append("%d %s findings, at most %d expected" % (n, rule, most))
    # Every scenario: a merged finding's message agrees with its severity
    # (a warning says what a vanished thread left the child: a lock held,
    # or a condition variable nobody else signals).
    for f in findings:
        warns = any(why in f["message"] for why in ("at least one of them left a lock held",
                                                      "the child waits forever on a condition variable"))
        if f["rule"] == "threads-at-fork" and (f["severity"] == "warning") != warns:
            problems.append("threads-at-fork %s says: %s" % (f["severity"], f["message"]))
    if s.quiet:
        for f in findings:
            if not (f["severity"] == "note" and f["rule"] in s.notes_ok):
                problems.append("quiet control has %s %s: %s" % (f["severity"], f["rule"], f["message"]))
    if s.clean:
        loud = [f for f in findings if SEVERITY[f["severity"]] > SEVERITY["note"]]
        for f in loud:
            problems.append("clean control has %s %s: %s" % (f["severity"], f["rule"], f["message"]))
    if s.exit_status is not None and proc.returncode != s.exit_status:
        problems.append("exit status %d, expected %d" % (proc.returncode, s.exit_status))
    if s.notice_has is not None and not any(s.notice_has in n for n in data.get("notices", [])):
        problems.append("no notice containing %r (notices: %r)" % (s.notice_has, data.get("notices")))
    if s.absent_notice is not None and any(s.absent_notice in n for n in data.get("notices", [])):
        problems.append("a notice contains %r (notices: %r)" % (s.absent_notice, data.get("notices")))
    if s.stdout_has is not None and s.stdout_has not in proc.stdout:
        problems.append("program output %r lacks %r" % (proc.stdout, s.stdout_has))
    if s.stdout_is is not None and proc.stdout != s.stdout_is:
        problems.append("program output %r, expected exactly %r" % (proc.stdout, s.stdout_is))
    if s.same_as_bare:
        problems += compare_with_bare(s, build, proc)
    # Under forksan run the runtime speaks into the trace directory: the
    # program's own stderr never gets a line of the runtime's.
    runtime_lines = [line for line in proc.stderr.splitlines() if RUNTIME_LINE.match(line)]
    if runtime_lines:
        problems.append("the runtime wrote into the program's stderr: %r" % runtime_lines[:3])
    if problems:
        problems.append("findings were: " + "; ".join("%s(%s)" % (f["rule"], f["severity"]) for f in findings))
        problems.append("stderr: " + proc.stderr[-2000:])
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--keep-traces", metavar="DIR",
                        help="keep each scenario's traces in DIR/NAME (to compare two builds' reports on them: "
                             "tests/scenarios/compare_reports.sh)")
    parser.add_argument("names", nargs="*", help="run only these scenarios")
    opts = parser.parse_args()
    build = os.path.abspath(opts.build)
    if opts.keep_traces:
        os.makedirs(opts.keep_traces, 0o700, exist_ok=True)
    sys.path.insert(0, HERE)
    from scenarios import KNOWN_FAILING, NOT_RUN, PYTHON_VERSIONS, SCENARIOS  # noqa: E402  (the table lives next to the programs)
    for line in PYTHON_VERSIONS:
        print(line)
    for name, why in NOT_RUN:
        if not opts.names or name in opts.names:
            print("not run: %s (%s)" % (name, why))
    # Known-failing scenarios (bugs in the tool) run only when named.
    chosen = [s for s in SCENARIOS if not opts.names or s.name in opts.names]
    chosen += [s for s in KNOWN_FAILING if s.name in opts.names]
    unknown = set(opts.names) - {s.name for s in SCENARIOS + KNOWN_FAILING}
    if unknown:
        print("unknown scenario name(s): %s" % ", ".join(sorted(unknown)))
        return 2
    passed = failed = skipped = 0
    for s in chosen:
        if s.interpreter and not os.path.exists(s.interpreter):
            print("SKIP %s (no %s on this machine)" % (s.name, s.interpreter))
            skipped += 1
            continue
        try:
            problems = run_scenario(s, build, opts.keep_traces and os.path.abspath(opts.keep_traces))
        except subprocess.TimeoutExpired:
            problems = ["timed out after %ds (the scenario must end on its own)" % s.timeout]
        except AssertionError as exc:
            problems = [str(exc)]
        if problems:
            failed += 1
            print("FAIL %s" % s.name)
            for p in problems:
                print("     " + p.replace("\n", "\n     "))
        else:
            passed += 1
            print("ok   %s" % s.name)
        sys.stdout.flush()
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

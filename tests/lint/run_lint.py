#!/usr/bin/env python3
"""run_lint.py — `make lint-check`: the real `forksan lint` on programs this
script builds from tests/lint/*.c, and on files broken on purpose.

Scenarios (each built with -O0 and -O2, so that both the stack-slot and the
register forms of the fork test are walked):
  mt_child_unsafe   threads, the child calls printf then pthread_mutex_lock
                    before _exit: one unsafe-after-fork at the printf line
                    (@mark:unsafe) with the fork line (@mark:fork)
  mt_child_safe     threads, the child calls write/open/dup2/close and execv
                    only: clean
  st_child_unsafe   no thread anywhere in the closure, the same printf: clean
  mt_spawn          threads, posix_spawn and vfork+execv: clean
  stripped copy     of mt_child_unsafe -O2: the same finding, module+offset
                    at the same addresses, no file:line
Then the bad input (one line each naming the file and the reason, the run
goes on, the exit status tells), the SARIF output against the vendored
schemas (tests/sarif), a JSON report as --baseline, --suppressions,
--fail-on, and `forksan explain` of both lint rules.

Lines are never hard-coded: the sources mark them with `@mark:NAME`.
Output: one "PASS:"/"FAIL:" line per check, then "N passed, N failed"; the
exit status is 1 when any check failed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "sarif"))

EXIT_FINDINGS = 66
EXIT_UNREADABLE = 74


# The check counter and the @mark: lookup are the SARIF check's own.
from check_sarif import Checks, marker_line  # noqa: E402


def build(src, out, *flags):
    subprocess.run(["cc", "-g", "-Wall", "-Wextra", "-Werror", "-pthread", *flags, "-o", out, src], check=True)


def lint(cli, *args):
    """Runs forksan lint; returns (exit status, JSON report, stderr)."""
    p = subprocess.run([cli, "lint", "--format", "json", "-o", "-", *args], capture_output=True, text=True)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = None
    return p.returncode, report, p.stderr


def frames(finding, role):
    for loc in finding["locations"]:
        if loc["role"] == role:
            return loc["frames"]
    return []


def check_unsafe(c, cli, binary, src, label):
    rc, report, err = lint(cli, binary)
    if not c.check("%s: a JSON report" % label, report is not None, err.strip()):
        return None
    found = [f for f in report["findings"] if f["rule"] == "unsafe-after-fork"]
    if not c.check("%s: exactly one unsafe-after-fork" % label, len(found) == 1 and len(report["findings"]) == 1,
                   json.dumps(report["findings"])[:400]):
        return None
    f = found[0]
    c.check("%s: severity warning, exit status 0 below --fail-on error" % label,
            f["severity"] == "warning" and rc == 0, "severity %s, rc %d" % (f["severity"], rc))
    c.check("%s: the unsafe call is printf" % label, "calls printf " in f["message"], f["message"])
    use, fork = frames(f, "use"), frames(f, "fork")
    want_use, want_fork = marker_line(src, "unsafe"), marker_line(src, "fork")
    c.check("%s: the unsafe call at the @mark:unsafe line %d" % (label, want_use),
            bool(use) and use[0].get("line") == want_use and (use[0].get("file") or "").endswith(os.path.basename(src)),
            json.dumps(use)[:300])
    c.check("%s: the fork call at the @mark:fork line %d" % (label, want_fork),
            bool(fork) and fork[0].get("line") == want_fork and fork[0].get("function") == "main",
            json.dumps(fork)[:300])
    return f


def check_clean(c, cli, binary, label):
    rc, report, err = lint(cli, binary)
    c.check("%s: clean, exit status 0" % label,
            report is not None and report["findings"] == [] and rc == 0,
            "rc %d, %s" % (rc, json.dumps(report["findings"] if report else err)[:400]))


def check_bad_input(c, cli, out, good):
    bad = os.path.join(out, "bad")
    shutil.rmtree(bad, ignore_errors=True)
    os.makedirs(bad)
    with open(good, "rb") as f:
        image = f.read()
    cases = {}

    def write(name, data, reason):
        path = os.path.join(bad, name)
        with open(path, "wb") as f:
            f.write(data)
        cases[path] = reason

    write("truncated", image[:2000], "truncated")
    write("corrupt", image[:16] + b"\xff" * 200, "corrupt")
    elf32 = bytearray(image)
    elf32[4] = 1  # EI_CLASS = ELFCLASS32
    write("elf32", bytes(elf32), "32-bit")
    foreign = bytearray(image)
    foreign[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    write("foreign", bytes(foreign), "another architecture")
    os.symlink("loop_b", os.path.join(bad, "loop_a"))
    os.symlink("loop_a", os.path.join(bad, "loop_b"))
    cases[os.path.join(bad, "loop_a")] = "symbolic link loop"
    cases[os.path.join(bad, "loop_b")] = "symbolic link loop"
    # A static program, and one whose library was removed after linking.
    src = os.path.join(bad, "tiny.c")
    with open(src, "w") as f:
        f.write("int tiny(void);\nint main(void) { return tiny(); }\n")
    lib_src = os.path.join(bad, "libtiny.c")
    with open(lib_src, "w") as f:
        f.write("int tiny(void) { return 0; }\n")
    static = os.path.join(bad, "static")
    if subprocess.run(["cc", "-static", "-o", static, src, lib_src]).returncode == 0:
        cases[static] = "statically linked"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", os.path.join(bad, "libtiny.so"), lib_src], check=True)
    missing = os.path.join(bad, "missing_dep")
    subprocess.run(["cc", "-o", missing, src, "-L" + bad, "-ltiny"], check=True)
    os.unlink(os.path.join(bad, "libtiny.so"))
    cases[missing] = "dependency 'libtiny.so' (needed by missing_dep) not found"
    os.unlink(src)
    os.unlink(lib_src)
    # A good program in the same directory: the run goes on past the bad ones.
    shutil.copy(good, os.path.join(bad, "good"))
    script = os.path.join(bad, "script.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")

    rc, report, err = lint(cli, bad)
    if not c.check("bad input: a JSON report", report is not None, err.strip()):
        return
    notices = report["notices"]
    for path, reason in sorted(cases.items()):
        lines = [n for n in notices if n.startswith(path + ":")]
        c.check("bad input: one line for %s saying '%s'" % (os.path.basename(path), reason),
                len(lines) == 1 and reason in lines[0][len(path) + 1:], json.dumps(lines))
    c.check("bad input: the script in the directory is only counted",
            not any(n.startswith(script) for n in notices) and any("not ELF" in n for n in notices),
            json.dumps(notices))
    c.check("bad input: the good program is still examined",
            len([f for f in report["findings"] if f["rule"] == "unsafe-after-fork"]) == 1,
            json.dumps(report["findings"])[:300])
    c.check("bad input: exit status %d (something could not be read)" % EXIT_UNREADABLE, rc == EXIT_UNREADABLE,
            "rc %d" % rc)
    c.check("bad input: the summary counts the unreadable files",
            report["summary"].get("unreadable_files") == 5, json.dumps(report["summary"]))
    # Only files lint has nothing to say about: named, not counted as unreadable.
    rc, report, err = lint(cli, os.path.join(bad, "elf32"), os.path.join(bad, "foreign"))
    c.check("unsupported files only: exit status 0", rc == 0, "rc %d: %s" % (rc, err))
    p = subprocess.run([cli, "lint", os.path.join(bad, "nonexistent"), good], capture_output=True, text=True)
    c.check("a missing file: one line, the rest examined, exit %d" % EXIT_UNREADABLE,
            p.returncode == EXIT_UNREADABLE and "nonexistent: No such file or directory" in p.stderr
            and "unsafe-after-fork" in p.stderr, "rc %d: %s" % (p.returncode, p.stderr[-400:]))
    # Unreadable files need a user whom permissions stop (root reads all).
    if os.geteuid() == 0:
        locked = os.path.join(bad, "locked")
        shutil.copy(good, locked)
        os.chmod(locked, 0)
        os.chmod(bad, 0o755)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cli, "lint", locked],
                           capture_output=True, text=True)
        c.check("an unreadable file (as nobody): one line, exit %d" % EXIT_UNREADABLE,
                p.returncode == EXIT_UNREADABLE and "locked: Permission denied" in p.stderr,
                "rc %d: %s" % (p.returncode, p.stderr[-300:]))


def check_sarif(c, cli, binary, src):
    import check_sarif

    p = subprocess.run([cli, "lint", "--format", "sarif", "-o", "-", binary], capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        c.check("sarif: a JSON document", False, p.stderr)
        return
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        c.check("sarif: the jsonschema validator is installed", False, "run `make deps` (python3-jsonschema)")
        return
    for schema in check_sarif.SCHEMAS:
        validator, label = check_sarif.load_validator(schema)
        errors, count = check_sarif.schema_errors(validator, doc)
        c.check("sarif: valid against %s" % label, count == 0, "; ".join(errors))
    results = doc["runs"][0]["results"]
    ok = len(results) == 1 and results[0]["ruleId"] == "unsafe-after-fork"
    if c.check("sarif: one unsafe-after-fork result", ok, json.dumps(results)[:300]):
        region = results[0]["locations"][0]["physicalLocation"].get("region", {})
        c.check("sarif: its primary location is the unsafe call",
                region.get("startLine") == marker_line(src, "unsafe"), json.dumps(results[0]["locations"]))


def check_filters(c, cli, binary, out):
    base = os.path.join(out, "baseline.json")
    subprocess.run([cli, "lint", "--format", "json", "-o", base, binary], check=True)
    p = subprocess.run([cli, "lint", "--fail-on", "warning", binary], capture_output=True, text=True)
    c.check("--fail-on warning: exit %d" % EXIT_FINDINGS, p.returncode == EXIT_FINDINGS, "rc %d" % p.returncode)
    p = subprocess.run([cli, "lint", "--fail-on", "warning", "--baseline", base, binary], capture_output=True,
                       text=True)
    c.check("--baseline: the finding is unchanged and does not fail the run",
            p.returncode == 0 and "[unchanged]" in p.stderr, "rc %d: %s" % (p.returncode, p.stderr[-300:]))
    supp = os.path.join(out, "lint.supp")
    with open(supp, "w") as f:
        f.write("unsafe-after-fork:function:main\n")
    p = subprocess.run([cli, "lint", "--fail-on", "warning", "--suppressions", supp, binary], capture_output=True,
                       text=True)
    c.check("--suppressions: the finding is suppressed",
            p.returncode == 0 and "suppressed: 1 finding" in p.stderr, "rc %d: %s" % (p.returncode, p.stderr[-300:]))
    for rule in ("unsafe-after-fork", "fork-unsafe-library"):
        p = subprocess.run([cli, "explain", rule], capture_output=True, text=True)
        c.check("explain %s" % rule, p.returncode == 0 and "What happens" in p.stdout, p.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    cli = os.path.abspath(os.path.join(args.build, "bin", "forksan"))
    out = os.path.abspath(os.path.join(args.build, "lint"))
    os.makedirs(out, exist_ok=True)
    c = Checks()
    src = {name: os.path.join(HERE, name + ".c")
           for name in ("mt_child_unsafe", "mt_child_safe", "st_child_unsafe", "mt_spawn")}
    for name, path in src.items():
        for opt in ("-O0", "-O2"):
            build(path, os.path.join(out, name + opt), opt)
    found = {}
    for opt in ("-O0", "-O2"):
        found[opt] = check_unsafe(c, cli, os.path.join(out, "mt_child_unsafe" + opt), src["mt_child_unsafe"],
                                  "mt_child_unsafe" + opt)
        for name in ("mt_child_safe", "st_child_unsafe", "mt_spawn"):
            check_clean(c, cli, os.path.join(out, name + opt), name + opt)
    stripped = os.path.join(out, "mt_child_unsafe-stripped")
    shutil.copy(os.path.join(out, "mt_child_unsafe-O2"), stripped)
    subprocess.run(["strip", stripped], check=True)
    rc, report, err = lint(cli, stripped)
    ok = report is not None and len(report["findings"]) == 1 and found["-O2"] is not None
    if c.check("stripped: one finding", ok, err):
        f = report["findings"][0]
        use, fork = frames(f, "use"), frames(f, "fork")
        want_use, want_fork = frames(found["-O2"], "use"), frames(found["-O2"], "fork")
        c.check("stripped: module+offset of the same unsafe call and fork call, no file:line",
                use and fork and use[0]["module_offset"] == want_use[0]["module_offset"]
                and fork[0]["module_offset"] == want_fork[0]["module_offset"]
                and not use[0].get("file") and not fork[0].get("file") and "calls printf " in f["message"],
                json.dumps(f["locations"])[:400])
    check_bad_input(c, cli, out, os.path.join(out, "mt_child_unsafe-O2"))
    check_sarif(c, cli, os.path.join(out, "mt_child_unsafe-O0"), src["mt_child_unsafe"])
    check_filters(c, cli, os.path.join(out, "mt_child_unsafe-O0"), out)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

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
  static builds     of mt_child_unsafe (the same finding at the same lines:
                    fork, printf and pthread_create are the program's own
                    functions, known by their symbols), mt_child_safe,
                    st_child_unsafe, mt_spawn (clean)
  mt_wrapper        threads, the child of xfork() (a wrapper that returns
                    fork's value) calls printf: one unsafe-after-fork, its
                    fork location the fork in xfork (@mark:wrapped) called
                    from main (@mark:fork); a function whose child execs is
                    no wrapper, so the printf after it is quiet
  stripped copy     of mt_child_unsafe -O2: the same finding, module+offset
                    at the same addresses, no file:line
--python: `forksan lint --python /usr/bin/python3` over Debian's python3-zmq
(libzmq imports pthread_create), python3-grpcio (cygrpc carries gRPC core and
imports pthread_create itself) and python3-numpy (reference BLAS: quiet),
plus modules built here on PYTHONPATH: one that creates threads, one linking
libgomp (fork-unsafe-library), one calling liblzma's multi-threaded encoder,
and quiet ones — plain, linking libpython, linking liblzma without calling
its threaded coders, built for another Python (its suffix), shadowed by an
earlier entry of the path, named so import cannot find it.
-j 1 and -j 3 over the whole build directory: the same report.
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


def check_wrapper(c, cli, binary, src, label):
    rc, report, err = lint(cli, binary)
    found = report["findings"] if report else []
    if not c.check("%s: exactly one unsafe-after-fork" % label,
                   len(found) == 1 and found[0]["rule"] == "unsafe-after-fork", json.dumps(found)[:400] or err):
        return
    f = found[0]
    use, fork = frames(f, "use"), frames(f, "fork")
    c.check("%s: the child of fork() called through xfork calls printf" % label,
            "the child of fork() (called through xfork) calls printf " in f["message"], f["message"])
    c.check("%s: printf at the @mark:unsafe line" % label,
            bool(use) and use[0].get("line") == marker_line(src, "unsafe"), json.dumps(use)[:300])
    c.check("%s: fork frames: xfork's fork call, then main's call of xfork" % label,
            len(fork) == 2 and fork[0].get("function") == "xfork" and fork[0].get("line") == marker_line(src, "wrapped")
            and fork[1].get("function") == "main" and fork[1].get("line") == marker_line(src, "fork"),
            json.dumps(fork)[:400])


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
    # A stripped static program, and one whose library was removed after linking.
    src = os.path.join(bad, "tiny.c")
    with open(src, "w") as f:
        f.write("int tiny(void);\nint main(void) { return tiny(); }\n")
    lib_src = os.path.join(bad, "libtiny.c")
    with open(lib_src, "w") as f:
        f.write("int tiny(void) { return 0; }\n")
    static = os.path.join(bad, "static")
    if subprocess.run(["cc", "-static", "-s", "-o", static, src, lib_src]).returncode == 0:
        cases[static] = "statically linked and stripped"
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


PY_MODULES = {
    # name: (C source, extra cc flags)
    "creates": ("#include <pthread.h>\n"
                "static void *run(void *arg) { return arg; }\n"
                "int start(void) { pthread_t t; return pthread_create(&t, 0, run, 0); }\n", []),
    "quiet": ("int quiet(void) { return 0; }\n", []),
    "omp": ("int sum(int n) { int s = 0;\n#pragma omp parallel for reduction(+:s)\n"
            "for (int i = 0; i < n; i++) s += i; return s; }\n", ["-fopenmp"]),
    "withpy": ("int withpy(void) { return 0; }\n", ["-Wl,--no-as-needed", "-lpython3.11"]),
    # liblzma creates threads only in its multi-threaded coders.
    "xzplain": ("unsigned lzma_version_number(void);\n"
                "unsigned xz(void) { return lzma_version_number(); }\n", ["-l:liblzma.so.5"]),
    "xzmt": ("int lzma_stream_encoder_mt(void *strm, const void *options);\n"
             "int xz(void *s, const void *o) { return lzma_stream_encoder_mt(s, o); }\n", ["-l:liblzma.so.5"]),
}


def build_py_modules(out, suffix):
    """Two import path entries: first/ with the package fsanpkg and a quiet
    module 'shadow', second/ with a 'shadow' that creates threads (import
    finds the first one) and a module whose name import cannot spell."""
    first, second = os.path.join(out, "py", "first"), os.path.join(out, "py", "second")
    shutil.rmtree(os.path.join(out, "py"), ignore_errors=True)
    os.makedirs(os.path.join(first, "fsanpkg"))
    os.makedirs(second)
    def cc(name, body, flags, where, file_suffix=suffix):
        src = os.path.join(out, "py", name + ".c")
        with open(src, "w") as f:
            f.write(body)
        subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Werror", "-o", os.path.join(where, name + file_suffix),
                        src, *flags], check=True)
    for name, (body, flags) in PY_MODULES.items():
        cc(name, body, flags, os.path.join(first, "fsanpkg"))
    # The stable ABI's suffix names a module; another version's does not.
    cc("abi", PY_MODULES["creates"][0], [], os.path.join(first, "fsanpkg"), ".abi3.so")
    cc("oldpy", PY_MODULES["creates"][0], [], os.path.join(first, "fsanpkg"), ".cpython-39-x86_64-linux-gnu.so")
    cc("shadow", PY_MODULES["quiet"][0], [], first)
    cc("shadow", PY_MODULES["creates"][0], [], second)
    cc("bad-name", PY_MODULES["creates"][0], [], second)
    return first, second


def check_python(c, cli, out):
    python = "/usr/bin/python3"
    suffix = subprocess.run([python, "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    first, second = build_py_modules(out, suffix)
    env = dict(os.environ, PYTHONPATH=first + ":" + second)
    p = subprocess.run([cli, "lint", "--python", python, "--format", "json", "-o", "-"], capture_output=True,
                       text=True, env=env)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        c.check("--python: a JSON report", False, "rc %d: %s" % (p.returncode, p.stderr.strip()))
        return
    by_module = {}
    for f in report["findings"]:
        module = frames(f, "use")[-1]["function"] if frames(f, "use") else None
        by_module.setdefault(module, []).append(f)
    c.check("--python: exit status 0 (notes do not fail the run)", p.returncode == 0,
            "rc %d: %s" % (p.returncode, p.stderr[-300:]))
    c.check("--python: the summary notice names the interpreter and counts its modules",
            any(n.startswith(python + ": Python 3.") and "extension modules" in n for n in report["notices"]),
            json.dumps(report["notices"]))

    def listed(module, rule, words, label):
        found = by_module.get(module, [])
        ok = len(found) == 1 and found[0]["rule"] == rule and all(w in found[0]["message"] for w in words)
        c.check("--python: %s: %s %s" % (label, module, rule), ok, json.dumps(found)[:400])
        return found[0] if ok else None

    installed = {m: subprocess.run([python, "-c", "import " + m], capture_output=True).returncode == 0
                 for m in ("zmq", "grpc", "numpy")}
    if not c.check("--python: python3-zmq, python3-grpcio and python3-numpy are installed", all(installed.values()),
                   "run `make deps` (tests/install-deps.sh): %s" % installed):
        return
    f = listed("zmq.backend.cython.socket", "thread-capable-extension",
               ["links code that creates threads", "libzmq.so", "imports pthread_create"], "libzmq's I/O threads")
    if f:
        c.check("--python: the finding is a note whose frames are libzmq, then the module's file",
                f["severity"] == "note" and frames(f, "use")[0]["function"].startswith("libzmq.so")
                and frames(f, "use")[-1]["file"].endswith("/zmq/backend/cython/socket" + suffix),
                json.dumps(f)[:400])
    listed("grpc._cython.cygrpc", "thread-capable-extension", ["the module itself imports pthread_create"],
           "gRPC core built into the module")
    listed("fsanpkg.creates", "thread-capable-extension", ["the module itself imports pthread_create"],
           "a module that creates threads")
    listed("fsanpkg.omp", "fork-unsafe-library", ["extension module fsanpkg.omp links GNU OpenMP"],
           "a module linking libgomp")
    listed("fsanpkg.abi", "thread-capable-extension", ["the module itself imports pthread_create"],
           "a module with the stable ABI's suffix")
    listed("fsanpkg.xzmt", "thread-capable-extension", ["liblzma.so", "imports pthread_create"],
           "a module calling liblzma's multi-threaded encoder")
    quiet = ["fsanpkg.quiet", "fsanpkg.withpy", "fsanpkg.xzplain", "fsanpkg.oldpy",
             "fsanpkg.oldpy.cpython-39-x86_64-linux-gnu", "shadow", "bad-name", "numpy.core._multiarray_umath",
             "numpy.linalg._umath_linalg"]
    c.check("--python: quiet: plain, libpython, liblzma without its threaded coders, another Python's module, "
            "shadowed, unimportable name, numpy on reference BLAS",
            not any(m in by_module for m in quiet), json.dumps(sorted(m for m in by_module if m in quiet)))
    # CPython's own modules: libpython and the interpreter's libraries are
    # not what an import brings in.
    own = [m for m, fs in by_module.items() if any("libpython" in json.dumps(f) for f in fs)]
    c.check("--python: no finding blames libpython", not own, json.dumps(own))
    for bad, words in (("/bin/false", "exited with status 1"), ("/bin/true", "did not answer as a Python 3"),
                       (os.path.join(out, "no-such-python"), "cannot run it")):
        p = subprocess.run([cli, "lint", "--python", bad], capture_output=True, text=True)
        lines = p.stderr.strip().splitlines()
        c.check("--python %s: one line saying '%s', exit status 2" % (os.path.basename(bad), words),
                p.returncode == 2 and len(lines) == 1 and bad in lines[0] and words in lines[0], p.stderr)
    p = subprocess.run([cli, "lint", "--python", python, "--format", "sarif", "-o", "-"], capture_output=True,
                       text=True, env=env)
    check_sarif_doc(c, "--python sarif", p.stdout, p.stderr)


def check_sarif_doc(c, label, text, err):
    """Validates a SARIF document against the vendored schemas; the document, or None."""
    import check_sarif

    try:
        doc = json.loads(text)
    except ValueError:
        c.check("%s: a JSON document" % label, False, err)
        return None
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        c.check("%s: the jsonschema validator is installed" % label, False, "run `make deps` (python3-jsonschema)")
        return None
    for schema in check_sarif.SCHEMAS:
        validator, schema_label = check_sarif.load_validator(schema)
        errors, count = check_sarif.schema_errors(validator, doc)
        c.check("%s: valid against %s" % (label, schema_label), count == 0, "; ".join(errors))
    return doc


def check_sarif(c, cli, binary, src):
    p = subprocess.run([cli, "lint", "--format", "sarif", "-o", "-", binary], capture_output=True, text=True)
    doc = check_sarif_doc(c, "sarif", p.stdout, p.stderr)
    if doc is None:
        return
    results = doc["runs"][0]["results"]
    ok = len(results) == 1 and results[0]["ruleId"] == "unsafe-after-fork"
    if c.check("sarif: one unsafe-after-fork result", ok, json.dumps(results)[:300]):
        region = results[0]["locations"][0]["physicalLocation"].get("region", {})
        c.check("sarif: its primary location is the unsafe call",
                region.get("startLine") == marker_line(src, "unsafe"), json.dumps(results[0]["locations"]))


def check_jobs(c, cli, out):
    """-j: the same report, byte for byte, whatever the number of workers."""
    reports = {}
    for jobs in ("1", "3"):
        p = subprocess.run([cli, "lint", "-j", jobs, "--format", "json", "-o", "-", out], capture_output=True,
                           text=True)
        reports[jobs] = p.stdout if p.returncode in (0, EXIT_UNREADABLE) else "rc %d: %s" % (p.returncode, p.stderr)
    same = reports["1"] == reports["3"] and reports["1"].startswith("{")
    c.check("-j 1 and -j 3: the same report", same, "%s / %s" % (reports["1"][:200], reports["3"][:200]))
    p = subprocess.run([cli, "lint", "-j", "0", out], capture_output=True, text=True)
    c.check("-j 0: a usage error naming it", p.returncode == 2 and "bad --jobs '0'" in p.stderr, p.stderr)
    for args, option in ((["report", "--python", "python3", out], "--python"), (["run", "--jobs", "2", "--", "true"], "--jobs")):
        p = subprocess.run([cli, *args], capture_output=True, text=True)
        c.check("%s with forksan %s: a usage error" % (option, args[0]),
                p.returncode == 2 and "%s is an option of forksan lint only" % option in p.stderr, p.stderr)


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
    for rule in ("unsafe-after-fork", "fork-unsafe-library", "thread-capable-extension"):
        p = subprocess.run([cli, "explain", rule], capture_output=True, text=True)
        c.check("explain %s" % rule, p.returncode == 0 and "What happens" in p.stdout, p.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    cli = os.path.abspath(os.path.join(args.build, "bin", "forksan"))
    out = os.path.abspath(os.path.join(args.build, "lint"))
    os.makedirs(os.path.join(out, "static"), exist_ok=True)
    c = Checks()
    src = {name: os.path.join(HERE, name + ".c")
           for name in ("mt_child_unsafe", "mt_child_safe", "st_child_unsafe", "mt_spawn", "mt_wrapper")}
    for name, path in src.items():
        for opt in ("-O0", "-O2"):
            build(path, os.path.join(out, name + opt), opt)
    found = {}
    for opt in ("-O0", "-O2"):
        found[opt] = check_unsafe(c, cli, os.path.join(out, "mt_child_unsafe" + opt), src["mt_child_unsafe"],
                                  "mt_child_unsafe" + opt)
        for name in ("mt_child_safe", "st_child_unsafe", "mt_spawn"):
            check_clean(c, cli, os.path.join(out, name + opt), name + opt)
        check_wrapper(c, cli, os.path.join(out, "mt_wrapper" + opt), src["mt_wrapper"], "mt_wrapper" + opt)
        for name in ("mt_child_unsafe", "mt_child_safe", "st_child_unsafe", "mt_spawn"):
            build(src[name], os.path.join(out, "static", name + opt), opt, "-static")
        label = "static mt_child_unsafe" + opt
        check_unsafe(c, cli, os.path.join(out, "static", "mt_child_unsafe" + opt), src["mt_child_unsafe"], label)
        for name in ("mt_child_safe", "st_child_unsafe", "mt_spawn"):
            check_clean(c, cli, os.path.join(out, "static", name + opt), "static " + name + opt)
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
    check_python(c, cli, out)
    check_jobs(c, cli, out)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

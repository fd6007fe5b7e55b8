#!/usr/bin/env python3
"""check_html.py — `make html-check`: forksan's HTML report, in a browser.

Runs real programs under `forksan run --format html`, renders the same
traces again with `forksan report --format json`, loads each page in
headless Chromium (--dump-dom, console logged to stderr) and checks what
the browser built against the JSON report:

  * the page loads and logs nothing to the console (the page has no script
    and a Content-Security-Policy that forbids every load, so any console
    line is an error: a blocked load, a parse problem, an injected script);
  * one element of class "process" per process (2 for the scenario: the
    command and its fork child), each JSON pid among them;
  * exactly one "finding-mark" per JSON finding, each a link to its
    finding's section and drawn on the bar of a process where it happened;
  * one "fork-edge" per fork child, and the command's exit shown;
  * every frame of every location, written as the text report writes it
    ("#N 0xADDR in FUNCTION FILE:LINE", Python frames as `File "x.py",
    line N, in f`), in that finding's section;
  * no external URL: no scheme://, no src/href that is not a #fragment,
    no CSS url() that is not a #fragment;
  * markup in a thread name and in the exe path (tests/html/hostile.c,
    run from a directory named with markup) stays text: the DOM has no
    element the program's strings could have created, and shows them;
  * a Python program's stacks are in Python's traceback form.

Each check must be able to fail for the reason it names, so the script
then breaks copies of the pages on purpose (an injected console error, an
external image, a lost mark, a lost process, unescaped markup, a wrong
frame) and requires the matching check to fail on each.

A screenshot of the main page is left in BUILD/html/report.png for people;
no check depends on it.  Output: one "PASS:"/"FAIL:" line per check, then
"N passed, N failed"; the exit status is 1 when any check failed.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(ROOT, "tests", "scenarios")
PYTHON = "/usr/bin/python3"
HOSTILE_NAME = "<s>\"&'\x1b</s>"      # tests/html/hostile.c's thread name
HOSTILE_DIR = "dir<i>&\"'"            # the directory it is run from
BAR_H = 14                            # reports/render_html.c
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS: %s" % name)
        else:
            self.failed += 1
            print("FAIL: %s%s" % (name, ": " + why if why else ""))
        return ok


class Results:
    """Collects a page's check outcomes without printing, so the same
    checks can run on a deliberately broken page and be required to fail."""

    def __init__(self):
        self.items = []

    def check(self, name, ok, why=""):
        self.items.append((name, bool(ok), why))
        return ok

    def failed(self, prefix):
        return [n for n, ok, _ in self.items if not ok and n.startswith(prefix)]

    def report(self, c):
        for name, ok, why in self.items:
            c.check(name, ok, why)


# ---- the DOM ----------------------------------------------------------------

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []  # Nodes and strings

    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def text(self):
        return "".join(ch if isinstance(ch, str) else ch.text() for ch in self.children)

    def walk(self):
        yield self
        for ch in self.children:
            if isinstance(ch, Node):
                yield from ch.walk()

    def ancestors(self):
        n = self.parent
        while n is not None:
            yield n
            n = n.parent


class TreeBuilder(html.parser.HTMLParser):
    """Chromium's --dump-dom output is serialized DOM (every non-void element
    closed), so a plain stack builder reproduces the browser's tree."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        for n in [self.cur] + list(self.cur.ancestors()):
            if n.tag == tag:
                self.cur = n.parent or self.root
                return

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(text):
    b = TreeBuilder()
    b.feed(text)
    b.close()
    return b.root


def by_class(root, cls):
    return [n for n in root.walk() if cls in n.classes()]


def by_id(root, ident):
    for n in root.walk():
        if n.attrs.get("id") == ident:
            return n
    return None


# ---- Chromium -----------------------------------------------------------------

def chromium_binary():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def run_chromium(browser, page, extra):
    profile = tempfile.mkdtemp(prefix="forksan-html-profile.")
    try:
        return subprocess.run([browser] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile] + extra
                              + ["file://" + os.path.abspath(page)],
                              capture_output=True, text=True, errors="replace", timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def load(browser, page):
    """(dom root or None, console lines, why) for page."""
    try:
        proc = run_chromium(browser, page, ["--dump-dom"])
    except subprocess.TimeoutExpired:
        return None, [], "chromium timed out"
    console = [l for l in proc.stderr.splitlines() if ":CONSOLE" in l]
    if proc.returncode != 0 or "<html" not in proc.stdout:
        return None, console, "chromium exit %d, stderr: %s" % (proc.returncode, proc.stderr[-600:])
    return parse_dom(proc.stdout), console, ""


# ---- what the text report prints (reports/render_text.c) -----------------------

def shown(s, quoted=False):
    out = []
    for ch in s:
        if quoted and ch in "\"\\":
            out.append("\\" + ch)
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def frame_line(index, f):
    if f.get("language") == "python":
        return 'File "%s", line %s, in %s' % (shown(f["file"] or "<unknown>", True), f["line"] or "?",
                                              shown(f["function"] or "<unknown>"))
    addr = "#%d 0x%x" % (index, int(f["address"], 16))
    module = " (%s+0x%x)" % (shown(f["module"]), int(f["module_offset"], 16)) if f["module"] \
        else " (<unknown module>)"
    if f["function"] is None:
        return addr + module
    if f["file"] is None:
        return "%s in %s%s" % (addr, shown(f["function"]), module)
    return "%s in %s %s%s" % (addr, shown(f["function"]), shown(f["file"]),
                              ":%d" % f["line"] if f["line"] else "")


# ---- the checks on one page -----------------------------------------------------

def check_loaded(r, label, dom, console, why):
    r.check("%s: the page loads in headless Chromium" % label, dom is not None, why)
    r.check("%s: no console messages" % label, not console, "\n    ".join(console[:5]))


def check_processes(r, label, dom, doc, expected):
    nodes = by_class(dom, "process")
    r.check("%s: process nodes: %d elements of class \"process\"" % (label, expected), len(nodes) == expected,
            "found %d" % len(nodes))
    ids = {n.attrs.get("id") for n in nodes}
    missing = [p["pid"] for p in doc["processes"] if "proc-%d" % p["pid"] not in ids]
    r.check("%s: process nodes: every pid of the JSON report has one" % label, not missing, "missing %s" % missing)
    children = [p for p in doc["processes"] if p["forked_by_tid"] is not None]
    edges = by_class(dom, "fork-edge")
    r.check("%s: fork edges: one per fork child (%d)" % (label, len(children)), len(edges) == len(children),
            "found %d" % len(edges))


def bar_y(dom, pid):
    g = by_id(dom, "proc-%d" % pid)
    bars = [n for n in (g.walk() if g else []) if "bar" in n.classes()]
    return float(bars[0].attrs["y"]) + BAR_H / 2.0 if bars else None


def check_marks(r, label, dom, doc):
    marks = by_class(dom, "finding-mark")
    n = len(doc["findings"])
    r.check("%s: finding marks: %d elements of class \"finding-mark\" (the JSON report's findings)" % (label, n),
            len(marks) == n, "found %d" % len(marks))
    targets, misplaced = [], []
    for m in marks:
        link = next((a for a in m.ancestors() if a.tag == "a"), None)
        href = link.attrs.get("href", "") if link else ""
        targets.append(href)
        k = int(href[len("#finding-"):]) - 1 if re.fullmatch(r"#finding-\d+", href) else -1
        if not 0 <= k < n:
            continue
        # A finding of processes that are not drawn goes on the "other" row,
        # off every process bar.
        ys = [y for y in (bar_y(dom, pid) for pid in doc["findings"][k]["pids"]) if y is not None]
        cy = float(m.attrs.get("cy", "nan"))
        all_bars = [bar_y(dom, p["pid"]) for p in doc["processes"]]
        if (cy not in ys) if ys else (cy in all_bars):
            misplaced.append(href)
    want = ["#finding-%d" % (k + 1) for k in range(n)]
    r.check("%s: finding marks: each links to its own finding's section" % label,
            sorted(targets) == sorted(want) and all(by_id(dom, t[1:]) for t in want), "links %s" % targets)
    r.check("%s: finding marks: each sits on a process the finding happened in" % label, not misplaced,
            "not on one of its pids' bars: %s" % misplaced)


def check_stacks(r, label, dom, doc):
    problems = []
    for k, f in enumerate(doc["findings"]):
        sec = by_id(dom, "finding-%d" % (k + 1))
        text = sec.text() if sec else ""
        lines = {l.strip() for l in text.splitlines()}
        if f["rule"] not in text or shown(f["message"]) not in text:
            problems.append("finding-%d lacks its rule or message" % (k + 1))
        for loc in f["locations"]:
            for i, fr in enumerate(loc["frames"]):
                if frame_line(i, fr) not in lines:
                    problems.append("finding-%d lacks %r" % (k + 1, frame_line(i, fr)))
    r.check("%s: stacks: every frame in the text report's form, in its finding" % label, not problems,
            "; ".join(problems[:4]))


def check_exit(r, label, dom, pid, expected):
    g = by_id(dom, "proc-%d" % pid)
    exits = [n.text().strip() for n in (g.walk() if g else []) if "exit-mark" in n.classes()]
    r.check("%s: exits: the command's process shows %r" % (label, expected), exits == [expected],
            "found %s" % exits)


URL_SCHEME = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://")
CSS_URL = re.compile(r"(?i)url\(\s*['\"]?([^)'\"]*)")


def check_offline(r, label, raw, dom):
    schemes = URL_SCHEME.findall(raw)
    r.check("%s: no external URL: no scheme:// in the file" % label, not schemes, "found %s" % schemes[:5])
    refs = [(n.tag, a, v) for n in dom.walk() for a, v in n.attrs.items()
            if a in ("src", "href", "srcset", "action", "xlink:href", "data", "poster")
            and not (v or "").startswith("#")]
    css = [u for u in CSS_URL.findall(raw) if not u.startswith("#")]
    imports = re.findall(r"(?i)@import", raw)
    r.check("%s: no external URL: every src/href is a #fragment, no CSS url() or @import" % label,
            not refs and not css and not imports, "found %s" % (refs[:5] + css[:5] + imports[:1]))


def page_checks(browser, page, doc, expected_processes, extras=None, label=None):
    """All checks of one page; `extras(r, label, dom)` adds the page's own."""
    r = Results()
    label = label or os.path.basename(page)
    dom, console, why = load(browser, page)
    check_loaded(r, label, dom, console, why)
    if dom is None:
        return r, None
    with open(page, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    check_processes(r, label, dom, doc, expected_processes)
    check_marks(r, label, dom, doc)
    check_stacks(r, label, dom, doc)
    check_offline(r, label, raw, dom)
    if extras:
        extras(r, label, dom)
    return r, dom


# ---- running forksan --------------------------------------------------------------

def forksan_html_and_json(c, forksan, cmd, out_dir, name, cwd=ROOT):
    """Runs cmd under `forksan run --format html`, then `forksan report
    --format json` on the same traces; returns (html path, JSON doc)."""
    traces = os.path.join(out_dir, name + ".traces")
    page = os.path.join(out_dir, name + ".html")
    shutil.rmtree(traces, ignore_errors=True)
    proc = subprocess.run([forksan, "run", "--format", "html", "-o", page, "--trace-dir", traces, "--"] + cmd,
                          capture_output=True, text=True, errors="replace", timeout=120, cwd=cwd)
    c.check("%s: forksan run --format html exits 66 (an error-level finding)" % name, proc.returncode == 66,
            "exit %d, stderr: %s" % (proc.returncode, proc.stderr[-500:]))
    proc = subprocess.run([forksan, "report", "--format", "json", "-o", "-", "--fail-on", "never", traces],
                          capture_output=True, text=True, errors="replace", timeout=120, cwd=cwd)
    doc, why = None, proc.stderr[-500:]
    try:
        doc = json.loads(proc.stdout)
    except ValueError as e:
        why += " (not JSON: %s)" % e
    c.check("%s: forksan report --format json on the same traces" % name, proc.returncode == 0 and doc,
            "exit %d, stderr: %s" % (proc.returncode, why))
    shutil.rmtree(traces, ignore_errors=True)
    return (page if os.path.exists(page) else None), doc


# ---- the scenarios ---------------------------------------------------------------

def main_scenario(c, browser, forksan, build, out_dir):
    program = os.path.relpath(os.path.join(build, "scenarios", "mutex_vanished_holder"), ROOT)
    page, doc = forksan_html_and_json(c, forksan, [program], out_dir, "report")
    if not page or not doc:
        return None
    # The command itself: the one process not made by a fork.
    root = next(p["pid"] for p in doc["processes"] if p.get("forked_by_tid") is None)

    def extras(r, label, dom):
        check_exit(r, label, dom, root, "exit 0")
    r, _ = page_checks(browser, page, doc, 2, extras)
    r.report(c)
    screenshot(browser, page, os.path.join(out_dir, "report.png"))
    return page, doc, 2, extras


def hostile_scenario(c, browser, forksan, build, out_dir):
    """The thread name and the exe path carry markup; the DOM must not."""
    run_dir = os.path.join(out_dir, HOSTILE_DIR)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    program = os.path.join(run_dir, "hostile")
    shutil.copy2(os.path.join(build, "html", "hostile"), program)
    page, doc = forksan_html_and_json(c, forksan, [program], out_dir, "hostile")
    if not page or not doc:
        return None
    r, _ = page_checks(browser, page, doc, 2, check_hostile)
    r.report(c)
    return page, doc, 2, check_hostile


INJECTED = ("s", "i", "b", "img", "script")   # the page itself never has these


def check_no_injection(r, label, dom):
    injected = [n.tag for n in dom.walk() if n.tag in INJECTED]
    r.check("%s: escaping: markup from the program created no element" % label, not injected,
            "found <%s>" % ">, <".join(injected))


def check_hostile(r, label, dom):
    check_no_injection(r, label, dom)
    text = dom.text()
    lines = [l.strip() for l in text.splitlines()]
    want_name = '"%s"' % shown(HOSTILE_NAME, True)
    r.check("%s: escaping: the thread name is shown as text" % label,
            any(l.startswith("thread T") and l.endswith(want_name) for l in lines),
            "no line 'thread TN %s'" % want_name)
    r.check("%s: escaping: the exe path is shown as text" % label, (HOSTILE_DIR + "/hostile") in text,
            "%r not in the page text" % (HOSTILE_DIR + "/hostile"))


def python_scenario(c, browser, forksan, out_dir):
    """A real CPython run (the analyzer gives native frames only for now;
    the fixture covers Python frames)."""
    script = os.path.join(SCENARIOS, "py_lock_thread.py")
    if not os.path.exists(PYTHON):
        c.check("python: %s exists" % PYTHON, False)
        return
    page, doc = forksan_html_and_json(c, forksan, [PYTHON, script], out_dir, "python")
    if not page or not doc:
        return
    r, _ = page_checks(browser, page, doc, 2)
    r.report(c)


def fixture_scenario(c, browser, build, out_dir):
    """The hand-built model of tests/html/fixture.c: Python frames, markup
    everywhere, the "other" row, every kind of exit."""
    page = os.path.join(out_dir, "fixture.html")
    js = os.path.join(out_dir, "fixture.json")
    proc = subprocess.run([os.path.join(build, "html", "fixture"), page, js], capture_output=True, text=True,
                          errors="replace", timeout=60)
    if not c.check("fixture: renders (under ASan/UBSan)", proc.returncode == 0,
                   "exit %d, stderr: %s" % (proc.returncode, proc.stderr[-800:])):
        return None
    with open(js) as f:
        doc = json.load(f)
    r, _ = page_checks(browser, page, doc, 4, fixture_extras)
    r.report(c)
    return page, doc, 4, fixture_extras


def fixture_extras(r, label, dom):
    check_no_injection(r, label, dom)
    lines = {l.strip() for l in dom.text().splitlines()}
    want = 'File "app/<x>\\"q\\".py", line 7, in handler'
    r.check("%s: stacks: a Python frame as Python's traceback line" % label, want in lines,
            "%r not in the page" % want)
    for pid, how in ((100, "exit 0"), (101, "signal 9"), (102, "exec")):
        check_exit(r, label, dom, pid, how)
    g = by_id(dom, "proc-103")
    r.check("%s: exits: an unknown exit is not drawn as one" % label,
            g is not None and not by_class(g, "exit-mark") and by_class(g, "exit-unknown"))
    also = by_class(dom, "finding-also")
    r.check("%s: finding marks: the other processes of a finding get \"finding-also\" (2)" % label,
            len(also) == 2, "found %d" % len(also))


def screenshot(browser, page, png):
    """For people, not for the checks: a picture to look at."""
    try:
        run_chromium(browser, page, ["--screenshot=" + os.path.abspath(png), "--window-size=1280,900"])
    except subprocess.TimeoutExpired:
        pass
    print("note: screenshot %s" % (png if os.path.exists(png) else "not written"))


# ---- negative controls -------------------------------------------------------------

def broken_copy(page, out_dir, name, pattern, new):
    """A copy of page with the first match of the regex pattern replaced."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    broken, n = re.subn(pattern, new, text, count=1)
    if n == 0:
        return None
    path = os.path.join(out_dir, "broken-%s.html" % name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(broken)
    return path


# (name, page, regex, replacement, the check (by name prefix) that must fail)
CONTROLS = [
    ("console", "report", "</body>", "<script>console.error('boom')</script></body>", "no console"),
    ("external-image", "report", "</body>", '<img alt="" src="https://example.invalid/x.png"></body>',
     "no external URL"),
    ("external-css", "report", "</style>", "p{background:url(/etc/x.png)}</style>",
     "no external URL: every src/href"),
    ("lost-mark", "report", 'class="finding-mark', 'class="finding-lost', "finding marks: "),
    ("misplaced-mark", "report", r'(class="finding-mark[^"]*" cx="[0-9.]+") cy="[0-9.]+"', r'\1 cy="5.0"',
     "finding marks: each sits on"),
    ("lost-process", "report", 'class="process"', 'class="proc"', "process nodes: "),
    ("lost-fork-edge", "report", 'class="fork-edge"', 'class="edge"', "fork edges"),
    ("lost-exit", "report", 'class="exit-mark"', 'class="exit-gone"', "exits"),
    ("wrong-frame", "report", r'(<span class="fn">[^<]+)</span>', r'\1_x</span>', "stacks"),
    ("unescaped-name", "hostile", "&lt;s&gt;", "<s>", "escaping: markup"),
    ("wrong-python-frame", "fixture", r"line 7, in ", "line 8, in ", "stacks: a Python frame"),
]


def controls(c, browser, pages, out_dir):
    """Each check must fail for the reason it names: break a copy of a
    page in exactly that way and require that check (by name) to fail."""
    for name, which, pattern, new, check in CONTROLS:
        if pages.get(which) is None:
            c.check("control %s: the %s page exists" % (name, which), False)
            continue
        page, doc, nproc, extras = pages[which]
        path = broken_copy(page, out_dir, name, pattern, new)
        if path is None:
            c.check("control %s: %s has %r to break" % (name, which, pattern), False)
            continue
        label = os.path.basename(page)
        r, _ = page_checks(browser, path, doc, nproc, extras, label)
        prefix = "%s: %s" % (label, check)
        c.check("control %s: the check \"%s…\" catches it" % (name, prefix), r.failed(prefix),
                "no check with that name failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build)) if not os.path.isabs(args.build) else args.build
    forksan = os.path.join(build, "bin", "forksan")
    out_dir = os.path.join(build, "html")
    os.makedirs(out_dir, exist_ok=True)
    c = Checks()

    browser = chromium_binary()
    if not c.check("chromium is installed", browser is not None,
                   "no chromium on PATH: run `make deps` (Debian package chromium)"):
        print("%d passed, %d failed" % (c.passed, c.failed))
        return 1

    pages = {"report": main_scenario(c, browser, forksan, build, out_dir),
             "hostile": hostile_scenario(c, browser, forksan, build, out_dir)}
    python_scenario(c, browser, forksan, out_dir)
    pages["fixture"] = fixture_scenario(c, browser, build, out_dir)
    controls(c, browser, pages, out_dir)

    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench.py — what forksan costs the programs it watches, against the
budgets in doc/budgets.md (`make bench`).

    /usr/bin/python3 bench/bench.py BUILD

    BENCH_ROUNDS=N          alternating rounds per wall-time workload (default 7)
    BENCH_ANALYZER_MAX=N    largest analyzer size, of 1000, 10000 and 100000
                            (default 100000; 10000 for a quick run)

Three parts, each row printed as soon as it is measured:

- wall time: each workload (bench/lockloop.c, bench/forkloop.c,
  bench/writeloop.c, bench/pyqueue.py, and `forksan run -- /bin/true`
  itself) bare and under `forksan run`, in alternating rounds; and the
  hang watchdog's cost, forkloop under `forksan run` with the watchdog
  (--hang-timeout 10) against without it (--hang-timeout 0);
- callgrind instruction counts, the stable figures: per lock pair, the
  start-up of /bin/true, per item of the Python queue;
- the analyzer: `forksan report` on the traces of 1,000, 10,000 and
  100,000 forked children, each with one finding: wall time, peak memory,
  and whether the report counts every child.

Every row also goes into BUILD/bench.json ({"rows": [...]}, one object per
row with name, unit, bare and forksan medians and minimums, the ratios,
the budget and ok), so that a pipeline can chart the figures over time.

DESIGN
The machines are shared and noisy, so nothing here is an assertion: a
figure over its budget is marked OVER BUDGET, and the exit status is 0
whatever the figures (2 only for a usage error; a workload that cannot
run at all is printed as FAILED, and the rest still run).  Against the
noise: bare and forksan samples alternate, one of each per round, and the
order within a round flips every round, so that neither side keeps the
warmer cache or the cooler CPU; the median of the rounds is the figure,
the minimum the best case.  A ratio of medians still moves by several
percent from run to run while other jobs share the machine, which is why
the instruction counts exist: callgrind runs the lock and queue workloads
with N and with 2N units of work, and the difference of the two counts is
the cost of N units with the start-up cancelled out (the start-up row
counts the whole of /bin/true, which is nothing but start-up).  The
forksan side of every measurement goes through the real `forksan run`
(under callgrind: `forksan run -- valgrind ...`), so the runtime sees
exactly the environment users give it; only the analyzer's children are
made with that environment captured once (from `forksan run -- env`),
because `forksan run` would analyze 100,000 traces before returning.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
NAME_WIDTH = 42


class BenchError(Exception):
    """A workload could not be measured (it failed, or printed nothing usable)."""


# ---- running things ----------------------------------------------------------

def run_checked(argv):
    """Runs argv to the end; returns its stdout; raises BenchError with the
    end of its stderr when it exits non-zero."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise BenchError("'%s' exited with status %d: %s" % (" ".join(argv), proc.returncode, tail))
    return proc.stdout


def workload_value(argv):
    """The number a bench program prints as the second word of its last
    line ("lockloop 5.4946 ns/pair")."""
    words = run_checked(argv).split()
    try:
        return float(words[-2])
    except (IndexError, ValueError):
        raise BenchError("'%s' printed no figure" % " ".join(argv))


def under_forksan(build, argv, mode=None, options=()):
    """argv as `forksan run` runs it (in --mode MODE when given, with the
    other forksan run options given); --fail-on never, so the exit status
    is the command's own whatever the report says."""
    modes = ["--mode", mode] if mode else []
    return ([os.path.join(build, "bin", "forksan"), "run", "--fail-on", "never"] + modes + list(options) + ["--"]
            + list(argv))


def launch_ms(argv, launches):
    """Milliseconds per launch of argv (to the end of its wait), over
    `launches` launches; its output goes to /dev/null."""
    to_null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    start = time.perf_counter()
    for _ in range(launches):
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=to_null)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise BenchError("'%s' exited with status %d" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    return (time.perf_counter() - start) * 1000.0 / launches


# ---- rows ---------------------------------------------------------------------

def fmt(value):
    """A figure with about five significant digits, never in e-notation."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return "{:,}".format(value)
    magnitude = abs(value)
    if magnitude >= 10000:
        return "{:,.0f}".format(value)
    if magnitude >= 1000:
        return "{:,.1f}".format(value)
    for limit, digits in ((100, 2), (10, 3), (1, 4)):
        if magnitude >= limit:
            return "%.*f" % (digits, value)
    return "%.5f" % value


def median_min(samples):
    return (statistics.median(samples), min(samples)) if samples else (None, None)


def make_row(name, unit, budget, bare=None, forksan=None, kind="ratio", limit=None, note=None):
    """One result.  kind says what the budget limits: "ratio" the median
    forksan/bare ratio, "added" the median forksan - bare, "value" the
    median forksan figure itself (no bare side)."""
    bare_median, bare_min = median_min(bare or [])
    fs_median, fs_min = median_min(forksan or [])
    row = {
        "name": name, "unit": unit,
        "bare_median": bare_median, "bare_min": bare_min,
        "forksan_median": fs_median, "forksan_min": fs_min,
        "ratio_median": None, "ratio_min": None, "added_median": None,
        "budget": budget, "budget_kind": kind, "limit": limit,
        "samples": {"bare": bare or [], "forksan": forksan or []},
        "note": note, "ok": None,
    }
    if bare_median and fs_median is not None:
        row["ratio_median"] = fs_median / bare_median
        row["ratio_min"] = fs_min / bare_min if bare_min else None
        row["added_median"] = fs_median - bare_median
    checked = {"ratio": row["ratio_median"], "added": row["added_median"], "value": fs_median}[kind]
    if limit is not None and checked is not None:
        row["ok"] = checked <= limit
    return row


def failed_row(name, unit, budget, why):
    row = make_row(name, unit, budget)
    row["note"] = why
    row["failed"] = True
    return row


def describe(row):
    """The row as one printed line (after its name, which is printed when
    the measurement starts)."""
    if row.get("failed"):
        return "FAILED: " + row["note"]
    if row.get("skipped"):
        return "skipped: " + row["note"]
    unit = row["unit"]
    parts = []
    for side in ("bare", "forksan"):
        median, minimum = row[side + "_median"], row[side + "_min"]
        if median is None:
            continue
        text = "%s %s" % (fmt(median), unit)
        if row["bare_median"] is not None:
            text = side + " " + text
        if len(row["samples"][side]) > 1:
            text += " (min %s)" % fmt(minimum)
        parts.append(text)
    if row["ratio_median"] is not None:
        text = "ratio %.3fx" % row["ratio_median"]
        if len(row["samples"]["forksan"]) > 1 and row["ratio_min"] is not None:
            text += " (min %.3fx)" % row["ratio_min"]
        parts.append(text)
        sign = "+" if row["added_median"] >= 0 else ""
        parts.append("%s%s %s" % (sign, fmt(row["added_median"]), unit))
    if row["note"]:
        parts.append(row["note"])
    mark = {True: "ok", False: row.get("fail_mark", "OVER BUDGET"), None: ""}[row["ok"]]
    if row["budget"]:
        parts.append("budget %s: %s" % (row["budget"], mark) if mark else "budget " + row["budget"])
    return "  ".join(parts)


class Report:
    """Prints rows as they come and keeps them for bench.json."""

    def __init__(self):
        self.rows = []

    def start(self, name):
        print("%-*s " % (NAME_WIDTH, name), end="", flush=True)

    def finish(self, row):
        print(describe(row), flush=True)
        self.rows.append(row)

    def measure(self, name, unit, budget, how):
        """Runs how() -> row, printing the name first (a slow row shows what
        it is doing) and a FAILED row when the workload could not run."""
        self.start(name)
        try:
            row = how()
        except (BenchError, OSError, subprocess.SubprocessError) as err:
            row = failed_row(name, unit, budget, str(err))
        self.finish(row)
        return row

    def skip(self, name, unit, budget, why):
        self.start(name)
        row = make_row(name, unit, budget)
        row["skipped"] = True
        row["note"] = why
        self.finish(row)


# ---- wall time ----------------------------------------------------------------

def alternate(rounds, bare_sample, forksan_sample):
    """`rounds` samples of each side, one of each per round, the order
    flipped every round."""
    bare, fs = [], []
    for round_no in range(rounds):
        if round_no % 2 == 0:
            bare.append(bare_sample())
            fs.append(forksan_sample())
        else:
            fs.append(forksan_sample())
            bare.append(bare_sample())
    return bare, fs


def ratio_row(build, rounds, name, unit, argv, limit, mode=None):
    """argv bare and under forksan run in alternating rounds; the budget
    limits the ratio of the medians."""
    bare, fs = alternate(rounds, lambda: workload_value(argv),
                         lambda: workload_value(under_forksan(build, argv, mode)))
    return make_row(name, unit, "<= %gx median" % limit, bare, fs, "ratio", limit)


def wall_rows(report, build, rounds):
    lockloop, forkloop, writeloop = (os.path.join(build, "bench", p) for p in ("lockloop", "forkloop", "writeloop"))
    pyqueue = [PYTHON, os.path.join(HERE, "pyqueue.py")]
    # (name, unit, command, limit of the median ratio, forksan run --mode)
    workloads = [
        ("mutex lock+unlock pair, uncontended", "ns/pair", [lockloop, "5000000", "3"], 1.5, None),
        ("fork + _exit + wait", "us/fork", [forkloop, "1000", "plain", "3"], 1.15, None),
        ("fork + _exit + wait, safe mode", "us/fork", [forkloop, "1000", "plain", "3"], 1.3, "safe"),
        ("fork + exec /bin/true + wait", "us/fork", [forkloop, "300", "exec", "3"], 1.05, None),
        ("one-byte write to a pipe", "ns/write", [writeloop, "300000", "3"], 1.02, None),
        ("CPython queue.Queue, 200,000 items", "s", pyqueue + ["200000", "3"], 1.05, None),
    ]
    for name, unit, argv, limit, mode in workloads:
        budget = "<= %gx median" % limit
        if argv[0] == PYTHON and not os.access(PYTHON, os.X_OK):
            report.skip(name, unit, budget, PYTHON + " is not installed")
        else:
            report.measure(name, unit, budget, lambda: ratio_row(build, rounds, name, unit, argv, limit, mode))

    # What `forksan run` itself costs: start the runtime in /bin/true, read
    # its (empty) trace directory, print the report.  20 launches a sample.
    name, unit, budget = "forksan run -- /bin/true, fixed cost", "ms", "<= +2 ms median"

    def fixed_cost():
        bare, fs = alternate(rounds, lambda: launch_ms(["/bin/true"], 20),
                             lambda: launch_ms(under_forksan(build, ["/bin/true"]), 20))
        return make_row(name, unit, budget, bare, fs, "added", 2.0)
    report.measure(name, unit, budget, fixed_cost)
    watchdog_row(report, build, rounds)


def watchdog_row(report, build, rounds):
    """The hang watchdog's cost: both sides under forksan run, the
    watchdog on (the default timeout) against off; 2,000 short fork
    children, one timed loop per sample so that no round hides the scans of
    /proc."""
    name, unit, budget = "fork + _exit + wait, hang watchdog on / off", "us/fork", "<= 1.05x median"
    argv = [os.path.join(build, "bench", "forkloop"), "2000", "plain", "1"]

    def watchdog_cost():
        off, on = alternate(rounds, lambda: workload_value(under_forksan(build, argv, options=["--hang-timeout", "0"])),
                            lambda: workload_value(under_forksan(build, argv, options=["--hang-timeout", "10"])))
        return make_row(name, unit, budget, off, on, "ratio", 1.05,
                        note="bare: forksan run --hang-timeout 0; forksan: --hang-timeout 10")
    report.measure(name, unit, budget, watchdog_cost)


# ---- callgrind ----------------------------------------------------------------

def callgrind_ir(build, argv, with_forksan, scratch):
    """Instructions (Ir) callgrind counts in argv, bare or under forksan run."""
    out = os.path.join(scratch, "callgrind.out")
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + list(argv)
    run_checked(under_forksan(build, command) if with_forksan else command)
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise BenchError("callgrind wrote no instruction total for '%s'" % " ".join(argv))


def ir_per_unit(build, argv_for, n, with_forksan, scratch):
    """(Ir of 2n units - Ir of n units) / n: the instructions of one unit of
    work, start-up cancelled."""
    small = callgrind_ir(build, argv_for(n), with_forksan, scratch)
    large = callgrind_ir(build, argv_for(2 * n), with_forksan, scratch)
    return (large - small) / n


def callgrind_rows(report, build, scratch):
    rows = [
        ("callgrind: mutex lock+unlock pair", "Ir/pair", "<= +40 Ir/pair"),
        ("callgrind: start-up of /bin/true", "Ir", "<= +20,000 Ir"),
        ("callgrind: CPython queue.Queue item", "Ir/item", "<= 1.05x"),
        ("callgrind: pthread_cond_signal, no waiter", "Ir/call", "<= +40 Ir/call"),
    ]
    if shutil.which("valgrind") is None:
        for name, unit, budget in rows:
            report.skip(name, unit, budget, "valgrind is not installed (apt-get install valgrind)")
        return
    lockloop = os.path.join(build, "bench", "lockloop")
    pairs = lambda n: [lockloop, str(n), "1"]
    name, unit, budget = rows[0]
    report.measure(name, unit, budget, lambda: make_row(
        name, unit, budget, [ir_per_unit(build, pairs, 100000, False, scratch)],
        [ir_per_unit(build, pairs, 100000, True, scratch)], "added", 40, note="(100,000 vs 200,000 pairs)"))

    name, unit, budget = rows[1]
    report.measure(name, unit, budget, lambda: make_row(
        name, unit, budget, [callgrind_ir(build, ["/bin/true"], False, scratch)],
        [callgrind_ir(build, ["/bin/true"], True, scratch)], "added", 20000))

    name, unit, budget = rows[3]
    signals = lambda n: [lockloop, str(n), "1", "signal"]
    report.measure(name, unit, budget, lambda: make_row(
        name, unit, budget, [ir_per_unit(build, signals, 100000, False, scratch)],
        [ir_per_unit(build, signals, 100000, True, scratch)], "added", 40, note="(100,000 vs 200,000 calls)"))

    name, unit, budget = rows[2]
    if not os.access(PYTHON, os.X_OK):
        report.skip(name, unit, budget, PYTHON + " is not installed")
        return
    items = lambda n: [PYTHON, os.path.join(HERE, "pyqueue.py"), str(n), "1"]
    report.measure(name, unit, budget, lambda: make_row(
        name, unit, budget, [ir_per_unit(build, items, 10000, False, scratch)],
        [ir_per_unit(build, items, 10000, True, scratch)], "ratio", 1.05, note="(10,000 vs 20,000 items)"))


# ---- the analyzer -------------------------------------------------------------

def forksan_environment(build, trace_dir):
    """The environment `forksan run --trace-dir trace_dir` gives its command
    (LD_PRELOAD and FORKSAN_OPTIONS), as a copy of ours with those two set."""
    forksan = os.path.join(build, "bin", "forksan")
    out = run_checked([forksan, "run", "--fail-on", "never", "--trace-dir", trace_dir, "--", "/usr/bin/env", "-0"])
    env = dict(os.environ)
    for entry in out.split("\0"):
        key, _, value = entry.partition("=")
        if key in ("LD_PRELOAD", "FORKSAN_OPTIONS"):
            env[key] = value
    if "FORKSAN_OPTIONS" not in env:
        raise BenchError("forksan run -- env showed no FORKSAN_OPTIONS")
    return env


def make_children(build, children, trace_dir):
    """A process with a sleeping second thread forks `children` children
    that each _exit at once, under forksan's runtime: every child writes a
    trace with one finding (the thread that vanished at fork)."""
    if os.path.exists(trace_dir):
        raise BenchError("'%s' already exists: its traces would join the new ones" % trace_dir)
    env = forksan_environment(build, trace_dir)
    progress_every = children // 10 if children >= 10000 else 0
    argv = [os.path.join(build, "bench", "forkloop"), str(children), "thread", "1", str(progress_every)]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    other = []
    for line in proc.stderr:
        if line.startswith("forkloop: ") and " of " in line:
            print("    made %s children (%.0f s)" % (line.split()[1], time.perf_counter() - start), flush=True)
        else:
            other.append(line.rstrip())
    if proc.wait() != 0:
        raise BenchError("forkloop exited with status %d: %s" % (proc.returncode, " | ".join(other[-3:])))
    return time.perf_counter() - start


def trace_files(trace_dir):
    """(number, total bytes) of the trace files in trace_dir."""
    count = size = 0
    with os.scandir(trace_dir) as entries:
        for entry in entries:
            if entry.name.endswith(".trace"):
                count += 1
                size += entry.stat().st_size
    return count, size


def timed_report(build, trace_dir, report_path):
    """Runs `forksan report` on trace_dir; returns (seconds, peak resident
    KiB) of that process (wait4's rusage: the process and what it waited for)."""
    argv = [os.path.join(build, "bin", "forksan"), "report", "--fail-on", "never", "-o", report_path, trace_dir]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    errors = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise BenchError("forksan report exited with status %d: %s" % (proc.returncode, errors.strip()[-300:]))
    return seconds, usage.ru_maxrss


def reported_counts(report_path):
    """(processes on the SUMMARY line, [processes each finding was seen in])
    of a text report; the first is None when the report has no SUMMARY."""
    summary, seen = None, []
    with open(report_path, errors="replace") as f:
        for line in f:
            if line.startswith("SUMMARY:"):
                match = re.search(r"in ([\d,]+) process", line)
                summary = int(match.group(1).replace(",", "")) if match else None
                continue
            match = re.match(r"  seen in ([\d,]+) process", line)
            if match:
                seen.append(int(match.group(1).replace(",", "")))
    return summary, seen


def analyzer_size(report, build, children, scratch):
    """Makes the traces of `children` children, times forksan report on them
    3 times (the median counts: a single run of the largest size swung with
    the machine's load) and adds the time, memory
    and count rows.  Returns (median seconds, whether the report counted
    every child), or (None, False) when it could not run."""
    label = "report {:,} children".format(children)
    trace_dir = os.path.join(scratch, "traces-%d" % children)
    print("%s: making the traces" % label, flush=True)
    try:
        made = make_children(build, children, trace_dir)
        count, size = trace_files(trace_dir)
        mib = size / 1048576.0
        print("    %s trace files, %s MiB, made in %.1f s" % ("{:,}".format(count), fmt(mib), made), flush=True)
        report_path = os.path.join(scratch, "report-%d.txt" % children)
        runs = [timed_report(build, trace_dir, report_path) for _ in range(3)]
    except (BenchError, OSError, subprocess.SubprocessError) as err:
        why = str(err)
        report.measure(label + ": time", "s", "", lambda: failed_row(label + ": time", "s", "", why))
        return None, False
    finally:
        shutil.rmtree(trace_dir, ignore_errors=True)

    seconds = [r[0] for r in runs]
    time_budget, time_limit = ("<= 5 s", 5.0) if children == 100000 else ("", None)
    report.measure(label + ": time", "s", time_budget, lambda: make_row(
        label + ": time", "s", time_budget, forksan=seconds, kind="value", limit=time_limit))

    peak = [r[1] / 1024.0 for r in runs]
    limit = 2 * mib + 50
    budget = "<= 2 x %s + 50 = %s MiB" % (fmt(mib), fmt(limit))
    report.measure(label + ": peak memory", "MiB", budget, lambda: make_row(
        label + ": peak memory", "MiB", budget, forksan=peak, kind="value", limit=limit,
        note="(traces: %s MiB in %s files)" % (fmt(mib), "{:,}".format(count))))

    summary, seen = reported_counts(report_path)
    name = label + ": counted"

    def counted():
        row = make_row(name, "processes", "== {:,}".format(children), forksan=[summary] if summary is not None else [],
                       kind="value")
        row["budget_kind"] = "equal"
        row["limit"] = children
        row["seen_in"] = seen
        row["ok"] = summary == children and seen == [children]
        row["note"] = "(%d finding%s, seen in %s)" % (len(seen), "" if len(seen) == 1 else "s",
                                                    " + ".join("{:,}".format(n) for n in seen) or "none")
        if not row["ok"]:
            row["note"] = "%s children made, but the SUMMARY line counts %s processes %s; expected one finding seen in all" % (
                "{:,}".format(children), "{:,}".format(summary) if summary is not None else "no", row["note"])
            row["fail_mark"] = "MISMATCH"
        return row
    count_row = report.measure(name, "processes", "== {:,}".format(children), counted)
    os.unlink(report_path)
    return statistics.median(seconds), count_row["ok"] is True


def analyzer_rows(report, build, scratch, largest):
    medians, counted_all = {}, {}
    for children in (1000, 10000, 100000):
        if children <= largest:
            medians[children], counted_all[children] = analyzer_size(report, build, children, scratch)
    name, budget = "report time 10,000 -> 100,000 children", "<= 11x (linear: 10x)"
    if medians.get(10000) and medians.get(100000):
        note = None
        if not (counted_all[10000] and counted_all[100000]):
            note = "(a report miscounted its children: the two sizes did not do the same work per child)"
        row = make_row(name, "x", budget, forksan=[medians[100000] / medians[10000]], kind="value", limit=11.0,
                       note=note)
        report.measure(name, "x", budget, lambda: row)
    else:
        report.skip(name, "x", budget, "needs the 10,000 and 100,000 sizes (BENCH_ANALYZER_MAX=%d)" % largest)


# ---- main ---------------------------------------------------------------------

def positive_env(name, default):
    text = os.environ.get(name, "")
    try:
        value = int(text) if text else default
    except ValueError:
        value = 0
    if value <= 0:
        print("bench.py: %s=%r is not a positive number (unset it for the default, %d)" % (name, text, default),
              file=sys.stderr)
        sys.exit(2)
    return value


def main():
    if len(sys.argv) != 2:
        print("usage: bench.py BUILD   (the build directory of make BUILD=...)", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    rounds = positive_env("BENCH_ROUNDS", 7)
    largest = positive_env("BENCH_ANALYZER_MAX", 100000)
    started = time.perf_counter()
    load = os.getloadavg()
    print("== forksan bench: %d alternating rounds per workload (bare and under forksan run, order flipped every round);"
          % rounds)
    print("   figures are medians with the minimum in brackets; %d CPUs, load %.2f %.2f %.2f"
          % (os.cpu_count(), load[0], load[1], load[2]), flush=True)
    report = Report()
    scratch = tempfile.mkdtemp(prefix="forksan-bench.")
    try:
        wall_rows(report, build, rounds)
        print("== callgrind instruction counts (the stable figures)", flush=True)
        callgrind_rows(report, build, scratch)
        print("== the analyzer: forksan report on the traces of forked children (one finding each)", flush=True)
        analyzer_rows(report, build, scratch, largest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    over = [row["name"] for row in report.rows if row["ok"] is False]
    failed = [row["name"] for row in report.rows if row.get("failed")]
    out = os.path.join(build, "bench.json")
    with open(out, "w") as f:
        json.dump({"rounds": rounds, "analyzer_max": largest, "rows": report.rows}, f, indent=1)
        f.write("\n")
    print("== %d rows, %d over budget, %d failed; %s; the bench took %.0f s"
          % (len(report.rows), len(over), len(failed), out, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())

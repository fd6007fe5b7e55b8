"""scenarios.py — the table of scenarios run by run.py.

Markers (@mark:NAME) in the sources give the lines the checks expect."""
import glob
import os
import re

from run import Expect, Scenario

PY = "/usr/bin/python3"                                   # Debian 3.11, libpython in the executable
PYENV = "/root/.pyenv/versions/3.11.7/bin/python3.11"     # 3.11.7 with a shared libpython
PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def pyenv_python(minor):
    """pyenv's newest build of CPython 3.minor on this machine, or None."""
    found = glob.glob(os.path.join(PYENV_ROOT, "versions", "3.%d.*" % minor, "bin", "python3.%d" % minor))
    patch = lambda path: int(re.search(r"/3\.%d\.(\d+)/" % minor, path).group(1))  # noqa: E731
    found = [p for p in found if re.search(r"/3\.%d\.\d+/" % minor, p)]
    return max(found, key=patch) if found else None


# Every CPython the Python scenarios run on: (name suffix, interpreter,
# what it is).  The other minor versions come from pyenv builds, which no
# Debian package provides: a machine without them skips those versions,
# and PYTHON_VERSIONS says so, one line each (run.py prints it).
PYTHONS = [("", PY, "CPython 3.11, Debian's /usr/bin/python3"),
           ("-pyenv", PYENV, "CPython 3.11.7, pyenv, shared libpython")]
PYTHON_VERSIONS = []
for _minor in (10, 12, 13):
    _path = pyenv_python(_minor)
    if _path:
        PYTHONS.append(("-py3%d" % _minor, _path, "CPython 3.%d, pyenv" % _minor))
    else:
        PYTHON_VERSIONS.append("CPython 3.%d: skipped: no pyenv build under %s/versions "
                               "(not in Debian 12's archive; `pyenv install 3.%d` provides it)"
                               % (_minor, PYENV_ROOT, _minor))
# CPython 3.14 and 3.15 from Debian's newer suite, as tests/install-pythons.sh
# leaves it (a wrapper that runs it through its own suite's loader).
PYTHONS_CACHE = os.environ.get("FORKSAN_PYTHONS") or "/var/cache/forksan-pythons"
for _minor in (14, 15):
    _path = os.path.join(PYTHONS_CACHE, "python3.%d" % _minor)
    if os.access(_path, os.X_OK):
        PYTHONS.append(("-py3%d" % _minor, _path, "CPython 3.%d, Debian sid (tests/install-pythons.sh)" % _minor))
    else:
        PYTHON_VERSIONS.append("CPython 3.%d: skipped: no %s (tests/install-pythons.sh fetches it from Debian sid)"
                               % (_minor, _path))
for _suffix, _path, _what in PYTHONS:
    if os.path.exists(_path):
        PYTHON_VERSIONS.append("%s: %s (scenarios %s)" % (_what, _path, "named *" + _suffix if _suffix else "without a suffix"))
    else:
        PYTHON_VERSIONS.append("%s: skipped: no %s on this machine" % (_what, _path))
STRICT = ["--mode", "strict"]
HANG = ["--hang-timeout", "1"]                           # the watchdog, quick


NOT_RUN = []  # (scenario, why): a version the scenario does not apply to


def every_python(name, program, versions=None, **kwargs):
    """The same Python scenario under every CPython of PYTHONS: Debian's
    interpreter (name), pyenv's shared-libpython 3.11 (name + "-pyenv"),
    and each other minor version found (name + "-py310", ...).  versions:
    {suffix: {argument: value}} for what one version does otherwise, or
    {suffix: "why"} for a version the scenario does not apply to.  3.15
    follows 3.14's entry unless it has its own (PyMutex locks in both)."""
    versions = versions or {}
    made = []
    for suffix, interp, _ in PYTHONS:
        change = versions.get(suffix, versions.get("-py314", {}) if suffix == "-py315" else {})
        if isinstance(change, str):
            NOT_RUN.append((name + suffix, change))
        else:
            made.append(Scenario(name + suffix, program, interpreter=interp, **dict(kwargs, **change)))
    return made


# CPython 3.14's threading.Lock is a PyMutex (an atomic byte no interposer
# sees: its holder is unknown) and its threads take no semaphore as they
# start.
PYMUTEX = ("CPython 3.14+'s Lock is a PyMutex: safe mode neither waits for its holder at fork nor re-initialises it "
           "(it sees no holder); the child gets child-deadlock and is ended as in strict mode")
# A PyMutex records no holder: the child-deadlock shows the child's attempt
# and says the holder is not known, with no acquisition to show.
PYMUTEX_LOCK = dict(expect=[Expect("child-deadlock", "error", "attempt", "py_lock_forker.py", "fork",
                                   message_has="CPython records no holder")])
PYMUTEX_LOCK_THREAD = dict(expect=[Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork",
                                          message_has="CPython records no holder"),
                                   Expect("threads-at-fork", None, "thread", "py_lock_thread.py", "sleeping",
                                          thread_name="lock-holder",
                                          message_has="blocked forever on a lock held at fork whose holder forksan "
                                                      "cannot see"),
                                   Expect("threads-at-fork", None, "fork", "py_lock_thread.py", "fork")])
PYMUTEX_NAMES = "CPython 3.14+'s threads take no semaphore as they start: threading names are not learned"
ATEXIT_RUN_IN_CHILD = dict(expect=[], clean=True, absent=["skipped-cleanup"], stdout_has="saving results")


def forker_relock(name, program, kind_word):
    """The forking thread holds a mutex at fork and the child locks it
    again: child-deadlock with the attempt, the forker's acquisition and the
    fork site; no other thread, so no threads-at-fork."""
    source = program + ".c"
    return Scenario(
        name,
        program,
        expect=[
            Expect("child-deadlock", "error", "attempt", source, "attempt",
                   message_has="%smutex" % kind_word),
            Expect("child-deadlock", "error", "acquired", source, "acquire"),
            Expect("child-deadlock", "error", "fork", source, "fork"),
        ],
        absent=["threads-at-fork", "orphaned-lock"],
        stdout_has="child ended: -1",
    )


SCENARIOS = [
    # ---- hazards: the child blocks forever on an inherited lock -------------
    Scenario(
        "c-mutex-held-by-vanished-thread",
        "mutex_vanished_holder",
        expect=[
            Expect("child-deadlock", "error", "attempt", "mutex_vanished_holder.c", "attempt"),
            Expect("child-deadlock", "error", "acquired", "mutex_vanished_holder.c", "acquire", thread_name="holder"),
            Expect("child-deadlock", "error", "fork", "mutex_vanished_holder.c", "fork"),
            Expect("threads-at-fork", "warning", "thread", "mutex_vanished_holder.c", "create", thread_name="holder"),
        ],
        absent=["orphaned-lock"],
        stdout_has="child ended: -1",
    ),
    # A hold the snapshot could not record (the holder's table is full):
    # the mutex's own owner field says the holder is not in the child.
    Scenario(
        "c-mutex-untracked-hold-by-vanished-thread",
        "mutex_untracked_holder",
        expect=[
            Expect("child-deadlock", "error", "attempt", "mutex_untracked_holder.c", "attempt",
                   message_has='"hoarder"'),
            Expect("child-deadlock", "error", "fork", "mutex_untracked_holder.c", "fork"),
        ],
        notice_has="1 thread held more locks than forksan records per thread",
        stdout_has="child ended: -1",
    ),
    forker_relock("c-normal-mutex-held-by-forker", "mutex_forker_normal", ""),
    forker_relock("c-recursive-mutex-held-by-forker", "mutex_forker_recursive", "recursive "),
    forker_relock("c-errorcheck-mutex-held-by-forker", "mutex_forker_errorcheck", "error-checking "),
    Scenario(
        "c-rwlock-write-held-by-vanished-thread",
        "rwlock_writer_thread",
        expect=[
            Expect("child-deadlock", "error", "attempt", "rwlock_writer_thread.c", "attempt", message_has="rwlock"),
            Expect("child-deadlock", "error", "acquired", "rwlock_writer_thread.c", "acquire", thread_name="writer",
                   message_has='"writer"'),
            Expect("child-deadlock", "error", "fork", "rwlock_writer_thread.c", "fork"),
            Expect("threads-at-fork", "warning", "thread", "rwlock_writer_thread.c", "create", thread_name="writer"),
        ],
        absent=["orphaned-lock"],
        stdout_has="child ended: -1",
    ),
    Scenario(
        "c-binary-semaphore-held-by-vanished-thread",
        "sem_binary_thread",
        expect=[
            Expect("child-deadlock", "error", "attempt", "sem_binary_thread.c", "attempt", message_has="semaphore"),
            Expect("child-deadlock", "error", "acquired", "sem_binary_thread.c", "acquire", thread_name="sem-holder",
                   message_has='"sem-holder"'),
            Expect("child-deadlock", "error", "fork", "sem_binary_thread.c", "fork"),
            Expect("threads-at-fork", "warning", "thread", "sem_binary_thread.c", "create", thread_name="sem-holder"),
        ],
        absent=["orphaned-lock"],
        stdout_has="child ended: -1",
    ),
    # The same semaphore in the frame of the thread that forks: the child's
    # wait is on its own frames, yet on a lock the vanished thread took.
    Scenario("c-binary-semaphore-on-forker-stack-held-by-vanished-thread", "sem_binary_thread", args=["stack"],
             expect=[Expect("child-deadlock", "error", "acquired", "sem_binary_thread.c", "acquire",
                            thread_name="sem-holder")],
             absent=["orphaned-lock"], stdout_has="child ended: -1"),
    # The same semaphore in memory mapped right above the holder's stack,
    # where a malloc arena can lie: a few kilobytes above the holder's
    # frames, yet not its stack, so the unit it took is a held lock.
    Scenario("c-binary-semaphore-above-holder-stack-held-by-vanished-thread", "sem_binary_thread",
             args=["above-stack"],
             expect=[Expect("child-deadlock", "error", "acquired", "sem_binary_thread.c", "acquire",
                            thread_name="sem-holder")],
             absent=["orphaned-lock"], stdout_has="child ended: -1"),

    # ---- clean controls: nothing above note ---------------------------------
    # A counting semaphore (value 2) of which a vanished thread holds one
    # unit: the child still gets one, so no orphaned-lock.
    Scenario("c-clean-counting-semaphore-unit-held", "sem_binary_thread", args=["counting"], quiet=True,
             notes_ok=["threads-at-fork"], absent=["orphaned-lock", "child-deadlock"],
             stdout_has="child ended: 0", same_as_bare=True),
    Scenario("c-clean-atfork-reinit-recursive-mutex", "atfork_reinit_recursive", clean=True,
             absent=["child-deadlock", "inherited-held-lock"], stdout_has="child ended: 0", same_as_bare=True),
    Scenario("c-clean-process-shared-mutex", "pshared_mutex", clean=True, absent=["child-deadlock"],
             stdout_has="child ended: 0", same_as_bare=True),
    Scenario("c-clean-atfork-protected-mutex-churn", "atfork_churn", clean=True, absent=["child-deadlock"],
             expect=[Expect("threads-at-fork", "note")],
             stdout_has="children ok: 20/20", same_as_bare=True),
    Scenario("c-clean-fork-exec-while-lock-held", "fork_exec_held", clean=True, quiet=True,
             stdout_has="child ended: 0", same_as_bare=True),
    Scenario("c-clean-posix-spawn-while-lock-held", "posix_spawn_held", clean=True,
             stdout_has="child ended: 0", same_as_bare=True),
    Scenario("c-clean-single-threaded-fork", "single_thread_fork", args=["3"], clean=True,
             absent=["threads-at-fork"], stdout_has="child says hello\nchild ended: 0\n", exit_status=3,
             same_as_bare=True),

    # A child that switches from root to nobody keeps its trace, and its
    # own children (traced after the switch) are reported too.
    *([Scenario("c-privilege-drop-keeps-traces", "privdrop",
                expect=[Expect("child-deadlock", "error", "attempt", "privdrop.c", "child-attempt"),
                        Expect("child-deadlock", "error", "attempt", "privdrop.c", "grandchild-attempt")],
                stdout_has="grandchild ended: -1\nchild ended: -1")] if os.geteuid() == 0 else []),

    # ---- strict mode: the doomed child ends with the exit code --------------
    Scenario(
        "c-strict-forker-relock-ends-child",
        "mutex_forker_normal",
        forksan_args=STRICT,
        expect=[Expect("child-deadlock", "error", "attempt", "mutex_forker_normal.c", "attempt")],
        stdout_has="child ended: 66",
    ),
    Scenario(
        "c-strict-vanished-holder-ends-child",
        "mutex_vanished_holder",
        forksan_args=STRICT,
        expect=[Expect("child-deadlock", "error", "acquired", "mutex_vanished_holder.c", "acquire",
                       thread_name="holder")],
        stdout_has="child ended: 66",
    ),
    Scenario(
        "c-strict-exitcode-option",
        "sem_binary_thread",
        forksan_args=STRICT + ["--exitcode", "77"],
        expect=[Expect("child-deadlock", "error", "attempt", "sem_binary_thread.c", "attempt")],
        stdout_has="child ended: 77",
    ),

    # ---- observe mode changes nothing, even when the child hangs -------------
    Scenario("c-observe-same-as-bare-hang", "mutex_forker_normal",
             expect=[Expect("child-deadlock", "error")], stdout_has="child ended: -1", same_as_bare=True),

    # ---- CPython 3.11 through the native probes (rules only, not .py lines) --
    Scenario("py-lock-held-by-forker", "py_lock_forker.py", interpreter=PY,
             expect=[Expect("child-deadlock", "error")], absent=["threads-at-fork"],
             stdout_has="child ended: -1"),
    Scenario("py-lock-held-by-vanished-thread", "py_lock_thread.py", interpreter=PY,
             expect=[Expect("child-deadlock", "error", message_has="which does not exist in the child"),
                     Expect("threads-at-fork", "warning")],
             stdout_has="child ended: -1"),
    Scenario("py-clean-single-threaded-fork", "py_single_fork.py", interpreter=PY, clean=True,
             absent=["threads-at-fork"], stdout_has="child ended: 0", same_as_bare=True),
    Scenario("py-clean-lock-released-before-fork", "py_lock_released.py", interpreter=PY, clean=True,
             stdout_has="child ended: 0, counter 2000", same_as_bare=True),
    Scenario("py-clean-rlock-held-by-forker", "py_rlock_forker.py", interpreter=PY, clean=True,
             stdout_has="child ended: 0", same_as_bare=True),

    # ---- precision regressions ------------------------------------------------
    # A fork child that starts threads and waits for each to hand over its
    # result: its waits race with threads being born, and are no deadlock.
    # Strict mode, so a false verdict would also end a child.
    Scenario("c-quiet-child-starts-threads", "child_starts_threads", forksan_args=STRICT, quiet=True,
             stdout_has="children ok: 20", same_as_bare=True),
    *every_python("py-quiet-child-starts-threads", "py_child_threads.py", forksan_args=STRICT, quiet=True,
                  stdout_has="children ok: 20", same_as_bare=True, timeout=120),
    *every_python("py-strict-lock-holder-thread-ends-child", "py_lock_thread.py", forksan_args=STRICT,
                  expect=[Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork")],
                  stdout_has="child ended: 66"),
    # A PyMutex-era child-deadlock needs a child that can never be woken:
    # a child's own threads can release a lock it parks on, and so can a
    # Python signal handler.  Strict mode would end a child wrongly judged.
    *every_python("py-quiet-child-hands-lock-between-threads", "py_child_lock_handoff.py", forksan_args=STRICT,
                  quiet=True, stdout_has="children ok: 10", same_as_bare=True, timeout=120),
    *every_python("py-quiet-child-event-set-by-signal-handler", "py_child_signal_wakes.py", args=["event"],
                  forksan_args=STRICT, quiet=True, stdout_is="child ended: 0\n"),
    *every_python("py-quiet-child-lock-released-by-signal-handler", "py_child_signal_wakes.py", args=["lock"],
                  forksan_args=STRICT, quiet=True, stdout_is="child ended: 0\n"),
    # The CPython conventions the two scenarios below rely on, checked
    # directly (the script exits 1 naming the one that changed).
    *every_python("py-quiet-cpython-fork-conventions", "py_fork_conventions.py", quiet=True,
                  notes_ok=["threads-at-fork"], stdout_has="conventions hold"),
    # Bad input: threads forksan never sees being created (from a signal
    # handler, or with clone() directly), posting what the child waits for.
    Scenario("c-quiet-child-thread-from-signal-handler", "child_odd_threads", args=["signal"],
             forksan_args=STRICT, quiet=True, stdout_has="children ok: 10", same_as_bare=True),
    Scenario("c-quiet-child-thread-from-raw-clone", "child_odd_threads", args=["clone"],
             forksan_args=STRICT, quiet=True, stdout_has="children ok: 10", same_as_bare=True),
    # A fork storm beside a thread churning a mutex: never an error.  The
    # worker holds its mutex at some forks: orphaned-lock (a true latent
    # hazard) for those children, merged into one finding whose message
    # agrees with its severity.
    Scenario("c-fork-storm-stays-precise", "fork_storm", absent=["child-deadlock"],
             stdout_has="children: 5000", timeout=300),
    # Exit handlers that libraries register as they load (OpenSSL's
    # OPENSSL_cleanup, logging.shutdown): skipped by os._exit, nothing lost.
    # 3.14's child writes to most of what it inherits (a true cow-amplification note).
    *every_python("py-quiet-child-skips-library-exit-handlers", "py_child_imports.py", quiet=True,
                  versions={"-py314": dict(notes_ok=["cow-amplification"])},
                  stdout_has="child ended: 0", same_as_bare=True),
    # A semaphore waited on and destroyed by its waiter (CPython 3.13+'s
    # parking lot) leaves no hold behind.
    Scenario("c-quiet-sem-own-wait-object", "sem_own_wait_object", quiet=True, notes_ok=["threads-at-fork"],
             absent=["orphaned-lock", "inherited-held-lock"], stdout_has="child ended: 0", same_as_bare=True),
    # The same, with the fork after the waiters woke and before they
    # destroyed their semaphores (the main thread one of them): the unit a
    # thread takes from a semaphore on its own stack is no held lock.
    Scenario("c-quiet-sem-own-wait-object-awake-at-fork", "sem_own_wait_object", args=["awake"], quiet=True,
             notes_ok=["threads-at-fork"], absent=["orphaned-lock", "inherited-held-lock"],
             stdout_has="child ended: 0", same_as_bare=True),
    # jemalloc's atfork handlers take every arena lock around each fork.
    Scenario("c-quiet-jemalloc-fork-protocol", "jemalloc_fork", quiet=True, notes_ok=["threads-at-fork"],
             absent_notice="tables full", stdout_has="children ok: 20", same_as_bare=True),
    # CPython's own fork-time locks (import lock, logging's) are replaced in
    # the child: a thread of a fork child forking again finds none held.
    *every_python("py-quiet-fork-from-thread-of-fork-child", "py_child_thread_forks.py", quiet=True,
                  notes_ok=["threads-at-fork"], absent=["orphaned-lock", "inherited-held-lock"],
                  stdout_has="grandchild ended: 0\nchild ended: 0", same_as_bare=True),
    # A timed acquire in the child ends by itself: not "blocks forever".
    Scenario("c-timedlock-in-child-is-not-a-deadlock", "mutex_timedlock_forker",
             absent=["child-deadlock"], stdout_has="child ended: 9", same_as_bare=True),
    # A Python thread idle in Event.wait holds its own waiter lock (a signal,
    # not a lock): nothing above note.
    Scenario("py-clean-thread-waiting-on-event", "py_thread_waiting_event.py", interpreter=PY, clean=True,
             expect=[Expect("threads-at-fork", "note")], stdout_has="child ended: 0", same_as_bare=True),
    # A thread whose own TSD destructor locks after forksan released its slot
    # must not come back as a ghost vanished thread.
    Scenario("c-clean-tsd-destructor-lock", "tsd_destructor_lock", clean=True,
             absent=["threads-at-fork"], stdout_has="child ended: 0"),
    # In a child of a multi-threaded parent the attempt stack is walked by
    # frame pointers (no unwinding there): the caller must still appear.
    Scenario("c-nested-attempt-stack-in-threaded-child", "nested_attempt",
             expect=[Expect("child-deadlock", "error", "attempt", "nested_attempt.c", "attempt"),
                     Expect("child-deadlock", "error", "attempt", "nested_attempt.c", "caller"),
                     Expect("child-deadlock", "error", "acquired", "nested_attempt.c", "acquire")]),
    # Two locks through one wrapper: the second lock's acquisition must not
    # be shown with the first lock's callers.
    Scenario("c-shared-wrapper-site-not-misattributed", "shared_lock_site",
             expect=[Expect("child-deadlock", "error", "acquired", "shared_lock_site.c", "wrapper",
                            not_mark="warmup"),
                     Expect("child-deadlock", "error", "attempt", "shared_lock_site.c", "attempt")]),

    # ---- Python frames (every interpreter): the user's .py lines ------------
    *every_python("py-frames-lock-held-by-forker", "py_lock_forker.py", versions={"-py314": PYMUTEX_LOCK},
                  expect=[Expect("child-deadlock", "error", "acquired", "py_lock_forker.py", "acquire"),
                          Expect("child-deadlock", "error", "attempt", "py_lock_forker.py", "fork")],
                  absent=["threads-at-fork"]),
    *every_python("py-frames-lock-holder-thread", "py_lock_thread.py", versions={"-py314": PYMUTEX_LOCK_THREAD},
                  expect=[Expect("child-deadlock", "error", "acquired", "py_lock_thread.py", "acquire",
                                 thread_name="lock-holder", message_has='"lock-holder"'),
                          Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork"),
                          Expect("threads-at-fork", "warning", "thread", "py_lock_thread.py", "sleeping",
                                 thread_name="lock-holder"),
                          Expect("threads-at-fork", "warning", "fork", "py_lock_thread.py", "fork")]),
    # 3.14+ records an RLock's owner in the lock: the holder is named, and
    # shown as it was at fork (where it took the lock is not seen).
    *every_python("py-frames-rlock-holder-thread", "py_lock_thread.py", args=["rlock"],
                  versions={"-py314": dict(expect=[
                      Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork",
                             message_has='"lock-holder"'),
                      Expect("child-deadlock", "error", "thread", "py_lock_thread.py", "sleeping",
                             thread_name="lock-holder")])},
                  expect=[Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork",
                                 message_has='"lock-holder"'),
                          Expect("child-deadlock", "error", "acquired", "py_lock_thread.py", "acquire",
                                 thread_name="lock-holder")]),
    *every_python("py-frames-pool-refork", "py_pool_refork.py", versions={"-py314": PYMUTEX_NAMES},
                  expect=[Expect("threads-at-fork", None, "thread", thread_name="Thread-2 (_handle_tasks)",
                                 name_only=True),
                          Expect("threads-at-fork", None, "thread", thread_name="Thread-3 (_handle_results)",
                                 name_only=True),
                          Expect("threads-at-fork", None, "fork", "popen_fork.py", file_only=True,
                                 thread_name="Thread-1 (_handle_workers)")],
                  clean=True, stdout_has="results: [0, 1, 4]"),
    *every_python("py-clean-pool-readonly-global", "py_pool_readonly.py", clean=True, stdout_has="sum: 332833500"),
    *every_python("py-clean-subprocess-from-threads", "py_subprocess_threads.py", clean=True,
                  stdout_has="ran 4 subprocesses"),
    *every_python("py-clean-single-threaded-fork-frames", "py_single_fork.py", clean=True,
                  absent=["threads-at-fork"]),
    *every_python("py-clean-rlock-held-by-forker-frames", "py_rlock_forker.py", clean=True),
    *every_python("py-clean-lock-released-before-fork-frames", "py_lock_released.py", clean=True),
    # Bad input: an interpreter forksan cannot read frames from: native
    # frames, one notice saying why, the finding still there.
    Scenario("py-bridge-unavailable-falls-back", "fake_python",
             expect=[Expect("child-deadlock", "error", "attempt", "fake_python.c", "attempt")],
             notice_has="Python frames unavailable"),
    Scenario("py-bridge-unknown-version-falls-back", "fake_python_future",
             expect=[Expect("child-deadlock", "error", "attempt", "fake_python.c", "attempt")],
             notice_has="frame layout this forksan does not know (it reads CPython 3.10 to 3.15)"),
    Scenario("py-bridge-debug-build-falls-back", "fake_python_debug",
             expect=[Expect("child-deadlock", "error", "attempt", "fake_python.c", "attempt")],
             notice_has="a debug build of CPython (Py_DEBUG)"),
    *every_python("py-clean-logging-thread-at-fork", "py_logging_thread.py", clean=True,
                  stdout_has="children: [0, 0, 0, 0, 0]"),
    # `python3` on PATH may be pyenv's shell shim, which forks and execs
    # several times before the interpreter starts: none of that is noise.
    Scenario("py-clean-through-pyenv-shim", "py_single_fork.py", interpreter="/root/.pyenv/shims/python3",
             clean=True, absent=["threads-at-fork", "orphaned-lock"]),

    # ---- event loops: stranded-loop and shared-loop -------------------------
    # A thread drives an epoll loop at fork; the child epoll_ctl(ADD)s a pipe
    # to the inherited instance and waits on it.  The kernel object is
    # shared: the parent's own loop thread then reports the child's fd.
    Scenario(
        "c-loop-child-adds-to-inherited-epoll",
        "loop_epoll_child_ctl",
        expect=[
            Expect("shared-loop", "error", "use", "loop_epoll_child_ctl.c", "use"),
            Expect("shared-loop", "error", "created", "loop_epoll_child_ctl.c", "created"),
            Expect("stranded-loop", "error", "use", "loop_epoll_child_ctl.c", "childwait"),
            Expect("stranded-loop", "error", "created", "loop_epoll_child_ctl.c", "created"),
            Expect("stranded-loop", "error", "thread", "loop_epoll_child_ctl.c", "create", thread_name="loop"),
            Expect("stranded-loop", "error", "fork", "loop_epoll_child_ctl.c", "fork"),
        ],
        absent=["child-deadlock", "orphaned-lock"],
        stdout_has="child ended: 0\nparent saw child's fd: yes\n",
        same_as_bare=True,
    ),
    # The child closes the inherited epoll fd, then builds its own loop:
    # nothing above note (the idle loop thread is a threads-at-fork note:
    # the loop it drove does not outlive the close in the child).
    Scenario("c-clean-loop-child-recreates-epoll", "loop_epoll_child_recreate", clean=True,
             expect=[Expect("threads-at-fork", "note")],
             absent=["stranded-loop", "shared-loop", "child-deadlock", "orphaned-lock", "inherited-held-lock"],
             stdout_has="child ended: 0", same_as_bare=True),
    # libuv and libevent: the forking main thread drives the loop (not
    # stranded); the child runs it without / with the library's fork reinit.
    # The epoll calls are inside the library; the user's lines (uv_run,
    # uv_loop_init) are further up the same stacks.
    Scenario("c-loop-uv-child-runs-inherited-loop", "loop_uv_fork",
             expect=[Expect("shared-loop", "error"),
                     Expect("shared-loop", "error", "use", "loop_uv_fork.c", "use"),
                     Expect("shared-loop", "error", "created", "loop_uv_fork.c", "created")],
             absent=["stranded-loop"], stdout_has="child ended: 0"),
    # ... and what that costs the parent: its own event is lost.
    Scenario("c-loop-uv-child-drops-parent-registration", "loop_uv_parent_events",
             expect=[Expect("shared-loop", "error", "use", "loop_uv_parent_events.c", "use")],
             stdout_has="parent saw its event: no\n"),
    Scenario("c-loop-libevent-child-drops-parent-registration", "loop_event_parent_events",
             expect=[Expect("shared-loop", "error", "use", "loop_event_parent_events.c", "use")],
             stdout_has="parent saw its event: no\n"),
    Scenario("c-clean-loop-uv-loop-fork", "loop_uv_fork", args=["reinit"], clean=True,
             absent=["shared-loop", "stranded-loop", "threads-at-fork"], stdout_has="child ended: 0",
             same_as_bare=True),
    Scenario("c-loop-libevent-child-runs-inherited-base", "loop_event_fork",
             expect=[Expect("shared-loop", "error"),
                     Expect("shared-loop", "error", "use", "loop_event_fork.c", "use"),
                     Expect("shared-loop", "error", "created", "loop_event_fork.c", "created")],
             absent=["stranded-loop"], stdout_has="child ended: 0"),
    Scenario("c-clean-loop-libevent-event-reinit", "loop_event_fork", args=["reinit"], clean=True,
             absent=["shared-loop", "stranded-loop", "threads-at-fork"], stdout_has="child ended: 0",
             same_as_bare=True),
    # asyncio, both interpreters: run_forever() in "loop-thread"; the child
    # wakes the stranded loop with run_coroutine_threadsafe (times out).
    *every_python("py-loop-thread-stranded", "py_loop_thread_stranded.py",
                  expect=[Expect("stranded-loop", "error", "use", "py_loop_thread_stranded.py", "use"),
                          Expect("stranded-loop", "error", "thread", thread_name="loop-thread", name_only=True),
                          Expect("stranded-loop", "error", "created", "py_loop_thread_stranded.py", "created")],
                  absent=["shared-loop", "child-deadlock"], stdout_has="child ended: 3"),
    # The child runs asyncio.run() on a fresh loop and never touches the
    # inherited one: no shared-loop; the inherited loop stays open with its
    # driver gone, untouched, which costs the child nothing: no
    # stranded-loop, and threads-at-fork (naming the loop's thread) is a note.
    *every_python("py-loop-child-fresh-loop", "py_loop_child_fresh.py",
                  clean=True, expect=[Expect("threads-at-fork", "note", "thread", thread_name="loop-thread",
                                             name_only=True)],
                  absent=["stranded-loop", "shared-loop", "child-deadlock"], stdout_has="child ended: 0"),
    # ... and with the inherited loop's selector (its epoll fd) closed first:
    # nothing above note (threads-at-fork drops to a note).
    *every_python("py-clean-loop-child-closes-inherited", "py_loop_child_fresh.py", args=["close"],
                  clean=True, expect=[Expect("threads-at-fork", "note")],
                  absent=["stranded-loop", "shared-loop", "child-deadlock"], stdout_has="child ended: 0"),

    # ---- buffers and exit handlers across fork --------------------------------
    # The parent's handler prints into stdout's buffer, which exit() then
    # writes on the parent's own pipe: duplicated-cleanup says so.
    Scenario("c-stdio-duplicate-and-duplicated-cleanup", "stdio_cleanup", args=["dup"],
             expect=[Expect("stdio-duplicate", "warning", "exit", "stdio_cleanup.c", "exit"),
                     Expect("duplicated-cleanup", "warning", "exit", "stdio_cleanup.c", "exit",
                            message_has="parent_cleanup, and it writes 9 bytes to fd 1")],
             stdout_has="hello[cleanup]hello[cleanup]"),
    # What the parent's exit handlers do decides: removing the parent's
    # file or writing on its descriptor is reported; freeing memory, or
    # writing on the child's own file, is not.
    Scenario("c-duplicated-cleanup-removes-parent-file", "exit_handlers", args=["remove"],
             expect=[Expect("duplicated-cleanup", "warning", "exit", "exit_handlers.c", "exit",
                            message_has="remove_pid_file, and it removes '/tmp/forksan-scenario-")],
             stdout_has="child ended: 0, pid file gone"),
    Scenario("c-duplicated-cleanup-writes-parent-fd", "exit_handlers", args=["write"],
             expect=[Expect("duplicated-cleanup", "warning", "exit", "exit_handlers.c", "exit",
                            message_has="say_bye, and it writes 4 bytes to fd 2")]),
    Scenario("c-quiet-exit-handler-frees-memory", "exit_handlers", args=["free"], quiet=True,
             stdout_has="child ended: 0, pid file kept", same_as_bare=True),
    Scenario("c-quiet-exit-handler-writes-child-file", "exit_handlers", args=["own"], quiet=True,
             stdout_has="child ended: 0, pid file kept", same_as_bare=True),
    Scenario("c-clean-stdio-child-underscore-exit", "stdio_cleanup", args=["underscore"], clean=True,
             absent=["stdio-duplicate", "duplicated-cleanup", "skipped-cleanup"]),
    Scenario("c-clean-stdio-flushed-before-fork", "stdio_cleanup", args=["flushed"], clean=True,
             absent=["stdio-duplicate", "duplicated-cleanup"]),
    Scenario("c-skipped-cleanup-child-output-lost", "stdio_cleanup", args=["lost"],
             expect=[Expect("skipped-cleanup", "warning", "exit", "stdio_cleanup.c", "underscore")]),
    Scenario("c-clean-child-flushes-before-underscore-exit", "stdio_cleanup", args=["kept"], clean=True,
             absent=["skipped-cleanup"], stdout_has="child-line"),
    Scenario("c-skipped-cleanup-underscore-exit-handler-and-file", "exit_paths", args=["underscore"],
             expect=[Expect("skipped-cleanup", "warning", "exit", "exit_paths.c", "underscore",
                            message_has="2 exit handlers it registered after the fork never run (first: child_cleanup); 15 bytes")]),
    Scenario("c-skipped-cleanup-child-killed-by-sigterm", "exit_paths", args=["killed"],
             expect=[Expect("skipped-cleanup", "warning", "sender", "exit_paths.c", "kill",
                            message_has="killed by SIGTERM sent by process"),
                     Expect("skipped-cleanup", "warning", message_has="(first: child_cleanup)")],
             stdout_has="child ended: 143"),
    Scenario("c-clean-child-catches-sigterm", "exit_paths", args=["handled"], clean=True,
             absent=["skipped-cleanup"], stdout_has="[child cleanup]", same_as_bare=True),
    Scenario("c-clean-child-exits", "exit_paths", args=["exits"], clean=True,
             absent=["skipped-cleanup"], stdout_has="[child cleanup]", same_as_bare=True),
    *every_python("py-skipped-cleanup-atexit-in-process", "py_exit_paths.py", args=["atexit"],
                  expect=[Expect("skipped-cleanup", "warning", "exit", "py_exit_paths.py", "start",
                                 message_has="Python atexit handler it registered after the fork never runs (first: __main__.save_results)")],
                  stdout_has="child ended: 0",
                  # 3.13's multiprocessing runs the atexit handlers of a fork child
                  # (popen_fork.py: atexit._run_exitfuncs()): nothing is skipped.
                  versions={"-py313": ATEXIT_RUN_IN_CHILD, "-py314": ATEXIT_RUN_IN_CHILD}),
    *every_python("py-skipped-cleanup-pool-left-busy", "py_exit_paths.py", args=["pool-busy"],
                  expect=[Expect("skipped-cleanup", "warning", "sender", "py_exit_paths.py", "with",
                                 function_has="terminate", message_has="killed by SIGTERM"),
                          Expect("skipped-cleanup", "warning", "child", "py_exit_paths.py", file_only=True)],
                  stdout_has="pool left"),
    *every_python("py-clean-pool-closed-and-joined", "py_exit_paths.py", args=["pool-closed"],
                  clean=True, absent=["skipped-cleanup"], stdout_has="pool joined"),
    Scenario("py-foreign-handle-fork-event-in-spawn-child", "py_foreign_handle.py", interpreter=PY,
             expect=[Expect("foreign-handle", "error", "use", "py_foreign_handle.py", "use")],
             stdout_has="child ended: -11"),
    Scenario("py-clean-spawn-event-in-spawn-child", "py_foreign_handle.py", args=["same"], interpreter=PY,
             clean=True, absent=["foreign-handle"], stdout_has="child ended: 0"),

    # ---- pid checks: state the parent built, dropped in the child ------------
    Scenario("c-cleared-cache-pid-check", "pid_cache",
             expect=[Expect("cleared-cache", "warning", "check", "pid_cache.c", "declared",
                            message_has="the session cache"),
                     Expect("cleared-cache", "warning", "built", "pid_cache.c", "built")],
             # Pid checks nobody says anything about (cache_get, and the raw
             # syscall in raw_cache_get) are not reported; neither are the
             # pid reads of the function that declared its drop.
             at_most={"cleared-cache": 1}, stdout_has="child ended: 0"),
    *every_python("py-cleared-cache-known-library", "py_pid_cache.py",
                  expect=[Expect("cleared-cache", "warning", "check", "pidcache_lib.py", "check",
                                 message_has="fsspec"),
                          Expect("cleared-cache", "warning", "check", "py_pid_cache.py", "call")],
                  stdout_has="child ended: 0"),
    Scenario("py-cow-amplification", "py_cow.py", interpreter=PY,
             expect=[Expect("cow-amplification", "note", message_has="MiB")], stdout_has="child ended: 0"),
    Scenario("py-clean-cow-child-reads-len", "py_cow.py", interpreter=PY, args=["len"],
             absent=["cow-amplification"], stdout_has="child ended: 0"),
    # A fork-start Pool worker constructs again what the parent constructed
    # (pidcache_lib, fsspec's _Cached): the library's pid check empties the
    # cache.  The warning shows the library's check line and, further out,
    # the user's call line in the worker's task.
    *every_python("py-cleared-cache-pool-worker", "py_pid_pool.py",
                  expect=[Expect("cleared-cache", "warning", "check", "pidcache_lib.py", "check",
                                 message_has="fsspec"),
                          Expect("cleared-cache", "warning", "check", "py_pid_pool.py", "call")],
                  stdout_has="worker gets: []"),
    # Control: the worker uses the instance made before the pool, without
    # constructing it: no pid check runs, nothing is dropped.
    *every_python("py-clean-pool-worker-uses-inherited", "py_pid_pool.py", args=["global"],
                  clean=True, absent=["cleared-cache"], stdout_has="worker gets: ['token']"),
    # Control: parent and worker each run a fresh loop with asyncio.run().
    # asyncio's C accelerator reads the pid when it sets and looks up the
    # running loop, so those reads, seen before the fork, do trip in the
    # worker; nothing says they drop anything, so nothing is reported.
    *every_python("py-clean-pool-worker-fresh-asyncio", "py_pid_pool.py", args=["asyncio"],
                  clean=True, absent=["cleared-cache"],
                  stdout_has="worker gets: 42"),
    # A full and a partial line (9 + 7 bytes) unflushed at fork, parent
    # and child both end with exit(): the 16 bytes are written twice.
    Scenario("c-stdio-duplicate-counts-bytes", "stdio_bytes",
             expect=[Expect("stdio-duplicate", "warning", "exit", "stdio_bytes.c", "exit",
                            message_has="writes 16 bytes")],
             stdout_has="line one\npartialline one\npartial"),
    Scenario("c-clean-stdio-bytes-flushed-before-fork", "stdio_bytes", args=["flushed"], clean=True,
             absent=["stdio-duplicate"], stdout_has="line one\npartial"),

    # Stress: the runtime under load (stress_*.c).  Each program bounds its
    # own waits and checks its own counts (exit status 1 when one is wrong);
    # observe mode must not change its output or status.  Rules that cannot
    # be true of a program are listed as absent, so a false one fails.
    # 64 threads churn mutexes, rwlocks and binary semaphores, holding them
    # at every fork, while the main thread forks 1,000 children that take no
    # lock: orphaned-lock and threads-at-fork warnings (all 64 churners
    # vanish), never a child-deadlock.
    Scenario("c-stress-churners-fork-storm", "stress_churn_forks",
             expect=[Expect("threads-at-fork", "warning", "fork", "stress_churn_forks.c", "fork",
                            message_has="64 other threads were alive at fork"),
                     Expect("threads-at-fork", "warning", "thread", thread_name="churn-rwlock", name_only=True),
                     Expect("orphaned-lock", "warning", "acquired", "stress_churn_forks.c", "mutex",
                            thread_name="churn-mutex"),
                     Expect("orphaned-lock", "warning", "acquired", "stress_churn_forks.c", "sem",
                            thread_name="churn-sem")],
             absent=["child-deadlock", "inherited-held-lock", "stranded-loop", "shared-loop", "foreign-handle",
                     "stdio-duplicate", "duplicated-cleanup", "skipped-cleanup", "cleared-cache"],
             absent_notice="tables full", stdout_has="children ok: 1000, bytes: 1000\n", exit_status=0,
             same_as_bare=True, timeout=180),
    # 2,000 threads wait on a condition variable at the one fork: the table
    # has 1,024 slots, the main thread takes the first (it locks before it
    # creates), so 977 threads are untracked, counted once each (in the
    # parent and, inherited, in the child).  Nothing is held: a note.
    Scenario("c-stress-2000-threads-at-fork", "stress_many_threads", quiet=True, notes_ok=["threads-at-fork"],
             expect=[Expect("threads-at-fork", "note", "fork", "stress_many_threads.c", "fork"),
                     Expect("threads-at-fork", "note", "thread", "stress_many_threads.c", "create")],
             notice_has=", 977 threads and 0 call sites not tracked (tables full)",
             stdout_has="child ran\nchild ended: 0\nthreads joined: 2000\n", exit_status=0, same_as_bare=True),
    # ... the threads take all 1,024 slots before the main thread locks:
    # it forks without a slot; still 977 untracked (976 threads and itself).
    Scenario("c-stress-2000-threads-forker-untracked", "stress_many_threads", args=["late"], quiet=True,
             notes_ok=["threads-at-fork"],
             expect=[Expect("threads-at-fork", "note", "fork", "stress_many_threads.c", "fork")],
             notice_has=", 977 threads and 0 call sites not tracked (tables full)",
             stdout_has="child ran\nchild ended: 0\nthreads joined: 2000\n", exit_status=0, same_as_bare=True),
    # fork() from a SIGUSR1 handler, on the main thread (raise) and on
    # churner threads interrupted anywhere, inside the runtime's lock hooks
    # too; 100 children _exit at once.  Which locks are held at each fork is
    # chance (warnings, notes): only errors and impossible rules are absent.
    Scenario("c-stress-fork-in-signal-handler", "stress_fork_in_handler",
             expect=[Expect("threads-at-fork", None, "fork", "stress_fork_in_handler.c", "handler-fork",
                            message_has="4 other threads were alive at fork")],
             absent=["child-deadlock", "stranded-loop", "shared-loop", "foreign-handle", "stdio-duplicate",
                     "duplicated-cleanup", "skipped-cleanup", "cleared-cache"],
             absent_notice="tables full", stdout_has="raised: 20/20\nsent: 80/80\n", exit_status=0,
             same_as_bare=True),
    # Fork-like children the runtime never sees forked: raw clone3 and clone
    # (through the interposed syscall()) and glibc's clone() wrapper on a
    # stack of its own, beside a thread churning a mutex: no finding at all.
    Scenario("c-stress-clone-children", "stress_clone_children", quiet=True, absent_notice="tables full",
             stdout_has="clone3 child\n" * 5 + "clone child\n" * 5 + "glibc clone child\n" * 5
             + "clone3: 5/5\nclone: 5/5\nglibc clone: 5/5\n",
             exit_status=0, same_as_bare=True),

    # ---- the hang watchdog of forksan run (--hang-timeout) ----------------
    # Each child hangs plainly (or waits 2.5 s, a control) and ends by its
    # own alarm or its parent's bounded wait (6 s, 8 s for the controls):
    # the watchdog needs about 1.5 s with --hang-timeout 1.
    # A lock built on raw futex(2), held at fork by the vanished thread
    # "locker": child-hang at the child's attempt, the futex named; observe
    # mode leaves the child alone (its parent has to kill it: -1).
    Scenario("c-hang-futex-lock-of-vanished-thread", "hang_futex_vanished", forksan_args=HANG,
             expect=[Expect("child-hang", "error", "child", "hang_futex_vanished.c", "attempt",
                            message_has="waits on the futex at 0x"),
                     Expect("child-hang", "error", "child", "hang_futex_vanished.c", "futex-wait",
                            message_has="'lock_word'"),
                     Expect("child-hang", "error", "fork", "hang_futex_vanished.c", "fork",
                            message_has='vanished at its fork: thread'),
                     Expect("child-hang", "error", "thread", thread_name="locker", name_only=True,
                            message_has='"locker"'),
                     Expect("threads-at-fork", "note", message_has="hung: see child-hang")],
             absent=["child-deadlock"], stdout_has="child ended: -1"),
    # ... under --mode strict the watchdog ends it (SIGKILL: 137 to its
    # parent, long before the parent's own 6 s), and the run fails.
    Scenario("c-hang-futex-strict-ends-child", "hang_futex_vanished",
             forksan_args=STRICT + HANG + ["--fail-on", "error", "--exitcode", "70"],
             expect=[Expect("child-hang", "error", "child", "hang_futex_vanished.c", "attempt",
                            message_has="--mode strict ended it")],
             stdout_has="child ended: 137", exit_status=70),
    # ... with --hang-timeout 0 there is no watchdog.
    Scenario("c-hang-timeout-0-no-watchdog", "hang_futex_vanished", forksan_args=["--hang-timeout", "0"],
             absent=["child-hang"], stdout_has="child ended: -1"),
    # ... the child is already traced (by its parent): no stacks, a notice
    # saying why, child-hang still reported from /proc.
    Scenario("c-hang-already-traced", "hang_futex_vanished", args=["traced"], forksan_args=HANG,
             expect=[Expect("child-hang", "error", message_has="waits on the futex at 0x")],
             notice_has="no stacks of the hung child", stdout_has="child ended: -1"),
    # A pipe whose only write end is the child's own, its writer "producer"
    # vanished: child-hang at the read, the pipe named.
    Scenario("c-hang-pipe-of-vanished-thread", "hang_pipe_vanished", forksan_args=HANG,
             expect=[Expect("child-hang", "error", "child", "hang_pipe_vanished.c", "read",
                            message_has="reads fd 3, a pipe (pipe:["),
                     Expect("child-hang", "error", "thread", thread_name="producer", name_only=True,
                            message_has="write end is open only in this process")],
             stdout_has="child ended: -1"),
    # A condition variable only the vanished thread "producer" signalled:
    # child-deadlock before the child's untimed wait blocks.  The child
    # ends by its own alarm (142), as it does without forksan.
    Scenario("c-cond-wait-for-vanished-producer", "hang_cond_vanished",
             expect=[Expect("child-deadlock", "error", "attempt", "hang_cond_vanished.c", "wait",
                            message_has="waits forever on condition variable 0x"),
                     Expect("child-deadlock", "error", "signalled", "hang_cond_vanished.c", "signal",
                            thread_name="producer", message_has='signalled only by thread'),
                     Expect("child-deadlock", "error", "thread", "hang_cond_vanished.c", "create",
                            thread_name="producer"),
                     Expect("child-deadlock", "error", "fork", "hang_cond_vanished.c", "fork"),
                     Expect("threads-at-fork", "warning", message_has="condition variable")],
             absent=["orphaned-lock", "child-hang"], stdout_has="child ended: 142", same_as_bare=True),
    # ... under --mode strict the child ends with the exit code.
    Scenario("c-cond-wait-strict-ends-child", "hang_cond_vanished", forksan_args=STRICT,
             expect=[Expect("child-deadlock", "error", "attempt", "hang_cond_vanished.c", "wait")],
             stdout_has="child ended: 66"),
] + [
    # Quiet controls of the condition variable rule, each under strict
    # mode (a false verdict would also end the child): the child signals
    # itself from a thread it started; its wait is timed; the forking
    # thread signalled too (the child hangs, by its alarm: forksan cannot
    # say a vanished thread was the only one); the condition variable is
    # process-shared and the parent's producer wakes the child.
    Scenario("c-cond-quiet-" + how, "hang_cond_vanished", args=[how], forksan_args=STRICT, quiet=True,
             notes_ok=["threads-at-fork"], stdout_has="child ended: %d\n" % status, same_as_bare=True)
    for how, status in (("child-thread", 0), ("timed", 9), ("forker", 142), ("pshared", 0))
] + [
    # The table of signallers is full before the producer first signals
    # the shelf's condition variable: who signalled it is not known, so no
    # verdict (the child hangs, by its alarm) and the report says the
    # table was full.
    Scenario("c-cond-quiet-table-full", "hang_cond_vanished", args=["overflow"], forksan_args=STRICT, quiet=True,
             notes_ok=["threads-at-fork"], notice_has="condition variables had no room",
             stdout_has="child ended: 142\n", same_as_bare=True),
] + [
    # Controls: waits that end (a sleep, a grandchild, a futex in shared
    # memory the parent wakes, a pipe the parent writes, a timed semaphore
    # wait, a timer's read), each 2.5 s with --hang-timeout 1: no child-hang.
    Scenario("c-hang-control-" + how, "hang_controls", args=[how], forksan_args=HANG, absent=["child-hang"],
             stdout_has="child ended: 0\n", exit_status=0)
    for how in ("sleep", "grandchild", "shared-futex", "parent-pipe", "timed-wait", "timerfd")
] + [
    # A Python child reads a pipe whose only writer, the thread "producer",
    # vanished at the fork: child-hang with the child's Python frames at the
    # read (read_reply, called from child), on every interpreter.
    *every_python("py-hang-pipe-of-vanished-thread", "py_hang_pipe.py", forksan_args=HANG,
                  expect=[Expect("child-hang", "error", "child", "py_hang_pipe.py", "read", function_has="read_reply",
                                 message_has="reads fd 3, a pipe (pipe:["),
                          Expect("child-hang", "error", "child", "py_hang_pipe.py", "call", function_has="child"),
                          Expect("child-hang", "error", "thread", thread_name="producer", name_only=True)],
                  stdout_has="child ended: -1"),
    # ... the control: the child sleeps 2.5 s (more than twice the timeout).
    *every_python("py-hang-control-sleep", "py_hang_pipe.py", args=["sleep"], forksan_args=HANG,
                  absent=["child-hang"], stdout_has="child ended: 0\n"),
    # ... the child reads in a Python thread of its own and joins it: each
    # thread has its own frames.  3.10's thread states carry no thread id:
    # with two of them the finding says why there are no Python frames.
    *every_python("py-hang-pipe-child-threads", "py_hang_pipe.py", args=["thread"], forksan_args=HANG,
                  expect=[Expect("child-hang", "error", "child", "py_hang_pipe.py", "read", function_has="read_reply"),
                          Expect("child-hang", "error", "child", "py_hang_pipe.py", "join")],
                  absent=["child-deadlock"], stdout_has="child ended: -1",
                  versions={"-py310": dict(expect=[Expect(
                      "child-hang", "error", message_has="; Python frames unavailable: CPython 3.10's thread states "
                                                         "do not say which thread is theirs")])}),
    # A Python child takes a threading.Lock its vanished holder kept: the
    # runtime says child-deadlock before it blocks (up to 3.13 a semaphore
    # it sees taken; from 3.14 CPython's parking-lot wait on a held PyMutex)
    # and the watchdog adds no second finding for the same child.
    *every_python("py-hang-lock-of-vanished-thread", "py_lock_thread.py", args=["6"], forksan_args=HANG,
                  expect=[Expect("child-deadlock", "error", "attempt", "py_lock_thread.py", "fork",
                                 function_has="<lambda>")],
                  absent=["child-hang"], stdout_has="child ended: -1"),
    # Bad input: the hung child looks like a CPython whose frames forksan
    # cannot read (a version it does not know, a debug build): the native
    # stack at the read, and the finding says why there are no Python frames.
    Scenario("py-hang-unknown-version-no-frames", "python3_fake_hang", forksan_args=HANG,
             expect=[Expect("child-hang", "error", "child", "hang_pipe_vanished.c", "read",
                            message_has="; Python frames unavailable: a CPython version whose frame layout this "
                                        "forksan does not know (it reads CPython 3.10 to 3.15)")],
             stdout_has="child ended: -1"),
    Scenario("py-hang-debug-build-no-frames", "python3_fake_hang_debug", forksan_args=HANG,
             expect=[Expect("child-hang", "error", "child", "hang_pipe_vanished.c", "read",
                            message_has="; Python frames unavailable: a debug build of CPython (Py_DEBUG)")],
             stdout_has="child ended: -1"),
]

# ---- safe mode (--mode safe): each remedy, with the program's own outcome --
SAFE = ["--mode", "safe"]


def safe_lock(kind, how, take_mark):
    """safe_locks.c: another thread holds a lock at fork; quiesce (release)
    or the child's re-initialisation (keep) lets the child take it."""
    words = "waited" if how == "release" else "re-initialised"
    expect = [Expect("remedied", "note", "acquired", "safe_locks.c", take_mark, message_has=words),
              Expect("remedied", "note", "fork", "safe_locks.c", "fork", message_has=words)]
    if how == "keep":
        expect.append(Expect("remedied", "note", "attempt", "safe_locks.c", take_mark, message_has=words))
    return Scenario("safe-c-%s-%s" % (kind, how), "safe_locks", args=[kind, how], forksan_args=SAFE,
                    expect=expect, absent=["child-deadlock", "orphaned-lock"], stdout_is="child ended: 0\n")


SCENARIOS += [
    safe_lock(kind, how, mark)
    for kind, mark in (("mutex", "take"), ("rwlock", "take_rw"), ("sem", "take_sem"))
    for how in ("release", "keep")
] + [
    # 3.13's os.fork() holds the interpreter-list mutex across fork(): the
    # quiesce cannot let the GIL go there (python.c, fsan__py_pause), so
    # the holder cannot release and the child's acquire re-initialises.
    *every_python("safe-py-lock-quiesced", "py_lock_quiesce.py", args=["release"], forksan_args=SAFE,
                  expect=[Expect("remedied", "note", "acquired", "py_lock_quiesce.py", "acquire", message_has="waited"),
                          Expect("remedied", "note", "fork", "py_lock_quiesce.py", "fork")],
                  versions={"-py313": dict(expect=[
                      Expect("remedied", "note", "acquired", "py_lock_quiesce.py", "acquire",
                             message_has="re-initialised"),
                      Expect("remedied", "note", "fork", "py_lock_quiesce.py", "fork")]), "-py314": PYMUTEX},
                  absent=["child-deadlock"], stdout_is="child ended: 0\n"),
    *every_python("safe-py-lock-reinit", "py_lock_quiesce.py", args=["keep"], forksan_args=SAFE,
                  versions={"-py314": PYMUTEX},
                  expect=[Expect("remedied", "note", "acquired", "py_lock_quiesce.py", "acquire",
                                 message_has="re-initialised"),
                          Expect("remedied", "note", "fork", "py_lock_quiesce.py", "fork")],
                  absent=["child-deadlock", "orphaned-lock"], stdout_is="child ended: 0\n"),
    Scenario("safe-c-recursive-mutex-held-by-forker", "mutex_forker_recursive", forksan_args=SAFE,
             expect=[Expect("remedied", "note", "acquired", "mutex_forker_recursive.c", "acquire",
                            message_has="owner"),
                     Expect("remedied", "note", "fork", "mutex_forker_recursive.c", "fork")],
             absent=["child-deadlock", "inherited-held-lock"], stdout_is="child ended: 0\n"),
    # What cannot be remedied ends like strict mode, with the report.
    Scenario("safe-c-normal-mutex-held-by-forker-ends", "mutex_forker_normal", forksan_args=SAFE,
             expect=[Expect("child-deadlock", "error", "attempt", "mutex_forker_normal.c", "attempt")],
             absent=["remedied"], stdout_is="child ended: 66\n"),
    # A fork in a signal handler: nothing remedied (a note says why), and
    # the child still ends instead of hanging.
    Scenario("safe-c-fork-in-signal-handler-no-remedy", "safe_fork_in_handler", forksan_args=SAFE,
             expect=[Expect("child-deadlock", "error", "attempt", "safe_fork_in_handler.c", "attempt"),
                     Expect("remedied", "note", message_has="signal handler")],
             stdout_is="child ended: 66\n"),
    # The 16 bytes appear once: flushed before the fork.
    Scenario("safe-c-stdio-flushed-before-fork", "stdio_bytes", forksan_args=SAFE,
             expect=[Expect("remedied", "note", message_has="flushed 16")],
             absent=["stdio-duplicate"], stdout_is="line one\npartial"),
    # The child adds a descriptor to its copy: the parent's loop never sees it.
    Scenario("safe-c-epoll-child-ctl", "loop_epoll_child_ctl", forksan_args=SAFE,
             expect=[Expect("remedied", "note", "use", "loop_epoll_child_ctl.c", "use", message_has="own epoll"),
                     Expect("remedied", "note", "created", "loop_epoll_child_ctl.c", "created")],
             absent=["shared-loop"], stdout_has="parent saw child's fd: no"),
    Scenario("safe-c-libuv-without-loop-fork", "loop_uv_fork", forksan_args=SAFE,
             expect=[Expect("remedied", "note", message_has="own epoll")], absent=["shared-loop"],
             stdout_has="child ended: 0"),
    # The harm itself: the child's libuv drops the parent's registration
    # from the shared instance; safe mode's copy keeps the parent's loop
    # whole.
    Scenario("safe-c-libuv-parent-keeps-its-events", "loop_uv_parent_events", forksan_args=SAFE,
             expect=[Expect("remedied", "note", "use", "loop_uv_parent_events.c", "use", message_has="epoll")],
             absent=["shared-loop"], stdout_has="parent saw its event: yes\n"),
    Scenario("safe-c-libevent-parent-keeps-its-events", "loop_event_parent_events", forksan_args=SAFE,
             expect=[Expect("remedied", "note", "use", "loop_event_parent_events.c", "use", message_has="epoll")],
             absent=["shared-loop"], stdout_has="parent saw its event: yes\n"),
    Scenario("safe-c-libuv-loop-fork-nothing-twice", "loop_uv_fork", args=["reinit"], forksan_args=SAFE,
             absent=["remedied", "shared-loop"], stdout_has="child ended: 0"),
    Scenario("safe-c-libevent-without-reinit", "loop_event_fork", forksan_args=SAFE,
             expect=[Expect("remedied", "note", message_has="own epoll")], absent=["shared-loop"],
             stdout_has="child ended: 0"),
    Scenario("safe-c-libevent-reinit-nothing-twice", "loop_event_fork", args=["reinit"], forksan_args=SAFE,
             absent=["remedied", "shared-loop"], stdout_has="child ended: 0"),
    # Two threads deadlocked on each other's lock while a third forks: the
    # fork returns after the budget (50 ms), the child takes both locks.
    Scenario("safe-c-crossed-locks-fork-completes", "safe_cross", forksan_args=SAFE,
             expect=[Expect("remedied", "note", "attempt", "safe_cross.c", "attempt", message_has="re-initialised")],
             absent=["child-deadlock"], stdout_is="fork took under 100 ms\nchild ended: 0\n"),
] + [
    # Every clean control: the same output and exit status as a bare run,
    # and no remedy (there is nothing to remedy).
    Scenario("safe-" + s.name, s.program, args=s.args, interpreter=s.interpreter, forksan_args=SAFE,
             clean=s.clean, quiet=s.quiet, notes_ok=s.notes_ok, absent=s.absent + ["remedied"],
             stdout_has=s.stdout_has, same_as_bare=True, timeout=s.timeout)
    for s in list(SCENARIOS)
    if s.same_as_bare and (s.clean or s.quiet) and not s.forksan_args and not s.expect
]

# Scenarios that fail today because of a bug in the tool (not in the test),
# left out of the table above so `make scenarios` stays meaningful.  Run one
# by name: python3 tests/scenarios/run.py --build build NAME.  Move it into
# SCENARIOS once the bug is fixed.
KNOWN_FAILING = []


"""pyfork.py — helpers shared by the Python scenario scripts (imported by
them, not a scenario itself).

A scenario's hazard is often a hang; every scenario must still end on its
own.  wait_child_bounded() polls the child with WNOHANG until a deadline,
then kills it, so the parent never hangs with it; close_pool_bounded()
does the same for a multiprocessing pool's workers."""
import os
import signal
import time


def wait_child_bounded(pid, seconds=1.5):
    """The child's exit status, or 128+signal, or -1 if it had to be killed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1


def fork_child(body):
    """Forks; the child runs body() and ends with os._exit (0 when body
    returns, 3 when it raises).  Returns the child's pid in the parent."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            body()
        except BaseException:
            code = 3
        os._exit(code)
    return pid


def children_ok(body, count, seconds=10.0):
    """Forks count children one after the other, each running body();
    prints how many ended with status 0."""
    ok = sum(wait_child_bounded(fork_child(body), seconds) == 0 for _ in range(count))
    print("children ok: %d" % ok)


def close_pool_bounded(pool, seconds=5.0):
    """Closes a multiprocessing pool and gives its workers a bounded time
    to end, then terminates them, so the parent never hangs in join()."""
    import multiprocessing  # here, not above: the other scenarios stay free of what it imports
    pool.close()
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    if multiprocessing.active_children():
        pool.terminate()
    pool.join()

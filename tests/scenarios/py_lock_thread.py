"""A thread sleeps inside `with lock:` while the main thread forks; the
child acquires the lock: child-deadlock (the holder vanished in the child),
plus threads-at-fork.

The holder sleeps in short steps rather than waiting on an Event: an Event
wait holds a Condition waiter lock of its own, which is a different case.
Arguments, in any order: "rlock" makes the lock a threading.RLock, which
CPython 3.14+ records its owner in (up to 3.13 it is a semaphore the
snapshot saw taken); a number is how many seconds the parent gives the
child before killing it (1.5 by default; the hang watchdog scenarios give
it 6)."""
import sys
import threading
import time

from pyfork import fork_child, wait_child_bounded

ARGS = sys.argv[1:]
lock = threading.RLock() if "rlock" in ARGS else threading.Lock()
holding = threading.Event()
done = False


def holder():
    with lock:  # @mark:acquire
        holding.set()
        while not done:
            time.sleep(0.01)  # @mark:sleeping


t = threading.Thread(target=holder, name="lock-holder")  # @mark:create
t.start()
holding.wait(5)
pid = fork_child(lambda: lock.acquire())  # @mark:fork
rc = wait_child_bounded(pid, next((float(a) for a in ARGS if a != "rlock"), 1.5))
done = True
t.join()
print("child ended: %d" % rc)

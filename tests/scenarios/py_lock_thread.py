"""A thread sleeps inside `with lock:` while the main thread forks; the
child acquires the lock: child-deadlock (the holder vanished in the child),
plus threads-at-fork.

The holder sleeps in short steps rather than waiting on an Event: an Event
wait holds a Condition waiter lock of its own, which is a different case.

With argument "rlock" the lock is a threading.RLock, which CPython 3.14+
records its owner in (up to 3.13 it is a semaphore the snapshot saw
taken)."""
import sys
import threading
import time

from pyfork import fork_child, wait_child_bounded

lock = threading.RLock() if sys.argv[1:] == ["rlock"] else threading.Lock()
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
rc = wait_child_bounded(pid)
done = True
t.join()
print("child ended: %d" % rc)

"""Safe mode and a threading.Lock another thread holds inside `with lock:`
at os.fork().  argv[1]:
  release  the holder leaves the block 20 ms later: the quiesce lets the
           GIL go, waits for the release, takes the lock across the fork
           and releases it in both processes (remedied, "waited");
  keep     the holder stays in the block until the child has ended: the
           child's acquire re-initialises the lock (remedied).
Either way the child acquires the lock and ends with 0.  Without safe mode
the keep variant's child blocks forever (killed: "child ended: -1")."""
import sys
import threading
import time

from pyfork import fork_child, wait_child_bounded

lock = threading.Lock()
holding = threading.Event()
keep = len(sys.argv) > 1 and sys.argv[1] == "keep"
done = False


def holder():
    with lock:  # @mark:acquire
        holding.set()
        if keep:
            while not done:
                time.sleep(0.01)
        else:
            time.sleep(0.02)


t = threading.Thread(target=holder, name="lock-holder")
t.start()
holding.wait(5)
pid = fork_child(lambda: lock.acquire())  # @mark:fork
rc = wait_child_bounded(pid)
done = True
t.join()
print("child ended: %d" % rc)

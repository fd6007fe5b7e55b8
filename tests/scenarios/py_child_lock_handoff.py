"""Quiet control (strict mode): a single-threaded parent forks children;
each child holds a threading.Lock, starts a thread that blocks acquiring
it, then releases it and joins the thread, which hands it back.  On a
PyMutex-era CPython the thread's acquire parks on a lock that is held, in
a child: but the child started that thread and holds the lock itself, so
it is released.  A false child-deadlock would end the child.  Prints
"children ok: 10"."""
import threading
import time

from pyfork import children_ok

CHILDREN = 10


def child():
    lock = threading.Lock()
    took = []
    lock.acquire()

    def taker():
        with lock:
            took.append(1)

    t = threading.Thread(target=taker)
    t.start()
    time.sleep(0.05)  # let the thread park on the held lock
    lock.release()
    t.join()
    # And the other way round: the child's main thread parks while the
    # thread it started holds the lock.
    held = threading.Event()
    go = threading.Event()

    def holder():
        with lock:
            held.set()
            go.wait()

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    threading.Timer(0.05, go.set).start()
    with lock:
        took.append(2)
    t.join()
    if took != [1, 2]:
        raise SystemExit("lock not handed over")


children_ok(child, CHILDREN)

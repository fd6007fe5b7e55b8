"""Clean control: a single-threaded parent forks 20 children one after
the other; each child starts 20 threading.Threads (Thread.start waits on
an Event the new thread sets) that hand their results back through a
queue.Queue, and joins them.  The child's waits race with threads being
born: none of them is a deadlock, and strict mode must never end such a
child.  Prints "children ok: 20"."""
import queue
import threading

from pyfork import children_ok

CHILDREN = 20
THREADS = 20


def child():
    results = queue.Queue()
    threads = [threading.Thread(target=results.put, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    total = sum(results.get(timeout=10) for _ in threads)
    for t in threads:
        t.join()
    if total != THREADS * (THREADS - 1) // 2:
        raise SystemExit("wrong sum")


children_ok(child, CHILDREN)

"""pyqueue.py — two threads exchange 200,000 items through queue.Queue
(budget, doc/budgets.md: <= 1.10x bare under forksan); prints the best-of-5
seconds."""
import queue
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200000


def run():
    q = queue.Queue(maxsize=64)

    def producer():
        for i in range(N):
            q.put(i)
        q.put(None)

    t = threading.Thread(target=producer)
    start = time.perf_counter()
    t.start()
    while q.get() is not None:
        pass
    t.join()
    return time.perf_counter() - start


print("pyqueue %.4f s" % min(run() for _ in range(5)))

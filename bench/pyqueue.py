"""pyqueue.py — two CPython threads pass ITEMS integers through a
queue.Queue(maxsize=64): a producer thread puts them, the main thread gets
them.  Every put and get takes threading locks (POSIX semaphores on 3.11),
so this is what forksan's lock and Python probes cost a threaded Python
program.

    pyqueue.py [ITEMS [ROUNDS]]      defaults: 200,000 items, 3 rounds

Prints "pyqueue <seconds> s": the best of ROUNDS timed exchanges.
bench/bench.py runs it bare and under forksan run, and under callgrind
with one round of N and of 2N items, so that start-up cancels out of the
difference of the instruction counts.

DESIGN
The process pins itself to one CPU before the producer starts.  With the
two threads free to run on two CPUs, every hand-over of the GIL is a
cross-CPU wake-up whose cost depends on where the scheduler happened to
put them: bare runs then took anything from 0.27 s to 0.50 s, and forksan
came out faster than bare.  On one CPU the hand-overs cost the same every
run, and what remains of a difference is the work forksan adds."""
import os
import queue
import sys
import threading
import time

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def pin_to_one_cpu():
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def exchange():
    q = queue.Queue(maxsize=64)

    def producer():
        for i in range(ITEMS):
            q.put(i)
        q.put(None)

    t = threading.Thread(target=producer)
    start = time.perf_counter()
    t.start()
    while q.get() is not None:
        pass
    t.join()
    return time.perf_counter() - start


pin_to_one_cpu()
print("pyqueue %.6f s" % min(exchange() for _ in range(ROUNDS)))

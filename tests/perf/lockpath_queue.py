"""lockpath_queue.py ITEMS — the Python workload of lockpath_syscalls.py.

ITEMS integers go through a queue.Queue(maxsize=8) from a producer thread
to the main thread.  Every put and get takes threading locks (POSIX
semaphores on CPython 3.11), and a full or an empty queue makes one side
wait on a Condition: a blocking acquire, which CPython makes without the
GIL.  That is the lock path the runtime must walk without a system call.

Then a thread takes `lock` by such a blocking wait (the main thread holds
it until the thread is waiting), keeps it, and the main thread forks: the
child's acquire is a child-deadlock whose "acquired" location must be the
waiting line below (@mark:contended), so the Python stack of a wait is
still read, and read right.  Strict mode ends the child."""
import os
import queue
import sys
import threading
import time

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000

q = queue.Queue(maxsize=8)


def producer():
    for i in range(ITEMS):
        q.put(i)
    q.put(None)


t = threading.Thread(target=producer)
t.start()
while q.get() is not None:
    pass
t.join()

lock = threading.Lock()
holding = threading.Event()
done = False


def holder():
    lock.acquire()  # @mark:contended
    holding.set()
    while not done:
        time.sleep(0.01)
    lock.release()


lock.acquire()
h = threading.Thread(target=holder, name="holder")
h.start()
time.sleep(0.2)  # the holder is now waiting in lock.acquire(), without the GIL
lock.release()
holding.wait(5)
pid = os.fork()
if pid == 0:
    lock.acquire()  # @mark:attempt
    os._exit(0)
print("child %d" % pid, flush=True)
os.waitpid(pid, 0)
done = True
h.join()

"""Quiet control (strict mode): a single-threaded fork child sleeps until
a Python signal handler wakes it.  argv[1]: "event" waits in Event.wait()
(a Condition sleeping on a waiter lock it holds), which a SIGTERM handler
sets; "lock" acquires a threading.Lock it already holds, which a SIGTERM
handler releases.  On a PyMutex-era CPython both park on a held lock in a
child with one thread, yet the handler wakes them: a false child-deadlock
would end the child.  Prints "child ended: 0"."""
import os
import signal
import sys
import threading
import time

from pyfork import wait_child_bounded

mode = sys.argv[1]
event = threading.Event()
lock = threading.Lock()


def on_term(signum, frame):
    if mode == "event":
        event.set()
    else:
        lock.release()


signal.signal(signal.SIGTERM, on_term)
ready_r, ready_w = os.pipe()
pid = os.fork()
if pid == 0:
    if mode == "lock":
        lock.acquire()
    os.write(ready_w, b"r")
    if mode == "event":
        event.wait()  # @mark:wait
    else:
        lock.acquire()  # @mark:wait
    os._exit(0)
os.read(ready_r, 1)
time.sleep(0.2)  # let the child fall asleep (either order ends the same)
os.kill(pid, signal.SIGTERM)
print("child ended: %d" % wait_child_bounded(pid, 10.0))

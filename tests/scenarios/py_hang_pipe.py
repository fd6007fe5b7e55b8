"""A thread "producer" is to write into a pipe; the main thread forks a
child to read it and, as the pipe is the child's now, closes its own ends.
The producer does not exist in the child, which holds the only write end
itself: its os.read waits forever, in a way no interposer can predict.  The
watchdog of forksan run reports child-hang naming the pipe, with the
child's Python frames at the read (read_reply, called from child).

With the argument "sleep" the child sleeps 2.5 s instead (a control: more
than twice --hang-timeout 1, and a timed wait) and ends by itself.  With
"thread" the child reads in a thread "reader" of its own and joins it: two
Python threads, each with its frames.

The child ends by its own alarm(20) and the parent kills it after a bounded
wait; the parent prints how the child ended."""
import os
import signal
import sys
import threading
import time

from pyfork import wait_child_bounded

SLEEP = sys.argv[1:] == ["sleep"]
THREAD = sys.argv[1:] == ["thread"]
reply_r, reply_w = os.pipe()
started = threading.Event()
go = threading.Event()


def producer():
    started.set()
    go.wait(10)
    try:
        os.write(reply_w, b"data\n")  # the parent closed its ends: nobody reads it
    except OSError:
        pass


def read_reply():
    return os.read(reply_r, 16)  # @mark:read


def child():
    signal.alarm(20)
    if SLEEP:
        time.sleep(2.5)  # @mark:sleep
        os._exit(0)
    if THREAD:
        reader = threading.Thread(target=read_reply, name="reader")
        reader.start()
        reader.join()  # @mark:join
        os._exit(1)
    data = read_reply()  # @mark:call
    os._exit(0 if data else 1)


t = threading.Thread(target=producer, name="producer")  # @mark:create
t.start()
started.wait(5)
pid = os.fork()  # @mark:fork
if pid == 0:
    child()
os.close(reply_r)
os.close(reply_w)
rc = wait_child_bounded(pid, 8 if SLEEP else 6)
go.set()
t.join()
print("child ended: %d" % rc)

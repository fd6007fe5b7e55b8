"""Clean control: os.fork() in a single-threaded script; the child takes
and releases a lock and ends with os._exit(0)."""
import threading

from pyfork import fork_child, wait_child_bounded

lock = threading.Lock()
with lock:
    pass


def child():
    with lock:
        pass


pid = fork_child(child)
print("child ended: %d" % wait_child_bounded(pid))

"""Clean control: the forking thread holds a threading.RLock at fork and
the child re-acquires it.  CPython's RLock records its owner as the
thread's ident (pthread_self), which the forking thread keeps in the
child, so the re-acquire only bumps the count: no hazard."""
import threading

from pyfork import fork_child, wait_child_bounded

rlock = threading.RLock()


def child():
    with rlock:
        pass


rlock.acquire()
pid = fork_child(child)
rc = wait_child_bounded(pid)
rlock.release()
print("child ended: %d" % rc)

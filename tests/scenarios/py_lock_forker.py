"""The forking thread holds a threading.Lock at fork and the child acquires
it again: child-deadlock (a Lock is not re-entrant; in the child nobody
will ever release it)."""
import sys
import threading

from pyfork import fork_child, wait_child_bounded

lock = threading.Lock()

lock.acquire()  # @mark:acquire
pid = fork_child(lambda: lock.acquire())  # @mark:fork
rc = wait_child_bounded(pid)
lock.release()
print("child ended: %d" % rc)
sys.stdout.flush()

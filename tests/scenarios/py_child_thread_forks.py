"""Control: CPython's own fork-time locks.  os.fork() takes the import lock
and runs logging's before-fork hook (which takes logging's module lock);
the child replaces both with new locks and never touches the old ones
again.  Here a fork child starts a thread, and that thread forks again
while the child's main thread waits in join(): the grandchild must not see
the locks CPython abandoned as held by anybody.  The only true fact left
is that the child's main thread was alive at the second fork (a note)."""
import logging
import threading

from pyfork import fork_child, wait_child_bounded

logging.basicConfig(format="%(message)s")
log = logging.getLogger("scenario")


def grandchild():
    log.debug("grandchild runs")


def forking_thread():
    print("grandchild ended: %d" % wait_child_bounded(fork_child(grandchild)), flush=True)


def child():
    t = threading.Thread(target=forking_thread, name="forker")
    t.start()
    t.join()


print("child ended: %d" % wait_child_bounded(fork_child(child), 5.0))

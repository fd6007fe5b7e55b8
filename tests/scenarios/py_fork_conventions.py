"""CPython's fork conventions that forksan relies on to stay quiet about
locks the interpreter holds at a fork (probes/child.c's FORK_CALL flag,
analyzer/runtimelocks.def).  If a CPython release changes one of them, this
script says which and exits 1, and forksan's knowledge must change with it:
  - os.fork() takes the import lock and the child gets a new one, not
    held (PyOS_BeforeFork / _PyImport_ReInitLock);
  - logging's before-fork hook takes its module lock and its after-fork
    hook gives the child a new, free one;
  - threading's registry lock, which another thread may hold at the fork,
    is replaced by a new one in the child.
Here another thread is inside Thread.start(), holding that registry lock,
at the fork (a Thread whose __hash__ is slow: start() hashes it under the
lock).  Run under forksan it must be quiet: none of those locks is a
finding, only the fact that a thread vanished (a note)."""
import _imp
import logging
import os
import threading
import time

from pyfork import wait_child_bounded

logging.basicConfig(format="%(message)s")
parent_registry_lock_id = id(threading._active_limbo_lock)
hashing = threading.Event()


class SlowHashThread(threading.Thread):
    def __hash__(self):
        # Slow only where start() hashes the thread under the registry lock.
        if threading._active_limbo_lock._is_owned():
            hashing.set()
            time.sleep(0.5)
        return id(self)


starter = threading.Thread(target=lambda: SlowHashThread(target=time.sleep, args=(0,)).start(), name="starter")
starter.start()
hashing.wait()

pid = os.fork()
if pid == 0:
    broken = []
    if _imp.lock_held():
        broken.append("the import lock is still held in the child")
    if not logging._lock.acquire(blocking=False):
        broken.append("logging's module lock is not free in the child")
    else:
        logging._lock.release()
    if id(threading._active_limbo_lock) == parent_registry_lock_id:
        broken.append("threading's registry lock was not replaced in the child")
    for b in broken:
        print("convention changed: " + b, flush=True)
    os._exit(1 if broken else 0)
starter.join()
status = wait_child_bounded(pid, 5.0)
print("conventions hold" if status == 0 else "child ended: %d" % status)

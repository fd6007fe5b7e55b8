"""Clean control: a thread is idle in threading.Event.wait() when the main
thread forks; the child touches nothing of it and ends with os._exit(0).

Event.wait is Condition.wait: the waiting thread allocates a "waiter" lock,
acquires it, and blocks acquiring it a second time until notify() releases
it.  The lock is a wake-up signal owned by the waiter, not a lock anybody
else ever takes, just like CPython's per-thread state lock, so
an idle worker (a thread pool's, a queue consumer's) must not surface above
note.  (A regression test: forksan used to report orphaned-lock and a
threads-at-fork warning here.)"""
import os
import threading
import time

from pyfork import fork_child, wait_child_bounded

done = threading.Event()
started = threading.Event()


def idle():
    started.set()
    done.wait(5)


t = threading.Thread(target=idle, name="py-idle")
t.start()
started.wait(5)
while not done._cond._waiters:  # appended once the waiter lock is held
    time.sleep(0.001)


def blocked(thread):
    """True once the kernel says the thread sleeps (in its second acquire)."""
    with open("/proc/self/task/%d/stat" % thread.native_id) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"


# Asleep at three looks in a row, with the GIL released between them (so a
# thread merely waiting for the GIL gets it and moves on): blocked for real.
deadline = time.time() + 5
streak = 0
while streak < 3 and time.time() < deadline:
    streak = streak + 1 if blocked(t) else 0
    time.sleep(0.005)
pid = fork_child(lambda: None)
rc = wait_child_bounded(pid)
done.set()
t.join()
print("child ended: %d" % rc)

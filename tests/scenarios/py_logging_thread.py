"""Clean control: a thread logs continuously while the main thread forks
and the child logs too.  CPython's logging takes its module lock around
every fork and re-creates every handler lock in the child (at-fork hooks),
so the locks held at fork are the interpreter's own business: built-in
suppressions keep them out, nothing above note."""
import logging
import os
import sys
import threading

from pyfork import fork_child, wait_child_bounded

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
log = logging.getLogger("scenario")
stop = threading.Event()


def chatter():
    while not stop.is_set():
        log.info("tick")


t = threading.Thread(target=chatter, name="chatter")
t.start()
codes = []
for _ in range(5):
    pid = fork_child(lambda: log.info("child %d logs", os.getpid()))
    codes.append(wait_child_bounded(pid, 5))
stop.set()
t.join()
print("children: %s" % codes)

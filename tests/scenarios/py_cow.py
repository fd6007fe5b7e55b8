"""A parent builds a large list of Python ints; a forked child only reads
it (sum), which writes every object's reference count and so copies the
pages: cow-amplification (a note).  With "idle" the child does not touch
the data: nothing to report."""
import os
import sys

from pyfork import fork_child, wait_child_bounded

data = [i * 7 for i in range(2_500_000)]


def child():
    total = sum(data) if sys.argv[1:] != ["idle"] else 1  # @mark:read
    os._exit(0 if total else 1)


print("child ended: %d" % wait_child_bounded(fork_child(child), 20))

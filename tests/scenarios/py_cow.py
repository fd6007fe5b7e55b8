"""A parent builds list(range(10_000_000)); a forked child only iterates
it, which writes every object's reference count and so copies the pages:
cow-amplification (a note).  With "len" the child reads only len(): nothing
to report."""
import os
import sys

from pyfork import fork_child, wait_child_bounded

data = list(range(10_000_000))


def child():
    total = sum(1 for _ in data) if sys.argv[1:] != ["len"] else len(data)  # @mark:read
    os._exit(0 if total else 1)


print("child ended: %d" % wait_child_bounded(fork_child(child), 30))

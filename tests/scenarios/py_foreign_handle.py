"""A multiprocessing.Event() made in the default (fork) context, passed to
a spawn-context Process.  Pickled for spawn, its semaphores travel as the
parent's raw addresses; the spawned interpreter rebuilds them from those
and its first acquire touches memory it does not have: SIGSEGV on Debian's
3.11 (newer builds refuse to pickle it).  forksan: foreign-handle in the
spawned child, reported before it dies.  Argument "same": the Event comes
from the spawn context too -> clean."""
import multiprocessing
import sys


def child(ev):
    ev.set()  # @mark:use


if __name__ == "__main__":
    spawn = multiprocessing.get_context("spawn")
    ev = spawn.Event() if sys.argv[1:] == ["same"] else multiprocessing.Event()
    p = spawn.Process(target=child, args=(ev,))
    p.start()
    p.join(20)
    print("child ended: %s" % p.exitcode)

"""The parent makes a FileSystem (pidcache_lib, fsspec's _Cached style)
and stores a token on it; a fork-start Pool worker then constructs "the
same" FileSystem and gets a new, empty one, because the library's pid
check cleared the instance cache: cleared-cache, a warning, at the
library's check line and, further out, at the user's call line.

Controls, by argument, nothing above note:
  global   the worker uses the instance made before the pool (a module
           global) without constructing it: no pid check runs there;
  asyncio  the parent runs asyncio before the pool, so asyncio's own pid
           reads are seen before the fork, and the worker only runs a
           fresh loop with asyncio.run(): those reads trip in the worker,
           and rightly so (a child must not use its parent's running loop),
           so nothing is dropped that the child needed."""
import asyncio
import multiprocessing
import sys

from pidcache_lib import FileSystem
from pyfork import close_pool_bounded

SHARED = FileSystem("s3")
SHARED.stored.append("token")


async def answer():
    await asyncio.sleep(0.01)
    return 42


def construct(_):
    return FileSystem("s3").stored  # @mark:call


def inherited(_):
    return SHARED.stored  # @mark:global


def fresh_loop(_):
    return asyncio.run(answer())  # @mark:fresh


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "construct"
    task = {"construct": construct, "global": inherited, "asyncio": fresh_loop}[mode]
    if mode == "asyncio":
        print("parent gets: %r" % asyncio.run(answer()))
    pool = multiprocessing.get_context("fork").Pool(1)
    try:
        print("worker gets: %r" % pool.apply_async(task, (0,)).get(timeout=10))
    finally:
        close_pool_bounded(pool)

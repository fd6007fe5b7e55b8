"""A cache class in the style of fsspec's (pidcache_lib): instances are
kept per process and the cache is cleared when os.getpid() changes.  In the
forked child the instance the parent made (with what was stored on it) is
silently replaced by an empty one: cleared-cache, a warning, because
forksan's knowledge table knows this function (_Cached.__call__) drops
state."""
import os

from pidcache_lib import FileSystem
from pyfork import fork_child, wait_child_bounded

FileSystem("s3").stored.append("token")
pid = fork_child(lambda: os._exit(0 if FileSystem("s3").stored == [] else 1))  # @mark:call
print("child ended: %d" % wait_child_bounded(pid))

"""A cache class in the style of fsspec's: instances are kept per process
and the cache is cleared when os.getpid() changes.  In the forked child the
instance the parent made (with what was stored on it) is silently replaced
by an empty one: cleared-cache, a warning, because forksan's knowledge
table knows this function (_Cached.__call__) drops state."""
import os

from pyfork import fork_child, wait_child_bounded


class _Cached(type):
    def __init__(cls, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cls._cache = {}
        cls._pid = os.getpid()

    def __call__(cls, *args):
        if os.getpid() != cls._pid:  # @mark:check
            cls._cache.clear()
            cls._pid = os.getpid()
        if args not in cls._cache:
            cls._cache[args] = super().__call__(*args)
        return cls._cache[args]


class FileSystem(metaclass=_Cached):
    def __init__(self, name):
        self.name = name
        self.stored = []


FileSystem("s3").stored.append("token")
pid = fork_child(lambda: os._exit(0 if FileSystem("s3").stored == [] else 1))
print("child ended: %d" % wait_child_bounded(pid))

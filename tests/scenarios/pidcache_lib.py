"""pidcache_lib.py — a small fork-aware library in the style of fsspec,
imported by scenario scripts (not a scenario itself).

A class made with the _Cached metaclass hands out one instance per
constructor arguments and per process: the instance cache is cleared when
os.getpid() changes.  So a forked child that constructs "the same" object
gets a new, empty one, not the parent's with what was stored on it.  The
metaclass keeps fsspec's name, _Cached.__call__, which forksan's knowledge
table (analyzer/pidchecks.def) knows as harmful."""
import os


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
    """A stand-in for a filesystem object: what is stored on it (say, a
    token the parent fetched) is what a child loses."""

    def __init__(self, name):
        self.name = name
        self.stored = []

"""multiprocessing.Pool(1, maxtasksperchild=1) with the fork start method.
The first fork happens inside Pool() before its threads start
(single-threaded: nothing above note); every later fork replaces a worker
that retired after one task, from the pool's worker-handler thread while
the pool's other threads are alive: threads-at-fork naming those Python
threads, with the Python fork site."""
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    with multiprocessing.Pool(1, maxtasksperchild=1) as pool:  # @mark:pool
        results = [pool.apply_async(square, (i,)) for i in range(3)]
        print("results: %s" % [r.get(timeout=20) for r in results])

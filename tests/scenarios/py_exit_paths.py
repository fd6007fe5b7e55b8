"""How multiprocessing children end and what cleanup they skip, one case
per argument:
  atexit      a fork-context Process registers an atexit handler; the
              child ends with os._exit (multiprocessing always does), so
              the handler never runs -> skipped-cleanup naming it
  pool-busy   a `with Pool()` block is left while the workers are still
              running tasks: __exit__ calls terminate(), which SIGTERMs
              them -> skipped-cleanup with terminate in the sender's stack
  pool-closed the pool is closed and joined after collecting its results
              -> clean"""
import atexit
import multiprocessing
import sys
import time

ctx = multiprocessing.get_context("fork")


def save_results():
    print("saving results")


def child():
    atexit.register(save_results)
    print("child working")


def slow(x):
    time.sleep(5)
    return x


def main(mode):
    if mode == "atexit":
        p = ctx.Process(target=child)
        p.start()  # @mark:start
        p.join(5)
        print("child ended: %s" % p.exitcode)
    elif mode == "pool-busy":
        with ctx.Pool(2) as pool:  # @mark:with
            pool.map_async(slow, range(2))
            time.sleep(0.5)
        print("pool left")
    else:
        pool = ctx.Pool(2)
        print(sum(pool.map(abs, range(-5, 5))))
        pool.close()
        pool.join()
        print("pool joined")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "atexit")

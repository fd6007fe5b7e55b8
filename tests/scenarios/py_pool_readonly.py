"""Clean control: fork-start Pool workers only read a global built before
the pool exists: nothing above note."""
import multiprocessing

TABLE = {i: i * i for i in range(1000)}


def lookup(i):
    return TABLE[i]


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    with multiprocessing.Pool(2) as pool:
        print("sum: %d" % sum(pool.map(lookup, range(1000))))

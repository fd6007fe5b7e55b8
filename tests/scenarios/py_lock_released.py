"""Clean control: two threads use a lock, release it and are joined before
the fork; the child takes the lock."""
import threading

from pyfork import fork_child, wait_child_bounded

lock = threading.Lock()
counter = [0]


def work():
    for _ in range(1000):
        with lock:
            counter[0] += 1


threads = [threading.Thread(target=work, name="py-worker-%d" % i) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()


def child():
    with lock:
        counter[0] += 1


pid = fork_child(child)
print("child ended: %d, counter %d" % (wait_child_bounded(pid), counter[0]))

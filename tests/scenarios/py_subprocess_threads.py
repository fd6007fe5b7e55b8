"""Clean control: several threads run subprocess.run (fork/vfork + exec)
while another thread holds a lock: the children exec, nothing above note."""
import subprocess
import threading

lock = threading.Lock()
holding = threading.Event()
done = threading.Event()


def holder():
    with lock:
        holding.set()
        done.wait(10)


h = threading.Thread(target=holder, name="lock-holder")
h.start()
holding.wait(5)
runners = [threading.Thread(target=lambda: subprocess.run(["/bin/true"], check=True)) for _ in range(4)]
for r in runners:
    r.start()
for r in runners:
    r.join()
done.set()
h.join()
print("ran 4 subprocesses")

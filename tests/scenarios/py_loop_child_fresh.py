"""An asyncio loop runs run_forever() in a background thread named
"loop-thread" when the main thread forks.  The child never touches the
inherited loop: it runs asyncio.run(main()) on a fresh loop of its own.
No shared-loop (the child uses no inherited epoll instance) and no
stranded-loop error; the inherited loop, still open in the child with
its driving thread gone, is a stranded-loop warning (the rule: stranded
and never touched).  With "close" as argument the child first closes the
inherited loop's selector (its epoll fd), which re-creates it as far as
forksan is concerned: no stranded-loop at all."""
import asyncio
import sys
import threading

from pyfork import fork_child, wait_child_bounded

close_inherited = len(sys.argv) > 1 and sys.argv[1] == "close"
loop = asyncio.new_event_loop()  # @mark:created
running = threading.Event()
loop.call_soon(running.set)
t = threading.Thread(target=loop.run_forever, name="loop-thread")  # @mark:create
t.start()
running.wait(5)


async def main():
    await asyncio.sleep(0.01)
    return 42


def child():
    if close_inherited:
        loop._selector.close()  # @mark:close  (its epoll fd; the loop object stays unusable)
    if asyncio.run(main()) != 42:  # @mark:fresh
        raise SystemExit


pid = fork_child(child)  # @mark:fork
rc = wait_child_bounded(pid)
loop.call_soon_threadsafe(loop.stop)
t.join(5)
loop.close()
print("child ended: %d" % rc)

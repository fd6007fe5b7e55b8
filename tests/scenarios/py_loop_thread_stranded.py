"""An asyncio loop runs run_forever() in a background thread named
"loop-thread" when the main thread forks.  The child hands the inherited
loop a coroutine with asyncio.run_coroutine_threadsafe(): that writes to
the loop's self-pipe (a socketpair end registered in its epoll instance) to
wake a loop whose driving thread does not exist in the child, so the
coroutine never runs and .result() times out: stranded-loop (error), the
use at the run_coroutine_threadsafe line and the vanished "loop-thread"."""
import asyncio
import concurrent.futures
import threading

from pyfork import fork_child, wait_child_bounded

loop = asyncio.new_event_loop()  # @mark:created
running = threading.Event()
loop.call_soon(running.set)
t = threading.Thread(target=loop.run_forever, name="loop-thread")  # @mark:create
t.start()
running.wait(5)


async def answer():
    return 42


def child():
    try:
        fut = asyncio.run_coroutine_threadsafe(answer(), loop)  # @mark:use
        fut.result(timeout=0.5)
        print("child got an answer", flush=True)
    except concurrent.futures.TimeoutError:
        raise SystemExit  # the coroutine never ran: exit status 3


pid = fork_child(child)  # @mark:fork
rc = wait_child_bounded(pid)
loop.call_soon_threadsafe(loop.stop)
t.join(5)
loop.close()
print("child ended: %d" % rc)

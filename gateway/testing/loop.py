"""A private event loop on a daemon thread, for the in-process server and everything that talks to it:
coroutines are sent there from any thread and waited for (a plain test) or awaited (an async test on its
own loop, any library's), so the server never shares a loop with the code under test."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine on the private loop and wait for its result here."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a blocking call made from the server's own loop would wait for itself forever")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the in-process server gave no answer within {timeout:g} s") from None

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """The same, awaited from another event loop (an async test's)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        """Stop the loop (whatever runs on it must be cleaned up first) and close it."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

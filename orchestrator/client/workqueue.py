"""The rate-limited, de-duplicating work queue of controllers, as client-go's workqueue.

Informer handlers `add` object keys ("ns/name"); workers `get` a key, sync it and
call `done`. A key is queued at most once however often it is added, and is never
handed to two workers at once: added while being processed, it is handed out again
after `done`. Failed keys come back with `add_rate_limited` (per-key exponential
backoff, 5 ms doubling to 1000 s, combined with an overall token bucket) until
`forget`. `run_workers` is the standard worker loop. Used by every controller and
the scheduler. The clock and sleep are injected so tests drive time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class QueueShutDown(Exception):
    """`get` on a queue that is shut down and empty."""


class WorkQueue:
    def __init__(
        self,
        *,
        base_delay: float = 0.005,
        max_delay: float = 1000.0,
        bucket_qps: float | None = 10.0,
        bucket_burst: int = 100,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.bucket_qps = bucket_qps
        self.bucket_burst = bucket_burst
        self._clock = clock
        self._sleep = sleep
        self._queue: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()  # queued, or re-added while processing
        self._processing: set[Hashable] = set()
        self._waiting: list[tuple[float, int, Hashable]] = []  # heap of (ready_at, tiebreak, key)
        self._ready_at: dict[Hashable, float] = {}  # earliest ready time of each waiting key
        self._sequence = itertools.count()
        self._failures: dict[Hashable, int] = {}
        self._bucket_tokens = float(bucket_burst)
        self._bucket_updated = clock()
        self._shutting_down = False
        self._wakeup = asyncio.Event()

    def __len__(self) -> int:
        """Keys ready to be handed out (not those waiting for their delay, not those being processed)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def _notify(self) -> None:
        # A fresh event per generation: every waiter re-checks, none misses a wake-up.
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def add(self, key: Hashable) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # handed out again by done()
        self._queue.append(key)
        self._notify()

    def add_after(self, key: Hashable, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready_at = self._clock() + delay
        if self._ready_at.get(key, float("inf")) <= ready_at:
            return  # already waiting for an earlier time
        self._ready_at[key] = ready_at
        heapq.heappush(self._waiting, (ready_at, next(self._sequence), key))
        self._notify()

    def add_rate_limited(self, key: Hashable) -> None:
        self.add_after(key, self._when(key))

    def _when(self, key: Hashable) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        item_delay = min(self.base_delay * 2**failures, self.max_delay)
        if self.bucket_qps is None:
            return item_delay
        # Token bucket (client-go's overall 10 qps, burst 100): many keys failing at once are spread out.
        now = self._clock()
        elapsed = now - self._bucket_updated
        self._bucket_tokens = min(float(self.bucket_burst), self._bucket_tokens + elapsed * self.bucket_qps)
        self._bucket_updated = now
        self._bucket_tokens -= 1
        bucket_delay = max(0.0, -self._bucket_tokens / self.bucket_qps)
        return max(item_delay, bucket_delay)

    def forget(self, key: Hashable) -> None:
        """Stops tracking the key's failures: its next rate-limited add starts at the base delay."""
        self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self._failures.get(key, 0)

    def _promote_ready(self) -> float | None:
        """Moves the keys whose delay is over to the queue; returns the seconds until the next one."""
        now = self._clock()
        while self._waiting:
            ready_at, _, key = self._waiting[0]
            if self._ready_at.get(key) != ready_at:
                heapq.heappop(self._waiting)  # superseded by an earlier add_after of the same key
                continue
            if ready_at > now:
                return ready_at - now
            heapq.heappop(self._waiting)
            del self._ready_at[key]
            self.add(key)
        return None

    async def get(self) -> Hashable:
        """The next key to process; raises QueueShutDown once shut down and drained."""
        while True:
            next_ready_in = self._promote_ready()
            if self._queue:
                key = self._queue.popleft()
                self._processing.add(key)
                self._dirty.discard(key)
                return key
            if self._shutting_down:
                raise QueueShutDown()
            wakeup = self._wakeup
            if next_ready_in is None:
                await wakeup.wait()
                continue
            woken = asyncio.ensure_future(wakeup.wait())
            slept = asyncio.ensure_future(self._sleep(next_ready_in))
            try:
                await asyncio.wait((woken, slept), return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
                slept.cancel()

    def done(self, key: Hashable) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._notify()

    def shutdown(self) -> None:
        """Refuses new keys; getters still drain what is queued, then get QueueShutDown."""
        self._shutting_down = True
        self._waiting.clear()
        self._ready_at.clear()
        self._notify()


async def run_workers(
    queue: WorkQueue,
    sync: Callable[[str], Awaitable[None]],
    *,
    workers: int,
    max_retries: int = 15,
    logger: logging.Logger,
) -> None:
    """Runs `workers` loops that sync keys until the queue shuts down (or this is cancelled).

    A failed sync is requeued with backoff and dropped, with a log line, after `max_retries`;
    a successful one resets the key's backoff.
    """

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except QueueShutDown:
                return
            try:
                await sync(key)
            except Exception as error:  # any failure of one key must not stop the worker
                if queue.num_requeues(key) < max_retries:
                    logger.info("error syncing %s, will retry: %s", key, error)
                    queue.add_rate_limited(key)
                else:
                    logger.warning("dropping %s out of the queue after %d retries: %s", key, max_retries, error)
                    queue.forget(key)
            else:
                queue.forget(key)
            finally:
                queue.done(key)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

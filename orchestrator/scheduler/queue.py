"""The scheduling queue: which pending pod to try next, and when to try a failed one again.

kube-scheduler's PriorityQueue in three parts:
  * active: pods to try now, highest `spec.priority` first, then first come first served;
  * backoff: pods that failed recently and wait 1 s, 2 s, 4 s ... up to 10 s per attempt;
  * unschedulable: pods that fit nowhere. They wait for the cluster to change (a node added or
    updated, a bound pod deleted: `move_all_to_active_or_backoff`), or for 5 minutes at most,
    and then go to active (or to backoff if their backoff has not run out yet).
A pod is in at most one part; a pod being scheduled is in none. The clock and sleep are
injected so tests drive time. Used by the scheduler loop (scheduler.py).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

INITIAL_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0  # podMaxInUnschedulablePodsDuration
UNSCHEDULABLE_FLUSH_PERIOD = 30.0

ACTIVE, BACKOFF, UNSCHEDULABLE = "active", "backoff", "unschedulable"


@dataclass
class QueuedPod:
    key: str
    priority: int = 0
    timestamp: float = 0.0  # when it last entered the queue
    attempts: int = 0  # scheduling attempts so far
    unschedulable_since: float | None = None
    entry: int = 0  # which heap entry is current (older ones are skipped)


class SchedulingQueue:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        initial_backoff: float = INITIAL_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        max_unschedulable: float = MAX_UNSCHEDULABLE_SECONDS,
    ):
        self._clock = clock
        self._sleep = sleep
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        self._pods: dict[str, QueuedPod] = {}
        self._where: dict[str, str] = {}
        self._active: list[tuple[int, float, int, str]] = []  # (-priority, timestamp, entry, key)
        self._backoff: list[tuple[float, int, str]] = []  # (ready_at, entry, key)
        self._unschedulable: dict[str, QueuedPod] = {}
        self._entries = itertools.count(1)
        self._last_leftover_flush = clock()
        self._wakeup = asyncio.Event()

    # --- reading ---------------------------------------------------------------------------

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def where(self, key: str) -> str | None:
        return self._where.get(key)

    def counts(self) -> dict[str, int]:
        counts = {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0}
        for place in self._where.values():
            counts[place] += 1
        return counts

    def backoff_seconds(self, attempts: int) -> float:
        """1 s after the first failed attempt, doubling, at most 10 s."""
        return min(self.initial_backoff * 2 ** max(attempts - 1, 0), self.max_backoff)

    def _backoff_expiry(self, pod: QueuedPod) -> float:
        return pod.timestamp + self.backoff_seconds(pod.attempts)

    # --- moving pods between the parts -----------------------------------------------------

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _to_active(self, pod: QueuedPod) -> None:
        pod.entry = next(self._entries)
        pod.unschedulable_since = None
        self._unschedulable.pop(pod.key, None)
        self._pods[pod.key] = pod
        self._where[pod.key] = ACTIVE
        heapq.heappush(self._active, (-pod.priority, pod.timestamp, pod.entry, pod.key))
        self._notify()

    def _to_backoff(self, pod: QueuedPod) -> None:
        pod.entry = next(self._entries)
        pod.unschedulable_since = None
        self._unschedulable.pop(pod.key, None)
        self._pods[pod.key] = pod
        self._where[pod.key] = BACKOFF
        heapq.heappush(self._backoff, (self._backoff_expiry(pod), pod.entry, pod.key))
        self._notify()

    def _to_active_or_backoff(self, pod: QueuedPod) -> None:
        if pod.attempts and self._backoff_expiry(pod) > self._clock():
            self._to_backoff(pod)
        else:
            self._to_active(pod)

    def add(self, key: str, *, priority: int = 0) -> None:
        """A new pending pod (or one seen again): straight to active, unless already queued."""
        if key in self._where:
            return
        self._to_active(QueuedPod(key=key, priority=priority, timestamp=self._clock()))

    def update(self, key: str, *, priority: int = 0) -> None:
        """The pending pod's spec or metadata changed: an unschedulable pod may fit now."""
        pod = self._pods.get(key)
        if pod is None:
            self.add(key, priority=priority)
            return
        pod.priority = priority
        if self._where[key] == UNSCHEDULABLE:
            self._to_active_or_backoff(pod)
        elif self._where[key] == ACTIVE:
            self._to_active(pod)  # re-sorted under its new priority

    def delete(self, key: str) -> None:
        """The pod was bound by someone, deleted, or is no longer ours: stale heap entries are skipped."""
        self._where.pop(key, None)
        self._pods.pop(key, None)
        self._unschedulable.pop(key, None)

    def add_unschedulable(self, pod: QueuedPod) -> None:
        """After an attempt found no node: wait for a cluster change."""
        if pod.key in self._where:
            return  # re-added by an update meanwhile: that newer entry wins
        now = self._clock()
        pod.timestamp = now
        pod.unschedulable_since = now
        pod.entry = next(self._entries)
        self._pods[pod.key] = pod
        self._where[pod.key] = UNSCHEDULABLE
        self._unschedulable[pod.key] = pod
        self._notify()  # the leftover flush needs a timer now

    def add_backoff(self, pod: QueuedPod) -> None:
        """After an error (e.g. the binding failed): try again once the backoff is over."""
        if pod.key in self._where:
            return
        pod.timestamp = self._clock()
        self._to_backoff(pod)

    def move_all_to_active_or_backoff(self, event: str) -> int:
        """The cluster changed (`event` names how): every unschedulable pod gets another chance."""
        moved = list(self._unschedulable.values())
        for pod in moved:
            self._to_active_or_backoff(pod)
        return len(moved)

    # --- time ------------------------------------------------------------------------------

    def flush(self) -> float | None:
        """Moves pods whose backoff is over to active, and pods unschedulable for too long to
        active/backoff; returns the seconds until the next thing falls due (None: nothing waits)."""
        now = self._clock()
        while self._backoff:
            ready_at, entry, key = self._backoff[0]
            pod = self._pods.get(key)
            if pod is None or pod.entry != entry or self._where.get(key) != BACKOFF:
                heapq.heappop(self._backoff)
                continue
            if ready_at > now:
                break
            heapq.heappop(self._backoff)
            self._to_active(pod)
        if self._unschedulable and now - self._last_leftover_flush >= UNSCHEDULABLE_FLUSH_PERIOD:
            self._last_leftover_flush = now
            for pod in list(self._unschedulable.values()):
                if now - (pod.unschedulable_since or now) >= self.max_unschedulable:
                    self._to_active_or_backoff(pod)
        waits = []
        if self._backoff:
            waits.append(self._backoff[0][0] - now)
        if self._unschedulable:
            waits.append(self._last_leftover_flush + UNSCHEDULABLE_FLUSH_PERIOD - now)
        return max(min(waits), 0.0) if waits else None

    def pop_nowait(self) -> QueuedPod | None:
        """The next active pod (its attempt counted), or None."""
        while self._active:
            _, _, entry, key = heapq.heappop(self._active)
            pod = self._pods.get(key)
            if pod is None or pod.entry != entry or self._where.get(key) != ACTIVE:
                continue
            del self._where[key]
            del self._pods[key]
            pod.attempts += 1
            return pod
        return None

    async def pop(self) -> QueuedPod:
        """Waits for the next pod to try."""
        while True:
            next_due = self.flush()
            pod = self.pop_nowait()
            if pod is not None:
                return pod
            wakeup = self._wakeup
            if next_due is None:
                await wakeup.wait()
                continue
            woken = asyncio.ensure_future(wakeup.wait())
            slept = asyncio.ensure_future(self._sleep(next_due))
            try:
                await asyncio.wait((woken, slept), return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
                slept.cancel()

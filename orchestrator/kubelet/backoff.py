"""The crash-loop back-off of restarted containers, as Kubernetes' flowcontrol.Backoff.

A container that exits is restarted at once the first time; each further restart
waits twice as long as the one before (10 s, 20 s, 40 s ... up to 5 min), counted
from when the container finished. While it waits the kubelet reports
`CrashLoopBackOff` with the message "back-off 20s restarting failed container=...".
A container that ran without failing for twice the maximum (10 min) starts over
at 10 s. The key is Kubernetes' stable key (pod, container name and spec hash), so
a changed container spec starts with a fresh back-off.

Pure and clock-injected; used by the pod workers (podworker.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL_BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


def crash_backoff_key(*, pod_name: str, pod_namespace: str, pod_uid: str, container_name: str, spec_hash: str) -> str:
    """Kubernetes' getStableKey: one back-off per container of one pod and one spec."""
    return f"{pod_name}_{pod_namespace}_{pod_uid}_{container_name}_{spec_hash}"


def format_duration(seconds: float) -> str:
    """Go's time.Duration.String for whole seconds, as the CrashLoopBackOff message shows it: 10s, 1m20s, 5m0s."""
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class CrashLoopBackoff:
    """Per-key exponential back-off measured from event times (when the container finished)."""

    def __init__(
        self,
        *,
        initial_seconds: float = INITIAL_BACKOFF_SECONDS,
        max_seconds: float = MAX_BACKOFF_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._initial_seconds = initial_seconds
        self._max_seconds = max_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        """The current delay of `key` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def is_in_backoff_since(self, key: str, event_time: float) -> bool:
        """True while less than the current delay has passed since `event_time` (the container's finish)."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        if self._has_expired(event_time, entry.last_update):
            return False
        return self._clock() - event_time < entry.backoff

    def remaining_seconds(self, key: str, event_time: float) -> float:
        """Seconds until a container that finished at `event_time` may be restarted."""
        if not self.is_in_backoff_since(key, event_time):
            return 0.0
        return max(0.0, event_time + self._entries[key].backoff - self._clock())

    def next(self, key: str, event_time: float) -> None:
        """Note a restart for an exit at `event_time`: the first sets the initial delay, later ones double it."""
        entry = self._entries.get(key)
        if entry is None or self._has_expired(event_time, entry.last_update):
            self._entries[key] = _Entry(backoff=self._initial_seconds, last_update=event_time)
            return
        entry.backoff = min(entry.backoff * 2, self._max_seconds)
        entry.last_update = event_time

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drop every key starting with `prefix` (all containers of a pod that is gone)."""
        for key in [key for key in self._entries if key.startswith(prefix)]:
            del self._entries[key]

    def gc(self) -> None:
        """Drop entries untouched for twice the maximum delay, so the table stays small."""
        now = self._clock()
        for key in [key for key, entry in self._entries.items() if self._has_expired(now, entry.last_update)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _has_expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > 2 * self._max_seconds

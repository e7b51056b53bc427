"""What a controller expects to see in its cache after its own writes (client-go's ControllerExpectations).

A ReplicaSet that just asked for 3 pods must not create 3 more when it is synced
again before its informer has seen them: `expect_creations(key, 3)` makes
`satisfied(key)` false until three pod additions were observed (or five minutes
passed, in case a watch event was lost). Deletions are tracked by pod key
(UIDTrackingControllerExpectations), so a pod deleted by someone else does not count.

Used by the ReplicaSet, Job and DaemonSet controllers; the clock is injected so tests drive the expiry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from orchestrator.controllers.base import Clock

log = logging.getLogger(__name__)

# ExpectationsTimeout: after this long, a lost watch event cannot block a controller forever.
EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Expectation:
    adds: int
    deletes: set[str] = field(default_factory=set)
    timestamp: float = 0.0

    @property
    def fulfilled(self) -> bool:
        return self.adds <= 0 and not self.deletes


class Expectations:
    def __init__(self, *, clock: Clock = time.monotonic, timeout: float = EXPECTATIONS_TIMEOUT):
        self._clock = clock
        self._timeout = timeout
        self._records: dict[str, _Expectation] = {}

    def satisfied(self, key: str) -> bool:
        """True when the controller may act on its cache: nothing pending, or pending too long."""
        record = self._records.get(key)
        if record is None or record.fulfilled:
            return True
        if self._clock() - record.timestamp > self._timeout:
            log.info("expectations of %s expired (adds %d, deletes %d pending)", key, record.adds, len(record.deletes))
            return True
        return False

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Expectation(adds=count, timestamp=self._clock())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = _Expectation(adds=0, deletes=set(pod_keys), timestamp=self._clock())

    def expect(self, key: str, *, creations: int, deletions: list[str]) -> None:
        """Both at once, for a sync that creates some pods and deletes others (the DaemonSet's)."""
        self._records[key] = _Expectation(adds=creations, deletes=set(deletions), timestamp=self._clock())

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.deletes.discard(pod_key)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)

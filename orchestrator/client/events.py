"""Recording Kubernetes Events (what `kubectl describe` shows under "Events:").

`EventRecorder.record(obj, type_, reason, message)` writes a core/v1 Event about
`obj`. Like client-go's recorder it aggregates: the same (object, reason, message)
within ten minutes bumps `count` and `lastTimestamp` of the existing Event instead
of creating a new one, so a controller that retries every second does not flood etcd.
Writes happen in the background and never fail the caller: an event is a courtesy.

Used by every controller, the scheduler and the kubelet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrator.api import errors
from orchestrator.client.resources import EVENTS
from orchestrator.client.rest import ApiClient, ApiUnavailable

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"
AGGREGATION_WINDOW_SECONDS = 600


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_reference(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    reference = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {k: v for k, v in reference.items() if v}


class EventRecorder:
    def __init__(self, client: ApiClient, *, component: str, host: str | None = None,
                 clock: Callable[[], float] = time.time):
        self.client = client
        self.component = component
        self.host = host
        self.clock = clock
        # (namespace, uid, reason, message) -> (event name, count, first seen)
        self._seen: dict[tuple, tuple[str, int, float]] = {}
        self._tasks: set[asyncio.Task] = set()

    def record(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """Fire and forget: schedule the write on the running loop."""
        task = asyncio.get_running_loop().create_task(self._write(obj, type_, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _write(self, obj: dict, type_: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        # Events about cluster-scoped objects (nodes) live in "default", as Kubernetes does.
        namespace = meta.get("namespace") or "default"
        now = self.clock()
        key = (namespace, meta.get("uid") or meta.get("name"), reason, message)
        seen = self._seen.get(key)
        try:
            if seen and now - seen[2] < AGGREGATION_WINDOW_SECONDS:
                name, count, first = seen
                patch = {"count": count + 1, "lastTimestamp": _timestamp(now)}
                await self.client.patch(EVENTS, name, patch, namespace=namespace, patch_type="merge")
                self._seen[key] = (name, count + 1, first)
                return
            name = f"{meta.get('name', 'unknown')}.{int(now * 1e9):x}"
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": object_reference(obj),
                "reason": reason,
                "message": message,
                "type": type_,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "firstTimestamp": _timestamp(now),
                "lastTimestamp": _timestamp(now),
                "count": 1,
                "reportingComponent": self.component,
                "reportingInstance": self.host or "",
            }
            await self.client.create(EVENTS, event, namespace=namespace)
            self._seen[key] = (name, 1, now)
            if len(self._seen) > 10_000:
                oldest = sorted(self._seen.items(), key=lambda item: item[1][2])[:5_000]
                for old_key, _ in oldest:
                    self._seen.pop(old_key, None)
        except (errors.APIError, ApiUnavailable) as error:
            log.debug("could not record event %s on %s: %s", reason, meta.get("name"), error)
            self._seen.pop(key, None)

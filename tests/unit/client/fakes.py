"""In-memory stand-ins for the apiserver client and the clock, for the client package's unit tests.

`FakeApiClient` implements ApiClient's get/create/update/delete/list/watch with a
global resourceVersion counter, 409 on stale writes, paged lists and watches that
replay history; tests can mute, end or expire watches and make calls fail.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.api.errors import AlreadyExists, Conflict, Expired, NotFound
from orchestrator.client.informer import key_of
from orchestrator.client.resources import Resource
from orchestrator.client.rest import WatchEvent

_END = object()


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class FakeApiClient:
    def __init__(self) -> None:
        self.revision = 0
        self.compacted = 0  # watches from an older resourceVersion get 410 Expired
        self.objects: dict[tuple[str, str], dict] = {}
        self.history: list[tuple[int, str, WatchEvent]] = []
        self.watchers: list[tuple[str, asyncio.Queue]] = []
        self.watch_versions: list[str] = []  # resource_version of every watch call
        self.list_calls = 0
        self.muted = False  # events still happen but reach no open watch (a partition)
        self.fail_next: dict[str, list[Exception]] = {}  # method name -> errors to raise, in order
        self.after_get: Callable[[], Awaitable[None]] | None = None  # lets a test write between get and update

    def _maybe_fail(self, method: str) -> None:
        if self.fail_next.get(method):
            raise self.fail_next[method].pop(0)

    def _emit(self, resource: Resource, event_type: str, obj: dict) -> None:
        event = WatchEvent(event_type, copy.deepcopy(obj))
        self.history.append((self.revision, resource.plural, event))
        if not self.muted:
            for plural, queue in self.watchers:
                if plural == resource.plural:
                    queue.put_nowait(event)

    def _bump(self, obj: dict) -> dict:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        return obj

    async def get(self, resource: Resource, name: str, *, namespace: str | None = None) -> dict:
        self._maybe_fail("get")
        stored = self.objects.get((resource.plural, f"{namespace}/{name}" if namespace else name))
        if stored is None:
            raise NotFound.for_object(resource=resource.plural, group=resource.group, name=name)
        found = copy.deepcopy(stored)
        if self.after_get is not None:
            await self.after_get()
        return found

    async def create(self, resource: Resource, body: dict, *, namespace: str | None = None) -> dict:
        self._maybe_fail("create")
        obj = copy.deepcopy(body)
        obj.setdefault("kind", resource.kind)
        obj.setdefault("apiVersion", resource.api_version)
        if namespace:
            obj["metadata"]["namespace"] = namespace
        slot = (resource.plural, key_of(obj))
        if slot in self.objects:
            raise AlreadyExists.for_object(resource=resource.plural, group=resource.group, name=obj["metadata"]["name"])
        self.objects[slot] = self._bump(obj)
        self._emit(resource, "ADDED", obj)
        return copy.deepcopy(obj)

    async def update(
        self, resource: Resource, body: dict, *, namespace: str | None = None, subresource: str | None = None
    ) -> dict:
        self._maybe_fail("update")
        obj = copy.deepcopy(body)
        if namespace:
            obj["metadata"]["namespace"] = namespace
        slot = (resource.plural, key_of(obj))
        name = obj["metadata"]["name"]
        if slot not in self.objects:
            raise NotFound.for_object(resource=resource.plural, group=resource.group, name=name)
        sent_version = obj["metadata"].get("resourceVersion")
        if sent_version and sent_version != self.objects[slot]["metadata"]["resourceVersion"]:
            raise Conflict.stale(resource=resource.plural, group=resource.group, name=name)
        self.objects[slot] = self._bump(obj)
        self._emit(resource, "MODIFIED", obj)
        return copy.deepcopy(obj)

    async def delete(self, resource: Resource, name: str, *, namespace: str | None = None, **_: Any) -> dict:
        self._maybe_fail("delete")
        obj = self.objects.pop((resource.plural, f"{namespace}/{name}" if namespace else name), None)
        if obj is None:
            raise NotFound.for_object(resource=resource.plural, group=resource.group, name=name)
        self._emit(resource, "DELETED", self._bump(obj))
        return copy.deepcopy(obj)

    async def list(
        self, resource: Resource, *, namespace: str | None = None, limit: int | None = None,
        continue_: str | None = None, **_: Any,
    ) -> dict:
        self.list_calls += 1
        self._maybe_fail("list")
        items = [
            copy.deepcopy(obj) for (plural, key), obj in sorted(self.objects.items())
            if plural == resource.plural and (namespace is None or obj["metadata"].get("namespace") == namespace)
        ]
        for item in items:  # list items carry no kind/apiVersion on the wire
            item.pop("kind", None)
            item.pop("apiVersion", None)
        start = int(continue_ or 0)
        end = start + limit if limit else len(items)
        metadata = {"resourceVersion": str(self.revision)}
        if end < len(items):
            metadata["continue"] = str(end)
        return {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata,
                "items": items[start:end]}

    async def watch(
        self, resource: Resource, *, namespace: str | None = None, resource_version: str, **_: Any
    ) -> AsyncIterator[WatchEvent]:
        self.watch_versions.append(resource_version)
        self._maybe_fail("watch")
        if int(resource_version or 0) < self.compacted:
            raise Expired(f"too old resource version: {resource_version} ({self.compacted})")
        queue: asyncio.Queue = asyncio.Queue()
        for revision, plural, event in self.history:
            if plural == resource.plural and revision > int(resource_version or 0):
                queue.put_nowait(event)
        watcher = (resource.plural, queue)
        self.watchers.append(watcher)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise item
                if namespace is None or item.object["metadata"].get("namespace") == namespace:
                    yield item
        finally:
            self.watchers.remove(watcher)

    def end_watches(self, error: Exception | None = None) -> None:
        """Ends every open watch, cleanly or by raising `error` in it."""
        for _, queue in self.watchers:
            queue.put_nowait(_END if error is None else error)

    def expire_watches(self) -> None:
        """Compacts history: open watches get 410 and re-watching from an old version too."""
        self.compacted = self.revision
        self.end_watches(Expired(f"too old resource version (compacted at {self.compacted})"))

    def bookmark(self, resource: Resource) -> None:
        for plural, queue in self.watchers:
            if plural == resource.plural:
                queue.put_nowait(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": str(self.revision)}}))

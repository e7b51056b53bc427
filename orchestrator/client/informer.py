"""A local, continuously updated cache of one resource, as client-go's shared informer.

`Informer.run` lists the resource (paged), then watches from the list's
resourceVersion, applying every event to an in-memory store and telling the
registered handlers (`on_add(obj)`, `on_update(old, new)`, `on_delete(obj)`).
A watch that ends or breaks resumes from the last seen resourceVersion; a 410
Expired re-lists and delivers the differences against the store (a deletion seen
only through a re-list is delivered as a plain `on_delete` of the last known state).
Connection errors back off from 0.5 s doubling to 30 s. Controllers, the scheduler,
the kubelet and the proxy read their objects from informers, never from the apiserver
directly in their sync loops.

Objects in the store are shared with every reader and handler: NEVER mutate one;
`copy.deepcopy` it first.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.api.errors import APIError, Expired
from orchestrator.client.resources import Resource
from orchestrator.client.rest import ApiUnavailable

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 500
# The server ends each watch after a random 5-10 minutes (as client-go asks), spreading the re-watches.
WATCH_TIMEOUT_RANGE = (300, 600)
BACKOFF_INITIAL, BACKOFF_MAX = 0.5, 30.0

IndexFunc = Callable[[dict], list[str]]


def key_of(obj: dict) -> str:
    """The store and work-queue key of an object: `namespace/name`, or `name` if cluster-scoped."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else metadata["name"]


def _resource_version(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("resourceVersion", "")


@dataclass
class _Handler:
    on_add: Callable[[dict], None] | None
    on_update: Callable[[dict, dict], None] | None
    on_delete: Callable[[dict], None] | None


class Informer:
    def __init__(
        self,
        client: Any,  # an ApiClient, or a fake with the same list/watch
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resync_period: float | None = None,
    ):
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self._store: dict[str, dict] = {}
        self._handlers: list[_Handler] = []
        self._index_funcs: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
        self._last_resource_version = ""
        self._synced = asyncio.Event()

    # --- reading the cache -------------------------------------------------------------

    @property
    def has_synced(self) -> bool:
        """True once the first list has been applied to the store."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    def get(self, key: str) -> dict | None:
        """The cached object (shared: deep-copy before mutating)."""
        return self._store.get(key)

    def list(self) -> list[dict]:
        """All cached objects (shared: deep-copy before mutating)."""
        return list(self._store.values())

    def add_index(self, name: str, index_func: IndexFunc) -> None:
        """Indexes objects by the values `index_func(obj)` returns, e.g. pods by `spec.nodeName`."""
        self._index_funcs[name] = index_func
        self._indices[name] = {}
        for key, obj in self._store.items():
            for value in index_func(obj):
                self._indices[name].setdefault(value, set()).add(key)

    def by_index(self, name: str, value: str) -> list[dict]:
        """Cached objects whose index `name` includes `value` (shared: deep-copy before mutating)."""
        return [self._store[key] for key in sorted(self._indices[name].get(value, ()))]

    def add_handler(
        self,
        on_add: Callable[[dict], None] | None = None,
        on_update: Callable[[dict, dict], None] | None = None,
        on_delete: Callable[[dict], None] | None = None,
    ) -> None:
        """Registers callbacks (sync; they should only enqueue keys). A handler added after the
        first sync is told about the cached objects as adds, as client-go does."""
        handler = _Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if self.has_synced and on_add is not None:
            for obj in list(self._store.values()):
                self._call(on_add, obj)

    # --- keeping the cache -------------------------------------------------------------

    async def run(self) -> None:
        """Lists, then watches, forever (until cancelled)."""
        resync = asyncio.create_task(self._resync_loop()) if self.resync_period else None
        backoff = BACKOFF_INITIAL
        must_list = True
        try:
            while True:
                try:
                    if must_list:
                        await self._list_and_replace()
                        must_list = False
                        backoff = BACKOFF_INITIAL
                    if await self._watch():
                        backoff = BACKOFF_INITIAL
                        continue
                    reason = "the watch ended at once without an event"  # do not spin against such a server
                except Expired as expired:
                    if must_list:  # only a stale resourceVersion expires, never a fresh list
                        reason = str(expired)
                    else:
                        log.info("%s: watch from resourceVersion %s expired, re-listing: %s",
                                 self.resource.plural, self._last_resource_version, expired)
                        must_list = True
                        continue
                except (ApiUnavailable, APIError) as error:
                    reason = str(error)
                log.warning("%s: list/watch failed, retrying in %.1fs: %s", self.resource.plural, backoff, reason)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            if resync is not None:
                resync.cancel()

    async def _list_and_replace(self) -> None:
        items: list[dict] = []
        continue_token = None
        limit: int | None = LIST_PAGE_SIZE
        while True:
            try:
                page = await self.client.list(
                    self.resource, namespace=self.namespace, label_selector=self.label_selector,
                    field_selector=self.field_selector, limit=limit, continue_=continue_token,
                )
            except Expired:
                if continue_token is None:
                    raise
                # The continue token outlived its snapshot: start over in one unpaged list (as client-go).
                items, continue_token, limit = [], None, None
                continue
            items.extend(page.get("items") or [])
            continue_token = (page.get("metadata") or {}).get("continue")
            if not continue_token:
                break
        self._replace(items, resource_version=(page.get("metadata") or {}).get("resourceVersion", ""))

    def _replace(self, items: list[dict], *, resource_version: str) -> None:
        """Makes the store equal to a fresh list, delivering the differences to the handlers."""
        listed: dict[str, dict] = {}
        for item in items:
            # List items carry no kind/apiVersion on the wire; watch events do. Make them alike.
            item.setdefault("kind", self.resource.kind)
            item.setdefault("apiVersion", self.resource.api_version)
            listed[key_of(item)] = item
        for key in [key for key in self._store if key not in listed]:
            self._delete(key, self._store[key])
        for key, item in listed.items():
            old = self._store.get(key)
            if old is None or _resource_version(old) != _resource_version(item):
                self._upsert(key, item)
        self._last_resource_version = resource_version
        if not self.has_synced:
            log.info("%s: synced %d objects at resourceVersion %s", self.resource.plural, len(listed),
                     resource_version)
        self._synced.set()

    async def _watch(self) -> bool:
        """Watches until the server ends the stream; returns whether it was worth it (any event,
        or lasted a while). Raises Expired when the resourceVersion is too old."""
        started = time.monotonic()
        received_any = False
        events = self.client.watch(
            self.resource, namespace=self.namespace, resource_version=self._last_resource_version,
            label_selector=self.label_selector, field_selector=self.field_selector,
            timeout_seconds=random.randint(*WATCH_TIMEOUT_RANGE), allow_bookmarks=True,
        )
        async for event in events:
            received_any = True
            obj = event.object
            if event.type in ("ADDED", "MODIFIED"):
                self._upsert(key_of(obj), obj)
            elif event.type == "DELETED":
                key = key_of(obj)
                self._delete(key, obj)
            elif event.type != "BOOKMARK":
                log.warning("%s: ignoring watch event of type %r", self.resource.plural, event.type)
                continue
            self._last_resource_version = _resource_version(obj) or self._last_resource_version
        return received_any or time.monotonic() - started > 1.0

    def _upsert(self, key: str, obj: dict) -> None:
        old = self._store.get(key)
        self._store[key] = obj
        self._reindex(key, old, obj)
        for handler in self._handlers:
            if old is None:
                if handler.on_add is not None:
                    self._call(handler.on_add, obj)
            elif handler.on_update is not None:
                self._call(handler.on_update, old, obj)

    def _delete(self, key: str, obj: dict) -> None:
        old = self._store.pop(key, None)
        self._reindex(key, old, None)
        for handler in self._handlers:
            if handler.on_delete is not None:
                self._call(handler.on_delete, obj)

    def _reindex(self, key: str, old: dict | None, new: dict | None) -> None:
        for name, index_func in self._index_funcs.items():
            index = self._indices[name]
            for value in index_func(old) if old is not None else ():
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in index_func(new) if new is not None else ():
                index.setdefault(value, set()).add(key)

    def _call(self, callback: Callable[..., None], *objects: dict) -> None:
        try:
            callback(*objects)
        except Exception:  # one faulty handler must not stop the cache
            log.exception("%s: event handler %r failed", self.resource.plural, callback)

    async def _resync_loop(self) -> None:
        assert self.resync_period is not None
        while True:
            await asyncio.sleep(self.resync_period)
            if not self.has_synced:
                continue
            for obj in list(self._store.values()):
                for handler in self._handlers:
                    if handler.on_update is not None:
                        self._call(handler.on_update, obj, obj)

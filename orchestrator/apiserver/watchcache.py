"""The watch cache: one etcd watch feeding every HTTP watch and cached LIST.

At start it lists the whole cluster prefix at one revision R, then watches etcd from
R+1 (with the previous value of each key, so DELETED events and selector changes can
be told apart). Each resource keeps

* `store`: the current objects (serves `LIST ?resourceVersion=0` and the initial
  ADDED events of a watch without a resourceVersion),
* `events`: a bounded window of recent events (serves `?watch=1&resourceVersion=N`;
  an N older than the window gets 410 Expired, as Kubernetes answers),
* `watchers`: the open HTTP watches, each with its own filter and queue.

A watcher that cannot keep up (its queue is full) is closed; the client re-watches
from its last resourceVersion, as Kubernetes does with slow watchers.

Used by `rest.py` (LIST/WATCH) and `app.py` (start/stop).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from orchestrator.api import errors
from orchestrator.apiserver.etcd import WatchStream, prefix_end
from orchestrator.apiserver.storage import CorruptObject, Storage, decode

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"


@dataclass(eq=False)
class CacheEvent:
    type: str
    object: dict
    previous: dict | None
    revision: int
    _json: bytes | None = None

    def json_line(self, event_type: str | None = None) -> bytes:
        """The event as a watch-stream line; cached because many watchers send the same bytes."""
        if event_type is None or event_type == self.type:
            if self._json is None:
                self._json = orjson.dumps({"type": self.type, "object": self.object}) + b"\n"
            return self._json
        return orjson.dumps({"type": event_type, "object": self.object}) + b"\n"


Predicate = Callable[[dict], bool]


@dataclass(eq=False)
class Watcher:
    """One client watch: a filter and a queue of (event type, CacheEvent)."""

    resource: str
    predicate: Predicate
    allow_bookmarks: bool = False
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=20000))
    closed: bool = False

    def offer(self, event: CacheEvent) -> None:
        """Deliver `event` as this watcher sees it (a label change can turn MODIFIED into ADDED/DELETED)."""
        if self.closed:
            return
        now_matches = event.type != DELETED and self.predicate(event.object)
        before_matches = event.previous is not None and self.predicate(event.previous)
        if event.type == DELETED:
            event_type = DELETED if before_matches else None
        elif now_matches and before_matches:
            event_type = MODIFIED
        elif now_matches:
            event_type = ADDED
        elif before_matches:
            event_type = DELETED
        else:
            event_type = None
        if event_type is not None:
            self.put((event_type, event))

    def put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("closing a slow %s watcher: %d events queued", self.resource, self.queue.qsize())
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            # A None tells the HTTP stream to end; make room for it if the queue is full.
            while True:
                try:
                    self.queue.put_nowait(None)
                    return
                except asyncio.QueueFull:
                    self.queue.get_nowait()


@dataclass
class ResourceCache:
    resource: str
    capacity: int
    store: dict[bytes, dict] = field(default_factory=dict)
    events: deque = field(default_factory=deque)
    earliest_revision: int = 0  # every event after this revision is in `events`
    watchers: set[Watcher] = field(default_factory=set)

    def append(self, event: CacheEvent) -> None:
        self.events.append(event)
        if len(self.events) > self.capacity:
            evicted = self.events.popleft()
            self.earliest_revision = evicted.revision
        for watcher in list(self.watchers):
            watcher.offer(event)


class WatchCache:
    """All resources of one cluster prefix, kept current from one etcd watch."""

    def __init__(self, storage: Storage, *, capacity: int = 50_000, progress_interval: float = 5.0):
        self.storage = storage
        self.capacity = capacity
        self.progress_interval = progress_interval
        self.caches: dict[str, ResourceCache] = {}
        self.revision = 0
        self.loaded_revision = 0
        self._revision_changed = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._progress_task: asyncio.Task | None = None
        self._stream: WatchStream | None = None
        self._ready = asyncio.Event()

    def cache(self, resource: str) -> ResourceCache:
        cache = self.caches.get(resource)
        if cache is None:
            # The one etcd watch has seen every key since the last load, so a resource seen for the
            # first time now still has every event after that revision (none).
            cache = self.caches[resource] = ResourceCache(resource, self.capacity,
                                                          earliest_revision=self.loaded_revision)
        return cache

    def _resource_of(self, key: bytes) -> str:
        rest = key[len(self.storage.cluster_prefix()) :]
        return rest.split(b"/", 1)[0].decode()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.create_task(self._run(), name="watch-cache")
        self._progress_task = asyncio.create_task(self._request_progress_forever(), name="watch-cache-progress")
        self._ready.set()

    async def stop(self) -> None:
        for task in (self._task, self._progress_task):
            if task:
                task.cancel()
        if self._stream:
            self._stream.cancel()
        for cache in self.caches.values():
            for watcher in list(cache.watchers):
                watcher.close()

    async def _load(self) -> None:
        """List everything at one revision; that revision is where the watch starts."""
        prefix = self.storage.cluster_prefix()
        end = prefix_end(prefix)
        stores: dict[str, dict[bytes, dict]] = {}
        start, revision = prefix, 0
        while True:
            response = await self.storage.etcd.range(start, end, limit=5000, revision=revision)
            revision = revision or response.header.revision
            for kv in response.kvs:
                try:
                    stores.setdefault(self._resource_of(kv.key), {})[kv.key] = decode(kv.value, kv.mod_revision)
                except CorruptObject as error:
                    log.error("watch cache skips %s: %s", kv.key.decode(errors="replace"), error)
            if not response.more or not response.kvs:
                break
            start = response.kvs[-1].key + b"\0"
        for resource in set(self.caches) | set(stores):
            cache = self.cache(resource)
            cache.store = stores.get(resource, {})
            cache.events.clear()
            cache.earliest_revision = revision
        self.revision = revision
        self.loaded_revision = revision

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            self._stream = WatchStream(self.storage.etcd, self.storage.cluster_prefix(), start_revision=self.revision + 1)
            try:
                async for response in self._stream.responses():
                    backoff = 0.2
                    for etcd_event in response.events:
                        try:
                            self._apply(etcd_event)
                        except CorruptObject as error:
                            log.error("watch cache skips %s: %s", etcd_event.kv.key.decode(errors="replace"), error)
                    if response.header.revision > self.revision and (not response.events or response.watch_id == -1):
                        # A progress response: every revision up to here has been delivered.
                        await self._advance(response.header.revision, bookmark=True)
                    elif response.events:
                        await self._advance(response.events[-1].kv.mod_revision)
            except asyncio.CancelledError:
                raise
            except errors.Expired:
                log.warning("etcd compacted past the watch cache; reloading everything")
                self._close_all_watchers()
                await self._load()
            except Exception as error:  # etcd restarting, network: keep trying, the cache stays as it was
                log.warning("etcd watch broke (%s); retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _apply(self, etcd_event) -> None:
        key = etcd_event.kv.key
        resource = self._resource_of(key)
        cache = self.cache(resource)
        revision = etcd_event.kv.mod_revision
        previous = cache.store.get(key)
        if previous is None and etcd_event.prev_kv.key:
            previous = decode(etcd_event.prev_kv.value, etcd_event.prev_kv.mod_revision)
        if etcd_event.type == etcd_event.DELETE:
            cache.store.pop(key, None)
            if previous is None:
                return
            deleted = {**previous, "metadata": {**previous["metadata"], "resourceVersion": str(revision)}}
            cache.append(CacheEvent(DELETED, deleted, previous, revision))
            return
        obj = decode(etcd_event.kv.value, revision)
        cache.store[key] = obj
        event_type = ADDED if etcd_event.kv.create_revision == revision else MODIFIED
        cache.append(CacheEvent(event_type, obj, previous, revision))

    async def _advance(self, revision: int, *, bookmark: bool = False) -> None:
        if revision <= self.revision:
            return
        self.revision = revision
        if bookmark:
            self._send_bookmarks()
        async with self._revision_changed:
            self._revision_changed.notify_all()

    def _send_bookmarks(self) -> None:
        for cache in self.caches.values():
            for watcher in cache.watchers:
                if watcher.allow_bookmarks:
                    watcher.put((BOOKMARK, self.revision))

    async def _request_progress_forever(self) -> None:
        while True:
            await asyncio.sleep(self.progress_interval)
            if self._stream:
                self._stream.request_progress()

    def _close_all_watchers(self) -> None:
        for cache in self.caches.values():
            for watcher in list(cache.watchers):
                watcher.close()
            cache.watchers.clear()

    # -- reads -------------------------------------------------------------------

    async def wait_fresh(self, revision: int, *, timeout: float = 3.0) -> None:
        """Wait until the cache has seen every change up to `revision`, as Kubernetes' waitUntilFreshAndBlock."""
        await self._ready.wait()
        if revision <= self.revision:
            return
        if self._stream:
            self._stream.request_progress()
        try:
            async with asyncio.timeout(timeout):
                async with self._revision_changed:
                    await self._revision_changed.wait_for(lambda: self.revision >= revision)
        except TimeoutError:
            raise errors.Timeout(
                f"Too large resource version: {revision}, current: {self.revision}",
                details={"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                         "retryAfterSeconds": 1},
            ) from None

    def snapshot(self, resource: str, predicate: Predicate | None = None) -> tuple[list[dict], int]:
        cache = self.cache(resource)
        items = [obj for _, obj in sorted(cache.store.items()) if predicate is None or predicate(obj)]
        return items, self.revision

    def watch(
        self,
        resource: str,
        *,
        predicate: Predicate,
        since_revision: int | None,
        allow_bookmarks: bool = False,
    ) -> Watcher:
        """Open a watch. `since_revision=None`: synthetic ADDED for the current objects first."""
        cache = self.cache(resource)
        watcher = Watcher(resource, predicate, allow_bookmarks)
        if since_revision is None:
            for _, obj in sorted(cache.store.items()):
                if predicate(obj):
                    watcher.put((ADDED, CacheEvent(ADDED, obj, None, int(obj["metadata"]["resourceVersion"]))))
        else:
            if since_revision < cache.earliest_revision:
                raise errors.Expired(f"too old resource version: {since_revision} ({cache.earliest_revision})")
            for event in cache.events:
                if event.revision > since_revision:
                    watcher.offer(event)
        cache.watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self.cache(watcher.resource).watchers.discard(watcher)
        watcher.closed = True

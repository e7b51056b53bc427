"""Objects in etcd: keys, JSON encoding, compare-and-swap writes, consistent paged lists.

Keys are `<prefix>/<resource>/<namespace>/<name>` (cluster-scoped resources have no
namespace segment). Values are the object's JSON without `metadata.resourceVersion`:
the resourceVersion of an object *is* the etcd mod revision of its key, filled in on
every read. Writes are etcd transactions guarded by the key's create/mod revision,
so a write carrying a stale resourceVersion can never overwrite a newer one.

Called by the generic REST handlers (`rest.py`) and the watch cache (`watchcache.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from aetcd import rpc

from orchestrator.api import errors
from orchestrator.apiserver.etcd import (
    Etcd,
    compare_create_revision,
    compare_mod_revision,
    delete_op,
    get_op,
    prefix_end,
    put_op,
)

log = logging.getLogger(__name__)


class KeyExists(Exception):
    """A create found the key already there."""


class KeyMissing(Exception):
    """The key is not (or no longer) there."""


class StaleRevision(Exception):
    """The key changed since the revision the caller read."""

    def __init__(self, current: dict | None):
        super().__init__("stale revision")
        self.current = current


def encode(obj: dict) -> bytes:
    metadata = obj.get("metadata") or {}
    if "resourceVersion" in metadata:
        obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k != "resourceVersion"}}
    return orjson.dumps(obj)


class CorruptObject(errors.InternalError):
    """A stored value that is not an object: reported, skipped in lists, never fatal."""


def decode(value: bytes, revision: int) -> dict:
    try:
        obj = orjson.loads(value)
        obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    except (orjson.JSONDecodeError, AttributeError, TypeError) as error:
        raise CorruptObject(f"stored object at revision {revision} cannot be decoded: {error}") from error
    return obj


def decode_all(kvs) -> list[dict]:
    """Decode a range; objects that cannot be decoded are logged and left out (one bad key must
    not make a whole resource unlistable)."""
    items = []
    for kv in kvs:
        try:
            items.append(decode(kv.value, kv.mod_revision))
        except CorruptObject as error:
            log.error("skipping %s: %s", kv.key.decode(errors="replace"), error)
    return items


@dataclass
class ListPage:
    items: list[dict]
    revision: int
    next_key: bytes | None  # where the next page starts, None when this was the last page
    remaining: int = 0


class Storage:
    """Object-level operations on etcd for one cluster (one key prefix)."""

    def __init__(self, etcd: Etcd, *, prefix: str = "/registry"):
        self.etcd = etcd
        self.prefix = prefix.rstrip("/")

    # -- keys ------------------------------------------------------------------

    def key(self, resource: str, namespace: str | None, name: str) -> bytes:
        if namespace:
            return f"{self.prefix}/{resource}/{namespace}/{name}".encode()
        return f"{self.prefix}/{resource}/{name}".encode()

    def collection_prefix(self, resource: str, namespace: str | None = None) -> bytes:
        if namespace:
            return f"{self.prefix}/{resource}/{namespace}/".encode()
        return f"{self.prefix}/{resource}/".encode()

    def cluster_prefix(self) -> bytes:
        return f"{self.prefix}/".encode()

    # -- reads -------------------------------------------------------------------

    async def get(self, key: bytes) -> dict | None:
        response = await self.etcd.range(key)
        if not response.kvs:
            return None
        kv = response.kvs[0]
        return decode(kv.value, kv.mod_revision)

    async def list(
        self, prefix: bytes, *, revision: int = 0, start_key: bytes | None = None, limit: int = 0
    ) -> ListPage:
        """One page of the objects under `prefix`, as of `revision` (0: now)."""
        response = await self.etcd.range(
            start_key or prefix, prefix_end(prefix), limit=limit, revision=revision
        )
        items = decode_all(response.kvs)
        next_key = None
        remaining = 0
        if response.more and response.kvs:
            next_key = response.kvs[-1].key + b"\0"
            remaining = response.count - len(response.kvs)
        return ListPage(items, response.header.revision, next_key, remaining)

    async def current_revision(self) -> int:
        return await self.etcd.current_revision()

    # -- writes ------------------------------------------------------------------

    async def create(self, key: bytes, obj: dict) -> dict:
        response = await self.etcd.txn(
            rpc.TxnRequest(
                compare=[compare_create_revision(key, 0)],
                success=[put_op(key, encode(obj))],
                failure=[],
            )
        )
        if not response.succeeded:
            raise KeyExists()
        return _with_revision(obj, response.header.revision)

    async def update(self, key: bytes, obj: dict, *, expected_revision: int) -> dict:
        """Write `obj` if the key is still at `expected_revision`; else raise StaleRevision."""
        response = await self.etcd.txn(
            rpc.TxnRequest(
                compare=[compare_mod_revision(key, expected_revision)],
                success=[put_op(key, encode(obj))],
                failure=[get_op(key)],
            )
        )
        if not response.succeeded:
            raise StaleRevision(_current_from_failure(response))
        return _with_revision(obj, response.header.revision)

    async def delete(self, key: bytes, *, expected_revision: int) -> dict:
        """Delete the key if still at `expected_revision`; returns the object at the delete revision."""
        response = await self.etcd.txn(
            rpc.TxnRequest(
                compare=[compare_mod_revision(key, expected_revision)],
                success=[delete_op(key)],
                failure=[get_op(key)],
            )
        )
        if not response.succeeded:
            current = _current_from_failure(response)
            if current is None:
                raise KeyMissing()
            raise StaleRevision(current)
        deleted = response.responses[0].response_delete_range
        if not deleted.prev_kvs:
            raise KeyMissing()
        return decode(deleted.prev_kvs[0].value, response.header.revision)


def _with_revision(obj: dict, revision: int) -> dict:
    obj = {**obj, "metadata": {**(obj.get("metadata") or {}), "resourceVersion": str(revision)}}
    return obj


def _current_from_failure(response: rpc.TxnResponse) -> dict | None:
    kvs = response.responses[0].response_range.kvs
    if not kvs:
        return None
    return decode(kvs[0].value, kvs[0].mod_revision)


def check_request_size(body: bytes) -> None:
    from orchestrator.apiserver.etcd import MAX_REQUEST_BYTES

    if len(body) > MAX_REQUEST_BYTES:
        raise errors.RequestEntityTooLarge(
            f"Request entity too large: the object is {len(body)} bytes, the limit is {MAX_REQUEST_BYTES}"
        )

"""A thin asyncio etcd v3 client: range, transactions, one multiplexed watch stream.

Built on the gRPC stubs that `aetcd` ships (`aetcd.rpc`), used directly because the
apiserver needs three things aetcd's wrappers do not expose: paged ranges at a
revision (`limit`, `revision` — consistent LIST pages), several endpoints on one
channel (an etcd cluster), and progress requests on the watch stream (to learn
that the watch cache has seen every revision up to N).

Used only by `storage.py` and `watchcache.py`; nothing else in the project talks to etcd.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import grpc
from aetcd import rpc

from orchestrator.api import errors

log = logging.getLogger(__name__)

# Kubernetes refuses objects above etcd's default request limit (1.5 MiB) before they reach etcd.
MAX_REQUEST_BYTES = 1536 * 1024


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with `prefix`."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


def _target(endpoints: list[str]) -> str:
    """A gRPC target: one endpoint as is; several as an `ipv4:` list, which takes addresses only,
    so host names are resolved here (once, at start, as etcd's own clients do for static lists)."""
    import socket

    hosts = []
    for endpoint in endpoints:
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        hosts.append((parsed.hostname, parsed.port or 2379))
    if len(hosts) == 1:
        return f"{hosts[0][0]}:{hosts[0][1]}"
    return "ipv4:" + ",".join(f"{socket.gethostbyname(host)}:{port}" for host, port in hosts)


def translate_grpc_error(error: grpc.aio.AioRpcError) -> errors.APIError:
    """Map an etcd failure to the API error a client should see."""
    details = error.details() or ""
    if error.code() == grpc.StatusCode.OUT_OF_RANGE and "compacted" in details:
        return errors.Expired(f"The provided continue parameter is too old: {details}")
    if "request is too large" in details:
        return errors.RequestEntityTooLarge("Request entity too large: limit is 3145728")
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return errors.ServiceUnavailable(f"etcd is unavailable: {details}")
    return errors.InternalError(f"etcd error: {error.code().name}: {details}")


class Etcd:
    """One gRPC channel to an etcd cluster, with the few calls storage needs."""

    def __init__(self, endpoints: list[str], *, timeout: float = 30.0):
        self.endpoints = endpoints
        self.timeout = timeout
        options = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.keepalive_time_ms", 10_000),
            ("grpc.keepalive_timeout_ms", 5_000),
        ]
        self.channel = grpc.aio.insecure_channel(_target(endpoints), options=options)
        self.kv = rpc.KVStub(self.channel)
        self.maintenance = rpc.MaintenanceStub(self.channel)
        self.watch_stub = rpc.WatchStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def _call(self, method, request):
        try:
            return await method(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as error:
            raise translate_grpc_error(error) from error

    async def range(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        limit: int = 0,
        revision: int = 0,
        count_only: bool = False,
        serializable: bool = False,
    ) -> rpc.RangeResponse:
        request = rpc.RangeRequest(
            key=key,
            range_end=range_end or b"",
            limit=limit,
            revision=revision,
            count_only=count_only,
            serializable=serializable,
        )
        return await self._call(self.kv.Range, request)

    async def txn(self, request: rpc.TxnRequest) -> rpc.TxnResponse:
        return await self._call(self.kv.Txn, request)

    async def current_revision(self) -> int:
        response = await self.range(b"\0", count_only=True)
        return response.header.revision

    async def compact(self, revision: int) -> None:
        await self._call(self.kv.Compact, rpc.CompactionRequest(revision=revision))

    async def wait_ready(self, *, timeout: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.range(b"\0", count_only=True)
                return
            except errors.APIError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)


# Compare helpers for transactions.
def compare_create_revision(key: bytes, revision: int) -> rpc.Compare:
    return rpc.Compare(
        key=key, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=revision
    )


def compare_mod_revision(key: bytes, revision: int) -> rpc.Compare:
    return rpc.Compare(key=key, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=revision)


def put_op(key: bytes, value: bytes) -> rpc.RequestOp:
    return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value))


def get_op(key: bytes) -> rpc.RequestOp:
    return rpc.RequestOp(request_range=rpc.RangeRequest(key=key))


def delete_op(key: bytes) -> rpc.RequestOp:
    return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key, prev_kv=True))


class WatchStream:
    """One etcd watch (with prev_kv) over a key prefix, plus progress requests.

    Yields `WatchResponse`s: ones with events, and event-less progress responses
    whose header revision says "everything up to here has been delivered".
    """

    def __init__(self, etcd: Etcd, prefix: bytes, *, start_revision: int):
        self.etcd = etcd
        self.prefix = prefix
        self.start_revision = start_revision
        self._requests: asyncio.Queue = asyncio.Queue()
        self._call = None

    async def _request_iterator(self):
        create = rpc.WatchCreateRequest(
            key=self.prefix,
            range_end=prefix_end(self.prefix),
            start_revision=self.start_revision,
            prev_kv=True,
        )
        yield rpc.WatchRequest(create_request=create)
        while True:
            request = await self._requests.get()
            if request is None:
                return
            yield request

    def request_progress(self) -> None:
        self._requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))

    def cancel(self) -> None:
        self._requests.put_nowait(None)
        if self._call is not None:
            self._call.cancel()

    async def responses(self) -> AsyncIterator[rpc.WatchResponse]:
        self._call = self.etcd.watch_stub.Watch(self._request_iterator())
        try:
            async for response in self._call:
                if response.compact_revision:
                    raise errors.Expired(f"etcd compacted revision {response.compact_revision}")
                if response.canceled:
                    raise errors.ServiceUnavailable(f"etcd cancelled the watch: {response.cancel_reason}")
                yield response
        except grpc.aio.AioRpcError as error:
            raise translate_grpc_error(error) from error

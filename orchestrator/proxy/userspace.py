"""The userspace TCP proxy for loopback destinations: 127.0.0.1:nodePort and 127.0.0.1 load balancers.

The kernel refuses to DNAT a packet from 127.0.0.1 to a pod on a bridge unless
`net.ipv4.conf.all.route_localnet=1`, a machine-wide switch with a history of
exposing loopback services to the network (CVE-2020-8558); and a DNAT rule on
127.0.0.1:<port> would silently steal that port from any local program. So, as
Docker's own docker-proxy does for published ports, the proxy listens on the
loopback address itself and splices each accepted connection to an endpoint:
a bind that fails (port taken) is visible in the log instead of hijacking.

Endpoints are picked round-robin; with `sessionAffinity: ClientIP` a client
keeps its endpoint until it has been idle for the affinity timeout. A connection
to an endpoint that refuses is retried on the next one. Endpoint changes apply to
the next accepted connection; established ones are left alone (as conntrack does).

Used by the proxy's sync loop (main.py) with the listeners of rules.plan().
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.proxy.rules import Endpoint, Listener, ServicePort

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0
LISTEN_BACKLOG = 1024


@dataclass
class _Route:
    """The live state of one listener: where its connections go."""

    service_port: ServicePort
    clock: Callable[[], float]
    next_index: int = 0
    affinity: dict[str, tuple[Endpoint, float]] = field(default_factory=dict)  # client ip -> (endpoint, last use)

    def candidates(self, client_ip: str) -> list[Endpoint]:
        """Endpoints to try in order: the sticky one first, then round-robin."""
        endpoints = list(self.service_port.endpoints)
        if not endpoints:
            return []
        start = self.next_index % len(endpoints)
        self.next_index = start + 1
        ordered = endpoints[start:] + endpoints[:start]
        timeout = self.service_port.affinity_seconds
        if timeout:
            sticky = self.affinity.get(client_ip)
            if sticky is not None and self.clock() - sticky[1] <= timeout and sticky[0] in endpoints:
                ordered.remove(sticky[0])
                ordered.insert(0, sticky[0])
        return ordered

    def used(self, client_ip: str, endpoint: Endpoint) -> None:
        if self.service_port.affinity_seconds:
            self.affinity[client_ip] = (endpoint, self.clock())


class _Half(asyncio.Protocol):
    """One side of a spliced connection: what it reads, its peer writes; back-pressure pauses the reader."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Half | None = None
        self.eof = False
        self._early: list[bytes] = []  # read before the peer was connected (an event loop may deliver it)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
        else:
            self._early.append(data)

    def attach(self, peer: _Half) -> None:
        """Start splicing with `peer`, handing over whatever was read before."""
        self.peer = peer
        if peer.transport is None:
            return
        if self._early:
            peer.transport.write(b"".join(self._early))
            self._early.clear()
        if self.eof and peer.transport.can_write_eof():
            peer.transport.write_eof()

    def eof_received(self) -> bool:
        self.eof = True
        peer = self.peer
        if peer is None:
            return True  # passed on when the peer is attached
        if peer.transport is None or peer.eof:
            return False  # both directions are done: close
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
        return True  # keep the other direction open (a half-closed request still gets its answer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Client(_Half):
    """The accepted side: holds its bytes until an endpoint answers, then splices."""

    def __init__(self, route: _Route, tasks: set[asyncio.Task]):
        super().__init__()
        self.route = route
        self.tasks = tasks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.pause_reading()  # type: ignore[attr-defined]
        task = asyncio.get_running_loop().create_task(self._connect())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect(self) -> None:
        assert self.transport is not None
        client_ip = (self.transport.get_extra_info("peername") or ("",))[0]
        loop = asyncio.get_running_loop()
        for endpoint in self.route.candidates(client_ip):
            if self.transport.is_closing():
                return
            try:
                _, upstream = await asyncio.wait_for(
                    loop.create_connection(_Half, endpoint.ip, endpoint.port), CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as error:
                log.debug("%s: endpoint %s:%d failed: %s", self.route.service_port.key, endpoint.ip, endpoint.port,
                          error)
                continue
            self.route.used(client_ip, endpoint)
            upstream.attach(self)
            self.attach(upstream)
            if self.transport.is_closing():
                upstream.transport.close()
                return
            self.transport.resume_reading()  # type: ignore[attr-defined]
            return
        self.transport.abort()  # no endpoint: a reset, as the kernel answers a port nobody serves


class UserspaceProxy:
    """The set of loopback listeners, reconciled with `sync(listeners)` on every proxy sync."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._servers: dict[tuple[str, int], asyncio.base_events.Server] = {}
        self._routes: dict[tuple[str, int], _Route] = {}
        self._failed_binds: dict[tuple[str, int], str] = {}
        self._tasks: set[asyncio.Task] = set()

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The address:port pairs being served."""
        return sorted(self._servers)

    async def sync(self, listeners: list[Listener]) -> None:
        wanted = {(listener.address, listener.port): listener for listener in listeners}
        for address in [address for address in self._servers if address not in wanted]:
            await self._close(address)
        for address in [address for address in self._failed_binds if address not in wanted]:
            del self._failed_binds[address]
        for address, listener in wanted.items():
            route = self._routes.get(address)
            if route is not None and address in self._servers:
                if route.service_port.key != listener.service_port.key:
                    route.affinity.clear()
                route.service_port = listener.service_port
                continue
            await self._open(address, listener)

    async def _open(self, address: tuple[str, int], listener: Listener) -> None:
        route = _Route(service_port=listener.service_port, clock=self._clock)
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(lambda: _Client(route, self._tasks), address[0], address[1],
                                              reuse_address=True, backlog=LISTEN_BACKLOG)
        except OSError as error:
            reason = "the port is taken by another program" if error.errno == errno.EADDRINUSE else str(error)
            if self._failed_binds.get(address) != reason:
                log.warning("%s: cannot listen on %s:%d: %s", listener.service_port.key, *address, reason)
            self._failed_binds[address] = reason
            return
        self._failed_binds.pop(address, None)
        self._servers[address] = server
        self._routes[address] = route
        log.info("%s: listening on %s:%d", listener.service_port.key, *address)

    async def _close(self, address: tuple[str, int]) -> None:
        server = self._servers.pop(address)
        route = self._routes.pop(address)
        server.close()
        log.info("%s: stopped listening on %s:%d", route.service_port.key, *address)

    async def close(self) -> None:
        """Stop every listener and abandon connections being set up (spliced ones close with the process)."""
        for address in list(self._servers):
            await self._close(address)
        for task in list(self._tasks):
            task.cancel()

"""A tiny TCP load balancer in front of the apiservers of the docker-compose cluster.

Like the haproxy container of a kind cluster with several control-plane nodes: every
component and the host's kubeconfig talk to `apiserver-lb:6443`, and each new
connection goes to the next apiserver in turn. TLS passes through untouched (the
apiservers' certificate names the balancer too). A backend that refuses or does not
answer within `connect_timeout` is skipped for `down_seconds`, so when one apiserver
stops, clients reconnecting (watches included) land on the other one at once.
Resolving the backends' names on every attempt follows containers that restart with a
new address.

Run by docker-compose.yaml's `apiserver-lb` service:
`python -m orchestrator.cluster.tcpproxy --listen 0.0.0.0:6443 --backend apiserver-1:6443 ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 1.0
DOWN_SECONDS = 3.0
BUFFER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Backend:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_address(text: str) -> Backend:
    """`host:port` -> Backend; a ValueError names what is wrong."""
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return Backend(host=host, port=int(port))


@dataclass
class BackendPicker:
    """Round robin over the backends, healthy ones first.

    `attempt_order` is the order to try for one new connection: starting after the backend
    the previous connection started with, every backend not marked down, then (as a last
    resort, since a mark may be stale) the ones marked down.
    """

    backends: list[Backend]
    down_seconds: float = DOWN_SECONDS
    clock: Callable[[], float] = time.monotonic
    _next_index: int = 0
    _down_until: dict[Backend, float] = field(default_factory=dict)

    def attempt_order(self) -> list[Backend]:
        start = self._next_index % len(self.backends)
        self._next_index = start + 1
        rotated = self.backends[start:] + self.backends[:start]
        now = self.clock()
        healthy = [backend for backend in rotated if self._down_until.get(backend, 0.0) <= now]
        return healthy + [backend for backend in rotated if backend not in healthy]

    def mark_down(self, backend: Backend) -> None:
        self._down_until[backend] = self.clock() + self.down_seconds

    def mark_up(self, backend: Backend) -> None:
        self._down_until.pop(backend, None)

    def is_down(self, backend: Backend) -> bool:
        return self._down_until.get(backend, 0.0) > self.clock()


class TcpLoadBalancer:
    """Accepts connections on `listen` and splices each to the first backend that answers."""

    def __init__(self, *, listen: Backend, backends: list[Backend],
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS, down_seconds: float = DOWN_SECONDS):
        if not backends:
            raise ValueError("at least one backend is needed")
        self.listen = listen
        self.picker = BackendPicker(backends=list(backends), down_seconds=down_seconds)
        self.connect_timeout = connect_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        """The port actually listened on (useful when `listen` asked for port 0)."""
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen.host, self.listen.port, reuse_address=True)
        log.info("balancing %s over %s", self.listen, ", ".join(map(str, self.picker.backends)))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            upstream = await self._connect_upstream()
            if upstream is None:
                return
            upstream_reader, upstream_writer = upstream
            try:
                await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
            finally:
                upstream_writer.close()
        finally:
            client_writer.close()
            self._connections.discard(task)

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for backend in self.picker.attempt_order():
            try:
                connection = await asyncio.wait_for(asyncio.open_connection(backend.host, backend.port),
                                                    self.connect_timeout)
            except (OSError, TimeoutError) as error:
                if not self.picker.is_down(backend):
                    log.warning("backend %s is down (%s); trying the next one", backend, error or "timeout")
                self.picker.mark_down(backend)
                continue
            if self.picker.is_down(backend):
                log.info("backend %s answers again", backend)
            self.picker.mark_up(backend)
            return connection
        log.warning("no backend answered; closing the client connection")
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close the other side (TLS close_notify and HTTP keep-alive need both halves)."""
    try:
        while data := await reader.read(BUFFER_BYTES):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def serve(*, listen: Backend, backends: list[Backend]) -> None:
    balancer = TcpLoadBalancer(listen=listen, backends=backends)
    await balancer.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await balancer.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.cluster.tcpproxy", description=__doc__.split("\n")[0])
    parser.add_argument("--listen", type=parse_address, default=parse_address("0.0.0.0:6443"))
    parser.add_argument("--backend", type=parse_address, action="append", required=True,
                        help="host:port of an apiserver (repeat for each)")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s apiserver-lb %(levelname).1s: %(message)s")
    run = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    run(serve(listen=options.listen, backends=options.backend))


if __name__ == "__main__":
    main()

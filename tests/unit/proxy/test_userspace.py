"""Tests for orchestrator.proxy.userspace: endpoint choice, and splicing on loopback (local servers only)."""

import asyncio

import pytest

from orchestrator.proxy.rules import Endpoint, Listener, ServicePort
from orchestrator.proxy.userspace import UserspaceProxy, _Route


def new_port(endpoints: list[tuple[str, int]], *, affinity_seconds: int | None = None) -> ServicePort:
    return ServicePort(namespace="default", name="web", port_name="", protocol="TCP", port=80,
                       cluster_ip="10.96.1.1", node_port=31000, affinity_seconds=affinity_seconds,
                       endpoints=tuple(Endpoint(ip, port) for ip, port in endpoints))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


THREE = [("172.18.0.2", 80), ("172.18.0.3", 80), ("172.18.0.4", 80)]


def test_round_robin_over_endpoints():
    route = _Route(service_port=new_port(THREE), clock=Clock())
    firsts = [route.candidates("127.0.0.1")[0].ip for _ in range(6)]
    assert firsts == ["172.18.0.2", "172.18.0.3", "172.18.0.4"] * 2


def test_the_other_endpoints_follow_as_fallbacks():
    route = _Route(service_port=new_port(THREE), clock=Clock())
    assert [endpoint.ip for endpoint in route.candidates("127.0.0.1")] == ["172.18.0.2", "172.18.0.3", "172.18.0.4"]


@pytest.mark.parametrize(
    ("idle_seconds", "endpoint_still_there", "sticks"),
    [
        pytest.param(10, True, True, id="within-the-timeout"),
        pytest.param(61, True, False, id="timed-out"),
        pytest.param(10, False, False, id="endpoint-gone"),
    ],
)
def test_client_ip_affinity(idle_seconds, endpoint_still_there, sticks):
    clock = Clock()
    route = _Route(service_port=new_port(THREE, affinity_seconds=60), clock=clock)
    chosen = route.candidates("127.0.0.5")[0]
    route.used("127.0.0.5", chosen)
    clock.now += idle_seconds
    if not endpoint_still_there:
        route.service_port = new_port([endpoint for endpoint in THREE if endpoint[0] != chosen.ip],
                                      affinity_seconds=60)
    firsts = [route.candidates("127.0.0.5")[0] for _ in range(3)]
    assert (firsts == [chosen] * 3) is sticks


def test_no_endpoints_no_candidates():
    assert _Route(service_port=new_port([]), clock=Clock()).candidates("127.0.0.1") == []


async def start_named_server(name: bytes) -> tuple[asyncio.base_events.Server, int]:
    """A local server that answers its name and echoes what it gets until EOF."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = await reader.read()  # until the proxy forwards the client's EOF
        writer.write(name + b":" + received)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def exchange(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_connections_are_spliced_to_each_endpoint_in_turn_and_follow_changes():
    first, first_port = await start_named_server(b"first")
    second, second_port = await start_named_server(b"second")
    listen_port = free_port()
    proxy = UserspaceProxy()
    service_port = new_port([("127.0.0.1", first_port), ("127.0.0.1", second_port)])
    try:
        await proxy.sync([Listener("127.0.0.1", listen_port, service_port)])
        answers = {await exchange(listen_port, b"hello") for _ in range(4)}
        assert answers == {b"first:hello", b"second:hello"}
        # The second endpoint leaves: the next connections all go to the first.
        await proxy.sync([Listener("127.0.0.1", listen_port, new_port([("127.0.0.1", first_port)]))])
        assert {await exchange(listen_port, b"x") for _ in range(3)} == {b"first:x"}
        # The service goes: the port stops answering.
        await proxy.sync([])
        assert proxy.addresses == []
        with pytest.raises(OSError):
            await exchange(listen_port, b"x")
    finally:
        await proxy.close()
        first.close()
        second.close()


async def test_a_refusing_endpoint_is_skipped():
    alive, alive_port = await start_named_server(b"alive")
    dead_port = free_port()  # nothing listens there
    listen_port = free_port()
    proxy = UserspaceProxy()
    try:
        await proxy.sync([Listener("127.0.0.1", listen_port, new_port([("127.0.0.1", dead_port),
                                                                         ("127.0.0.1", alive_port)]))])
        assert [await exchange(listen_port, b"q") for _ in range(3)] == [b"alive:q"] * 3
    finally:
        await proxy.close()
        alive.close()


async def test_a_service_without_endpoints_resets_connections():
    listen_port = free_port()
    proxy = UserspaceProxy()
    try:
        await proxy.sync([Listener("127.0.0.1", listen_port, new_port([]))])
        try:
            answer = await exchange(listen_port, b"q")
        except ConnectionError:
            answer = b""  # the reset may arrive before the read
        assert answer == b""
    finally:
        await proxy.close()


async def test_a_taken_port_is_reported_and_retried():
    blocker = await asyncio.start_server(lambda reader, writer: writer.close(), "127.0.0.1", 0)
    taken_port = blocker.sockets[0].getsockname()[1]
    proxy = UserspaceProxy()
    try:
        await proxy.sync([Listener("127.0.0.1", taken_port, new_port([]))])
        assert proxy.addresses == []
        blocker.close()
        await blocker.wait_closed()
        await proxy.sync([Listener("127.0.0.1", taken_port, new_port([]))])
        assert proxy.addresses == [("127.0.0.1", taken_port)]
    finally:
        await proxy.close()


def test_splicing_under_uvloop_which_delivers_data_before_the_endpoint_is_connected():
    # `orc proxy` runs on uvloop, which may hand the first bytes (and the EOF) of a connection to the
    # protocol before the endpoint connection exists: they must be passed on, not lost.
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> bytes:
        server, server_port = await start_named_server(b"uv")
        listen_port = free_port()
        proxy = UserspaceProxy()
        try:
            await proxy.sync([Listener("127.0.0.1", listen_port, new_port([("127.0.0.1", server_port)]))])
            return await exchange(listen_port, b"early")
        finally:
            await proxy.close()
            server.close()

    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(scenario()) == b"uv:early"
    finally:
        loop.close()

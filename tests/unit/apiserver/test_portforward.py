"""Tests for orchestrator.apiserver.portforward: kubectl's SPDY port-forward session, with an in-memory
tunnel standing for the WebSocket and in-memory upstreams standing for the kubelet's connections."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.apiserver import spdy
from orchestrator.apiserver.portforward import ForwardRefused, PortForwardSession, check_stream_headers

WAIT_SECONDS = 5


class FakeTunnel:
    """The client's end: frames in through an encoder, frames out through a decoder (as kubectl's spdystream)."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.received: list[spdy.Frame] = []
        self._encoder = spdy.FrameEncoder()
        self._decoder = spdy.FrameDecoder()
        self._changed = asyncio.Event()

    async def receive(self) -> bytes | None:
        return await self.incoming.get()

    async def send(self, data: bytes) -> None:
        self.received += self._decoder.feed(data)
        self._changed.set()

    def client_sends(self, *frames: spdy.Frame) -> None:
        for frame in frames:
            self.incoming.put_nowait(self._encoder.encode(frame))

    def client_goes(self) -> None:
        self.incoming.put_nowait(None)

    async def wait_for(self, expected: spdy.Frame) -> None:
        async def arrived() -> None:
            while expected not in self.received:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(arrived(), WAIT_SECONDS)


class FakeUpstream:
    def __init__(self, port: int) -> None:
        self.port = port
        self.from_client = bytearray()
        self.to_client: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = asyncio.Event()

    async def send(self, data: bytes) -> None:
        self.from_client += data

    async def receive(self) -> bytes | None:
        return await self.to_client.get()

    async def close(self) -> None:
        self.closed.set()


class FakeKubelet:
    def __init__(self, *, refuse: str = "") -> None:
        self.refuse = refuse
        self.upstreams: list[FakeUpstream] = []

    async def dial(self, port: int) -> FakeUpstream:
        if self.refuse:
            raise ForwardRefused(self.refuse)
        upstream = FakeUpstream(port)
        self.upstreams.append(upstream)
        return upstream


def pair_streams(request_id: int, *, error_stream: int, data_stream: int, port: int = 8080) -> list[spdy.Frame]:
    """What kubectl sends for one accepted connection before any data (it half-closes the error stream)."""
    headers = {"port": [str(port)], "requestid": [str(request_id)]}
    return [spdy.SynStream(stream_id=error_stream, headers={**headers, "streamtype": ["error"]}),
            spdy.DataFrame(stream_id=error_stream, flags=spdy.FLAG_FIN),
            spdy.SynStream(stream_id=data_stream, headers={**headers, "streamtype": ["data"]})]


def fin(stream_id: int) -> spdy.DataFrame:
    return spdy.DataFrame(stream_id=stream_id, flags=spdy.FLAG_FIN)


@pytest.fixture
async def session():
    tunnel, kubelet = FakeTunnel(), FakeKubelet()
    running = asyncio.create_task(PortForwardSession(tunnel=tunnel, dial=kubelet.dial, name="default/web",
                                                     half_close_grace=0.05).run())
    yield tunnel, kubelet
    tunnel.client_goes()
    await asyncio.wait_for(running, WAIT_SECONDS)


async def wait_until(condition) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), WAIT_SECONDS)


async def test_a_connection_is_relayed_both_ways_and_closed_when_the_pod_closes(session):
    tunnel, kubelet = session
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3),
                        spdy.DataFrame(stream_id=3, data=b"GET / HTTP/1.1\r\n\r\n"))
    await wait_until(lambda: kubelet.upstreams and kubelet.upstreams[0].from_client == b"GET / HTTP/1.1\r\n\r\n")
    upstream = kubelet.upstreams[0]
    assert upstream.port == 8080
    upstream.to_client.put_nowait(b"HTTP/1.1 200 OK\r\n\r\nhello")
    upstream.to_client.put_nowait(None)
    await tunnel.wait_for(fin(1))
    assert tunnel.received == [spdy.SynReply(stream_id=1), spdy.SynReply(stream_id=3),
                               spdy.DataFrame(stream_id=3, data=b"HTTP/1.1 200 OK\r\n\r\nhello"), fin(3), fin(1)]
    assert upstream.closed.is_set()


async def test_a_refused_port_is_reported_on_the_error_stream(session):
    tunnel, kubelet = session
    kubelet.refuse = "error forwarding port 8080 to pod web, uid u1: connection refused"
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3))
    await tunnel.wait_for(fin(1))
    assert spdy.DataFrame(stream_id=1, data=kubelet.refuse.encode()) in tunnel.received
    assert tunnel.received.index(fin(3)) < tunnel.received.index(fin(1))


async def test_concurrent_connections_keep_their_bytes_apart(session):
    tunnel, kubelet = session
    # Two connections opened at once: their streams interleave, the request ids pair them.
    first, second = pair_streams(0, error_stream=1, data_stream=5), pair_streams(1, error_stream=3, data_stream=7,
                                                                               port=9090)
    tunnel.client_sends(first[0], second[0], first[1], second[1], second[2], first[2],
                        spdy.DataFrame(stream_id=7, data=b"to-second"), spdy.DataFrame(stream_id=5, data=b"to-first"))
    await wait_until(lambda: len(kubelet.upstreams) == 2 and all(u.from_client for u in kubelet.upstreams))
    by_port = {upstream.port: upstream for upstream in kubelet.upstreams}
    assert (by_port[8080].from_client, by_port[9090].from_client) == (b"to-first", b"to-second")
    by_port[9090].to_client.put_nowait(b"from-second")
    await tunnel.wait_for(spdy.DataFrame(stream_id=7, data=b"from-second"))
    assert not any(isinstance(f, spdy.DataFrame) and f.stream_id == 5 and f.data for f in tunnel.received)


async def test_a_client_half_close_gives_the_pod_a_moment_then_closes(session):
    tunnel, kubelet = session
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3), spdy.DataFrame(stream_id=3, data=b"q"),
                        fin(3))
    await wait_until(lambda: kubelet.upstreams)
    upstream = kubelet.upstreams[0]
    upstream.to_client.put_nowait(b"answer")
    await tunnel.wait_for(fin(1))
    assert upstream.closed.is_set()
    assert spdy.DataFrame(stream_id=3, data=b"answer") in tunnel.received


async def test_a_reset_data_stream_stops_the_forward(session):
    tunnel, kubelet = session
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3))
    await wait_until(lambda: kubelet.upstreams)
    tunnel.client_sends(spdy.RstStream(stream_id=3, status=spdy.RstStatus.CANCEL))
    await tunnel.wait_for(fin(1))
    assert kubelet.upstreams[0].closed.is_set()
    assert fin(3) not in tunnel.received  # nothing more goes on a stream the client reset


async def test_pings_from_the_client_are_echoed(session):
    tunnel, _ = session
    tunnel.client_sends(spdy.Ping(ping_id=1), spdy.Settings(entries=((0, 7, 65536),)),
                        spdy.WindowUpdate(stream_id=0, delta=1), spdy.Ping(ping_id=3))
    await tunnel.wait_for(spdy.Ping(ping_id=3))
    assert tunnel.received == [spdy.Ping(ping_id=1), spdy.Ping(ping_id=3)]


async def test_a_stream_without_a_port_is_refused(session):
    tunnel, kubelet = session
    tunnel.client_sends(spdy.SynStream(stream_id=1, headers={"streamtype": ["data"]}))
    await tunnel.wait_for(spdy.RstStream(stream_id=1, status=spdy.RstStatus.REFUSED_STREAM))
    assert not kubelet.upstreams


async def test_the_client_leaving_closes_every_upstream():
    tunnel, kubelet = FakeTunnel(), FakeKubelet()
    running = asyncio.create_task(PortForwardSession(tunnel=tunnel, dial=kubelet.dial, name="default/web").run())
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3), spdy.GoAway(last_good_stream_id=0))
    await asyncio.wait_for(running, WAIT_SECONDS)
    assert all(upstream.closed.is_set() for upstream in kubelet.upstreams)


async def test_an_incomplete_pair_times_out_on_its_error_stream():
    tunnel, kubelet = FakeTunnel(), FakeKubelet()
    running = asyncio.create_task(PortForwardSession(tunnel=tunnel, dial=kubelet.dial, name="default/web",
                                                     stream_creation_timeout=0.05).run())
    tunnel.client_sends(*pair_streams(0, error_stream=1, data_stream=3)[:2])
    await tunnel.wait_for(fin(1))
    assert spdy.DataFrame(stream_id=1, data=b"timed out waiting for streams of request 0") in tunnel.received
    tunnel.client_goes()
    await asyncio.wait_for(running, WAIT_SECONDS)
    assert not kubelet.upstreams


@pytest.mark.parametrize("headers, reason", [
    pytest.param({"streamtype": ["data"]}, '"port" header is required', id="no-port"),
    pytest.param({"port": ["http"], "streamtype": ["data"]}, 'unable to parse "http" as a port', id="named-port"),
    pytest.param({"port": ["0"], "streamtype": ["data"]}, 'port "0" must be > 0', id="port-zero"),
    pytest.param({"port": ["80"]}, '"streamType" header is required', id="no-stream-type"),
    pytest.param({"port": ["80"], "streamtype": ["resize"]}, 'invalid stream type "resize"', id="bad-stream-type"),
])
def test_stream_headers_are_checked_as_the_kubelet_does(headers, reason):
    with pytest.raises(ValueError, match=reason):
        check_stream_headers(headers)

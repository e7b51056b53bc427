"""`kubectl port-forward`: SPDY/3.1 streams tunnelled in a WebSocket, each pair forwarded through the kubelet.

kubectl 1.30+ opens one WebSocket per `kubectl port-forward` run (`GET pods/NAME/portforward`,
subprotocol `SPDY/3.1+portforward.k8s.io`) and speaks SPDY/3.1 inside its binary messages. For
every local connection it accepts, it opens two SPDY streams with headers `streamtype: error|data`,
`port: N` and `requestid: K`. As the kubelet does (pkg/kubelet/cri/streaming/portforward/httpstream.go),
this session answers each stream with SYN_REPLY, waits for both streams of a request id, then
connects to the pod's port, here through the kubelet's own `/portForward` WebSocket (one per
pair), and copies the data stream both ways. A connection that cannot be made is reported as text
on the error stream (kubectl prints it and stops). Either side ending closes both streams with FIN,
which kubectl waits for before it forgets the connection.

When kubectl half-closes the data stream (its local client closed), the pod gets a second to finish
its answer before both sides are closed, as containerd's port forwarder does: the kubelet relay has
no half-close to pass on. PINGs (kubectl sends one every 10 s) are echoed; SETTINGS and
WINDOW_UPDATE are ignored, as spdystream does (it has no flow control).

`PortForwardSession` is written against two small interfaces (`Tunnel`, the client's byte stream,
and `dial(port) -> Upstream`) so it is tested without a network. `serve_tunnel` binds it to the
apiserver's Starlette WebSocket and the kubelet relay (kubeletproxy.py); app.py calls it, and
rest.py calls `refuse_plain_request` for the plain-HTTP (SPDY upgrade) form of the same URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, Protocol

from orchestrator.api import errors
from orchestrator.apiserver import spdy

if TYPE_CHECKING:
    import aiohttp
    from starlette.requests import Request
    from starlette.websockets import WebSocket

    from orchestrator.apiserver.kubeletproxy import KubeletProxy

log = logging.getLogger(__name__)

TUNNEL_SUBPROTOCOL = "SPDY/3.1+portforward.k8s.io"
STREAM_TYPE_ERROR = "error"
STREAM_TYPE_DATA = "data"
# The kubelet's default streamCreationTimeout: how long the second stream of a pair may take.
STREAM_CREATION_TIMEOUT_SECONDS = 30.0
# containerd waits this long for the other direction once one direction of a forward has ended.
HALF_CLOSE_GRACE_SECONDS = 1.0
# Client bytes waiting for the pod, per connection; a full queue stalls the tunnel's reader, so a
# slow pod slows kubectl down instead of filling the apiserver's memory.
CLIENT_CHUNKS_QUEUED = 64
MAX_CHUNK_BYTES = 64 * 1024


class Tunnel(Protocol):
    """The client's side: SPDY bytes in both directions."""

    async def receive(self) -> bytes | None:
        """The next bytes from the client; None once it has gone."""

    async def send(self, data: bytes) -> None: ...


class Upstream(Protocol):
    """One connection to the pod's port."""

    async def send(self, data: bytes) -> None: ...

    async def receive(self) -> bytes | None:
        """The next bytes from the pod; None once the pod side has closed."""

    async def close(self) -> None: ...


class ForwardRefused(Exception):
    """The pod's port cannot be reached; the message goes to kubectl on the error stream."""


Dial = Callable[[int], Awaitable[Upstream]]


@dataclass(eq=False)
class _Stream:
    stream_id: int
    stream_type: str
    closed_by_us: bool = False
    reset: bool = False


@dataclass(eq=False)
class _Pair:
    """The error and data streams of one forwarded connection (one request id)."""

    request_id: str
    error_stream: _Stream | None = None
    data_stream: _Stream | None = None
    port: int = 0
    from_client: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(CLIENT_CHUNKS_QUEUED))
    data_stream_reset: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False

    @property
    def complete(self) -> bool:
        return self.error_stream is not None and self.data_stream is not None


def request_id_of(headers: spdy.Headers, *, stream_id: int, stream_type: str) -> str:
    """The `requestid` header; clients older than it get the kubelet's guess from the stream ids."""
    given = (headers.get("requestid") or [""])[0]
    if given:
        return given
    return str(stream_id if stream_type == STREAM_TYPE_ERROR else stream_id - 2)


def check_stream_headers(headers: spdy.Headers) -> tuple[str, int]:
    """(stream type, port) of a new stream, or ValueError with the kubelet's reason for refusing it."""
    port_text = (headers.get("port") or [""])[0]
    if not port_text:
        raise ValueError('"port" header is required')
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f'unable to parse "{port_text}" as a port')
    if int(port_text) < 1:
        raise ValueError(f'port "{port_text}" must be > 0')
    stream_type = (headers.get("streamtype") or [""])[0]
    if not stream_type:
        raise ValueError('"streamType" header is required')
    if stream_type not in (STREAM_TYPE_ERROR, STREAM_TYPE_DATA):
        raise ValueError(f'invalid stream type "{stream_type}"')
    return stream_type, int(port_text)


class PortForwardSession:
    """One kubectl port-forward session: reads SPDY frames from the tunnel until the client goes."""

    def __init__(self, *, tunnel: Tunnel, dial: Dial, name: str,
                 stream_creation_timeout: float = STREAM_CREATION_TIMEOUT_SECONDS,
                 half_close_grace: float = HALF_CLOSE_GRACE_SECONDS) -> None:
        self._tunnel = tunnel
        self._dial = dial
        self._name = name
        self._stream_creation_timeout = stream_creation_timeout
        self._half_close_grace = half_close_grace
        self._decoder = spdy.FrameDecoder()
        self._encoder = spdy.FrameEncoder()
        # Frames are encoded and sent under one lock: the header compressor's state must follow wire order.
        self._write_lock = asyncio.Lock()
        self._streams: dict[int, _Stream] = {}
        self._pairs: dict[str, _Pair] = {}
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    async def run(self) -> None:
        try:
            while (data := await self._tunnel.receive()) is not None:
                for frame in self._decoder.feed(data):
                    if isinstance(frame, spdy.GoAway):
                        return
                    await self._handle(frame)
        except spdy.SpdyError as error:
            log.warning("port-forward to %s: closing a session that sent bad SPDY: %s", self._name, error)
        finally:
            self._closed = True
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ frames from the client

    async def _handle(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.SynStream):
            await self._new_stream(frame)
        elif isinstance(frame, spdy.DataFrame):
            await self._client_data(frame)
        elif isinstance(frame, spdy.RstStream):
            self._client_reset(frame.stream_id)
        elif isinstance(frame, spdy.Ping):
            # Odd ids are the client's own pings; even ones would answer ours, and we send none.
            if frame.ping_id % 2 == 1:
                await self._send(frame)
        # SETTINGS, WINDOW_UPDATE, HEADERS and unknown control frames change nothing here.

    async def _new_stream(self, frame: spdy.SynStream) -> None:
        if frame.stream_id in self._streams or frame.stream_id % 2 == 0:
            await self._send(spdy.RstStream(stream_id=frame.stream_id, status=spdy.RstStatus.PROTOCOL_ERROR))
            return
        try:
            stream_type, port = check_stream_headers(frame.headers)
        except ValueError as error:
            log.info("port-forward to %s: refusing stream %d: %s", self._name, frame.stream_id, error)
            await self._send(spdy.RstStream(stream_id=frame.stream_id, status=spdy.RstStatus.REFUSED_STREAM))
            return
        stream = _Stream(stream_id=frame.stream_id, stream_type=stream_type)
        self._streams[stream.stream_id] = stream
        await self._send(spdy.SynReply(stream_id=stream.stream_id))

        request_id = request_id_of(frame.headers, stream_id=frame.stream_id, stream_type=stream_type)
        pair = self._pairs.get(request_id)
        if pair is None:
            pair = self._pairs[request_id] = _Pair(request_id=request_id)
            self._start(self._expire_if_incomplete(pair))
        slot = "error_stream" if stream_type == STREAM_TYPE_ERROR else "data_stream"
        if getattr(pair, slot) is not None:
            message = f"error processing stream for request {request_id}: {stream_type} stream already assigned"
            log.info("port-forward to %s: %s", self._name, message)
            if pair.error_stream is not None:
                await self._send_data(pair.error_stream, message.encode())
            await self._close_stream(stream)
            self._streams.pop(stream.stream_id, None)
            return
        setattr(pair, slot, stream)
        if stream_type == STREAM_TYPE_DATA:
            pair.port = port
        if pair.complete:
            self._start(self._forward(pair))

    async def _client_data(self, frame: spdy.DataFrame) -> None:
        stream = self._streams.get(frame.stream_id)
        if stream is None or stream.stream_type != STREAM_TYPE_DATA:
            return  # the error stream carries nothing from the client; unknown streams are gone
        pair = self._pair_of(stream)
        if pair is None or pair.finished:
            return
        if frame.data:
            await pair.from_client.put(frame.data)
        if frame.fin and not pair.finished:
            await pair.from_client.put(None)

    def _client_reset(self, stream_id: int) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        stream.reset = True
        pair = self._pair_of(stream)
        if pair is not None and stream.stream_type == STREAM_TYPE_DATA:
            pair.data_stream_reset.set()

    def _pair_of(self, stream: _Stream) -> _Pair | None:
        return next((pair for pair in self._pairs.values()
                     if stream is pair.data_stream or stream is pair.error_stream), None)

    # ------------------------------------------------------------------ one forwarded connection

    def _start(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire_if_incomplete(self, pair: _Pair) -> None:
        await asyncio.sleep(self._stream_creation_timeout)
        if not pair.complete and not pair.finished:
            message = f"timed out waiting for streams of request {pair.request_id}"
            if pair.error_stream is not None:
                await self._send_data(pair.error_stream, message.encode())
            await self._end_pair(pair)

    async def _forward(self, pair: _Pair) -> None:
        upstream = None
        try:
            try:
                upstream = await self._dial(pair.port)
            except ForwardRefused as refused:
                log.info("port-forward to %s port %d refused: %s", self._name, pair.port, refused)
                await self._send_data(pair.error_stream, str(refused).encode())
                return
            log.info("port-forward to %s port %d (request %s)", self._name, pair.port, pair.request_id)
            await self._relay(pair, upstream)
        finally:
            if upstream is not None:
                with contextlib.suppress(Exception):
                    await upstream.close()
            await self._end_pair(pair)

    async def _relay(self, pair: _Pair, upstream: Upstream) -> None:
        async def pod_to_client() -> None:
            while (chunk := await upstream.receive()) is not None:
                await self._send_data(pair.data_stream, chunk)

        async def client_to_pod() -> None:
            while (chunk := await pair.from_client.get()) is not None:
                await upstream.send(chunk)

        to_client = asyncio.ensure_future(pod_to_client())
        to_pod = asyncio.ensure_future(client_to_pod())
        reset = asyncio.ensure_future(pair.data_stream_reset.wait())
        try:
            done, _ = await asyncio.wait({to_client, to_pod, reset}, return_when=asyncio.FIRST_COMPLETED)
            if done == {to_pod} and to_pod.exception() is None:
                # The client half-closed: let the pod finish what it is sending.
                await asyncio.wait({to_client, reset}, timeout=self._half_close_grace,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (to_client, to_pod, reset):
                task.cancel()
            outcomes = await asyncio.gather(to_client, to_pod, reset, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    log.debug("port-forward to %s port %d ended: %r", self._name, pair.port, outcome)

    async def _end_pair(self, pair: _Pair) -> None:
        """FIN both streams (the data stream first: kubectl reads the error stream to its end last)."""
        if pair.finished:
            return
        pair.finished = True
        # A reader blocked on a full queue must not wait for a consumer that has stopped.
        while not pair.from_client.empty():
            pair.from_client.get_nowait()
        for stream in (pair.data_stream, pair.error_stream):
            if stream is not None:
                await self._close_stream(stream)
        self._pairs.pop(pair.request_id, None)
        for stream in (pair.data_stream, pair.error_stream):
            if stream is not None:
                self._streams.pop(stream.stream_id, None)

    # ------------------------------------------------------------------ frames to the client

    async def _send(self, *frames: spdy.Frame) -> None:
        if self._closed:
            return
        async with self._write_lock:
            data = b"".join(self._encoder.encode(frame) for frame in frames)
            try:
                await self._tunnel.send(data)
            except Exception as error:  # the client went away: the reader will notice and end the session
                log.debug("port-forward to %s: cannot write to the client: %r", self._name, error)
                self._closed = True

    async def _send_data(self, stream: _Stream, data: bytes) -> None:
        if stream.reset or stream.closed_by_us:
            return
        for start in range(0, len(data), MAX_CHUNK_BYTES):
            await self._send(spdy.DataFrame(stream_id=stream.stream_id, data=data[start:start + MAX_CHUNK_BYTES]))

    async def _close_stream(self, stream: _Stream) -> None:
        if stream.reset or stream.closed_by_us:
            return
        stream.closed_by_us = True
        await self._send(spdy.DataFrame(stream_id=stream.stream_id, flags=spdy.FLAG_FIN))


# ---------------------------------------------------------------------- binding to Starlette and the kubelet


class _WebSocketTunnel:
    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def receive(self) -> bytes | None:
        message = await self._websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        return message.get("bytes") or b""  # kubectl sends only binary messages

    async def send(self, data: bytes) -> None:
        await self._websocket.send_bytes(data)


class _KubeletUpstream:
    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self._websocket = websocket

    async def send(self, data: bytes) -> None:
        await self._websocket.send_bytes(data)

    async def receive(self) -> bytes | None:
        import aiohttp

        while True:
            message = await self._websocket.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                return message.data
            if message.type != aiohttp.WSMsgType.TEXT:
                return None

    async def close(self) -> None:
        await self._websocket.close()


async def serve_tunnel(websocket: WebSocket, pod: dict, kubelet_proxy: KubeletProxy) -> None:
    """Serve kubectl's SPDY-over-WebSocket session for `pod`.

    What can be known before the handshake (the pod is scheduled, its node publishes a kubelet)
    raises APIError, which the caller turns into a refused handshake carrying a Status."""
    meta = pod["metadata"]
    kubelet_url = await kubelet_proxy.port_forward_url(websocket, pod)
    name = f"{meta['namespace']}/{meta['name']}"
    await websocket.accept(subprotocol=TUNNEL_SUBPROTOCOL)

    async def dial(port: int) -> Upstream:
        try:
            return _KubeletUpstream(await kubelet_proxy.dial_port_forward(kubelet_url, port))
        except errors.APIError as error:
            raise ForwardRefused(error.message) from error

    try:
        await PortForwardSession(tunnel=_WebSocketTunnel(websocket), dial=dial, name=name).run()
    finally:
        # Closing twice (the client already went away) is harmless to the peer but raises here.
        with contextlib.suppress(Exception):
            await websocket.close()


async def refuse_plain_request(request: Request, pod: dict, kubelet_proxy: KubeletProxy) -> NoReturn:
    """Answer `pods/portforward` over plain HTTP: kubectl's fallback when the WebSocket failed.

    kubectl retries a refused WebSocket as a raw SPDY upgrade (POST, `Upgrade: SPDY/3.1`), which
    uvicorn cannot hand over, and prints only the second answer: so this repeats the WebSocket's
    checks first (pod scheduled, kubelet known), and the user reads the real reason."""
    await kubelet_proxy.port_forward_url(request, pod)
    raise errors.BadRequest("upgrading to SPDY/3.1 is not supported by this apiserver: port-forward needs the "
                            f"WebSocket tunnel ({TUNNEL_SUBPROTOCOL}), which kubectl 1.31 and later use unless "
                            "KUBECTL_PORT_FORWARD_WEBSOCKETS=false, or `orc port-forward`")

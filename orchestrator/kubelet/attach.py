"""The raw stream of an attached Docker exec, on the event loop without threads.

`POST /exec/{id}/start` with `Upgrade: tcp` turns the engine connection into a raw byte stream:
what is written is the process's stdin (a write half-close is its end of file), what is read is
its output. Without a TTY the output is multiplexed: each chunk has an 8-byte header (stream 1
stdout or 2 stderr, three zero bytes, a big-endian 32-bit length), which
`DockerStreamDemultiplexer` (pure) takes apart; with a TTY it is the terminal's bytes as they are.

`AttachedExec.from_sdk_socket` takes over the socket the docker SDK hands back from
`exec_start(socket=True)`: it keeps a duplicate of the descriptor in non-blocking mode, collects
any output the SDK's HTTP reader had already buffered, and lets the SDK's objects go, so the
session needs no thread and closing it closes the connection.

Used by DockerRuntime.exec_attach (runtime.py) for the kubelet's exec endpoint (server.py).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

STDOUT_STREAM, STDERR_STREAM = 1, 2
_HEADER = struct.Struct(">BxxxL")
READ_CHUNK_BYTES = 64 * 1024


class DockerStreamDemultiplexer:
    """Splits Docker's multiplexed stream into (stream, payload) pieces, whatever the chunking."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        pieces = []
        while len(self._buffer) >= _HEADER.size:
            stream, length = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + length
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[_HEADER.size:end])
            del self._buffer[:end]
            if payload:
                pieces.append((stream, payload))
        return pieces

    @property
    def pending(self) -> int:
        """Bytes of an incomplete piece (non-zero at the end means the engine cut a frame short)."""
        return len(self._buffer)


class AttachedExec:
    """One started exec's connection: `read()` output, `write()` stdin, `close_stdin()`, `close()`."""

    def __init__(self, *, exec_id: str, connection: socket.socket, buffered: bytes = b"") -> None:
        self.exec_id = exec_id
        self._connection = connection
        self._buffered = buffered
        self._closed = False

    @classmethod
    def from_sdk_socket(cls, exec_id: str, sdk_socket: Any) -> AttachedExec:
        """Adopt what `APIClient.exec_start(socket=True)` returned (a SocketIO over the engine connection)."""
        raw = getattr(sdk_socket, "_sock", sdk_socket)
        if not isinstance(raw, socket.socket) or isinstance(raw, _ssl_socket_type()):
            _close_quietly(sdk_socket)
            raise TypeError(f"exec streams need a unix or plain TCP engine connection, not {type(raw).__name__}")
        connection = raw.dup()
        connection.setblocking(False)
        raw.setblocking(False)  # so that looking into the SDK's buffered reader below cannot wait
        buffered = b""
        response = getattr(sdk_socket, "_response", None)
        reader = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
        if reader is not None:
            # The HTTP parser may have read output that followed the 101 answer; it would be lost.
            buffered = reader.peek() or b""
        for resource in (response, sdk_socket, raw):
            _close_quietly(resource)
        return cls(exec_id=exec_id, connection=connection, buffered=buffered)

    async def read(self) -> bytes:
        """The next output bytes; b"" once the process's output ended (the engine closed the stream)."""
        if self._buffered:
            data, self._buffered = self._buffered, b""
            return data
        try:
            return await asyncio.get_running_loop().sock_recv(self._connection, READ_CHUNK_BYTES)
        except (ConnectionError, OSError):
            return b""

    async def write(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self._connection, data)

    def close_stdin(self) -> None:
        """The process reads end of file (the engine closes its stdin on our write half-close)."""
        try:
            self._connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _close_quietly(self._connection)


def _ssl_socket_type() -> type:
    import ssl

    return ssl.SSLSocket


def _close_quietly(resource: Any) -> None:
    close = getattr(resource, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # noqa: BLE001 - already closed or half-torn down: nothing is left to release
        pass

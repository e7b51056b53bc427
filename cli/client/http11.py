"""A minimal blocking HTTP/1.1 client connection: what the `orc` CLI needs from http.client, and no more.

`HttpConnection(host, port, ssl_context=...)` sends one request at a time over a kept-alive socket
(TLS when given a context) and returns a `Response` whose body is read whole (`read`), line by line
(`readline`, a watch) or as it arrives (`read1`, a followed log), whether the server framed it with
Content-Length, chunked transfer coding, or by closing the connection.

Why not http.client: it parses headers with the `email` package, and importing the two costs ~20 ms,
a sixth of a whole `orc get pods` on 1,000 pods; this module imports only socket (ssl is loaded by
the caller anyway). Used by cli/client/api.py (`ApiClient`).
"""

from __future__ import annotations

import socket

MAX_LINE_BYTES = 64 * 1024
MAX_HEADERS = 200
READ_BYTES = 64 * 1024
_BODYLESS_STATUSES = (204, 304)
_METHODS_WITH_BODY = ("POST", "PUT", "PATCH")


class ProtocolError(OSError):
    """The server's answer is not well-formed HTTP/1.1."""


class ConnectionClosed(ConnectionError):
    """The server closed the connection before answering (a kept-alive connection it had dropped)."""


class Response:
    """One response: status, headers, and a body that must be consumed before the next request."""

    def __init__(self, connection: HttpConnection, *, status: int, reason: str, headers: list[tuple[str, str]],
                 method: str):
        self.status = status
        self.reason = reason
        self.headers = headers
        self._connection = connection
        self._reader = connection.reader
        self._pending = b""  # body bytes read from the wire but not yet returned
        self._remaining: int | None = None  # Content-Length framing: bytes still to read
        self._chunked = False
        self._done = False
        self._keep_alive = (self.header("connection") or "").lower() != "close"
        length = self.header("content-length")
        if method == "HEAD" or status in _BODYLESS_STATUSES or 100 <= status < 200:
            self._remaining = 0
        elif "chunked" in (self.header("transfer-encoding") or "").lower():
            self._chunked = True
        elif length is not None:
            try:
                self._remaining = int(length)
            except ValueError:
                raise ProtocolError(f"bad Content-Length {length!r}") from None
        else:
            self._keep_alive = False  # the body ends when the server closes the connection
        if self._remaining == 0:
            self._finish()

    def header(self, name: str) -> str | None:
        """The first value of a header (names are case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    def read(self) -> bytes:
        """The rest of the body."""
        pieces = [self._pending]
        self._pending = b""
        while not self._done:
            pieces.append(self._next_piece(whole=True))
        return b"".join(pieces)

    def readline(self) -> bytes:
        """The body up to and including the next newline (less at the end of the body; b"" after it)."""
        while b"\n" not in self._pending and not self._done:
            self._pending += self._next_piece(whole=False)
        end = self._pending.find(b"\n") + 1 or len(self._pending)
        line, self._pending = self._pending[:end], self._pending[end:]
        return line

    def read1(self, size: int) -> bytes:
        """Up to `size` bytes of the body, waiting only for the first ones (b"" at its end)."""
        if not self._pending and not self._done:
            self._pending = self._next_piece(whole=False)
        piece, self._pending = self._pending[:size], self._pending[size:]
        return piece

    def _next_piece(self, *, whole: bool) -> bytes:
        """The next bytes of the body from the wire; marks the body done when they were the last."""
        if self._chunked:
            return self._next_chunk()
        if self._remaining is not None:
            piece = self._reader.read(self._remaining) if whole else self._reader.read1(min(self._remaining, READ_BYTES))
            if not piece:
                raise ConnectionClosed(f"connection closed with {self._remaining} bytes of the body unread")
            self._remaining -= len(piece)
            if self._remaining == 0:
                self._finish()
            return piece
        piece = self._reader.read() if whole else self._reader.read1(READ_BYTES)
        if not piece:
            self._finish()
        return piece

    def _next_chunk(self) -> bytes:
        size_line = self._reader.readline(MAX_LINE_BYTES)
        if not size_line:
            raise ConnectionClosed("connection closed in the middle of a chunked body")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size line {size_line[:40]!r}") from None
        if size == 0:
            while self._reader.readline(MAX_LINE_BYTES) not in (b"\r\n", b"\n", b""):
                pass  # trailers: none that matter here
            self._finish()
            return b""
        chunk = self._reader.read(size)
        if len(chunk) < size or self._reader.readline(MAX_LINE_BYTES) not in (b"\r\n", b"\n"):
            raise ProtocolError("truncated chunk")
        return chunk

    def _finish(self) -> None:
        self._done = True
        if not self._keep_alive:
            self._connection.close()


class HttpConnection:
    """One kept-alive connection to `host:port`; opened by `connect()`, reopened by the caller when closed."""

    def __init__(self, host: str, port: int, *, ssl_context=None, timeout: float | None = None):  # noqa: ANN001
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.reader = None
        self._host_header = host if ":" not in host else f"[{host}]"
        if port != (443 if ssl_context is not None else 80):
            self._host_header += f":{port}"

    @property
    def closed(self) -> bool:
        return self.sock is None

    def connect(self) -> None:
        # socket and ssl run a str host name through the `idna` codec, whose import alone costs a few
        # ms; an ASCII name (an address, most DNS names) means the same as bytes and needs none.
        hostname = self.host.encode("ascii") if self.host.isascii() else self.host
        sock = socket.create_connection((hostname, self.port), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=hostname)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
            self.sock = None
            self.reader = None

    def request(self, method: str, target: str, *, headers: dict[str, str], body: bytes | None = None) -> Response:
        """Send a request and read the response's status and headers (the body is left to the Response)."""
        if self.sock is None:
            self.connect()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}", "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in _METHODS_WITH_BODY:
            lines.append(f"Content-Length: {len(body or b'')}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        while True:
            status, reason, response_headers = self._read_head()
            if status != 100:  # a `100 Continue` precedes the real answer
                return Response(self, status=status, reason=reason, headers=response_headers, method=method)

    def _read_head(self) -> tuple[int, str, list[tuple[str, str]]]:
        status_line = self.reader.readline(MAX_LINE_BYTES)
        if not status_line:
            raise ConnectionClosed("the server closed the connection without answering")
        version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        headers: list[tuple[str, str]] = []
        while True:
            line = self.reader.readline(MAX_LINE_BYTES)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise ConnectionClosed("connection closed in the middle of the response headers")
            if len(headers) >= MAX_HEADERS:
                raise ProtocolError("too many response headers")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise ProtocolError(f"bad header line {line[:80]!r}")
            headers.append((name.strip().lower(), value.strip()))
        return int(code), reason, headers

"""The `orc` client's HTTP/1.1 connection (cli/client/http11.py) against a scripted loopback server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from cli.client.http11 import ConnectionClosed, HttpConnection


class ScriptedServer:
    """Accepts connections on loopback; answers each request with the next canned response."""

    def __init__(self, responses: list[bytes], *, close_after: int | None = None):
        self.responses = list(responses)
        self.close_after = close_after  # close the connection after this many answers
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.responses:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            answered = 0
            with connection, connection.makefile("rb") as reader:
                while self.responses:
                    request = self._read_request(reader)
                    if request is None:
                        break
                    self.requests.append(request)
                    connection.sendall(self.responses.pop(0))
                    answered += 1
                    if self.close_after is not None and answered >= self.close_after:
                        break

    @staticmethod
    def _read_request(reader) -> bytes | None:  # noqa: ANN001
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline()
            if not line:
                return None
            head += line
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return head + reader.read(length)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator:
    servers: list[ScriptedServer] = []

    def start(responses: list[bytes], **options) -> tuple[ScriptedServer, HttpConnection]:
        server = ScriptedServer(responses, **options)
        servers.append(server)
        return server, HttpConnection("127.0.0.1", server.port, timeout=5)

    yield start
    for server in servers:
        server.close()


def ok(body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{header}\r\n" for header in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def chunked(*chunks: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n"


def test_requests_share_one_kept_alive_connection(serve):
    server, connection = serve([ok(b'{"a":1}'), ok(b"second")])
    first = connection.request("GET", "/api/v1/pods?limit=500", headers={"Accept": "application/json"})
    assert (first.status, first.read()) == (200, b'{"a":1}')
    assert connection.request("GET", "/version", headers={}).read() == b"second"
    assert server.connections == 1
    head = server.requests[0].decode()
    assert head.startswith("GET /api/v1/pods?limit=500 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in head and "Accept: application/json\r\n" in head


def test_bodies_and_their_length(serve):
    server, connection = serve([ok(b"{}"), ok(b""), ok(b"")])
    connection.request("POST", "/x", headers={"Content-Type": "application/json"}, body=b'{"k":"v"}').read()
    connection.request("POST", "/y", headers={}).read()
    connection.request("GET", "/z", headers={}).read()
    assert server.requests[0].endswith(b'Content-Length: 9\r\n\r\n{"k":"v"}')
    assert b"Content-Length: 0\r\n" in server.requests[1]  # as http.client sends for a bodiless POST
    assert b"Content-Length" not in server.requests[2]


def test_chunked_body_whole_and_line_by_line(serve):
    _, connection = serve([chunked(b'{"type":"ADDED"}\n{"ty', b'pe":"MODIFIED"}\n', b"tail"),
                           chunked(b"abc", b"def")])
    watch = connection.request("GET", "/watch", headers={})
    assert watch.readline() == b'{"type":"ADDED"}\n'
    assert watch.readline() == b'{"type":"MODIFIED"}\n'
    assert watch.readline() == b"tail"
    assert watch.readline() == b""
    assert connection.request("GET", "/log", headers={}).read() == b"abcdef"  # the connection stays usable


def test_read1_returns_what_has_arrived(serve):
    _, connection = serve([chunked(b"first piece", b"second")])
    log = connection.request("GET", "/log", headers={})
    assert log.read1(5) == b"first"
    assert log.read1(64) == b" piece"
    assert log.read1(64) == b"second"
    assert log.read1(64) == b""


def test_body_until_the_server_closes(serve):
    _, connection = serve([b"HTTP/1.1 200 OK\r\n\r\nno length"], close_after=1)
    response = connection.request("GET", "/", headers={})
    assert response.read() == b"no length"
    assert connection.closed


def test_connection_close_and_bodiless_statuses(serve):
    _, connection = serve([b"HTTP/1.1 204 No Content\r\n\r\n", ok(b"bye", "Connection: close")], close_after=2)
    assert connection.request("DELETE", "/x", headers={}).read() == b""
    assert not connection.closed
    assert connection.request("GET", "/y", headers={}).read() == b"bye"
    assert connection.closed


def test_repeated_headers_are_all_kept(serve):
    _, connection = serve([ok(b"", 'Warning: 299 - "one"', 'warning: 299 - "two"', "Content-Type: text/plain")])
    response = connection.request("GET", "/", headers={})
    assert response.header_values("Warning") == ['299 - "one"', '299 - "two"']
    assert response.header("content-type") == "text/plain"


def test_a_dropped_kept_alive_connection_is_reported(serve):
    _, connection = serve([ok(b"one"), ok(b"two")], close_after=1)
    assert connection.request("GET", "/", headers={}).read() == b"one"
    with pytest.raises((ConnectionClosed, ConnectionResetError, BrokenPipeError)):
        connection.request("GET", "/", headers={})

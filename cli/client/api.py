"""The `orc` client's HTTP connection to the apiserver: one kept-alive connection per command.

Every verb talks to the apiserver through one `ApiClient`: `request`/`get` return the decoded JSON
body, `text` a plain-text body, `stream` the lines of a watch or the bytes of a followed log. Error
responses become `ServerError` (carrying the server's `Status`), a server that cannot be reached
becomes `ConnectionFailed`, and `Warning:` headers are printed on stderr as kubectl prints them.

It is built on cli/client/http11.py rather than httpx or http.client: importing httpx takes 45–85 ms
(it pulls in rich and click for its own CLI), http.client ~20 ms (the `email` package), either a
large part of a whole `kubectl get pods` on 1,000 pods (~100 ms, measured by bench/cli.py). Like
httpx's sync client it is blocking, keeps the connection alive between requests and verifies TLS with
the kubeconfig's CA.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

from cli.client.errors import ConnectionFailed, ServerError
from cli.client.http11 import ConnectionClosed, HttpConnection, Response
from orchestrator.client.resources import quote_segment

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    import ssl
    from typing import Any

    from orchestrator.client.config import ClientConfig

USER_AGENT = "orc/0.1.0"
JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
CONNECT_TIMEOUT_SECONDS = 30.0
STREAM_CHUNK_BYTES = 64 * 1024


def loads(payload: bytes) -> Any:
    return json.loads(payload)


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _query_string(params: dict[str, Any] | None) -> str:
    query = []
    for key, value in (params or {}).items():
        if value is None or value == "":
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        query.append(f"{quote_segment(key)}={quote_segment(text)}")
    return "&".join(query)


def _split_server(server: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path prefix) of `https://host:port/prefix` (IPv6 hosts in brackets)."""
    scheme, _, rest = server.partition("://")
    scheme = scheme.lower() or "https"
    netloc, slash, path = rest.partition("/")
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        host, _, port_text = netloc[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = netloc.partition(":")
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    return scheme, host, port, (slash + path).rstrip("/")


class ApiClient:
    """One apiserver, its credentials and a kept-alive connection to it."""

    def __init__(self, config: ClientConfig):
        self.config = config
        self.scheme, self.hostname, self.port, self.base_path = _split_server(config.server)
        self.host = config.server.partition("://")[2].partition("/")[0]  # as messages name the server
        self._connection: HttpConnection | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._warnings_shown: set[str] = set()
        self._headers = {"User-Agent": USER_AGENT}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"

    def _connect(self) -> HttpConnection:
        import ssl

        if self.scheme == "https" and self._ssl_context is None:
            self._ssl_context = self.config.ssl_context()
        connection = HttpConnection(self.hostname, self.port, ssl_context=self._ssl_context,
                                    timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            connection.connect()
        except ConnectionRefusedError as error:
            raise ConnectionFailed(self.host, refused=True) from error
        except ssl.SSLError as error:
            raise ConnectionFailed(self.host, refused=False, detail=f"tls: {error.reason or error}") from error
        except OSError as error:
            raise ConnectionFailed(self.host, refused=False, detail=str(error) or type(error).__name__) from error
        # The timeout was for connecting; watches and followed logs wait as long as it takes (as kubectl).
        connection.sock.settimeout(None)
        return connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(self, method: str, path: str, *, params: dict[str, Any] | None, body: Any, content_type: str,
              accept: str) -> Response:
        query = _query_string(params)
        target = self.base_path + path + (f"?{query}" if query else "")
        headers = {**self._headers, "Accept": accept}
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else dumps(body)
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            if self._connection is not None and self._connection.closed:
                self._connection = None  # the server ended the last response with `Connection: close`
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            try:
                response = self._connection.request(method, target, body=payload, headers=headers)
            except (ConnectionClosed, ConnectionResetError, BrokenPipeError) as error:
                # A kept-alive connection the server closed meanwhile: reconnect once.
                self.close()
                if reused and attempt == 1:
                    continue
                raise ConnectionFailed(self.host, refused=False, detail=str(error) or "connection closed") from error
            except OSError as error:
                self.close()
                raise ConnectionFailed(self.host, refused=False, detail=str(error)) from error
            break
        self._show_warnings(response)
        if response.status >= 400:
            payload_text = response.read()
            raise _error(response.status, payload_text)
        return response

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                content_type: str = JSON, accept: str = JSON) -> Any:
        """Send one request and return its decoded JSON body (None for an empty one)."""
        response = self._send(method, path, params=params, body=body, content_type=content_type, accept=accept)
        payload = self._read(response)
        return loads(payload) if payload else None

    def get(self, path: str, *, params: dict[str, Any] | None = None, accept: str = JSON) -> Any:
        return self.request("GET", path, params=params, accept=accept)

    def text(self, path: str, *, params: dict[str, Any] | None = None) -> str:
        """A plain-text resource (a pod's log without following)."""
        response = self._send("GET", path, params=params, body=None, content_type=JSON, accept="*/*")
        return self._read(response).decode("utf-8", errors="replace")

    def _read(self, response: Response) -> bytes:
        try:
            return response.read()
        except OSError as error:
            self.close()
            raise ConnectionFailed(self.host, refused=False, detail=str(error)) from error

    def stream(self, path: str, *, params: dict[str, Any] | None = None, accept: str = JSON,
               lines: bool = True) -> Iterator[bytes]:
        """The body of a long-running GET as it arrives: one watch event per line, or raw log bytes."""
        response = self._send("GET", path, params=params, body=None, content_type=JSON, accept=accept)
        try:
            while True:
                chunk = response.readline() if lines else response.read1(STREAM_CHUNK_BYTES)
                if not chunk:
                    return
                if not lines or chunk.strip():
                    yield chunk
        except OSError as error:  # ProtocolError and ConnectionClosed are OSErrors too
            raise ConnectionFailed(self.host, refused=False, detail=str(error) or type(error).__name__) from error
        finally:
            # A stream left unfinished cannot carry another request.
            self.close()

    def _show_warnings(self, response: Response) -> None:
        for header in response.header_values("Warning"):
            text = _warning_text(header)
            if text and text not in self._warnings_shown:
                self._warnings_shown.add(text)
                sys.stderr.write(f"Warning: {text}\n")


def _error(http_code: int, payload: bytes) -> ServerError:
    try:
        body = loads(payload)
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("kind") != "Status":
        text = payload.decode("utf-8", errors="replace").strip()[:500]
        body = {"message": text or None, "code": http_code, "reason": _reason_for(http_code)}
    return ServerError(body, http_code=http_code)


def _reason_for(http_code: int) -> str:
    # client-go's errors.NewGenericServerResponse: a bare HTTP error still gets a reason.
    return {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}.get(http_code, "")


def _warning_text(header: str) -> str:
    """The text of an RFC 7234 `Warning: 299 - "text"` header."""
    parts = header.split(" ", 2)
    if len(parts) == 3 and parts[2].startswith('"'):
        text = parts[2]
        closing = text.rfind('"')
        return text[1:closing].replace('\\"', '"') if closing > 0 else text[1:]
    return header

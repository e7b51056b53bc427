"""The `orc` client's HTTP connection to the apiserver: one kept-alive connection per command.

Every verb talks to the apiserver through one `ApiClient`: `request`/`get` return the decoded JSON
body, `text` a plain-text body, `stream` the lines of a watch or the bytes of a followed log. Error
responses become `ServerError` (carrying the server's `Status`), a server that cannot be reached
becomes `ConnectionFailed`, and `Warning:` headers are printed on stderr as kubectl prints them.

It is built on the standard library's http.client rather than httpx: importing httpx takes 45–85 ms
(it pulls in rich and click for its own CLI), which alone is longer than a whole `kubectl get pods`
on 1,000 pods (~70 ms, measured by bench/cli.py); http.client and json import in ~2 ms. Like httpx's
sync client it is blocking, keeps the connection alive between requests and verifies TLS with the
kubeconfig's CA.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from cli.client.errors import ConnectionFailed, ServerError

if TYPE_CHECKING:
    import http.client

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
        query.append((key, ("true" if value else "false") if isinstance(value, bool) else str(value)))
    return urlencode(query, quote_via=quote)


class ApiClient:
    """One apiserver, its credentials and a kept-alive connection to it."""

    def __init__(self, config: ClientConfig):
        self.config = config
        parts = urlsplit(config.server)
        self.scheme = parts.scheme or "https"
        self.host = parts.netloc
        self.base_path = parts.path.rstrip("/")
        self._connection: http.client.HTTPConnection | None = None
        self._warnings_shown: set[str] = set()
        self._headers = {"User-Agent": USER_AGENT}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"

    def _connect(self) -> http.client.HTTPConnection:
        import http.client
        import ssl

        if self.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, timeout=CONNECT_TIMEOUT_SECONDS, context=self.config.ssl_context())
        else:
            connection = http.client.HTTPConnection(self.host, timeout=CONNECT_TIMEOUT_SECONDS)
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
              accept: str) -> http.client.HTTPResponse:
        import http.client

        query = _query_string(params)
        target = self.base_path + path + (f"?{query}" if query else "")
        headers = {**self._headers, "Accept": accept}
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else dumps(body)
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            try:
                self._connection.request(method, target, body=payload, headers=headers)
                response = self._connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
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

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        try:
            return response.read()
        except OSError as error:
            self.close()
            raise ConnectionFailed(self.host, refused=False, detail=str(error)) from error

    def stream(self, path: str, *, params: dict[str, Any] | None = None, accept: str = JSON,
               lines: bool = True) -> Iterator[bytes]:
        """The body of a long-running GET as it arrives: one watch event per line, or raw log bytes."""
        import http.client

        response = self._send("GET", path, params=params, body=None, content_type=JSON, accept=accept)
        try:
            while True:
                chunk = response.readline() if lines else response.read1(STREAM_CHUNK_BYTES)
                if not chunk:
                    return
                if not lines or chunk.strip():
                    yield chunk
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionFailed(self.host, refused=False, detail=str(error) or type(error).__name__) from error
        finally:
            # A stream left unfinished cannot carry another request.
            self.close()

    def _show_warnings(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Warning") or []:
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

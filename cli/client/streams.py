"""WebSockets to the apiserver for the streaming verbs (`orc exec`, `orc port-forward`).

`open_websocket(connection, path)` connects to `wss://SERVER/PATH` (ws:// for an http server) with
the connection's bearer token and cluster CA, as the HTTP client does for every other request.
A refused handshake carries the apiserver's `Status`: `refusal_message` reads it, and
`server_error_of` turns it into the `ServerError` that prints as kubectl does.

Used by cli/client/execute.py and cli/client/portforward.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

    from cli.client.connection import Connection
    from cli.client.errors import ServerError

OPEN_TIMEOUT_SECONDS = 30


def websocket_url(connection: Connection, path: str) -> str:
    """`path` (from /api/...) on the connection's server, with the WebSocket scheme."""
    client = connection.client
    scheme = "wss" if client.scheme == "https" else "ws"
    return f"{scheme}://{client.host}{client.base_path}{path}"


def open_websocket(connection: Connection, url: str, *, subprotocols: Sequence[str] | None = None) -> ClientConnection:
    """Connect, or raise what websockets raises (InvalidStatus for a refused handshake, OSError, TimeoutError)."""
    from websockets.sync.client import connect

    headers = {}
    if connection.config.token:
        headers["Authorization"] = f"Bearer {connection.config.token}"
    return connect(url, ssl=connection.config.ssl_context() if url.startswith("wss") else None,
                   additional_headers=headers, subprotocols=list(subprotocols) if subprotocols else None,
                   max_size=None, open_timeout=OPEN_TIMEOUT_SECONDS, compression=None)


def _refusal_status(error: Exception) -> tuple[dict | None, bytes, int]:
    response = getattr(error, "response", None)
    body = getattr(response, "body", None) or b""
    status_code = getattr(response, "status_code", 0) or 0
    try:
        status = json.loads(body) if body else None
    except ValueError:
        status = None
    return (status if isinstance(status, dict) else None), body, status_code


def refusal_message(error: Exception) -> str:
    """The apiserver's `Status` message of a refused handshake, else its body, else the error itself."""
    status, body, _ = _refusal_status(error)
    if status is not None and status.get("message"):
        return status["message"]
    return body.decode(errors="replace").strip() if body else str(error)


def server_error_of(error: Exception) -> ServerError | None:
    """The refused handshake as a ServerError (`Error from server (BadRequest): ...`), if it carried a Status."""
    from cli.client.errors import ServerError

    status, _, status_code = _refusal_status(error)
    if status is None or status.get("kind") != "Status":
        return None
    return ServerError(status, http_code=status_code)

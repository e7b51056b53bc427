"""uvicorn's WebSocket protocol, accepting the subprotocol names Kubernetes clients offer.

kubectl 1.30+ opens `pods/portforward` as a WebSocket offering the subprotocol
`SPDY/3.1+portforward.k8s.io` (KEP-4006). Its `/` is not an RFC 7230 token character, so the
`websockets` library under uvicorn refuses the whole handshake with 400 before the application
sees it, and kubectl falls back to a raw SPDY upgrade that uvicorn cannot serve. kube-apiserver
(gorilla/websocket) just splits the header on commas; so does this protocol, and then lets the
application pick the subprotocol in `websocket.accept` as usual.

`serve()` in app.py passes `KubernetesWebSocketProtocol` as uvicorn's `ws` implementation.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol


class _CommaSplittingServerProtocol(ServerProtocol):
    def process_subprotocol(self, headers: Headers) -> Subprotocol | None:
        offered = [Subprotocol(token.strip()) for value in headers.get_all("Sec-WebSocket-Protocol")
                   for token in value.split(",") if token.strip()]
        # uvicorn configures no server-side list, so this selects nothing: the ASGI app's
        # `accept(subprotocol=...)` names the answer.
        return self.select_subprotocol(offered)


class KubernetesWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn builds its ServerProtocol itself; the subclass only overrides one method and
        # adds no state, so the instance can take its class.
        self.conn.__class__ = _CommaSplittingServerProtocol

"""Relays `pods/log`, `pods/exec` and `pods/portforward` to the kubelet of the pod's node.

The apiserver finds the kubelet from the Node object (`status.addresses` InternalIP
and `status.daemonEndpoints.kubeletEndpoint.Port`) and relays the kubelet's answer
as it arrives, so `kubectl logs -f` follows the container. `exec` is non-interactive
(`orc exec`): the output comes back as the body, the exit code in `X-Orc-Exit-Code`.
`portforward` is a WebSocket of binary frames relayed to the kubelet's own WebSocket.

Used by `rest.py` (log, exec) and by `app.py` (the portforward WebSocket route).
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from orchestrator.api import errors

EXIT_CODE_HEADER = "X-Orc-Exit-Code"
LOG_PARAMS = ("container", "follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes")


class KubeletProxy:
    def __init__(self, *, token: str | None = None):
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def kubelet_url(self, request: Request | WebSocket, node_name: str) -> str:
        handler = request.app.state.shared["handler"]
        node = await handler.storage.get(handler.storage.key("nodes", None, node_name))
        if node is None:
            raise errors.NotFound.for_object(resource="nodes", group="", name=node_name)
        status = node.get("status") or {}
        port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
        address = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), None)
        if not port or not address:
            raise errors.ServiceUnavailable(f'node "{node_name}" publishes no kubelet endpoint')
        return f"http://{address}:{port}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def exec(self, request: Request, pod: dict) -> Response:
        """Run `?command=..&command=..` in `?container=` (default: the only one) and answer its output."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if request.method not in ("GET", "POST"):
            raise errors.MethodNotAllowed(f"the server does not allow this method on the requested resource "
                                          f"({request.method})")
        command = request.query_params.getlist("command")
        if not command:
            raise errors.BadRequest("you must specify at least one command for the container")
        if request.headers.get("upgrade") or request.query_params.get("stdin") in ("1", "true"):
            raise errors.BadRequest("interactive exec (SPDY/WebSocket streams) is not supported by this apiserver "
                                    "yet; use `orc exec` without -i/-t")
        containers = [c["name"] for c in spec.get("containers") or []]
        container = request.query_params.get("container")
        if container is None:
            if len(containers) != 1:
                raise errors.BadRequest(f"a container name must be specified for pod {meta['name']}, "
                                        f"choose one of: [{' '.join(containers)}]")
            container = containers[0]
        elif container not in containers:
            raise errors.BadRequest(f"container {container} is not valid for pod {meta['name']}")
        node_name = self._node_name(pod, container)
        url = f"{await self.kubelet_url(request, node_name)}/exec/{meta['namespace']}/{meta['name']}/{container}"
        try:
            async with self.session().post(url, params=[("command", part) for part in command],
                                           headers=self._headers()) as response:
                body = await response.read()
                exit_code = response.headers.get(EXIT_CODE_HEADER)
                status = response.status
        except aiohttp.ClientError as error:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet of node {node_name}: {error}") from error
        if status != 200:
            raise errors.BadRequest(body.decode(errors="replace").strip() or f"kubelet answered {status}")
        return Response(body, media_type="application/octet-stream", headers={EXIT_CODE_HEADER: exit_code or "-1"})

    async def port_forward(self, websocket: WebSocket, pod: dict, port: int) -> None:
        """Relay an accepted-to-be WebSocket to the kubelet's portForward of `pod`:`port`.

        Failures before the relay starts (no node, kubelet refuses) raise APIError; the caller
        turns them into a denial response."""
        meta = pod["metadata"]
        node_name = self._node_name(pod, None)
        url = f"{await self.kubelet_url(websocket, node_name)}/portForward/{meta['namespace']}/{meta['name']}"
        try:
            upstream = await self.session().ws_connect(url, params={"port": str(port)}, headers=self._headers(),
                                                       max_msg_size=0, autoping=True)
        except aiohttp.WSServerHandshakeError as error:
            raise errors.BadRequest(f"error upgrading connection: the kubelet answered {error.status}: "
                                    f"{error.message}") from error
        except aiohttp.ClientError as error:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet of node {node_name}: {error}") from error
        await websocket.accept()

        async def client_to_kubelet() -> None:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes"):
                    await upstream.send_bytes(message["bytes"])

        async def kubelet_to_client() -> None:
            async for message in upstream:
                if message.type == aiohttp.WSMsgType.BINARY:
                    await websocket.send_bytes(message.data)
                elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    return

        tasks = [asyncio.create_task(client_to_kubelet()), asyncio.create_task(kubelet_to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, ConnectionError, RuntimeError):
                    await task
            await upstream.close()
            # Closing twice (the client already went away) is harmless to the peer but raises here.
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, ConnectionError):
                await websocket.close()

    @staticmethod
    def _node_name(pod: dict, container: str | None) -> str:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            subject = f'container "{container}" in pod' if container else "pod"
            raise errors.BadRequest(f'{subject} "{pod["metadata"]["name"]}" is waiting to start: '
                                    "pod is not scheduled yet")
        return node_name

    async def logs(self, request: Request, pod: dict) -> StreamingResponse:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        params = {k: v for k, v in request.query_params.items() if k in LOG_PARAMS}
        containers = [c["name"] for c in spec.get("containers") or []]
        init_containers = [c["name"] for c in spec.get("initContainers") or []]
        container = params.pop("container", None)
        if container is None:
            if len(containers) != 1:
                raise errors.BadRequest(
                    f"a container name must be specified for pod {meta['name']}, choose one of: [{' '.join(containers)}]"
                    + (f" or one of the init containers: [{' '.join(init_containers)}]" if init_containers else ""))
            container = containers[0]
        elif container not in containers + init_containers:
            raise errors.BadRequest(f"container {container} is not valid for pod {meta['name']}")
        node_name = spec.get("nodeName")
        if not node_name:
            raise errors.BadRequest(f'container "{container}" in pod "{meta["name"]}" is waiting to start: '
                                    "pod is not scheduled yet")
        url = f"{await self.kubelet_url(request, node_name)}/containerLogs/{meta['namespace']}/{meta['name']}/{container}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self.session().get(url, params=params, headers=headers)
        except aiohttp.ClientError as error:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet of node {node_name}: {error}") from error
        if response.status != 200:
            text = await response.text()
            response.release()
            raise errors.BadRequest(text.strip() or f"kubelet answered {response.status}")

        async def relay():
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            finally:
                response.release()

        return StreamingResponse(relay(), media_type="text/plain")

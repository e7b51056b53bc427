"""Relays `pods/log`, `pods/exec` and `pods/portforward` to the kubelet of the pod's node.

The apiserver finds the kubelet from the Node object (`status.addresses` InternalIP
and `status.daemonEndpoints.kubeletEndpoint.Port`) and relays the kubelet's answer
as it arrives, so `kubectl logs -f` follows the container. `exec` is a WebSocket speaking
Kubernetes' remote-command protocol (orchestrator/api/remotecommand.py, `kubectl exec` and
`orc exec`), checked here against the pod and relayed frame for frame to the kubelet's.
`portforward` is a WebSocket of binary frames relayed to the kubelet's own WebSocket, either
one per connection (`orc port-forward`) or one per SPDY stream pair of kubectl's tunnel (portforward.py).

Used by `rest.py` (log, exec without upgrade), by `app.py` (the exec and portforward WebSocket routes)
and by portforward.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import aiohttp
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from orchestrator.api import errors, remotecommand

PORT_FORWARD_ERROR_HEADER = "X-Orc-Port-Forward-Error"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
# A busy machine may drop a SYN or two (each retransmit waits 1, 2, 4 s); a kubelet that accepts but
# never answers the upgrade must not hold the client's exec or port-forward forever either.
KUBELET_CONNECT_TIMEOUT_SECONDS = 15
KUBELET_DIAL_TIMEOUT_SECONDS = 20
LOG_PARAMS = ("container", "follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes")


class KubeletProxy:
    def __init__(self, *, token: str | None = None):
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=KUBELET_CONNECT_TIMEOUT_SECONDS))
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

    async def exec_url(self, request: Request | WebSocket, pod: dict) -> tuple[str, remotecommand.ExecOptions]:
        """Check an exec request against the pod, as kube-apiserver and the kubelet do (the command,
        the streams, the container, a bound and running container), and give the kubelet's URL with
        the options to send there. Raises APIError (a `Status` for the client)."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        params = request.query_params
        options = remotecommand.parse_exec_options(params, params.getlist("command"))
        container = options.container or default_container(pod)
        if container not in [c["name"] for key in ("containers", "initContainers") for c in spec.get(key) or []]:
            raise errors.BadRequest(f"container {container} is not valid for pod {meta['name']}")
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise errors.BadRequest(f"cannot exec into a container in a completed pod; current phase is {phase}")
        if not spec.get("nodeName"):
            raise errors.BadRequest(f"pod {meta['name']} does not have a host assigned")
        statuses = [s for key in ("containerStatuses", "initContainerStatuses")
                    for s in (pod.get("status") or {}).get(key) or []]
        container_status = next((s for s in statuses if s.get("name") == container), None)
        if container_status is None or (container_status.get("state") or {}).get("running") is None:
            raise errors.BadRequest(f'container not found ("{container}")')
        url = f"{await self.kubelet_url(request, spec['nodeName'])}/exec/{meta['namespace']}/{meta['name']}/{container}"
        return url, dataclasses.replace(options, container=container)

    async def exec(self, websocket: WebSocket, pod: dict) -> None:
        """Relay an accepted-to-be `pods/exec` WebSocket (remote-command protocol v5/v4) to the kubelet.

        The subprotocol is chosen here (the client's first that both speak) and asked of the kubelet;
        frames then pass through unchanged, the kubelet's final `Status` frame and close included.
        Failures before the relay starts raise APIError; the caller turns them into a denial."""
        url, options = await self.exec_url(websocket, pod)
        offered = websocket.scope.get("subprotocols") or []
        protocol = remotecommand.negotiate_protocol(offered)
        if protocol is None:
            raise errors.BadRequest(remotecommand.unsupported_protocols_message(offered))
        try:
            upstream = await asyncio.wait_for(
                self.session().ws_connect(url, params=options.query(), protocols=(protocol,), headers=self._headers(),
                                          max_msg_size=0, autoping=True),
                KUBELET_DIAL_TIMEOUT_SECONDS)
        except aiohttp.WSServerHandshakeError as error:
            raise errors.BadRequest(f"error upgrading connection: the kubelet answered {error.status} "
                                    f"{error.message}") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.ServiceUnavailable(kubelet_unreachable(url, error)) from error
        await websocket.accept(subprotocol=protocol)
        await self.relay(websocket, upstream)

    async def exec_without_upgrade(self, request: Request, pod: dict) -> Response:
        """A plain HTTP exec (kubectl's SPDY fallback, or a client without WebSocket): the request is
        checked as an upgrade would be, so its errors read the same, then refused."""
        await self.exec_url(request, pod)
        raise errors.BadRequest("Upgrade request required: pods/exec is served as a WebSocket "
                                f"({', '.join(remotecommand.SUPPORTED_PROTOCOLS)}); SPDY is not supported")

    async def port_forward_url(self, request: Request | WebSocket, pod: dict) -> str:
        """The kubelet's `/portForward` URL for `pod` (APIError when the pod has no node or the node no kubelet)."""
        meta = pod["metadata"]
        node_name = self._node_name(pod, None)
        return f"{await self.kubelet_url(request, node_name)}/portForward/{meta['namespace']}/{meta['name']}"

    async def dial_port_forward(self, url: str, port: int) -> aiohttp.ClientWebSocketResponse:
        """Open the kubelet's WebSocket to `port` of the pod at `url`; APIError with the kubelet's reason if refused."""
        try:
            return await asyncio.wait_for(
                self.session().ws_connect(url, params={"port": str(port)}, headers=self._headers(), max_msg_size=0,
                                          autoping=True),
                KUBELET_DIAL_TIMEOUT_SECONDS)
        except aiohttp.WSServerHandshakeError as error:
            # A refused WebSocket handshake loses its body in aiohttp: the kubelet repeats it in a header.
            reason = (error.headers or {}).get(PORT_FORWARD_ERROR_HEADER) or f"the kubelet answered {error.status}"
            raise errors.BadRequest(reason) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.ServiceUnavailable(kubelet_unreachable(url, error)) from error

    async def port_forward(self, websocket: WebSocket, pod: dict, port: int) -> None:
        """Relay an accepted-to-be WebSocket to the kubelet's portForward of `pod`:`port` (`orc port-forward`).

        Failures before the relay starts (no node, kubelet refuses) raise APIError; the caller
        turns them into a denial response."""
        upstream = await self.dial_port_forward(await self.port_forward_url(websocket, pod), port)
        await websocket.accept()
        await self.relay(websocket, upstream)

    @staticmethod
    async def relay(websocket: WebSocket, upstream: aiohttp.ClientWebSocketResponse) -> None:
        """Pass binary messages both ways between an accepted client WebSocket and the kubelet's, until
        either side closes; then close both (the client with a normal closure)."""

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


def kubelet_unreachable(url: str, error: Exception) -> str:
    """kube-apiserver's words for a kubelet it cannot dial (503), with what went wrong."""
    reason = str(error) or f"no answer within {KUBELET_DIAL_TIMEOUT_SECONDS}s"
    return f"error dialing backend: cannot reach the kubelet at {url}: {reason}"


def default_container(pod: dict) -> str:
    """The container an exec without `?container=` means: the `kubectl.kubernetes.io/default-container`
    annotation's, else the only one; several and no annotation is kube-apiserver's error."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    containers = [c["name"] for c in spec.get("containers") or []]
    annotated = (meta.get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if annotated in containers:
        return annotated
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise errors.BadRequest(f"a container name must be specified for pod {meta['name']}")
    init_containers = [c["name"] for c in spec.get("initContainers") or []]
    raise errors.BadRequest(f"a container name must be specified for pod {meta['name']}, choose one of: "
                            f"[{' '.join(containers)}]"
                            + (f" or one of the init containers: [{' '.join(init_containers)}]" if init_containers
                               else ""))

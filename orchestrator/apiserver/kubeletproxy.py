"""Streams `pods/log` (and later exec) from the kubelet of the pod's node.

The apiserver finds the kubelet from the Node object (`status.addresses` InternalIP
and `status.daemonEndpoints.kubeletEndpoint.Port`) and relays the kubelet's answer
as it arrives, so `kubectl logs -f` follows the container.

Used by `rest.py` for the `pods/log` subresource.
"""

from __future__ import annotations

import aiohttp
from starlette.requests import Request
from starlette.responses import StreamingResponse

from orchestrator.api import errors

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

    async def kubelet_url(self, request: Request, node_name: str) -> str:
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

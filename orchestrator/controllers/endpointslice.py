"""The EndpointSlice mirroring controller: one EndpointSlice per Endpoints object.

kubectl 1.32 reads a Service's endpoints from EndpointSlices labelled
`kubernetes.io/service-name`, so every Endpoints object the endpoints controller
writes is mirrored into an EndpointSlice of the same name (Kubernetes' mirroring
controller does the same for Endpoints written by hand). The plan is a pure function
of the Endpoints object; sync creates, replaces or deletes the slice to match.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import ENDPOINTS, ENDPOINTSLICES
from orchestrator.controllers.base import Controller, SharedInformers

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslicemirroring-controller.k8s.io"


def plan_endpoint_slice(endpoints: dict) -> dict:
    """The EndpointSlice mirroring `endpoints` (ports of its subsets merged, readiness kept)."""
    meta = endpoints["metadata"]
    slice_endpoints: list[dict] = []
    ports: list[dict] = []
    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            # kubectl dereferences the port name: unnamed ports carry "" as Kubernetes writes them.
            mirrored = {"name": port.get("name", ""), "port": port.get("port"), "protocol": port.get("protocol", "TCP")}
            if port.get("appProtocol"):
                mirrored["appProtocol"] = port["appProtocol"]
            if mirrored not in ports:
                ports.append(mirrored)
        for ready, addresses in ((True, subset.get("addresses")), (False, subset.get("notReadyAddresses"))):
            for address in addresses or []:
                endpoint: dict[str, Any] = {"addresses": [address["ip"]],
                                            "conditions": {"ready": ready, "serving": ready, "terminating": False}}
                for key in ("hostname", "nodeName", "targetRef"):
                    if address.get(key):
                        endpoint[key] = copy.deepcopy(address[key])
                slice_endpoints.append(endpoint)
    labels = {**(meta.get("labels") or {}), SERVICE_NAME_LABEL: meta["name"], MANAGED_BY_LABEL: MANAGED_BY}
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "labels": labels},
        "addressType": "IPv4",
        "endpoints": slice_endpoints,
        "ports": ports,
    }


def _content(endpoint_slice: dict) -> tuple:
    endpoints = copy.deepcopy(endpoint_slice.get("endpoints") or [])
    for endpoint in endpoints:
        (endpoint.get("targetRef") or {}).pop("resourceVersion", None)
    return ((endpoint_slice.get("metadata") or {}).get("labels"), endpoints, endpoint_slice.get("ports") or [],
            endpoint_slice.get("addressType"))


class EndpointSliceMirroringController(Controller):
    name = "endpointslice-mirroring"

    def __init__(self, client: Any, informers: SharedInformers, *, workers: int = 2):
        super().__init__(workers=workers)
        self.client = client
        self.endpoints = informers.get(ENDPOINTS)
        self.slices = informers.get(ENDPOINTSLICES)
        self.endpoints.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                   on_delete=self.enqueue)
        self.slices.add_handler(on_update=lambda old, new: self.enqueue(new), on_delete=self.enqueue)

    async def sync(self, key: str) -> None:
        namespace, _, name = key.rpartition("/")
        endpoints = self.endpoints.get(key)
        current = self.slices.get(key)
        if endpoints is None:
            if current is not None and (current["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY:
                try:
                    await self.client.delete(ENDPOINTSLICES, name, namespace=namespace)
                except NotFound:
                    pass
                self.log.info("endpointslice %s: deleted (endpoints gone)", key)
            return
        desired = plan_endpoint_slice(endpoints)
        if current is None:
            await self.client.create(ENDPOINTSLICES, desired, namespace=namespace)
            self.log.info("endpointslice %s: created with %d endpoints", key, len(desired["endpoints"]))
        elif _content(current) != _content(desired):
            desired["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            await self.client.update(ENDPOINTSLICES, desired, namespace=namespace)
            self.log.info("endpointslice %s: updated with %d endpoints", key, len(desired["endpoints"]))

"""The Endpoints controller: each Service with a selector gets an Endpoints object of its name.

As pkg/controller/endpoint: the pods the selector matches that have an IP and are
neither finished nor terminating become addresses (`targetRef` Pod, `nodeName`);
ready ones under `addresses`, the others under `notReadyAddresses` (all of them
ready when the Service sets `publishNotReadyAddresses`). Ports come from the Service:
a numeric `targetPort` as is, a named one resolved per pod from its containers'
ports, so pods exposing the name on different numbers land in different subsets.
Services without a selector (and ExternalName ones) are left alone: their Endpoints
are written by hand. `plan_endpoints` is the pure part; a pod change enqueues every
Service selecting it (before or after), so Endpoints follow readiness at once.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.apiserver.selectors import selector_from_set
from orchestrator.client.informer import key_of
from orchestrator.client.resources import ENDPOINTS, PODS, SERVICES
from orchestrator.controllers.base import NAMESPACE_INDEX, Controller, SharedInformers, labels_of
from orchestrator.controllers.podutil import is_pod_ready, is_pod_terminal, pod_ip

HEADLESS_SERVICE_LABEL = "service.kubernetes.io/headless"


def should_pod_be_in_endpoints(pod: dict, *, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints: not finished, has an IP, not terminating."""
    if is_pod_terminal(pod) or pod_ip(pod) is None:
        return False
    return include_terminating or not (pod.get("metadata") or {}).get("deletionTimestamp")


def find_port(pod: dict, service_port: dict) -> int | None:
    """podutil.FindPort: the pod's port for a Service port (a named targetPort looked up per pod)."""
    target = service_port.get("targetPort")
    if target is None or target == 0 or target == "":
        return service_port.get("port")
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    # Sidecars (init containers that keep running) serve named ports too.
    containers = [*(spec.get("containers") or []),
                  *(c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always")]
    for container in containers:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return port.get("containerPort")
    return None


def _endpoint_address(pod: dict) -> dict:
    metadata = pod["metadata"]
    address = {
        "ip": pod_ip(pod),
        "targetRef": {"kind": "Pod", "namespace": metadata.get("namespace"), "name": metadata["name"],
                      "uid": metadata.get("uid")},
    }
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        address["nodeName"] = node_name
    hostname = (pod.get("spec") or {}).get("hostname")
    if hostname:
        address["hostname"] = hostname
    return address


def _endpoint_port(service_port: dict, number: int) -> dict:
    port = {"port": number, "protocol": service_port.get("protocol") or "TCP"}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _address_sort_key(address: dict) -> tuple[str, str]:
    return address.get("ip") or "", (address.get("targetRef") or {}).get("uid") or ""


def _port_sort_key(port: dict) -> tuple:
    return port.get("name") or "", port.get("port") or 0, port.get("protocol") or ""


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def endpoint_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """The subsets for the Service's selected pods, packed as RepackSubsets does:
    addresses that offer the same set of ports share one subset; everything sorted."""
    spec = service.get("spec") or {}
    tolerate_unready = bool(spec.get("publishNotReadyAddresses"))
    service_ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    addresses: dict[tuple, tuple[dict, bool]] = {}  # (ip, uid) -> (address, ready)
    addresses_by_port: dict[Any, set[tuple]] = {}  # frozen port (None: a headless Service's no-port) -> addresses
    port_values: dict[Any, dict] = {}
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        address = _endpoint_address(pod)
        identity = (address["ip"], address["targetRef"]["uid"])
        ready = tolerate_unready or is_pod_ready(pod)
        if not service_ports:
            if headless:  # a headless Service may have no ports: its pods are endpoints all the same
                addresses[identity] = (address, ready)
                addresses_by_port.setdefault(None, set()).add(identity)
            continue
        for service_port in service_ports:
            number = find_port(pod, service_port)
            if number is None:
                continue
            port = _endpoint_port(service_port, number)
            addresses[identity] = (address, ready)
            addresses_by_port.setdefault(_frozen(port), set()).add(identity)
            port_values[_frozen(port)] = port
    # Ports offered by exactly the same addresses share a subset.
    ports_by_address_set: dict[frozenset, list] = {}
    for frozen_port, identities in addresses_by_port.items():
        ports_by_address_set.setdefault(frozenset(identities), []).append(frozen_port)
    subsets = []
    for identities, frozen_ports in ports_by_address_set.items():
        ready = sorted((addresses[i][0] for i in identities if addresses[i][1]), key=_address_sort_key)
        not_ready = sorted((addresses[i][0] for i in identities if not addresses[i][1]), key=_address_sort_key)
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        ports = [port_values[p] for p in frozen_ports if p is not None]
        if ports:
            subset["ports"] = sorted(ports, key=_port_sort_key)
        subsets.append(subset)
    return sorted(subsets, key=lambda subset: (_frozen(subset.get("ports") or []),
                                               _frozen(subset.get("addresses") or []),
                                               _frozen(subset.get("notReadyAddresses") or [])))


def _strip_resource_versions(subsets: list[dict]) -> list[dict]:
    stripped = copy.deepcopy(subsets)
    for subset in stripped:
        for kind in ("addresses", "notReadyAddresses"):
            for address in subset.get(kind) or []:
                (address.get("targetRef") or {}).pop("resourceVersion", None)
    return stripped


def plan_endpoints(service: dict, pods: list[dict], current: dict | None) -> dict | None:
    """The Endpoints object to write for a Service (create when `current` is None), or None if up to date.

    `pods` are the namespace's pods; the Service's selector picks among them.
    """
    spec = service.get("spec") or {}
    selector = selector_from_set(spec.get("selector"))
    selected = [pod for pod in pods if selector.matches(labels_of(pod))]
    subsets = endpoint_subsets(service, selected)
    labels = dict(labels_of(service))
    if spec.get("clusterIP") == "None":
        labels[HEADLESS_SERVICE_LABEL] = ""
    if current is not None:
        current_labels = labels_of(current)
        if (_strip_resource_versions(current.get("subsets") or []) == subsets and current_labels == labels):
            return None
        desired = copy.deepcopy(current)
    else:
        metadata = service["metadata"]
        desired = {"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace")}}
    desired["metadata"]["labels"] = labels
    if not labels:
        desired["metadata"].pop("labels")
    desired["subsets"] = subsets
    if not subsets:
        desired.pop("subsets")
    return desired


def services_selecting(pod: dict, services: list[dict]) -> list[dict]:
    """The Services (of the pod's namespace) whose selector matches the pod."""
    selecting = []
    for service in services:
        selector = (service.get("spec") or {}).get("selector")
        if selector and selector_from_set(selector).matches(labels_of(pod)):
            selecting.append(service)
    return selecting


class EndpointsController(Controller):
    name = "endpoints"

    def __init__(self, client: Any, informers: SharedInformers, *, workers: int = 5):
        super().__init__(workers=workers)
        self.client = client
        self.services = informers.get(SERVICES, indexes=[NAMESPACE_INDEX])
        self.endpoints = informers.get(ENDPOINTS)
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX])
        self.services.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                  on_delete=self.enqueue)
        # A changed or deleted Endpoints object is put back as the Service says.
        self.endpoints.add_handler(on_update=lambda old, new: self._endpoints_changed(new),
                                   on_delete=self._endpoints_changed)
        self.pods.add_handler(on_add=self._pod_changed, on_update=self._pod_updated, on_delete=self._pod_changed)

    def _endpoints_changed(self, endpoints: dict) -> None:
        if self.services.get(key_of(endpoints)) is not None:
            self.enqueue(endpoints)

    def _pod_changed(self, pod: dict) -> None:
        namespace = pod["metadata"].get("namespace") or ""
        for service in services_selecting(pod, self.services.by_index(NAMESPACE_INDEX, namespace)):
            self.enqueue(service)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        self._pod_changed(new)
        if labels_of(old) != labels_of(new):
            self._pod_changed(old)  # the Services it left must drop it

    async def sync(self, key: str) -> None:
        service = self.services.get(key)
        namespace, _, name = key.rpartition("/")
        if service is None:
            # The Service is gone: so is its Endpoints object.
            if self.endpoints.get(key) is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, namespace=namespace)
                except NotFound:
                    pass
                self.log.info("endpoints %s: deleted (service gone)", key)
            return
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName" or not spec.get("selector"):
            return
        current = self.endpoints.get(key)
        desired = plan_endpoints(service, self.pods.by_index(NAMESPACE_INDEX, namespace), current)
        if desired is None:
            return
        if current is None:
            await self.client.create(ENDPOINTS, desired, namespace=namespace)
        else:
            await self.client.update(ENDPOINTS, desired, namespace=namespace)
        subsets = desired.get("subsets") or []
        ready = sum(len(subset.get("addresses") or []) for subset in subsets)
        not_ready = sum(len(subset.get("notReadyAddresses") or []) for subset in subsets)
        self.log.info("endpoints %s: %s with %d ready and %d not-ready addresses", key,
                      "created" if current is None else "updated", ready, not_ready)

"""The addresses of LoadBalancer Services: who writes `status.loadBalancer.ingress`, and what.

There is no cloud here, so the nodes themselves are the load balancer (as k3s's
servicelb and Docker Desktop do): the proxies already answer a Service's port on
every ingress address. `desired_ingress(nodes)` says which addresses: a one-node
cluster (`orc up`) is reached on 127.0.0.1, like Docker Desktop's `localhost`; a
multi-node cluster on its Ready nodes' InternalIPs.

`LoadBalancerStatusController` writes them, as Kubernetes' service controller
does for a cloud: one sync per Service key, from the informers' caches, writing
status only when it differs. Every proxy runs one; they all compute the same
answer from the same objects, so at most one write lands and the others find
nothing to do (a 409 from a concurrent write is retried and then is a no-op).
Services with a `loadBalancerClass` belong to another implementation and are left alone.

Run by the proxy (main.py).
"""

from __future__ import annotations

import copy
import logging

from orchestrator.api.errors import Conflict, NotFound
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import SERVICES
from orchestrator.client.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)

LOOPBACK_INGRESS = "127.0.0.1"


def desired_ingress(nodes: list[dict]) -> list[dict]:
    """`status.loadBalancer.ingress` for every LoadBalancer Service of a cluster with these nodes."""
    if len(nodes) == 1:
        return [{"ip": LOOPBACK_INGRESS, "ipMode": "VIP"}]
    addresses = []
    for node in nodes:
        if not _is_ready(node):
            continue
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP" and address.get("address"):
                addresses.append(address["address"])
                break
    return [{"ip": address, "ipMode": "VIP"} for address in sorted(set(addresses))]


def _is_ready(node: dict) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(condition.get("type") == "Ready" and condition.get("status") == "True" for condition in conditions)


def status_update(service: dict, nodes: list[dict]) -> dict | None:
    """The Service with the load-balancer status it should have, or None when it already has it."""
    spec = service.get("spec") or {}
    current = (service.get("status") or {}).get("loadBalancer") or {}
    if spec.get("type") == "LoadBalancer":
        if spec.get("loadBalancerClass"):
            return None
        wanted = {"ingress": desired_ingress(nodes)} if nodes else {}
    else:
        wanted = {}  # no longer a LoadBalancer: its addresses go (as the service controller does)
    if _same_ingress(current, wanted):
        return None
    updated = copy.deepcopy(service)
    updated.setdefault("status", {})["loadBalancer"] = wanted
    return updated


def _same_ingress(current: dict, wanted: dict) -> bool:
    def addresses(status: dict) -> list[tuple]:
        return [(entry.get("ip"), entry.get("hostname")) for entry in status.get("ingress") or []]

    return addresses(current) == addresses(wanted)


class LoadBalancerStatusController:
    """Keeps `status.loadBalancer` of LoadBalancer Services equal to `desired_ingress(nodes)`."""

    def __init__(self, client, *, services: Informer, nodes: Informer):
        self.client = client
        self.services = services
        self.nodes = nodes
        self.queue = WorkQueue()
        services.add_handler(on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new),
                             on_delete=None)
        nodes.add_handler(on_add=self._enqueue_all, on_update=self._node_changed, on_delete=self._enqueue_all)

    def _enqueue(self, service: dict) -> None:
        spec = service.get("spec") or {}
        status = (service.get("status") or {}).get("loadBalancer") or {}
        if spec.get("type") == "LoadBalancer" or status.get("ingress"):
            self.queue.add(key_of(service))

    def _enqueue_all(self, _node: dict) -> None:
        for service in self.services.list():
            self._enqueue(service)

    def _node_changed(self, old: dict, new: dict) -> None:
        if _is_ready(old) != _is_ready(new) or (old.get("status") or {}).get("addresses") != (
                new.get("status") or {}).get("addresses"):
            self._enqueue_all(new)

    async def run(self) -> None:
        await self.services.wait_synced()
        await self.nodes.wait_synced()
        try:
            await run_workers(self.queue, self.sync, workers=1, logger=log)
        finally:
            self.queue.shutdown()

    async def sync(self, key: str) -> None:
        service = self.services.get(key)
        if service is None:
            return
        updated = status_update(service, self.nodes.list())
        if updated is None:
            return
        try:
            await self.client.update(SERVICES, updated, subresource="status")
        except NotFound:
            return
        except Conflict:
            # Someone (another proxy) wrote first: look again once our cache has their write.
            self.queue.add_after(key, 0.5)
            return
        ingress = [entry.get("ip") for entry in updated["status"]["loadBalancer"].get("ingress") or []]
        log.info("service %s: load balancer ingress %s", key, ", ".join(ingress) or "<none>")

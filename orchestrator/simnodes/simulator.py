"""Simulated nodes, like KWOK: many fake kubelets in one process, no containers anywhere.

`SimulatedNodes` registers `<prefix>-0 .. <prefix>-(N-1)`, then acts as each node's kubelet:
  * renews the node's Lease in `kube-node-lease` every 10 s (each node at its own jittered
    phase, at most `concurrency` requests in flight, so 5,000 nodes cost a steady trickle);
  * reports node status every 5 minutes, and at once when someone else (the node lifecycle
    controller) marked the node not Ready while it is alive;
  * marks the pods bound to its nodes Running and Ready through `pods/<name>/status`
    (a container whose readiness probe is `exec: [false]` stays unready, as it would);
  * confirms graceful deletions: a pod with a deletionTimestamp is deleted with grace 0.
`stop_heartbeats(name)` makes one node's kubelet go silent (no lease, no status, no pod work)
as if it crashed; `resume_heartbeats(name)` brings it back. Tests run this in-process as an
asyncio task; `orc sim-nodes` runs it through main.py.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, Conflict, NotFound
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import LEASES, NODES, PODS
from orchestrator.client.rest import ApiUnavailable
from orchestrator.client.workqueue import WorkQueue, run_workers
from orchestrator.simnodes.objects import (
    NODE_LEASE_NAMESPACE,
    SIM_LABEL,
    SIM_LABEL_VALUE,
    IpPool,
    new_lease,
    new_node,
    node_address,
    node_conditions,
    renewed_lease,
    running_pod_status,
    status_summary,
)

log = logging.getLogger(__name__)

LEASE_RENEW_SECONDS = 10.0  # kubelet: leaseDuration (40 s) x 0.25
LEASE_RENEW_JITTER = 0.04  # kubelet's JitterUntil factor
NODE_STATUS_REPORT_SECONDS = 300.0  # nodeStatusReportFrequency when nothing changed
DEFAULT_CONCURRENCY = 32
POD_WORKERS = 16
NODE_WORKERS = 4
_LEASE, _STATUS = "lease", "status"


def _is_ready(node: dict) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


class SimulatedNodes:
    def __init__(
        self,
        client: Any,  # an ApiClient
        *,
        count: int,
        name_prefix: str = "sim",
        cpu: str = "4",
        memory: str = "16Gi",
        pods: int = 110,
        first_index: int = 0,
        pod_cidr: str = "10.244.0.0/16",
        lease_renew_seconds: float = LEASE_RENEW_SECONDS,
        status_report_seconds: float = NODE_STATUS_REPORT_SECONDS,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self.client = client
        self.cpu, self.memory, self.pods = cpu, memory, pods
        self.node_names = [f"{name_prefix}-{index}" for index in range(first_index, first_index + count)]
        self._index_of = {name: first_index + i for i, name in enumerate(self.node_names)}
        self.lease_renew_seconds = lease_renew_seconds
        self.status_report_seconds = status_report_seconds
        self.concurrency = concurrency
        self._clock = clock
        self._rng = rng or random.Random()
        self._ip_pool = IpPool(pod_cidr)
        self._stopped: set[str] = set()
        self._node_uids: dict[str, str] = {}
        self._leases: dict[str, dict] = {}  # as last written: the next renewal PUTs on top of it
        self._heartbeats: list[tuple[float, str, str]] = []  # (due, kind, node name)
        self._heartbeat_added = asyncio.Event()
        self._registered = asyncio.Event()
        self._side_tasks: set[asyncio.Task] = set()
        self.pod_queue = WorkQueue()
        self.node_queue = WorkQueue()
        self.pods_informer = Informer(client, PODS, field_selector="spec.nodeName!=")
        self.pods_informer.add_index("node", lambda pod: [(pod.get("spec") or {}).get("nodeName") or ""])
        self.nodes_informer = Informer(client, NODES, label_selector=f"{SIM_LABEL}={SIM_LABEL_VALUE}")

    # --- the test handle -------------------------------------------------------------------

    def stop_heartbeats(self, name: str) -> None:
        """The node's kubelet goes silent: no lease renewals, no status, no pod updates."""
        log.info("node %s: heartbeats stopped", name)
        self._stopped.add(name)

    def resume_heartbeats(self, name: str) -> None:
        log.info("node %s: heartbeats resumed", name)
        self._stopped.discard(name)
        # Its regular heartbeat entries kept their rhythm while it was silent; renew at once too.
        task = asyncio.get_running_loop().create_task(self._renew_lease(name))
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        self.node_queue.add(name)
        for pod in self.pods_informer.by_index("node", name):
            self.pod_queue.add(key_of(pod))

    async def wait_registered(self) -> None:
        await self._registered.wait()

    # --- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        self.pods_informer.add_handler(on_add=self._on_pod, on_update=lambda old, new: self._on_pod(new),
                                       on_delete=self._on_pod_deleted)
        self.nodes_informer.add_handler(on_update=self._on_node_update)
        tasks = [asyncio.create_task(self.nodes_informer.run())]
        try:
            await self._register_all()
            tasks.append(asyncio.create_task(self.pods_informer.run()))
            await asyncio.gather(self.pods_informer.wait_synced(), self.nodes_informer.wait_synced())
            self._registered.set()
            tasks += [
                asyncio.create_task(self._heartbeat_loop()),
                asyncio.create_task(run_workers(self.pod_queue, self._sync_pod, workers=POD_WORKERS, logger=log)),
                asyncio.create_task(run_workers(self.node_queue, self._sync_node_status, workers=NODE_WORKERS,
                                                logger=log)),
            ]
            await asyncio.gather(*tasks)
        finally:
            self.pod_queue.shutdown()
            self.node_queue.shutdown()
            for task in [*tasks, *self._side_tasks]:
                task.cancel()
            await asyncio.gather(*tasks, *self._side_tasks, return_exceptions=True)

    def _ours(self, node_name: str | None) -> bool:
        return node_name in self._index_of

    def _alive(self, node_name: str | None) -> bool:
        return node_name in self._index_of and node_name not in self._stopped

    # --- registration ------------------------------------------------------------------------

    async def _register_all(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)

        async def register(name: str) -> None:
            async with slots:
                await self._register(name)

        await asyncio.gather(*(register(name) for name in self.node_names))
        log.info("registered %d simulated nodes (%s .. %s)", len(self.node_names), self.node_names[0],
                 self.node_names[-1])

    async def _register(self, name: str) -> None:
        now = self._clock()
        body = new_node(name, index=self._index_of[name], cpu=self.cpu, memory=self.memory, pods=self.pods, now=now)
        while True:
            try:
                try:
                    created = await self.client.create(NODES, body)
                    self._node_uids[name] = created["metadata"].get("uid", "")
                    first_report = self._rng.uniform(0, self.status_report_seconds)
                except AlreadyExists:
                    existing = await self.client.get(NODES, name)
                    self._node_uids[name] = existing["metadata"].get("uid", "")
                    first_report = 0.0  # a kubelet that restarts reports its status at once
                break
            except (ApiUnavailable, APIError) as error:
                log.warning("node %s: registration failed, retrying: %s", name, error)
                await asyncio.sleep(1.0)
        self._due(name, _LEASE, self._rng.uniform(0, self.lease_renew_seconds) if len(self.node_names) > 1 else 0.0)
        self._due(name, _STATUS, first_report)

    # --- heartbeats: leases and node status ------------------------------------------------------

    def _due(self, name: str, kind: str, delay: float) -> None:
        heapq.heappush(self._heartbeats, (self._clock() + delay, kind, name))
        self._heartbeat_added.set()

    async def _heartbeat_loop(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task] = set()
        try:
            while True:
                now = self._clock()
                while self._heartbeats and self._heartbeats[0][0] <= now:
                    _, kind, name = heapq.heappop(self._heartbeats)
                    if name in self._stopped:  # silent: skip this beat, keep the rhythm
                        self._due(name, kind, self.status_report_seconds if kind == _STATUS
                                  else self.lease_renew_seconds)
                        continue
                    if kind == _STATUS:
                        self.node_queue.add(name)
                        self._due(name, _STATUS, self.status_report_seconds)
                        continue
                    await slots.acquire()
                    task = asyncio.create_task(self._renew_lease(name))
                    in_flight.add(task)
                    task.add_done_callback(lambda done: (in_flight.discard(done), slots.release()))
                    jitter = self._rng.uniform(0, LEASE_RENEW_JITTER * self.lease_renew_seconds)
                    self._due(name, _LEASE, self.lease_renew_seconds + jitter)
                self._heartbeat_added.clear()
                delay = self._heartbeats[0][0] - self._clock() if self._heartbeats else None
                try:
                    await asyncio.wait_for(self._heartbeat_added.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            for task in in_flight:
                task.cancel()

    async def _renew_lease(self, name: str) -> None:
        now = self._clock()
        try:
            lease = self._leases.get(name)
            if lease is None:
                try:
                    lease = await self.client.get(LEASES, name, namespace=NODE_LEASE_NAMESPACE)
                except NotFound:
                    body = new_lease(name, node_uid=self._node_uids.get(name), now=now)
                    self._leases[name] = await self.client.create(LEASES, body, namespace=NODE_LEASE_NAMESPACE)
                    return
            self._leases[name] = await self.client.update(LEASES, renewed_lease(lease, node_name=name, now=now),
                                                          namespace=NODE_LEASE_NAMESPACE)
        except (Conflict, NotFound, AlreadyExists):
            self._leases.pop(name, None)  # someone else wrote it: read it again next time
        except (ApiUnavailable, APIError) as error:
            self._leases.pop(name, None)
            log.warning("node %s: could not renew its lease: %s", name, error)

    def _on_node_update(self, old: dict, new: dict) -> None:
        name = new["metadata"]["name"]
        if self._alive(name) and not _is_ready(new):
            self.node_queue.add(name)  # the node controller gave up on us; tell it we are here

    async def _sync_node_status(self, name: str) -> None:
        if not self._alive(name):
            return
        node = self.nodes_informer.get(name)
        current = (node or {}).get("status", {}).get("conditions")
        patch = {"status": {"conditions": node_conditions(current, now=self._clock())}}
        await self.client.patch(NODES, name, patch, patch_type="strategic", subresource="status")

    # --- pods ----------------------------------------------------------------------------------

    def _on_pod(self, pod: dict) -> None:
        if self._ours((pod.get("spec") or {}).get("nodeName")):
            self.pod_queue.add(key_of(pod))

    def _on_pod_deleted(self, pod: dict) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if uid:
            self._ip_pool.release(uid)

    async def _sync_pod(self, key: str) -> None:
        pod = self.pods_informer.get(key)
        if pod is None:
            return
        metadata, spec = pod["metadata"], pod.get("spec") or {}
        node_name = spec.get("nodeName")
        if not self._alive(node_name):
            return
        if metadata.get("deletionTimestamp"):
            try:
                await self.client.delete(PODS, metadata["name"], namespace=metadata.get("namespace"),
                                         grace_period_seconds=0, preconditions={"uid": metadata.get("uid")})
                log.info("pod %s on %s: deleted", key, node_name)
            except (NotFound, Conflict):
                pass  # already gone, or a new pod of the same name
            return
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        host_ip = self._host_ip(node_name)
        uid = metadata.get("uid") or key
        if spec.get("hostNetwork"):
            pod_ip = host_ip
        else:
            if status.get("podIP") and self._ip_pool.get(uid) is None:
                self._ip_pool.reserve(uid, status["podIP"])  # ran before we (re)started
            pod_ip = self._ip_pool.get(uid) or self._ip_pool.allocate(uid)
        desired = running_pod_status(pod, pod_ip=pod_ip, host_ip=host_ip, now=self._clock())
        if status_summary(desired) == status_summary(status):
            return
        # PUT on the cached object: a newer write in between makes this a 409, and the queue retries.
        await self.client.update(PODS, {**pod, "status": desired}, subresource="status")
        if status.get("phase") != "Running":
            log.info("pod %s on %s: running, ip %s", key, node_name, pod_ip)

    def _host_ip(self, node_name: str) -> str:
        node = self.nodes_informer.get(node_name) or {}
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return address["address"]
        return node_address(self._index_of[node_name])

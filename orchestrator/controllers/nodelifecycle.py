"""The node lifecycle controller: nodes whose kubelet went silent become NotReady and lose their pods.

As pkg/controller/nodelifecycle: a node is healthy while its heartbeat moves, the
renewTime of its Lease in `kube-node-lease` or its Ready condition's lastHeartbeatTime.
The controller notes, on its own (injected) clock, when it last saw the heartbeat
move, so clock skew between machines does not matter. Silent for longer than
`node_monitor_grace_period`, the node gets Ready (and the pressure conditions)
`Unknown` with reason NodeStatusUnknown, its pods are marked not ready (so Endpoints
drop them), and it is tainted `node.kubernetes.io/unreachable` NoExecute and NoSchedule
(`not-ready` when the kubelet itself reports Ready=False). As the taint eviction
controller does, pods on a node with a NoExecute taint are deleted once they stop
tolerating it: at once for a taint they do not tolerate, after `tolerationSeconds`
for one they do; the not-ready/unreachable taints are tolerated for
`pod_eviction_timeout` by default (the DefaultTolerationSeconds admission default).
The ReplicaSets then replace the pods on other nodes. When heartbeats resume, the
kubelet reports Ready again and the taints go.

The decisions are pure functions (`observe_heartbeat`, `stale_conditions`,
`desired_taints`, `plan_evictions`). Events: NodeNotReady (node and pods), TaintManagerEviction.
Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import LEASES, NODES, PODS
from orchestrator.controllers.base import (
    NODE_NAME_INDEX,
    Clock,
    Controller,
    SharedInformers,
    format_time,
    parse_time,
)
from orchestrator.controllers.podutil import is_pod_active, pod_condition

NODE_LEASE_NAMESPACE = "kube-node-lease"
# The conditions the controller sets to Unknown; NetworkUnavailable belongs to the network plugin.
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
CONDITION_TAINTS = {  # a condition that is True repels new pods
    "MemoryPressure": "node.kubernetes.io/memory-pressure",
    "DiskPressure": "node.kubernetes.io/disk-pressure",
    "PIDPressure": "node.kubernetes.io/pid-pressure",
    "NetworkUnavailable": "node.kubernetes.io/network-unavailable",
}
MANAGED_TAINT_KEYS = frozenset({NOT_READY_TAINT, UNREACHABLE_TAINT, UNSCHEDULABLE_TAINT, *CONDITION_TAINTS.values()})
NO_EXECUTE, NO_SCHEDULE = "NoExecute", "NoSchedule"
# nodeStartupGracePeriod is 60 s against a 40 s monitor grace period: the same ratio here.
STARTUP_GRACE_RATIO = 1.5
MAX_MONITOR_PERIOD = 5.0


# ---------------------------------------------------------------- pure decisions


@dataclass(frozen=True)
class NodeHealth:
    """What the controller last saw of a node's heartbeat, and when (on its own clock)."""

    probe_time: float
    heartbeat: str | None  # the Ready condition's lastHeartbeatTime
    lease_renew_time: float | None


def _condition(node: dict, condition_type: str) -> dict | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def observe_heartbeat(previous: NodeHealth | None, node: dict, lease: dict | None, *, now: float) -> NodeHealth:
    """tryUpdateNodeHealth's bookkeeping: the probe time moves whenever the heartbeat moved."""
    ready = _condition(node, "Ready")
    heartbeat = (ready or {}).get("lastHeartbeatTime")
    renew_time = parse_time(((lease or {}).get("spec") or {}).get("renewTime"))
    if previous is None:
        if ready is None:
            # Never reported: count from the node's creation, under the startup grace period.
            created = parse_time(node["metadata"].get("creationTimestamp"))
            probe_time = now if created is None else min(created, now)
        else:
            probe_time = now
        return NodeHealth(probe_time, heartbeat, renew_time)
    probe_time = previous.probe_time
    if heartbeat != previous.heartbeat and ready is not None:
        probe_time = now
    if renew_time is not None and (previous.lease_renew_time is None or renew_time > previous.lease_renew_time):
        probe_time = now
    return NodeHealth(probe_time, heartbeat, renew_time)


def grace_period(node: dict, *, monitor_grace_period: float) -> float:
    if _condition(node, "Ready") is None:
        return monitor_grace_period * STARTUP_GRACE_RATIO
    return monitor_grace_period


def stale_conditions(node: dict, *, now: float) -> list[dict] | None:
    """The node's conditions once its kubelet is presumed gone (Unknown), or None if already so."""
    conditions = copy.deepcopy((node.get("status") or {}).get("conditions") or [])
    changed = False
    timestamp = format_time(now)
    for condition_type in MONITORED_CONDITIONS:
        current = next((c for c in conditions if c.get("type") == condition_type), None)
        if current is None:
            conditions.append({
                "type": condition_type,
                "status": "Unknown",
                "lastHeartbeatTime": node["metadata"].get("creationTimestamp"),
                "lastTransitionTime": timestamp,
                "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
            })
            changed = True
        elif current.get("status") != "Unknown":
            current.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.",
                           lastTransitionTime=timestamp)
            changed = True
    return conditions if changed else None


def desired_taints(node: dict, *, now: float) -> list[dict]:
    """The node's taints with the controller's own ones set from its conditions and spec.unschedulable."""
    spec = node.get("spec") or {}
    existing = spec.get("taints") or []
    wanted: list[tuple[str, str]] = []
    ready_status = (_condition(node, "Ready") or {}).get("status")
    if ready_status == "False":
        wanted += [(NOT_READY_TAINT, NO_EXECUTE), (NOT_READY_TAINT, NO_SCHEDULE)]
    elif ready_status == "Unknown":
        wanted += [(UNREACHABLE_TAINT, NO_EXECUTE), (UNREACHABLE_TAINT, NO_SCHEDULE)]
    for condition_type, taint_key in CONDITION_TAINTS.items():
        if (_condition(node, condition_type) or {}).get("status") == "True":
            wanted.append((taint_key, NO_SCHEDULE))
    if spec.get("unschedulable"):
        wanted.append((UNSCHEDULABLE_TAINT, NO_SCHEDULE))
    taints = [taint for taint in existing
              if taint.get("key") not in MANAGED_TAINT_KEYS or (taint.get("key"), taint.get("effect")) in wanted]
    present = {(taint.get("key"), taint.get("effect")) for taint in taints}
    for key, effect in wanted:
        if (key, effect) not in present:
            taint = {"key": key, "effect": effect}
            if effect == NO_EXECUTE:
                taint["timeAdded"] = format_time(now)
            taints.append(taint)
    return taints


def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def seconds_tolerated(pod: dict, taint: dict, *, default_toleration_seconds: float) -> float:
    """How long the pod may stay on a node with this NoExecute taint (inf: for ever)."""
    matching = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if tolerates(t, taint)]
    if not matching:
        if taint.get("key") in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            return default_toleration_seconds
        return 0.0
    bounded = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
    return float(max(0, min(bounded))) if bounded else float("inf")


def plan_evictions(node: dict, pods: list[dict], *, now: float,
                   default_toleration_seconds: float) -> tuple[list[dict], float | None]:
    """(pods to delete now, seconds until the next one is due or None)."""
    no_execute = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == NO_EXECUTE]
    if not no_execute:
        return [], None
    to_evict: list[dict] = []
    next_due: float | None = None
    for pod in pods:
        if not is_pod_active(pod):
            continue
        deadline = float("inf")
        for taint in no_execute:
            added = parse_time(taint.get("timeAdded"))
            allowed = seconds_tolerated(pod, taint, default_toleration_seconds=default_toleration_seconds)
            deadline = min(deadline, (now if added is None else added) + allowed)
        if deadline <= now:
            to_evict.append(pod)
        elif deadline != float("inf"):
            next_due = deadline - now if next_due is None else min(next_due, deadline - now)
    return to_evict, next_due


def not_ready_pod_status(pod: dict, *, now: float) -> dict | None:
    """MarkPodsNotReady: the pod's status with Ready=False, or None if it is not ready already."""
    ready = pod_condition(pod, "Ready")
    if ready is None or ready.get("status") == "False":
        return None
    status = copy.deepcopy(pod.get("status") or {})
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            condition.update(status="False", lastTransitionTime=format_time(now))
    return status


# ---------------------------------------------------------------- the controller


class NodeLifecycleController(Controller):
    name = "nodelifecycle"

    def __init__(self, client: Any, informers: SharedInformers, *, node_monitor_grace_period: float,
                 pod_eviction_timeout: float, recorder: EventRecorder | None = None, workers: int = 2,
                 clock: Clock = time.time, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="node-controller", clock=clock)
        self.grace_period = node_monitor_grace_period
        self.eviction_timeout = pod_eviction_timeout
        self.monitor_period = min(MAX_MONITOR_PERIOD, node_monitor_grace_period / 4)
        self._sleep = sleep
        self.health: dict[str, NodeHealth] = {}
        self.nodes = informers.get(NODES)
        self.leases = informers.get(LEASES)
        self.pods = informers.get(PODS, indexes=[NODE_NAME_INDEX])
        self.nodes.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                               on_delete=self.enqueue)
        self.leases.add_handler(on_add=self._lease_changed, on_update=lambda old, new: self._lease_changed(new))

    def _lease_changed(self, lease: dict) -> None:
        if lease["metadata"].get("namespace") == NODE_LEASE_NAMESPACE:
            self.queue.add(lease["metadata"]["name"])

    async def run(self) -> None:
        monitor = asyncio.create_task(self._monitor())
        try:
            await super().run()
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)

    async def _monitor(self) -> None:
        """monitorNodeHealth's period: a silent node produces no event, so look at every node regularly."""
        while True:
            for node in self.nodes.list():
                self.enqueue(node)
            await self._sleep(self.monitor_period)

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None:
            self.health.pop(key, None)
            return
        now = self.clock()
        lease = self.leases.get(f"{NODE_LEASE_NAMESPACE}/{key}")
        health = observe_heartbeat(self.health.get(key), node, lease, now=now)
        self.health[key] = health
        grace = grace_period(node, monitor_grace_period=self.grace_period)
        silent_for = now - health.probe_time
        if silent_for > grace:
            node = await self._mark_unknown(node, key, silent_for, now)
        else:
            self.queue.add_after(key, grace - silent_for + 0.05)
        node = await self._reconcile_taints(node, key, now)
        await self._evict(node, key, now)

    async def _mark_unknown(self, node: dict, key: str, silent_for: float, now: float) -> dict:
        conditions = stale_conditions(node, now=now)
        if conditions is None:
            return node
        updated = copy.deepcopy(node)
        updated.setdefault("status", {})["conditions"] = conditions
        was_ready = (_condition(node, "Ready") or {}).get("status") == "True"
        node = await self.client.update(NODES, updated, subresource="status")
        self.log.info("node %s: no heartbeat for %.1fs, Ready is now Unknown", key, silent_for)
        if was_ready:
            self.recorder.record(node, NORMAL, "NodeNotReady", f"Node {key} status is now: NodeNotReady")
        for pod in self.pods.by_index(NODE_NAME_INDEX, key):
            status = not_ready_pod_status(pod, now=now)
            if status is None or not is_pod_active(pod):
                continue
            try:
                await self.client.update(PODS, {**copy.deepcopy(pod), "status": status}, subresource="status")
            except NotFound:
                continue
            self.recorder.record(pod, WARNING, "NodeNotReady", "Node is not ready")
        return node

    async def _reconcile_taints(self, node: dict, key: str, now: float) -> dict:
        taints = desired_taints(node, now=now)
        if taints == ((node.get("spec") or {}).get("taints") or []):
            return node
        updated = copy.deepcopy(node)
        if taints:
            updated.setdefault("spec", {})["taints"] = taints
        else:
            updated.setdefault("spec", {}).pop("taints", None)
        node = await self.client.update(NODES, updated)
        self.log.info("node %s: taints now %s", key,
                      ", ".join(f"{t['key']}:{t['effect']}" for t in taints) or "none")
        return node

    async def _evict(self, node: dict, key: str, now: float) -> None:
        pods = self.pods.by_index(NODE_NAME_INDEX, key)
        to_evict, next_due = plan_evictions(node, pods, now=now, default_toleration_seconds=self.eviction_timeout)
        for pod in to_evict:
            try:
                await self.client.delete(PODS, pod["metadata"]["name"], namespace=pod["metadata"].get("namespace"),
                                         preconditions={"uid": pod["metadata"]["uid"]})
            except NotFound:
                continue
            self.log.info("node %s: evicted pod %s (NoExecute taint not tolerated)", key, key_of(pod))
            self.recorder.record(pod, NORMAL, "TaintManagerEviction", f"Marking for deletion Pod {key_of(pod)}")
        if next_due is not None:
            self.queue.add_after(key, next_due + 0.05)

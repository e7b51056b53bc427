"""Small builders for the scheduler's unit tests: pods and nodes as wire-form dicts, and a
cache (with its NodeTable) holding given nodes and bound pods."""

from __future__ import annotations

from collections import Counter

import numpy as np

from orchestrator.scheduler.cache import SchedulerCache
from orchestrator.scheduler.framework import NodeInfo, PodInfo


def new_pod(
    name: str = "web",
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    node_name: str | None = None,
    tolerations: list[dict] | None = None,
    node_selector: dict | None = None,
    affinity: dict | None = None,
    host_ports: list[int] | None = None,
    owner_uid: str | None = None,
    priority: int | None = None,
    phase: str | None = None,
    deleting: bool = False,
) -> dict:
    requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value is not None}
    container: dict = {"name": "app", "image": "app:v1", "resources": {"requests": requests} if requests else {}}
    if host_ports:
        container["ports"] = [{"containerPort": port, "hostPort": port, "protocol": "TCP"} for port in host_ports]
    spec: dict = {"containers": [container], "schedulerName": "default-scheduler"}
    metadata: dict = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "1"}
    for key, value in (("nodeName", node_name), ("tolerations", tolerations), ("nodeSelector", node_selector),
                       ("affinity", affinity), ("priority", priority)):
        if value is not None:
            spec[key] = value
    if owner_uid:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                        "uid": owner_uid, "controller": True}]
    if deleting:
        metadata["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": {"phase": phase or "Pending"}}


def new_node(
    name: str = "node-0",
    *,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: int = 110,
    labels: dict | None = None,
    taints: list[dict] | None = None,
    unschedulable: bool = False,
) -> dict:
    resources = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {"capacity": resources, "allocatable": resources,
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }


def taint(key: str, value: str = "", effect: str = "NoSchedule") -> dict:
    return {"key": key, "value": value, "effect": effect}


def pod_info(**options) -> PodInfo:
    return PodInfo.from_pod(new_pod(**options))


def cache_with(nodes: list[dict], bound_pods: list[dict] = ()) -> SchedulerCache:
    cache = SchedulerCache()
    for node in nodes:
        cache.add_or_update_node(node)
    for pod in bound_pods:
        cache.add_or_update_pod(PodInfo.from_pod(pod))
    return cache


def node_info(node: dict, bound_pods: list[dict] = ()) -> NodeInfo:
    """The NodeInfo of one node holding the given pods."""
    cache = cache_with([node], [{**pod, "spec": {**pod["spec"], "nodeName": node["metadata"]["name"]}}
                                for pod in bound_pods])
    return cache.node_info(node["metadata"]["name"])


def assert_filter_forms_agree(plugin, pod: PodInfo, cache: SchedulerCache) -> None:
    """The vectorised filter and reason counts say what the scalar filter says, node by node."""
    table = cache.table
    mask = plugin.filter_nodes(pod, table)
    expected_reasons: Counter = Counter()
    rejected = []
    for slot in table.order.tolist():
        status = plugin.filter(pod, table.node_infos[slot])
        passes = True if mask is None else bool(mask[slot])
        assert passes == status.is_success, f"{plugin.NAME} disagrees on {table.node_infos[slot].name}"
        if not status.is_success:
            rejected.append(slot)
            expected_reasons.update(status.reasons)
    if rejected:
        assert plugin.reason_counts(pod, table, np.array(rejected)) == expected_reasons


def assert_score_forms_agree(plugin, pod: PodInfo, cache: SchedulerCache) -> None:
    table = cache.table
    slots = table.order
    raw = plugin.score_nodes(pod, table, slots)
    scalar = [plugin.score(pod, table.node_infos[slot]) for slot in slots.tolist()]
    if raw is None:
        assert len(set(scalar)) <= 1, f"{plugin.NAME} skipped a pod whose nodes score differently"
    else:
        assert raw.tolist() == scalar

"""Node lifecycle end to end: a node whose heartbeats stop turns NotReady, is tainted, loses its pods.

The controller-manager runs with a 2 s grace period and a 2 s eviction timeout (conftest.py).
The test plays the node's kubelet: it registers the Node, renews its Lease, and stops.
"""

from __future__ import annotations

import asyncio
import contextlib

from orchestrator.api.errors import NotFound
from orchestrator.client.leaderelection import format_micro_time
from orchestrator.client.resources import LEASES, NODES, PODS, REPLICASETS
from orchestrator.controllers.podutil import is_pod_active, is_pod_ready
from tests.integration.controllers.helpers import eventually, now_text, set_pod_ready

UNREACHABLE = "node.kubernetes.io/unreachable"


def node_manifest(name: str) -> dict:
    stamp = now_text()
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status",
                                       "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}],
                       "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                       "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}


async def heartbeat(client, node_name: str) -> None:
    """Renews the node's Lease every half second, as a kubelet does every 10 s."""
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": node_name, "namespace": "kube-node-lease"},
             "spec": {"holderIdentity": node_name, "leaseDurationSeconds": 40}}
    import time

    while True:
        lease["spec"]["renewTime"] = format_micro_time(time.time())
        try:
            current = await client.get(LEASES, node_name, namespace="kube-node-lease")
            await client.update(LEASES, {**current, "spec": lease["spec"]}, namespace="kube-node-lease")
        except NotFound:
            await client.create(LEASES, lease, namespace="kube-node-lease")
        await asyncio.sleep(0.5)


async def post_ready(client, node_name: str) -> None:
    node = await client.get(NODES, node_name)
    stamp = now_text()
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition.update(status="True", reason="KubeletReady", lastHeartbeatTime=stamp, lastTransitionTime=stamp)
    await client.update(NODES, node, subresource="status")


async def test_silent_node_is_tainted_and_its_pods_replaced(client, namespace, controller_manager):
    node_name = f"node-{namespace}"
    await client.create(NODES, node_manifest(node_name))
    beating = asyncio.create_task(heartbeat(client, node_name))
    try:
        replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "app"},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
                                "template": {"metadata": {"labels": {"app": "app"}},
                                             "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}
        await client.create(REPLICASETS, replica_set, namespace=namespace)

        async def pods() -> list[dict]:
            return (await client.list(PODS, namespace=namespace))["items"]

        await eventually(lambda: _count(pods(), 2), what="two pods")
        for pod in await pods():
            binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod["metadata"]["name"]},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
            await client.create_subresource(PODS, pod["metadata"]["name"], "binding", binding, namespace=namespace)
            await set_pod_ready(client, await client.get(PODS, pod["metadata"]["name"], namespace=namespace))
        await asyncio.sleep(3)  # longer than the grace period: a beating node stays Ready
        node = await client.get(NODES, node_name)
        assert _ready(node) == "True" and not (node.get("spec") or {}).get("taints")

        beating.cancel()
        await eventually(lambda: _node_unknown(client, node_name), timeout=15, what="node Ready=Unknown and tainted")
        node = await client.get(NODES, node_name)
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert (ready["reason"], ready["message"]) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")

        async def evicted_and_replaced() -> bool:
            current = await pods()
            on_node = [p for p in current if p["spec"].get("nodeName") == node_name]
            replacements = [p for p in current if not p["spec"].get("nodeName") and is_pod_active(p)]
            assert all(p["metadata"].get("deletionTimestamp") for p in on_node), "pods left on the silent node"
            assert all(not is_pod_ready(p) for p in on_node)
            return len(replacements) == 2

        await eventually(evicted_and_replaced, timeout=15, what="pods evicted and replaced")

        beating = asyncio.create_task(heartbeat(client, node_name))
        await post_ready(client, node_name)

        async def untainted() -> bool:
            node = await client.get(NODES, node_name)
            return _ready(node) == "True" and not (node.get("spec") or {}).get("taints")

        await eventually(untainted, timeout=15, what="taints removed once the node is back")
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        await client.delete(NODES, node_name)


def _ready(node: dict) -> str | None:
    return next((c["status"] for c in node["status"].get("conditions") or [] if c["type"] == "Ready"), None)


async def _node_unknown(client, node_name: str) -> bool:
    node = await client.get(NODES, node_name)
    taints = {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or []}
    return _ready(node) == "Unknown" and {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")} <= taints


async def _count(awaitable, expected: int) -> bool:
    return len(await awaitable) == expected

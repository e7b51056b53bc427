"""Simulated nodes against the real apiserver: registration, leases, pods Running, deletions,
stopped heartbeats (issue 3). Pods are bound directly here (spec.nodeName); the scheduler's
own tests run it together with these nodes."""

from __future__ import annotations

import json

from orchestrator.api.errors import NotFound
from orchestrator.client.leaderelection import parse_micro_time
from orchestrator.client.resources import LEASES, NODES, PODS
from tests.integration.simnodes.helpers import (
    api_client,
    condition,
    eventually,
    new_namespace,
    new_pod,
    running_sim_nodes,
)


async def test_nodes_register_ready_with_fresh_leases(apiserver, kubectl):
    async with api_client(apiserver) as client, \
            running_sim_nodes(client, count=3, lease_renew_seconds=0.5) as simulator:
        nodes = json.loads(kubectl("get", "nodes", "-l", "type=sim", "-o", "json").stdout)["items"]
        names = sorted(node["metadata"]["name"] for node in nodes if node["metadata"]["name"] in simulator.node_names)
        assert names == sorted(simulator.node_names)
        for node in nodes:
            assert condition(node, "Ready")["status"] == "True"
            assert node["status"]["allocatable"]["cpu"] == "4"
        assert "Ready" in kubectl("get", "node", simulator.node_names[0]).stdout

        first = simulator.node_names[0]
        lease = await eventually(lambda: _lease(client, first))
        assert lease["spec"]["holderIdentity"] == first
        assert lease["metadata"]["ownerReferences"][0]["name"] == first
        renewed_at = parse_micro_time(lease["spec"]["renewTime"])
        await eventually(lambda: _renewed_after(client, first, renewed_at), message="the lease is renewed")


async def test_pods_run_get_unique_ips_and_deletions_are_confirmed(apiserver, kubectl):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=2) as simulator:
        namespace = await new_namespace(client)
        node_name = simulator.node_names[1]
        for index in range(4):
            await client.create(PODS, new_pod(f"web-{index}", node_name=node_name), namespace=namespace)

        async def all_running():
            pods = (await client.list(PODS, namespace=namespace))["items"]
            return pods if len(pods) == 4 and all(p["status"].get("phase") == "Running" for p in pods) else None

        pods = await eventually(all_running)
        assert len({pod["status"]["podIP"] for pod in pods}) == 4
        for pod in pods:
            assert condition(pod, "Ready")["status"] == "True" and condition(pod, "PodScheduled")["status"] == "True"
            assert pod["status"]["hostIP"] == pod["status"]["hostIPs"][0]["ip"]
            assert pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
        table = kubectl("get", "pods", "-n", namespace, "-o", "wide").stdout
        assert table.count("Running") == 4 and node_name in table

        # A graceful delete (30 s by default) is confirmed by the "kubelet" at once.
        kubectl("delete", "pod", "web-0", "-n", namespace, "--wait=false")
        await eventually(lambda: _gone(client, "web-0", namespace), message="the kubelet confirms the deletion")


async def test_unready_container_keeps_pod_not_ready(apiserver):
    async with api_client(apiserver) as client, running_sim_nodes(client, count=1) as simulator:
        namespace = await new_namespace(client)
        pod = new_pod("never-ready", node_name=simulator.node_names[0])
        pod["spec"]["containers"][0]["readinessProbe"] = {"exec": {"command": ["false"]}}
        await client.create(PODS, pod, namespace=namespace)

        async def running():
            current = await client.get(PODS, "never-ready", namespace=namespace)
            return current if current["status"].get("phase") == "Running" else None

        current = await eventually(running)
        assert condition(current, "Ready")["status"] == "False"
        assert condition(current, "ContainersReady")["reason"] == "ContainersNotReady"


async def test_stopped_heartbeats_and_recovery(apiserver):
    async with api_client(apiserver) as client, \
            running_sim_nodes(client, count=2, lease_renew_seconds=0.3) as simulator:
        silent, alive = simulator.node_names
        await eventually(lambda: _lease(client, silent))
        await eventually(lambda: _lease(client, alive))
        simulator.stop_heartbeats(silent)
        stopped_at = parse_micro_time((await client.get(LEASES, silent, namespace="kube-node-lease"))["spec"]["renewTime"])
        alive_lease = await client.get(LEASES, alive, namespace="kube-node-lease")
        await eventually(lambda: _renewed_after(client, alive, parse_micro_time(alive_lease["spec"]["renewTime"]) + 1))
        silent_lease = await client.get(LEASES, silent, namespace="kube-node-lease")
        assert parse_micro_time(silent_lease["spec"]["renewTime"]) <= stopped_at + 0.5  # one renewal may be in flight

        # While silent, its pods are not started; the node controller's verdict is not answered.
        namespace = await new_namespace(client)
        await client.create(PODS, new_pod("waiting", node_name=silent), namespace=namespace)
        await _mark_not_ready(client, silent)

        simulator.resume_heartbeats(silent)
        await eventually(lambda: _renewed_after(client, silent, stopped_at + 0.5), message="renewals resume")

        async def ready_again():
            return condition(await client.get(NODES, silent), "Ready").get("status") == "True"

        await eventually(ready_again, message="the node reports Ready again")

        async def pod_running():
            return (await client.get(PODS, "waiting", namespace=namespace))["status"].get("phase") == "Running"

        await eventually(pod_running, message="the resumed node runs its pod")


async def _lease(client, name: str) -> dict | None:
    try:
        return await client.get(LEASES, name, namespace="kube-node-lease")
    except NotFound:
        return None


async def _renewed_after(client, name: str, seconds: float) -> bool:
    lease = await _lease(client, name)
    return bool(lease) and parse_micro_time(lease["spec"]["renewTime"]) > seconds


async def _gone(client, name: str, namespace: str) -> bool:
    try:
        await client.get(PODS, name, namespace=namespace)
    except NotFound:
        return True
    return False


async def _mark_not_ready(client, name: str) -> None:
    """What the node lifecycle controller writes when a node's lease expires."""
    node = await client.get(NODES, name)
    conditions = node["status"]["conditions"]
    for entry in conditions:
        if entry["type"] == "Ready":
            entry.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
    await client.patch(NODES, name, {"status": {"conditions": conditions}}, patch_type="strategic",
                       subresource="status")

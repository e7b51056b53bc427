"""DaemonSets end to end: the controller-manager against the real apiserver and etcd, driven by kubectl.

Nodes are Node objects the test registers (no kubelet, no scheduler): a daemon pod stays
pinned to its node by affinity, and `PodReadier` marks it Running and Ready as a kubelet would.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from orchestrator.client.resources import DAEMONSETS, NODES
from orchestrator.controllers.daemonset.plan import target_node
from orchestrator.controllers.manager import ControllerManager
from tests.integration.controllers.helpers import PodCensus, PodReadier, eventually, now_text

MANIFEST = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      nodeSelector: {%(label)s: "yes"}
      containers:
      - name: agent
        image: busybox
"""


@pytest.fixture
async def controllers(client):
    manager = ControllerManager(client)
    task = asyncio.create_task(manager.run())
    yield manager
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def node_manifest(name: str, *, labels: dict, taints: list | None = None) -> dict:
    stamp = now_text()
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}]}}


def pods_by_node(census: PodCensus) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    for pod in census.active():
        placed.setdefault(target_node(pod) or "", []).append(pod["spec"]["containers"][0]["image"])
    return placed


async def test_one_pod_per_matching_node_and_a_rolling_update(client, namespace, controllers, kubectl_async,
                                                               tmp_path):
    label = f"agent-{uuid.uuid4().hex[:6]}"  # nodes are cluster-wide: this test's nodes carry their own label
    names = [f"{label}-{index}" for index in range(4)]
    await client.create(NODES, node_manifest(names[0], labels={label: "yes"}))
    await client.create(NODES, node_manifest(names[1], labels={label: "yes"}))
    await client.create(NODES, node_manifest(names[2], labels={label: "yes"},
                                             taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
    await client.create(NODES, node_manifest(names[3], labels={}))
    manifest = tmp_path / "ds.yaml"
    manifest.write_text(MANIFEST % {"label": label})
    try:
        async with PodReadier(client, namespace, delay=0.05), PodCensus(client, namespace) as census:
            await kubectl_async("apply", "-f", str(manifest), "-n", namespace)
            status = await kubectl_async("rollout", "status", "ds/agent", "-n", namespace, "--timeout=30s")
            assert 'daemon set "agent" successfully rolled out' in status.stdout
            assert pods_by_node(census) == {names[0]: ["busybox"], names[1]: ["busybox"]}
            for pod in census.active():
                assert "nodeName" not in pod["spec"]  # pinned by affinity, for the scheduler to bind
            listing = (await kubectl_async("get", "ds", "-n", namespace)).stdout.splitlines()
            assert listing[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE",
                                          "SELECTOR", "AGE"]
            assert listing[1].split()[:7] == ["agent", "2", "2", "2", "2", "2", f"{label}=yes"]

            census.start_watching()
            await kubectl_async("set", "image", "ds/agent", "agent=busybox:1.36", "-n", namespace)
            status = await kubectl_async("rollout", "status", "ds/agent", "-n", namespace, "--timeout=30s")
            assert 'daemon set "agent" successfully rolled out' in status.stdout
            await eventually(lambda: pods_by_node(census) == {names[0]: ["busybox:1.36"],
                                                              names[1]: ["busybox:1.36"]}, what="pods replaced")
            assert census.fewest_ready >= 1, "both nodes were without a ready daemon at once (maxUnavailable 1)"

            await kubectl_async("label", "node", names[3], f"{label}=yes")
            await eventually(lambda: names[3] in pods_by_node(census), what="a pod for the newly labelled node")
            await client.delete(NODES, names[1])
            await eventually(lambda: names[1] not in pods_by_node(census), what="the deleted node's pod removed")
            daemon_set = await eventually(lambda: _settled(client, namespace), what="status follows the nodes")
            assert daemon_set["status"]["desiredNumberScheduled"] == 2
    finally:
        for name in names:
            await kubectl_async("delete", "node", name, "--ignore-not-found")


async def _settled(client, namespace: str) -> dict | None:
    daemon_set = await client.get(DAEMONSETS, "agent", namespace=namespace)
    status = daemon_set.get("status") or {}
    done = status.get("desiredNumberScheduled") == status.get("numberAvailable") == status.get("currentNumberScheduled")
    return daemon_set if done else None

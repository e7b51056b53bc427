"""Restart safety of the kubelet (issue 4, acceptance 5): SIGKILL it with 10 pods running, start it again.

The same containers must keep running (no duplicates, restart counts kept), pods
deleted while it was down must lose their containers once it is back, and
containers of another cluster or of another node on the same engine stay untouched.
"""

from __future__ import annotations

import pytest

from tests.integration.kubelet.helpers import KubeletUnderTest, pod_manifest, wait_until

pytestmark = pytest.mark.docker

POD_NAMES = [f"p{index}" for index in range(10)]


def container_ids(node: KubeletUnderTest) -> dict[str, set[str]]:
    """Pod name -> ids of its Docker containers (sandbox included), running or not."""
    by_pod: dict[str, set[str]] = {}
    for container in node.containers():
        if container.labels.get("orc.node") == node.node_name:
            by_pod.setdefault(container.labels["orc.pod.name"], set()).add(container.id)
    return by_pod


def all_running(node: KubeletUnderTest, names: list[str] = POD_NAMES) -> bool:
    return all("running" in (node.container_status(name, "main").get("state") or {}) for name in names)


def test_a_killed_kubelet_adopts_running_pods_and_cleans_up_deleted_ones(
    kubelet_node: KubeletUnderTest, decoy_containers: list[str]
) -> None:
    node = kubelet_node
    node.apply(*[pod_manifest(name, [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}],
                              node_name=node.node_name) for name in POD_NAMES])
    wait_until(lambda: all_running(node), what="10 pods running")

    # One restart before the crash: its count must survive the kubelet's restart.
    first = node.container_status("p0", "main")
    node.docker.containers.get(first["containerID"].removeprefix("docker://")).kill()
    wait_until(lambda: node.container_status("p0", "main").get("restartCount") == 1
               and "running" in node.container_status("p0", "main")["state"], what="p0 restarted once")
    wait_until(lambda: all(len(ids) == (3 if name == "p0" else 2) for name, ids in container_ids(node).items())
               and len(container_ids(node)) == 10, what="every pod's containers created")
    before = container_ids(node)
    uids = {name: node.get("pod", name)["metadata"]["uid"] for name in ("p8", "p9")}

    node.kill()
    node.kubectl("delete", "pod", "p9", "--wait=false")  # graceful: waits for the kubelet to confirm
    node.kubectl("delete", "pod", "p8", "--grace-period=0", "--force")  # gone from the API at once
    assert node.get("pod", "p9")["metadata"]["deletionTimestamp"]

    node.start()
    node.wait_ready()
    wait_until(lambda: node.get("pod", "p9") is None, what="p9 deleted for good")
    wait_until(lambda: not node.containers(pod_uid=uids["p8"]) and not node.containers(pod_uid=uids["p9"]),
               what="the containers of deleted pods removed")

    after = container_ids(node)
    assert set(after) == set(POD_NAMES[:8])
    assert after == {name: ids for name, ids in before.items() if name in after}  # no new, none lost
    assert all_running(node, POD_NAMES[:8])
    assert node.container_status("p0", "main")["restartCount"] == 1
    assert all(node.pod_status(name)["phase"] == "Running" for name in POD_NAMES[:8])

    for decoy in decoy_containers:
        assert node.docker.containers.get(decoy).status == "running"

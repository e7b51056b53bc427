"""Unit tests of orchestrator.simnodes.objects: the Node, Lease and pod status a kubelet writes."""

from __future__ import annotations

import pytest

from orchestrator.simnodes.objects import (
    IpPool,
    new_lease,
    new_node,
    node_conditions,
    probe_always_fails,
    running_pod_status,
    status_summary,
    timestamp,
)

T0, T1 = 1_700_000_000.0, 1_700_000_100.0


def new_pod(*containers: dict, status: dict | None = None, init_containers: list[dict] | None = None) -> dict:
    spec: dict = {"containers": list(containers) or [{"name": "app", "image": "app:v1"}], "nodeName": "sim-0"}
    if init_containers:
        spec["initContainers"] = init_containers
    return {"metadata": {"name": "web", "namespace": "default", "uid": "u1"}, "spec": spec,
            "status": status or {"phase": "Pending", "qosClass": "BestEffort",
                                 "conditions": [{"type": "PodScheduled", "status": "True"}]}}


def test_new_node_is_ready_and_labelled():
    node = new_node("sim-3", index=3, cpu="4", memory="16Gi", pods=110, now=T0)
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sim-3"
    assert node["metadata"]["labels"]["type"] == "sim"
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "10.240.0.4"}
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True" and ready[0]["reason"] == "KubeletReady"


@pytest.mark.parametrize(
    ("previous_ready", "transition_kept"),
    [pytest.param("True", True, id="still-ready"), pytest.param("Unknown", False, id="back-from-unknown")],
)
def test_node_conditions_refresh_the_heartbeat(previous_ready, transition_kept):
    previous = [{"type": "Ready", "status": previous_ready, "lastTransitionTime": timestamp(T0)}]
    ready = [c for c in node_conditions(previous, now=T1) if c["type"] == "Ready"][0]
    assert ready["lastHeartbeatTime"] == timestamp(T1)
    assert ready["lastTransitionTime"] == timestamp(T0 if transition_kept else T1)


def test_lease_is_owned_by_its_node():
    lease = new_lease("sim-0", node_uid="n-uid", now=T0)
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["metadata"]["ownerReferences"][0]["uid"] == "n-uid"
    assert lease["spec"]["holderIdentity"] == "sim-0" and lease["spec"]["renewTime"].endswith("Z")


@pytest.mark.parametrize(
    ("probe", "fails"),
    [
        pytest.param(None, False, id="no-probe"),
        pytest.param({"exec": {"command": ["false"]}}, True, id="exec-false"),
        pytest.param({"exec": {"command": ["/bin/false"]}}, True, id="exec-bin-false"),
        pytest.param({"exec": {"command": ["true"]}}, False, id="exec-true"),
        pytest.param({"httpGet": {"path": "/", "port": 80}}, False, id="http-assumed-fine"),
    ],
)
def test_probe_always_fails(probe, fails):
    assert probe_always_fails(probe) is fails


def test_running_status_of_a_ready_pod():
    status = running_pod_status(new_pod(), pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T0)
    assert status["phase"] == "Running" and status["podIP"] == "10.244.0.7" and status["hostIP"] == "10.240.0.1"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True", "ContainersReady": "True",
        "PodScheduled": "True"}
    (container,) = status["containerStatuses"]
    assert container["ready"] and container["state"]["running"]["startedAt"] == timestamp(T0)
    assert status["qosClass"] == "BestEffort" and status["startTime"] == timestamp(T0)


def test_unready_container_keeps_the_pod_unready():
    never_ready = {"name": "app", "image": "app:v2", "readinessProbe": {"exec": {"command": ["false"]}}}
    status = running_pod_status(new_pod(never_ready), pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T0)
    ready = [c for c in status["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [app]"
    assert status["containerStatuses"][0]["ready"] is False


def test_status_is_stable_once_written():
    first = running_pod_status(new_pod(), pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T0)
    again = running_pod_status(new_pod(status=first), pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T1)
    assert again == first and status_summary(again) == status_summary(first)


def test_new_image_restarts_the_container():
    first = running_pod_status(new_pod(), pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T0)
    updated = new_pod({"name": "app", "image": "app:v2"}, status=first)
    status = running_pod_status(updated, pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T1)
    (container,) = status["containerStatuses"]
    assert (container["image"], container["restartCount"]) == ("app:v2", 1)
    assert container["state"]["running"]["startedAt"] == timestamp(T1)
    assert status_summary(status) != status_summary(first)


def test_init_containers_completed():
    pod = new_pod(init_containers=[{"name": "setup", "image": "setup:v1"}])
    status = running_pod_status(pod, pod_ip="10.244.0.7", host_ip="10.240.0.1", now=T0)
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_ip_pool_hands_out_unique_addresses_and_reuses_freed_ones():
    pool = IpPool("10.244.0.0/30")  # two usable addresses
    first, second = pool.allocate("a"), pool.allocate("b")
    assert {first, second} == {"10.244.0.1", "10.244.0.2"} and pool.allocate("a") == first
    with pytest.raises(RuntimeError):
        pool.allocate("c")
    pool.release("a")
    assert pool.allocate("c") == first


def test_ip_pool_adopts_addresses_in_use():
    pool = IpPool("10.244.0.0/29")
    pool.reserve("old", "10.244.0.1")
    assert pool.get("old") == "10.244.0.1"
    assert pool.allocate("new") == "10.244.0.2"

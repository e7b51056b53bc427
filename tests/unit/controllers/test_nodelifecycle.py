"""Unit tests of the node lifecycle controller's pure decisions (orchestrator.controllers.nodelifecycle)."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.client.resources import LEASES, NODES
from orchestrator.controllers.base import SharedInformers
from orchestrator.controllers.nodelifecycle import (
    NodeHealth,
    NodeLifecycleController,
    desired_taints,
    grace_period,
    not_ready_pod_status,
    observe_heartbeat,
    plan_evictions,
    stale_conditions,
)
from tests.unit.controllers.builders import NOW, new_pod, ts
from tests.unit.controllers.fakes import FakeCluster

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


def new_node(*, ready: str | None = "True", heartbeat: float = 0.0, taints: list[dict] | None = None,
             unschedulable: bool = False, extra_conditions: list[dict] | None = None) -> dict:
    conditions = list(extra_conditions or [])
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "reason": "KubeletReady",
                           "lastHeartbeatTime": ts(heartbeat), "lastTransitionTime": ts(-1000)})
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "uid": "n1", "resourceVersion": "1", "creationTimestamp": ts(-2000)},
            "spec": spec, "status": {"conditions": conditions}}


def new_lease(renew: float) -> dict:
    return {"metadata": {"name": "node-1", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "node-1", "renewTime": ts(renew).replace("Z", ".000000Z")}}


def test_first_observation_starts_the_clock_now():
    health = observe_heartbeat(None, new_node(heartbeat=-500), None, now=NOW)
    assert health.probe_time == NOW


def test_a_node_that_never_reported_counts_from_its_creation():
    health = observe_heartbeat(None, new_node(ready=None), None, now=NOW)
    assert health.probe_time == NOW - 2000
    assert grace_period(new_node(ready=None), monitor_grace_period=40) == 60


@pytest.mark.parametrize(
    ("node", "lease", "moved"),
    [
        pytest.param(new_node(heartbeat=0), new_lease(0), False, id="nothing-moved"),
        pytest.param(new_node(heartbeat=5), new_lease(0), True, id="heartbeat-moved"),
        pytest.param(new_node(heartbeat=0), new_lease(5), True, id="lease-renewed"),
    ],
)
def test_the_probe_time_moves_with_the_heartbeat(node, lease, moved):
    previous = NodeHealth(probe_time=NOW - 30, heartbeat=ts(0), lease_renew_time=NOW)
    health = observe_heartbeat(previous, node, lease, now=NOW)
    assert health.probe_time == (NOW if moved else NOW - 30)


def test_stale_conditions_become_unknown_once():
    node = new_node(extra_conditions=[{"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": ts(0),
                                       "lastTransitionTime": ts(-1000)}])
    conditions = stale_conditions(node, now=NOW)
    by_type = {c["type"]: c for c in conditions}
    assert by_type["Ready"]["status"] == "Unknown"
    assert by_type["Ready"]["reason"] == "NodeStatusUnknown"
    assert by_type["Ready"]["message"] == "Kubelet stopped posting node status."
    assert by_type["Ready"]["lastTransitionTime"] == ts(0)
    assert by_type["Ready"]["lastHeartbeatTime"] == ts(0)  # kept: when the kubelet was last heard of
    assert by_type["MemoryPressure"]["status"] == "Unknown"
    assert by_type["DiskPressure"]["reason"] == "NodeStatusNeverUpdated"
    node["status"]["conditions"] = conditions
    assert stale_conditions(node, now=NOW + 10) is None


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(new_node(ready="True"), [], id="ready"),
        pytest.param(new_node(ready="Unknown"), [(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")],
                     id="unreachable"),
        pytest.param(new_node(ready="False"), [(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")], id="not-ready"),
        pytest.param(new_node(unschedulable=True), [("node.kubernetes.io/unschedulable", "NoSchedule")],
                     id="cordoned"),
        pytest.param(new_node(ready="True", taints=[{"key": UNREACHABLE, "effect": "NoExecute"},
                                                   {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
                     [("dedicated", "NoSchedule")], id="back-keeps-user-taints"),
        pytest.param(new_node(extra_conditions=[{"type": "DiskPressure", "status": "True"}]),
                     [("node.kubernetes.io/disk-pressure", "NoSchedule")], id="pressure"),
    ],
)
def test_desired_taints(node, expected):
    taints = desired_taints(node, now=NOW)
    assert [(t["key"], t["effect"]) for t in taints] == expected
    for taint in taints:
        if taint["effect"] == "NoExecute" and taint["key"] in (UNREACHABLE, NOT_READY):
            assert taint["timeAdded"] == ts(0)


def test_existing_taints_keep_their_time_added():
    taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": ts(-50)}
    node = new_node(ready="Unknown", taints=[taint, {"key": UNREACHABLE, "effect": "NoSchedule"}])
    assert desired_taints(node, now=NOW) == node["spec"]["taints"]


def unreachable_since(seconds_ago: float) -> dict:
    return new_node(ready="Unknown", taints=[{"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": ts(-seconds_ago)}])


@pytest.mark.parametrize(
    ("node", "tolerations", "evicted", "next_due"),
    [
        pytest.param(unreachable_since(10), None, False, 20.0, id="default-toleration-running"),
        pytest.param(unreachable_since(40), None, True, None, id="default-toleration-over"),
        pytest.param(unreachable_since(10), [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
                                              "tolerationSeconds": 5}], True, None, id="own-toleration-over"),
        pytest.param(unreachable_since(1000), [{"operator": "Exists"}], False, None, id="tolerates-for-ever"),
        pytest.param(new_node(taints=[{"key": "evict-me", "effect": "NoExecute", "timeAdded": ts(0)}]), None, True, None,
                     id="untolerated-user-taint-at-once"),
        pytest.param(new_node(), None, False, None, id="healthy-node"),
    ],
)
def test_plan_evictions(node, tolerations, evicted, next_due):
    pod = new_pod("p", tolerations=tolerations)
    to_evict, due = plan_evictions(node, [pod], now=NOW, default_toleration_seconds=30)
    assert (bool(to_evict), due) == (evicted, next_due)


def test_terminating_pods_are_not_evicted_again():
    to_evict, _ = plan_evictions(unreachable_since(100), [new_pod("p", deleting=True)], now=NOW,
                                 default_toleration_seconds=30)
    assert to_evict == []


def test_not_ready_pod_status():
    status = not_ready_pod_status(new_pod("p"), now=NOW)
    assert [(c["type"], c["status"], c["lastTransitionTime"]) for c in status["conditions"]] == [("Ready", "False", ts(0))]
    assert not_ready_pod_status(new_pod("p", ready=False), now=NOW) is None


class ManualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_controller_marks_a_silent_node_with_its_injected_clock():
    cluster = FakeCluster()
    await cluster.create(NODES, new_node(heartbeat=0))
    await cluster.create(LEASES, new_lease(0), namespace="kube-node-lease")
    clock = ManualClock(NOW)
    informers = SharedInformers(cluster)
    controller = NodeLifecycleController(cluster, informers, node_monitor_grace_period=40, pod_eviction_timeout=300,
                                         clock=clock)
    running = asyncio.create_task(informers.run())
    await informers.wait_synced()
    try:
        await controller.sync("node-1")
        clock.now += 30  # within the grace period
        await controller.sync("node-1")
        assert _ready_status(cluster.get_stored(NODES, "node-1")) == "True"
        clock.now += 15  # 45 s without a heartbeat
        await controller.sync("node-1")
        for _ in range(100):  # let the informer catch up with the controller's own writes
            node = cluster.get_stored(NODES, "node-1")
            if node["spec"].get("taints"):
                break
            await asyncio.sleep(0)
            await controller.sync("node-1")
        assert _ready_status(node) == "Unknown"
        assert {(t["key"], t["effect"]) for t in node["spec"]["taints"]} == {(UNREACHABLE, "NoExecute"),
                                                                           (UNREACHABLE, "NoSchedule")}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await controller.recorder.flush()


def _ready_status(node: dict) -> str:
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")

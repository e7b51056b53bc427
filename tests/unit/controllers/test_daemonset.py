"""Unit tests of the DaemonSet controller's pure decisions (orchestrator.controllers.daemonset.plan)."""

from __future__ import annotations

import pytest

from orchestrator.client.events import WARNING
from orchestrator.controllers.daemonset.plan import (
    REVISION_HASH_LABEL,
    TEMPLATE_GENERATION_ANNOTATION,
    TEMPLATE_GENERATION_LABEL,
    pinned_affinity,
    plan_daemonset,
    pod_for_node,
    should_run_on,
    target_node,
    template_hash,
)
from tests.unit.controllers.builders import NOW, new_pod, new_uid


def new_daemon_set(*, image: str = "agent:1", node_selector: dict | None = None, tolerations: list | None = None,
                   strategy: dict | None = None, min_ready: int = 0, generation: int = 1) -> dict:
    pod_spec: dict = {"containers": [{"name": "agent", "image": image}], "restartPolicy": "Always"}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    if tolerations:
        pod_spec["tolerations"] = tolerations
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "default", "uid": new_uid("ds"), "generation": generation,
                         "annotations": {TEMPLATE_GENERATION_ANNOTATION: str(generation)}},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "minReadySeconds": min_ready,
                     "updateStrategy": strategy or {"type": "RollingUpdate",
                                                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": pod_spec}},
            "status": {}}


def new_node(name: str, *, labels: dict | None = None, taints: list | None = None,
             unschedulable: bool = False) -> dict:
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def daemon_pod(daemon_set: dict, node: str, *, current: bool = True, phase: str = "Running", ready: bool = True,
               created: float = 0.0, scheduled: bool = True, ready_since: float = -100.0) -> dict:
    pod = new_pod(f"agent-{node}-{int(created)}", owner=daemon_set, phase=phase, ready=ready, created=created,
                  node=node if scheduled else None, ready_since=ready_since, labels={"app": "agent"})
    pod["metadata"]["labels"][REVISION_HASH_LABEL] = template_hash(daemon_set) if current else "old-hash"
    if not scheduled:
        pod["spec"]["affinity"] = pinned_affinity(None, node)
    return pod


NODES = [new_node("n3"), new_node("n1"), new_node("n2")]


# ---------------------------------------------------------------- placement


def test_every_node_gets_one_pod():
    plan = plan_daemonset(new_daemon_set(), nodes=NODES, pods=[], now=NOW)
    assert plan.create_on == ["n1", "n2", "n3"] and plan.delete == []
    assert plan.status == {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 3,
                           "numberReady": 0, "observedGeneration": 1, "numberUnavailable": 3}


@pytest.mark.parametrize(
    ("node", "daemon_set", "expected"),
    [
        pytest.param(new_node("n", labels={"disk": "ssd"}), new_daemon_set(node_selector={"disk": "ssd"}),
                     (True, True), id="selector-matches"),
        pytest.param(new_node("n"), new_daemon_set(node_selector={"disk": "ssd"}), (False, False),
                     id="selector-does-not-match"),
        pytest.param(new_node("n", taints=[{"key": "gpu", "effect": "NoSchedule"}]), new_daemon_set(),
                     (False, True), id="no-schedule-taint-keeps-existing"),
        pytest.param(new_node("n", taints=[{"key": "gpu", "effect": "NoExecute"}]), new_daemon_set(),
                     (False, False), id="no-execute-taint-evicts"),
        pytest.param(new_node("n", taints=[{"key": "gpu", "effect": "NoSchedule"}]),
                     new_daemon_set(tolerations=[{"key": "gpu", "operator": "Exists"}]), (True, True),
                     id="tolerated-taint"),
        pytest.param(new_node("n", unschedulable=True,
                              taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
                     new_daemon_set(), (True, True), id="cordoned-node-still-runs-daemons"),
        pytest.param(new_node("n", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
                     new_daemon_set(), (True, True), id="not-ready-node-still-runs-daemons"),
        pytest.param(new_node("n", taints=[{"key": "dedicated", "effect": "PreferNoSchedule"}]), new_daemon_set(),
                     (True, True), id="preferences-do-not-count"),
    ],
)
def test_should_run_on(node, daemon_set, expected):
    assert should_run_on(daemon_set, node) == expected


def test_pods_leave_nodes_that_no_longer_match():
    daemon_set = new_daemon_set(node_selector={"role": "edge"})
    nodes = [new_node("n1", labels={"role": "edge"}), new_node("n2")]
    stale = daemon_pod(daemon_set, "n2")
    plan = plan_daemonset(daemon_set, nodes=nodes, pods=[daemon_pod(daemon_set, "n1"), stale], now=NOW)
    assert plan.delete == [stale] and plan.create_on == []
    assert plan.status["numberMisscheduled"] == 1 and plan.status["desiredNumberScheduled"] == 1


def test_failed_and_surplus_pods_are_deleted():
    daemon_set = new_daemon_set()
    failed = daemon_pod(daemon_set, "n1", phase="Failed", created=1)
    oldest, newer = daemon_pod(daemon_set, "n2", created=1), daemon_pod(daemon_set, "n2", created=5)
    keep = daemon_pod(daemon_set, "n3")
    plan = plan_daemonset(daemon_set, nodes=NODES, pods=[failed, oldest, newer, keep], now=NOW)
    assert [pod["metadata"]["name"] for pod in plan.delete] == [failed["metadata"]["name"], newer["metadata"]["name"]]
    assert plan.events[0][:2] == (WARNING, "FailedDaemonPod")
    assert plan.create_on == []  # n1 still has its failed pod until the deletion is seen


def test_unscheduled_pod_for_a_vanished_node_is_deleted():
    daemon_set = new_daemon_set()
    orphan = daemon_pod(daemon_set, "gone", scheduled=False)
    plan = plan_daemonset(daemon_set, nodes=[new_node("n1")], pods=[daemon_pod(daemon_set, "n1"), orphan], now=NOW)
    assert plan.delete == [orphan]


def test_waiting_for_own_writes_only_reports():
    plan = plan_daemonset(new_daemon_set(), nodes=NODES, pods=[], now=NOW, may_manage=False)
    assert plan.create_on == [] and plan.status["desiredNumberScheduled"] == 3


# ---------------------------------------------------------------- the pods


def test_pod_for_node_is_pinned_tolerant_labelled_and_owned():
    daemon_set = new_daemon_set(generation=4)
    pod = pod_for_node(daemon_set, "n2")
    metadata, spec = pod["metadata"], pod["spec"]
    assert metadata["generateName"] == "agent-"
    assert metadata["labels"] == {"app": "agent", REVISION_HASH_LABEL: template_hash(daemon_set),
                                  TEMPLATE_GENERATION_LABEL: "4"}
    assert metadata["ownerReferences"][0]["kind"] == "DaemonSet" and metadata["ownerReferences"][0]["controller"]
    assert spec["affinity"] == {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}}
    assert "nodeName" not in spec  # the scheduler binds it
    assert {(t["key"], t["effect"]) for t in spec["tolerations"]} == {
        ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule")}
    assert target_node(pod) == "n2"


def test_pinning_replaces_required_terms_and_keeps_preferences():
    affinity = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["a"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}}
    pinned = pinned_affinity(affinity, "n1")["nodeAffinity"]
    assert pinned["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]
    assert pinned["preferredDuringSchedulingIgnoredDuringExecution"] == [{"weight": 1, "preference": {}}]


# ---------------------------------------------------------------- rolling update


def test_rolling_update_replaces_one_available_node_at_a_time():
    daemon_set = new_daemon_set(image="agent:2", generation=2)
    old = [daemon_pod(daemon_set, name, current=False) for name in ("n1", "n2", "n3")]
    plan = plan_daemonset(daemon_set, nodes=NODES, pods=old, now=NOW)
    assert plan.delete == [old[0]] and plan.create_on == []
    assert "updatedNumberScheduled" not in plan.status  # none yet

    # n1 has its new pod, not ready yet: no other node may go.
    replaced = [daemon_pod(daemon_set, "n1", ready=False), old[1], old[2]]
    assert plan_daemonset(daemon_set, nodes=NODES, pods=replaced, now=NOW).delete == []
    # Once it is available, the next one goes.
    replaced[0] = daemon_pod(daemon_set, "n1")
    assert plan_daemonset(daemon_set, nodes=NODES, pods=replaced, now=NOW).delete == [old[1]]


def test_unavailable_old_pods_are_replaced_at_once():
    daemon_set = new_daemon_set(image="agent:2")
    broken = [daemon_pod(daemon_set, name, current=False, ready=False) for name in ("n1", "n2")]
    plan = plan_daemonset(daemon_set, nodes=NODES[1:], pods=broken, now=NOW)
    assert plan.delete == broken


def test_surge_starts_new_pods_beside_old_ones():
    daemon_set = new_daemon_set(image="agent:2", strategy={"type": "RollingUpdate",
                                                           "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    old = [daemon_pod(daemon_set, name, current=False) for name in ("n1", "n2", "n3")]
    first = plan_daemonset(daemon_set, nodes=NODES, pods=old, now=NOW)
    assert first.create_on == ["n1"] and first.delete == []
    new_ready = daemon_pod(daemon_set, "n1", created=10)
    second = plan_daemonset(daemon_set, nodes=NODES, pods=[*old, new_ready], now=NOW)
    # n1's old pod goes as its new one is available, and that frees the surge for the next node.
    assert second.delete == [old[0]] and second.create_on == ["n2"]


def test_on_delete_leaves_old_pods_alone():
    daemon_set = new_daemon_set(image="agent:2", strategy={"type": "OnDelete"})
    old = [daemon_pod(daemon_set, name, current=False) for name in ("n1", "n2", "n3")]
    plan = plan_daemonset(daemon_set, nodes=NODES, pods=old, now=NOW)
    assert plan.delete == [] and plan.create_on == []
    assert "updatedNumberScheduled" not in plan.status  # zero is left out, as Go's omitempty does


def test_status_counts_and_min_ready_seconds():
    daemon_set = new_daemon_set(min_ready=30)
    pods = [daemon_pod(daemon_set, "n1", ready_since=-100), daemon_pod(daemon_set, "n2", ready_since=-10),
            daemon_pod(daemon_set, "n3", ready=False)]
    plan = plan_daemonset(daemon_set, nodes=NODES, pods=pods, now=NOW)
    assert plan.status == {"currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3,
                           "numberReady": 2, "observedGeneration": 1, "updatedNumberScheduled": 3,
                           "numberAvailable": 1, "numberUnavailable": 2}
    assert plan.requeue_after == pytest.approx(20)


def test_template_generation_label_counts_as_updated():
    daemon_set = new_daemon_set(generation=3)
    pod = daemon_pod(daemon_set, "n1", current=False)
    pod["metadata"]["labels"][TEMPLATE_GENERATION_LABEL] = "3"
    plan = plan_daemonset(daemon_set, nodes=[new_node("n1")], pods=[pod], now=NOW)
    assert plan.status["updatedNumberScheduled"] == 1 and plan.delete == []

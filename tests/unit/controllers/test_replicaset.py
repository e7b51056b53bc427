"""Unit tests of the ReplicaSet controller's pure decisions (orchestrator.controllers.replicaset)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.replicaset import (
    BURST_REPLICAS,
    calculate_status,
    next_availability_check,
    plan_replicas,
    pod_from_template,
    slow_start_batches,
)
from tests.unit.controllers.builders import NOW, new_pod, new_replica_set


def pods(count: int, **options) -> list[dict]:
    return [new_pod(f"p{index}", **options) for index in range(count)]


@pytest.mark.parametrize(
    ("replicas", "existing", "create", "delete"),
    [
        pytest.param(3, 0, 3, 0, id="create-all"),
        pytest.param(3, 1, 2, 0, id="create-missing"),
        pytest.param(3, 3, 0, 0, id="steady"),
        pytest.param(2, 5, 0, 3, id="delete-surplus"),
        pytest.param(0, 2, 0, 2, id="scale-to-zero"),
        pytest.param(BURST_REPLICAS + 10, 0, BURST_REPLICAS, 0, id="burst-capped"),
    ],
)
def test_plan_replicas(replicas, existing, create, delete):
    rs = new_replica_set("web", replicas=replicas)
    plan = plan_replicas(rs, pods=pods(existing), related_pods=[])
    assert (plan.create, len(plan.delete)) == (create, delete)


def test_plan_replicas_deletes_unready_before_ready():
    rs = new_replica_set("web", replicas=1)
    plan = plan_replicas(rs, pods=[new_pod("ready"), new_pod("starting", ready=False)], related_pods=[])
    assert [pod["metadata"]["name"] for pod in plan.delete] == ["starting"]


@pytest.mark.parametrize(
    ("total", "batches"),
    [
        pytest.param(0, [], id="none"),
        pytest.param(1, [1], id="one"),
        pytest.param(7, [1, 2, 4], id="exact"),
        pytest.param(10, [1, 2, 4, 3], id="remainder"),
    ],
)
def test_slow_start_batches(total, batches):
    assert slow_start_batches(total) == batches


@pytest.mark.parametrize(
    ("pod_list", "min_ready", "expected"),
    [
        pytest.param(pods(3), 0, {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3, "availableReplicas": 3},
                     id="all-ready"),
        pytest.param([new_pod("a"), new_pod("b", ready=False)], 0,
                     {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1},
                     id="one-not-ready"),
        pytest.param([new_pod("a", ready_since=-2)], 10,
                     {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1}, id="ready-not-yet-available"),
        pytest.param([new_pod("a", labels={"app": "web", "extra": "x"}), new_pod("b", labels={"other": "y"})], 0,
                     {"replicas": 2, "fullyLabeledReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
                     id="fully-labeled-counts-template-labels"),
        pytest.param([], 0, {"replicas": 0}, id="zero-counts-omitted"),
    ],
)
def test_calculate_status(pod_list, min_ready, expected):
    rs = new_replica_set("web", min_ready_seconds=min_ready, generation=4)
    status = calculate_status(rs, pods=pod_list, now=NOW, manage_error=None, create_shortfall=False)
    assert status == {**expected, "observedGeneration": 4}


def test_calculate_status_reports_and_clears_replica_failure():
    rs = new_replica_set("web")
    failed = calculate_status(rs, pods=[], now=NOW, manage_error="quota exceeded", create_shortfall=True)
    assert failed["conditions"] == [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": "2023-11-14T22:13:20Z",
                                     "reason": "FailedCreate", "message": "quota exceeded"}]
    rs["status"] = failed
    assert "conditions" not in calculate_status(rs, pods=[], now=NOW, manage_error=None, create_shortfall=True)


def test_next_availability_check_waits_for_min_ready_seconds():
    rs = new_replica_set("web", min_ready_seconds=10)
    assert next_availability_check(rs, pods=[new_pod("a", ready_since=-4)], now=NOW) == pytest.approx(6)
    assert next_availability_check(rs, pods=[new_pod("a", ready_since=-40)], now=NOW) is None


def test_pod_from_template_copies_labels_annotations_and_sets_the_controller():
    rs = new_replica_set("web-abc", template_hash="abc")
    rs["spec"]["template"]["metadata"]["annotations"] = {"note": "x"}
    pod = pod_from_template(rs)
    assert pod["metadata"]["generateName"] == "web-abc-"
    assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": "abc"}
    assert pod["metadata"]["annotations"] == {"note": "x"}
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                                                   "uid": rs["metadata"]["uid"], "controller": True,
                                                   "blockOwnerDeletion": True}]
    assert pod["spec"] == rs["spec"]["template"]["spec"]
    assert pod["spec"] is not rs["spec"]["template"]["spec"]

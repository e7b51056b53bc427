"""Unit tests of orchestrator.controllers.deployment.progress: Progressing condition and deadline."""

from __future__ import annotations

import pytest

from orchestrator.controllers.deployment.progress import (
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    seconds_until_progress_check,
)
from tests.unit.controllers.builders import NOW, new_deployment, ts
from tests.unit.controllers.deployment.simulation import World


def progressing(reason: str, updated_at: float) -> dict:
    return {"conditions": [{"type": "Progressing", "status": "True", "reason": reason,
                            "lastUpdateTime": ts(updated_at), "lastTransitionTime": ts(updated_at)}]}


@pytest.mark.parametrize(
    ("status", "complete"),
    [
        pytest.param({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 2}, True,
                     id="complete"),
        pytest.param({"updatedReplicas": 3, "replicas": 4, "availableReplicas": 3, "observedGeneration": 2}, False,
                     id="old-pod-left"),
        pytest.param({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2, "observedGeneration": 2}, False,
                     id="not-all-available"),
        pytest.param({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 1}, False,
                     id="spec-not-observed"),
    ],
)
def test_deployment_complete(status, complete):
    assert deployment_complete(new_deployment(replicas=3, generation=2), status) is complete


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param({"updatedReplicas": 1}, {"updatedReplicas": 2}, True, id="more-updated"),
        pytest.param({"replicas": 5, "updatedReplicas": 2}, {"replicas": 4, "updatedReplicas": 2}, True,
                     id="fewer-old"),
        pytest.param({"readyReplicas": 1}, {"readyReplicas": 2}, True, id="more-ready"),
        pytest.param({"availableReplicas": 2}, {"availableReplicas": 2}, False, id="nothing-moved"),
    ],
)
def test_deployment_progressing(old, new, expected):
    assert deployment_progressing(old, new) is expected


@pytest.mark.parametrize(
    ("condition_status", "deadline", "expected"),
    [
        pytest.param(progressing("ReplicaSetUpdated", -20), 10, True, id="past-deadline"),
        pytest.param(progressing("ReplicaSetUpdated", -5), 10, False, id="within-deadline"),
        pytest.param(progressing("NewReplicaSetAvailable", -1000), 10, False, id="finished-rollout"),
        pytest.param({}, 10, False, id="no-condition"),
        pytest.param(progressing("ReplicaSetUpdated", -1000), 2**31 - 1, False, id="no-deadline"),
    ],
)
def test_deployment_timed_out(condition_status, deadline, expected):
    deployment = new_deployment(progress_deadline=deadline)
    assert deployment_timed_out(deployment, condition_status, now=NOW) is expected


def test_a_stuck_rollout_asks_to_be_synced_when_the_deadline_falls_due():
    deployment = new_deployment(progress_deadline=30)
    status = progressing("ReplicaSetUpdated", -10)
    assert seconds_until_progress_check(deployment, status, {"replicas": 3}, now=NOW) == pytest.approx(21)
    assert seconds_until_progress_check(deployment, progressing("ReplicaSetUpdated", -40), {}, now=NOW) == 0


def test_a_rollout_that_never_becomes_ready_exceeds_its_progress_deadline():
    world = World(new_deployment(replicas=4, progress_deadline=10), broken_images=frozenset({"app:bad"}))
    world.converge()
    world.set_spec(image="app:bad")
    requeues = []
    for _ in range(20):
        plan = world.sync()
        if plan.requeue_after is not None:
            requeues.append(plan.requeue_after)
        world.kubelet_tick(seconds=1.0)
    condition = world.condition("Progressing")
    assert (condition["status"], condition["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert condition["message"].endswith("has timed out progressing.")
    assert requeues, "a stuck rollout must ask for a progress check"
    assert world.condition("Available")["status"] == "True"  # the old pods keep serving

"""Unit tests of orchestrator.controllers.deployment.sync: one sync of a Deployment as a plan."""

from __future__ import annotations

import pytest

from orchestrator.controllers.deployment.sync import plan_deployment
from orchestrator.controllers.deployment.util import compute_hash
from tests.unit.controllers.builders import NOW, new_deployment, new_replica_set, pod_template
from tests.unit.controllers.deployment.simulation import World

DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
REVISION = "deployment.kubernetes.io/revision"


def test_first_sync_creates_the_replica_set_named_after_the_template_hash():
    deployment = new_deployment(replicas=3, annotations={"kubernetes.io/change-cause": "first"})
    plan = plan_deployment(deployment, [], pods_by_replica_set={}, now=NOW)
    created = plan.create.replica_set
    pod_hash = compute_hash(pod_template("app:1"))
    assert created["metadata"]["name"] == f"web-{pod_hash}"
    assert created["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]
    assert created["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert created["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert created["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert created["spec"]["replicas"] == 3
    assert created["metadata"]["annotations"] == {REVISION: "1", DESIRED: "3", MAX: "4",
                                                  "kubernetes.io/change-cause": "first"}
    assert plan.create.events == [("ScalingReplicaSet", f"Scaled up replica set web-{pod_hash} to 3 from 0")]
    assert plan.revision == "1"
    progressing = [c for c in plan.status["conditions"] if c["type"] == "Progressing"][0]
    assert (progressing["reason"], progressing["message"]) == (
        "NewReplicaSetCreated", f'Created new replica set "web-{pod_hash}"')


def test_a_converged_deployment_reports_complete_status_and_then_does_nothing():
    world = World(new_deployment(replicas=3))
    world.converge()
    status = world.deployment["status"]
    assert {key: status[key] for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                                         "observedGeneration")} == {
        "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 1}
    assert "unavailableReplicas" not in status
    assert world.condition("Available")["reason"] == "MinimumReplicasAvailable"
    assert world.condition("Progressing")["reason"] == "NewReplicaSetAvailable"
    assert world.sync().empty


@pytest.mark.parametrize(
    ("new_replicas", "expected_total"),
    [pytest.param(10, 10, id="scale-up"), pytest.param(2, 2, id="scale-down"), pytest.param(0, 0, id="to-zero")],
)
def test_scaling_a_settled_deployment_resizes_its_replica_set_without_a_new_revision(new_replicas, expected_total):
    world = World(new_deployment(replicas=6))
    world.converge()
    world.set_spec(replicas=new_replicas)
    world.converge()
    assert len(world.replica_sets) == 1
    (rs,) = world.replica_sets.values()
    assert rs["spec"]["replicas"] == expected_total
    assert rs["metadata"]["annotations"][REVISION] == "1"
    assert rs["metadata"]["annotations"][DESIRED] == str(new_replicas)
    verb = "up" if new_replicas > 6 else "down"
    assert f"Scaled {verb} replica set {rs['metadata']['name']} to {expected_total} from 6" in world.events


def test_proportional_scaling_during_a_rollout():
    deployment = new_deployment(replicas=20, max_surge=3, max_unavailable=0, image="app:2", generation=2,
                                status={"replicas": 13})
    annotations = {DESIRED: "10", MAX: "13"}
    old = new_replica_set("web-old", replicas=8, image="app:1", created=-100, revision=1, annotations=annotations,
                          owner=deployment)
    new = new_replica_set("web-new", replicas=5, image="app:2", created=-10, revision=2, annotations=annotations,
                          owner=deployment, ready=0)
    plan = plan_deployment(deployment, [old, new], pods_by_replica_set={}, now=NOW)
    sizes = {write.replica_set["metadata"]["name"]: write.replica_set["spec"]["replicas"] for write in plan.updates}
    # 23 allowed (20 + surge 3), 10 to add: 8*23/13 rounds to 14 (+6), 5*23/13 to 9 (+4).
    assert sizes == {"web-old": 14, "web-new": 9}
    for write in plan.updates:
        assert write.replica_set["metadata"]["annotations"][DESIRED] == "20"
        assert write.replica_set["metadata"]["annotations"][MAX] == "23"


def test_paused_deployment_does_not_roll_out_but_still_scales():
    world = World(new_deployment(replicas=3))
    world.converge()
    world.set_spec(paused=True, image="app:2")
    world.converge()
    assert world.by_image() == {"app:1": 3}
    assert world.condition("Progressing")["reason"] == "DeploymentPaused"
    assert world.condition("Progressing")["status"] == "Unknown"
    world.set_spec(replicas=5)
    world.converge()
    assert world.by_image() == {"app:1": 5}
    world.set_spec(paused=False)
    world.converge()
    assert world.by_image() == {"app:2": 5}
    assert world.condition("Progressing")["reason"] == "NewReplicaSetAvailable"


def test_a_deployment_being_deleted_only_gets_its_status():
    deployment = new_deployment(replicas=3, deleting=True, image="app:2")
    old = new_replica_set("web-old", replicas=3, image="app:1", owner=deployment, revision=1)
    plan = plan_deployment(deployment, [old], pods_by_replica_set={}, now=NOW)
    assert plan.create is None and not plan.updates and not plan.deletions
    assert plan.status["replicas"] == 3


def test_old_revisions_beyond_the_history_limit_are_deleted_once_idle():
    deployment = new_deployment(replicas=2, revision_history_limit=1, image="app:4",
                                status={"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                                        "availableReplicas": 2})
    idle = [new_replica_set(f"web-v{n}", replicas=0, image=f"app:{n}", revision=n, created=-100 + n,
                            owner=deployment, status_replicas=0) for n in (1, 2, 3)]
    current = new_replica_set("web-v4", replicas=2, image="app:4", revision=4, owner=deployment,
                              annotations={DESIRED: "2", MAX: "3"})
    plan = plan_deployment(deployment, [*idle, current], pods_by_replica_set={}, now=NOW)
    assert [rs["metadata"]["name"] for rs in plan.deletions] == ["web-v1", "web-v2"]

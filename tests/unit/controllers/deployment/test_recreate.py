"""Unit tests of the Recreate strategy (orchestrator.controllers.deployment.recreate)."""

from __future__ import annotations

from orchestrator.controllers.deployment.recreate import old_pods_running
from orchestrator.controllers.deployment.sync import plan_deployment
from tests.unit.controllers.builders import NOW, new_deployment, new_pod, new_replica_set

ANNOTATIONS = {"deployment.kubernetes.io/desired-replicas": "3", "deployment.kubernetes.io/max-replicas": "3"}


def test_old_replica_sets_are_scaled_to_zero_before_anything_is_created():
    deployment = new_deployment(replicas=3, strategy="Recreate", image="app:2", generation=2)
    old = new_replica_set("web-old", replicas=3, image="app:1", owner=deployment, revision=1, annotations=ANNOTATIONS)
    plan = plan_deployment(deployment, [old], pods_by_replica_set={}, now=NOW)
    assert plan.create is None
    assert [(w.replica_set["metadata"]["name"], w.replica_set["spec"]["replicas"]) for w in plan.updates] == [
        ("web-old", 0)]


def test_the_new_replica_set_waits_for_the_last_old_pod():
    deployment = new_deployment(replicas=3, strategy="Recreate", image="app:2", generation=2)
    old = new_replica_set("web-old", replicas=0, image="app:1", owner=deployment, revision=1, annotations=ANNOTATIONS,
                          status_replicas=0)
    terminating = new_pod("web-old-x", owner=old, deleting=True)
    waiting = plan_deployment(deployment, [old], pods_by_replica_set={old["metadata"]["uid"]: [terminating]}, now=NOW)
    assert waiting.create is None
    done = plan_deployment(deployment, [old], pods_by_replica_set={old["metadata"]["uid"]: []}, now=NOW)
    assert done.create.replica_set["spec"]["replicas"] == 3
    assert done.create.replica_set["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


def test_old_pods_running_ignores_finished_pods_and_the_new_replica_set():
    old = new_replica_set("old", replicas=0, status_replicas=0)
    new = new_replica_set("new", replicas=3)
    finished = new_pod("done", owner=old, phase="Succeeded")
    new_pod_running = new_pod("fresh", owner=new)
    assert not old_pods_running(new, [old], {old["metadata"]["uid"]: [finished],
                                             new["metadata"]["uid"]: [new_pod_running]})
    assert old_pods_running(new, [old], {old["metadata"]["uid"]: [new_pod("still", owner=old)]})

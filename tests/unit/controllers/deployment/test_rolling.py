"""Unit tests of the RollingUpdate strategy (orchestrator.controllers.deployment.rolling)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.deployment.sync import plan_deployment
from tests.unit.controllers.builders import NOW, new_deployment, new_replica_set
from tests.unit.controllers.deployment.simulation import World


@pytest.mark.parametrize(
    ("replicas", "max_surge", "max_unavailable", "surge", "unavailable"),
    [
        pytest.param(6, "25%", "25%", 2, 1, id="defaults"),
        pytest.param(10, 3, 0, 3, 0, id="surge-only"),
        pytest.param(5, 0, 2, 0, 2, id="unavailable-only"),
        pytest.param(4, "50%", "50%", 2, 2, id="halves"),
        pytest.param(1, 0, "10%", 0, 1, id="rounded-to-zero-becomes-one"),
    ],
)
def test_rolling_update_stays_within_surge_and_unavailability(replicas, max_surge, max_unavailable, surge,
                                                              unavailable):
    world = World(new_deployment(replicas=replicas, max_surge=max_surge, max_unavailable=max_unavailable))
    world.converge()
    world.set_spec(image="app:2")

    def within_bounds(current: World) -> None:
        assert current.pod_total() <= replicas + surge
        assert current.available() >= replicas - unavailable

    world.converge(check=within_bounds)
    assert world.by_image() == {"app:2": replicas}
    assert world.condition("Progressing")["reason"] == "NewReplicaSetAvailable"
    assert world.deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


def test_first_step_scales_the_new_replica_set_up_and_stops():
    deployment = new_deployment(replicas=4, max_surge=1, max_unavailable=1, image="app:2", generation=2)
    old = new_replica_set("web-old", replicas=4, image="app:1", owner=deployment, revision=1,
                          annotations={"deployment.kubernetes.io/desired-replicas": "4",
                                       "deployment.kubernetes.io/max-replicas": "5"})
    plan = plan_deployment(deployment, [old], pods_by_replica_set={}, now=NOW)
    assert plan.create.replica_set["spec"]["replicas"] == 1
    # The same sync also scales the old one down by maxUnavailable, as the new one was created with room.
    assert [(w.replica_set["metadata"]["name"], w.replica_set["spec"]["replicas"]) for w in plan.updates] == [
        ("web-old", 3)]


def test_unhealthy_old_pods_go_first():
    deployment = new_deployment(replicas=4, max_surge=0, max_unavailable=2, image="app:2", generation=2)
    annotations = {"deployment.kubernetes.io/desired-replicas": "4", "deployment.kubernetes.io/max-replicas": "4"}
    old = new_replica_set("web-old", replicas=4, image="app:1", owner=deployment, revision=1, available=2,
                          annotations=annotations, created=-100)
    new = new_replica_set("web-new", replicas=0, image="app:2", owner=deployment, revision=2, annotations=annotations,
                          status_replicas=0)
    plan = plan_deployment(deployment, [old, new], pods_by_replica_set={}, now=NOW)
    # Only 2 of 4 old pods are available, the minimum: scaling down by available pods is not allowed,
    # but the two unavailable ones can go, as removing them costs no availability.
    assert [(w.replica_set["metadata"]["name"], w.replica_set["spec"]["replicas"]) for w in plan.updates] == [
        ("web-old", 2)]


def test_a_broken_new_template_keeps_old_pods_serving():
    world = World(new_deployment(replicas=4, max_surge=1, max_unavailable=1), broken_images=frozenset({"app:bad"}))
    world.converge()
    world.set_spec(image="app:bad")
    for _ in range(10):
        world.sync()
        world.kubelet_tick()
    assert world.available() >= 3
    assert world.by_image()["app:1"] >= 3
    assert world.by_image()["app:bad"] <= 2

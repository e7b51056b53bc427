"""Unit tests of orchestrator.controllers.deployment.rollback: revisions and rollbacks."""

from __future__ import annotations

import pytest

from orchestrator.controllers.deployment.rollback import next_revision, set_new_replica_set_annotations
from tests.unit.controllers.builders import new_deployment, new_replica_set
from tests.unit.controllers.deployment.simulation import World

REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"


@pytest.mark.parametrize(
    ("revisions", "expected"),
    [pytest.param([], 1, id="first"), pytest.param([1, 3, 2], 4, id="max-plus-one"),
     pytest.param([None], 1, id="unannotated")],
)
def test_next_revision(revisions, expected):
    assert next_revision([new_replica_set(f"rs{i}", revision=r) for i, r in enumerate(revisions)]) == expected


def test_annotations_of_a_new_replica_set():
    deployment = new_deployment(replicas=4, annotations={
        "kubernetes.io/change-cause": "kubectl set image", REVISION: "7",
        "kubectl.kubernetes.io/last-applied-configuration": "{}"})
    rs = new_replica_set("web-x")
    assert set_new_replica_set_annotations(deployment, rs, new_revision=3, exists=False)
    assert rs["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "kubectl set image", REVISION: "3",
        "deployment.kubernetes.io/desired-replicas": "4", "deployment.kubernetes.io/max-replicas": "5"}


def test_an_old_replica_set_brought_back_gets_the_next_revision_and_remembers_its_own():
    rs = new_replica_set("web-x", revision=1, annotations={HISTORY: ""})
    assert set_new_replica_set_annotations(new_deployment(), rs, new_revision=4, exists=True)
    assert (rs["metadata"]["annotations"][REVISION], rs["metadata"]["annotations"][HISTORY]) == ("4", "1")
    assert set_new_replica_set_annotations(new_deployment(), rs, new_revision=6, exists=True)
    assert rs["metadata"]["annotations"][HISTORY] == "1,4"


def test_revisions_never_go_down():
    rs = new_replica_set("web-x", revision=5)
    assert not set_new_replica_set_annotations(new_deployment(), rs, new_revision=3, exists=True)
    assert rs["metadata"]["annotations"][REVISION] == "5"


def test_undo_reuses_the_old_replica_set_with_a_new_revision():
    world = World(new_deployment(replicas=3))
    world.converge()
    first_rs = next(iter(world.replica_sets))
    world.set_spec(image="app:2")
    world.converge()
    world.set_spec(image="app:1")  # what `kubectl rollout undo` writes
    world.converge()
    assert len(world.replica_sets) == 2
    assert world.by_image() == {"app:1": 3}
    back = world.replica_sets[first_rs]
    assert back["metadata"]["annotations"][REVISION] == "3"
    assert back["metadata"]["annotations"][HISTORY] == "1"
    assert world.deployment["metadata"]["annotations"][REVISION] == "3"

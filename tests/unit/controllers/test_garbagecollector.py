"""Unit tests of the garbage collector's pure decisions (orchestrator.controllers.garbagecollector)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.garbagecollector import (
    GCAction,
    OwnerState,
    blocking_dependents,
    plan_deleting_owner,
    plan_dependent,
)
from tests.unit.controllers.builders import new_deployment, new_pod, new_replica_set, ref_to

OWNER_A = new_replica_set("a")
OWNER_B = new_replica_set("b")
UID_A, UID_B = OWNER_A["metadata"]["uid"], OWNER_B["metadata"]["uid"]


def owned_by(*owners: dict, finalizers: list[str] | None = None, block: bool = True) -> dict:
    pod = new_pod("p")
    pod["metadata"]["ownerReferences"] = [ref_to(owner, controller=index == 0, block=block)
                                          for index, owner in enumerate(owners)]
    if finalizers:
        pod["metadata"]["finalizers"] = finalizers
    return pod


@pytest.mark.parametrize(
    ("dependent", "states", "has_dependents", "expected"),
    [
        pytest.param(owned_by(OWNER_A), {UID_A: OwnerState.PRESENT}, False, GCAction(), id="owner-alive"),
        pytest.param(owned_by(OWNER_A), {UID_A: OwnerState.ABSENT}, False, GCAction(delete_policy="Background"),
                     id="owner-gone"),
        pytest.param(owned_by(OWNER_A, OWNER_B), {UID_A: OwnerState.ABSENT, UID_B: OwnerState.PRESENT}, False,
                     GCAction(remove_owner_uids=[UID_A]), id="one-owner-left-drops-the-dead-reference"),
        pytest.param(owned_by(OWNER_A), {UID_A: OwnerState.UNKNOWN}, False, GCAction(), id="unknown-kind-kept"),
        pytest.param(owned_by(OWNER_A), {UID_A: OwnerState.DELETING_DEPENDENTS}, False,
                     GCAction(delete_policy="Background"), id="foreground-owner-leaf-dependent"),
        pytest.param(owned_by(OWNER_A), {UID_A: OwnerState.DELETING_DEPENDENTS}, True,
                     GCAction(delete_policy="Foreground"), id="foreground-owner-dependent-with-dependents"),
        pytest.param(owned_by(OWNER_A, finalizers=["orphan"]), {UID_A: OwnerState.ABSENT}, False,
                     GCAction(delete_policy="Orphan"), id="own-orphan-finalizer-honoured"),
        pytest.param(new_pod("free"), {}, False, GCAction(), id="no-owners"),
    ],
)
def test_plan_dependent(dependent, states, has_dependents, expected):
    assert plan_dependent(dependent, states, has_dependents=has_dependents) == expected


def test_a_dependent_being_deleted_is_left_alone():
    pod = owned_by(OWNER_A)
    pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert plan_dependent(pod, {UID_A: OwnerState.ABSENT}, has_dependents=False).empty


def deleting(owner: dict, finalizer: str) -> dict:
    owner = {**owner, "metadata": {**owner["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z",
                                   "finalizers": [finalizer]}}
    return owner


def test_foreground_owner_waits_for_blocking_dependents_then_drops_its_finalizer():
    deployment = deleting(new_deployment(), "foregroundDeletion")
    blocking = new_replica_set("rs", owner=deployment)
    non_blocking = owned_by(deployment, block=False)
    assert blocking_dependents(deployment, [blocking, non_blocking]) == [blocking]
    assert plan_deleting_owner(deployment, [blocking, non_blocking]) == GCAction(process_dependents=[blocking])
    assert plan_deleting_owner(deployment, [non_blocking]) == GCAction(remove_finalizer="foregroundDeletion")


def test_orphan_owner_strips_references_then_drops_its_finalizer():
    deployment = deleting(new_deployment(), "orphan")
    assert plan_deleting_owner(deployment, []) == GCAction(orphan_dependents=True, remove_finalizer="orphan")


def test_an_owner_not_being_deleted_needs_nothing():
    assert plan_deleting_owner(new_deployment(), []).empty


def _crd(*, established: bool = True, deleting: bool = False) -> dict:
    metadata = {"name": "widgets.example.com"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata,
            "spec": {"group": "example.com", "scope": "Cluster", "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1beta1", "served": True, "storage": False},
                                  {"name": "v1", "served": True, "storage": True}]},
            "status": {"conditions": [{"type": "Established", "status": "True" if established else "False"}]}}


def test_custom_resource_of_an_established_crd_is_its_storage_version():
    from orchestrator.controllers.garbagecollector import custom_resource_of

    resource = custom_resource_of(_crd())
    assert (resource.group, resource.version, resource.plural, resource.kind, resource.namespaced) == (
        "example.com", "v1", "widgets", "Widget", False)
    assert custom_resource_of(_crd(established=False)) is None
    assert custom_resource_of(_crd(deleting=True)) is None

"""Unit tests of orchestrator.controllers.refmanager: who is adopted, kept or released."""

from __future__ import annotations

import pytest

from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.controllers.refmanager import adoption_patch, plan_claim, release_patch
from tests.unit.controllers.builders import new_pod, new_replica_set

OWNER = new_replica_set("web-abc")
OTHER = new_replica_set("other")
SELECTOR = selector_from_object({"matchLabels": {"app": "web"}})


def names(pods: list[dict]) -> list[str]:
    return [pod["metadata"]["name"] for pod in pods]


@pytest.mark.parametrize(
    ("candidate", "outcome"),
    [
        pytest.param(new_pod("mine", owner=OWNER), "owned", id="owned-and-matching"),
        pytest.param(new_pod("stray", owner=OWNER, labels={"app": "db"}), "release", id="owned-not-matching"),
        pytest.param(new_pod("orphan"), "adopt", id="matching-orphan"),
        pytest.param(new_pod("foreign", labels={"app": "db"}), None, id="non-matching-orphan"),
        pytest.param(new_pod("theirs", owner=OTHER), None, id="someone-elses"),
        pytest.param(new_pod("dying-orphan", deleting=True), None, id="orphan-being-deleted"),
        pytest.param(new_pod("elsewhere", namespace="other"), None, id="orphan-in-another-namespace"),
    ],
)
def test_plan_claim(candidate, outcome):
    plan = plan_claim(OWNER, selector=SELECTOR, candidates=[candidate])
    found = {"owned": names(plan.owned), "adopt": names(plan.adopt), "release": names(plan.release)}
    for field_name, members in found.items():
        assert members == ([candidate["metadata"]["name"]] if field_name == outcome else [])


def test_an_owner_being_deleted_neither_adopts_nor_releases():
    deleting_owner = new_replica_set("web-abc")
    deleting_owner["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    plan = plan_claim(deleting_owner, selector=SELECTOR,
                      candidates=[new_pod("orphan"), new_pod("stray", owner=deleting_owner, labels={"app": "db"}),
                                  new_pod("mine", owner=deleting_owner)])
    assert (names(plan.owned), plan.adopt, plan.release) == (["mine"], [], [])


def test_adoption_and_release_patches_keep_other_references_and_carry_the_resource_version():
    pod = new_pod("p", owner=OTHER)
    pod["metadata"]["ownerReferences"][0]["controller"] = False
    adopted = adoption_patch(pod, OWNER)["metadata"]
    assert adopted["resourceVersion"] == "1"
    assert [ref["uid"] for ref in adopted["ownerReferences"]] == [OTHER["metadata"]["uid"], OWNER["metadata"]["uid"]]
    assert adopted["ownerReferences"][1] | {} == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                                                  "uid": OWNER["metadata"]["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}
    owned = new_pod("q", owner=OWNER)
    assert release_patch(owned, OWNER)["metadata"]["ownerReferences"] is None

"""The persistent-volume controller's pure decisions: matching, provisioning, a volume's fate."""

from __future__ import annotations

import pytest

from orchestrator.controllers.persistentvolume import plan


def new_claim(name="data", *, storage="1Gi", modes=("ReadWriteOnce",), storage_class="local-path", uid="u1",
              selector=None, volume_name=None) -> dict:
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": storage}},
            "storageClassName": storage_class, "volumeMode": "Filesystem"}
    if selector is not None:
        spec["selector"] = selector
    if volume_name:
        spec["volumeName"] = volume_name
    return {"metadata": {"name": name, "namespace": "default", "uid": uid}, "spec": spec}


def new_volume(name="pv1", *, storage="1Gi", modes=("ReadWriteOnce",), storage_class="local-path", labels=None,
               claim_ref=None, node=None, reclaim="Retain", phase="Available") -> dict:
    spec = {"capacity": {"storage": storage}, "accessModes": list(modes), "storageClassName": storage_class,
            "persistentVolumeReclaimPolicy": reclaim, "hostPath": {"path": f"/tmp/{name}"}}
    if claim_ref:
        spec["claimRef"] = claim_ref
    if node:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize(("volume", "fits"), [
    pytest.param(new_volume(), True, id="same-class-size-modes"),
    pytest.param(new_volume(storage="512Mi"), False, id="too-small"),
    pytest.param(new_volume(storage_class="other"), False, id="other-class"),
    pytest.param(new_volume(modes=("ReadOnlyMany",)), False, id="missing-access-mode"),
    pytest.param(new_volume(modes=("ReadWriteOnce", "ReadOnlyMany"), storage="2Gi"), True, id="superset-bigger"),
])
def test_volume_satisfies(volume, fits):
    assert plan.volume_satisfies(volume, new_claim()) is fits


def test_best_match_is_the_smallest_free_volume_and_a_pre_bound_one_wins():
    small, big = new_volume("small", storage="1Gi"), new_volume("big", storage="5Gi")
    taken = new_volume("taken", claim_ref={"namespace": "default", "name": "other", "uid": "u9"})
    reserved = new_volume("reserved", storage="9Gi", claim_ref={"namespace": "default", "name": "data"})

    assert plan.find_best_match(new_claim(), [big, small, taken])["metadata"]["name"] == "small"
    assert plan.find_best_match(new_claim(), [big, small, reserved])["metadata"]["name"] == "reserved"
    assert plan.find_best_match(new_claim(), [taken]) is None


def test_selector_and_node_affinity_narrow_the_match():
    fast = new_volume("fast", labels={"tier": "fast"}, node="n1")
    claim = new_claim(selector={"matchLabels": {"tier": "fast"}})

    assert plan.find_best_match(claim, [new_volume("plain"), fast])["metadata"]["name"] == "fast"
    assert plan.find_best_match(new_claim(), [fast], node_name="n2", node_labels={"kubernetes.io/hostname": "n2"}) \
        is None


def test_provisioned_volume_is_local_pre_bound_and_pinned_to_the_node():
    volume = plan.provisioned_volume(new_claim(), {"reclaimPolicy": "Delete"}, node_name="n1", root="/var/lp")

    assert volume["metadata"]["name"] == "pvc-u1"
    assert volume["metadata"]["finalizers"] == [plan.LOCAL_PATH_FINALIZER]
    assert volume["spec"]["local"]["path"] == "/var/lp/pvc-u1_default_data"
    assert volume["spec"]["claimRef"]["uid"] == "u1"
    assert volume["spec"]["capacity"] == {"storage": "1Gi"}
    assert plan.node_admits(volume, "n1", {"kubernetes.io/hostname": "n1"})
    assert not plan.node_admits(volume, "n2", {"kubernetes.io/hostname": "n2"})
    retained = plan.provisioned_volume(new_claim(), {"reclaimPolicy": "Retain"}, node_name="n1", root="/var/lp")
    assert "finalizers" not in retained["metadata"]


@pytest.mark.parametrize(("volume", "claim", "fate"), [
    pytest.param(new_volume(), None, "available", id="unclaimed"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data", "uid": "u1"}),
                 new_claim(volume_name="pv1"), "bound", id="bound"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data", "uid": "u1"}),
                 new_claim(), "wait", id="claim-binding"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data", "uid": "u1"}), None, "released",
                 id="claim-gone-retain"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data", "uid": "u1"}, reclaim="Delete"),
                 None, "delete", id="claim-gone-delete"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data", "uid": "old"}, reclaim="Delete"),
                 new_claim(), "delete", id="claim-recreated"),
    pytest.param(new_volume(claim_ref={"namespace": "default", "name": "data"}), None, "available",
                 id="pre-bound-to-a-future-claim"),
])
def test_volume_fate(volume, claim, fate):
    assert plan.volume_fate(volume, claim) == fate


def test_pods_using_a_claim_and_immediate_node_choice():
    running = {"spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]},
               "status": {"phase": "Running"}}
    finished = {**running, "status": {"phase": "Succeeded"}}
    ready = {"metadata": {"name": "b", "annotations": {plan.LOCAL_PATH_ROOT_ANNOTATION: "/x"}},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    unpublished = {"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}

    assert plan.pod_uses_claim(running, "data") and not plan.pod_uses_claim(finished, "data")
    assert plan.claim_names_of(running) == ["data"]
    assert plan.node_for_immediate_binding([unpublished, ready])["metadata"]["name"] == "b"

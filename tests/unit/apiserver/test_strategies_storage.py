"""Validation, defaulting and kubectl cells of PersistentVolumeClaim, PersistentVolume and StorageClass."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from orchestrator.apiserver.storageclasses import pick_default_class
from orchestrator.apiserver.strategies.storage import (
    PersistentVolumeClaimStrategy,
    PersistentVolumeStrategy,
    StorageClassStrategy,
)
from orchestrator.apiserver.tables import table_for

CLAIMS, VOLUMES, CLASSES = PersistentVolumeClaimStrategy(), PersistentVolumeStrategy(), StorageClassStrategy()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def new_claim(**spec) -> dict:
    return {"metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec}}


def new_volume(**spec) -> dict:
    return {"metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/x"},
                     **spec}}


def messages(errors) -> list[str]:
    return [error.message() for error in errors]


@pytest.mark.parametrize(("claim", "expected"), [
    pytest.param(new_claim(), [], id="valid"),
    pytest.param(new_claim(accessModes=[]), ["spec.accessModes: Required value: at least 1 access mode is required"],
                 id="no-access-modes"),
    pytest.param(new_claim(resources={}), ["spec.resources[storage]: Required value"], id="no-storage"),
    pytest.param(new_claim(resources={"requests": {"storage": "0"}}),
                 ['spec.resources.requests[storage]: Invalid value: "0": must be greater than zero'], id="zero"),
    pytest.param(new_claim(accessModes=["ReadWriteSometimes"]),
                 ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", '
                  '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'], id="unknown-mode"),
])
def test_claim_validation(claim, expected):
    assert messages(CLAIMS.validate(claim)) == expected


def test_claim_create_defaults_status_and_protection():
    claim = new_claim()
    CLAIMS.prepare_for_create(claim)
    CLAIMS.default(claim)

    assert claim["status"] == {"phase": "Pending"}
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert claim["spec"]["volumeMode"] == "Filesystem"


def test_claim_update_may_bind_once_but_not_change_the_request_while_pending():
    old = new_claim(volumeMode="Filesystem")
    bound = copy.deepcopy(old)
    bound["spec"]["volumeName"] = "pv1"
    bound["spec"]["storageClassName"] = "local-path"
    grown = copy.deepcopy(old)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    annotated = copy.deepcopy(old)
    annotated["metadata"]["annotations"] = {"volume.kubernetes.io/selected-node": "n1"}

    assert CLAIMS.validate_update(bound, old) == []
    assert CLAIMS.validate_update(annotated, old) == []
    assert [e.field for e in CLAIMS.validate_update(grown, old)] == ["spec"]
    rebound = copy.deepcopy(bound)
    rebound["spec"]["volumeName"] = "pv2"
    assert [e.field for e in CLAIMS.validate_update(rebound, bound)] == ["spec"]


@pytest.mark.parametrize(("volume", "expected"), [
    pytest.param(new_volume(), [], id="valid"),
    pytest.param(new_volume(capacity={}), ["spec.capacity: Required value"], id="no-capacity"),
    pytest.param(new_volume(hostPath=None), ["spec: Required value: must specify a volume type"], id="no-source"),
    pytest.param(new_volume(local={"path": "/y"}), ["spec.local: Forbidden: may not specify more than 1 volume type",
                                                    "spec.nodeAffinity: Required value: Local volumes require node "
                                                    "affinity"], id="two-sources-local-without-affinity"),
    pytest.param(new_volume(persistentVolumeReclaimPolicy="Keep"),
                 ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", '
                  '"Recycle", "Retain"'], id="bad-policy"),
])
def test_volume_validation(volume, expected):
    assert messages(VOLUMES.validate(volume)) == expected


def test_class_defaults_and_immutability():
    storage_class = {"metadata": {"name": "fast"}, "provisioner": "example.com/x"}
    CLASSES.default(storage_class)
    changed = {**copy.deepcopy(storage_class), "reclaimPolicy": "Retain", "provisioner": "example.com/y"}

    assert storage_class["reclaimPolicy"] == "Delete" and storage_class["volumeBindingMode"] == "Immediate"
    assert messages(CLASSES.validate({"metadata": {"name": "x"}})) == ["provisioner: Required value"]
    assert messages(CLASSES.validate_update(changed, storage_class)) == [
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."]


def test_the_newest_default_class_wins():
    def sc(name, created, default=True):
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        return {"metadata": {"name": name, "creationTimestamp": created, "annotations": annotations}}

    assert pick_default_class([sc("a", "2026-01-01T00:00:00Z"), sc("b", "2026-01-02T00:00:00Z"),
                               sc("c", "2026-01-03T00:00:00Z", default=False)]) == "b"
    assert pick_default_class([sc("c", "2026-01-03T00:00:00Z", default=False)]) is None


def cells(resource: str, obj: dict) -> list:
    obj["metadata"].setdefault("creationTimestamp", "2025-12-31T23:59:00Z")
    return table_for(resource, [obj], now=NOW)["rows"][0]["cells"]


def test_table_cells():
    claim = new_claim(volumeName="pv1", storageClassName="local-path", volumeMode="Filesystem")
    claim["status"] = {"phase": "Bound", "accessModes": ["ReadOnlyMany", "ReadWriteOnce"],
                       "capacity": {"storage": "1024Mi"}}
    volume = new_volume(claimRef={"namespace": "default", "name": "data"}, persistentVolumeReclaimPolicy="Delete",
                        storageClassName="local-path")
    volume["status"] = {"phase": "Bound"}
    volume["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    storage_class = {"metadata": {"name": "local-path", "annotations": {
        "storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "orchestrator.io/local-path",
        "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}

    assert cells("persistentvolumeclaims", claim) == ["data", "Bound", "pv1", "1Gi", "RWO,ROX", "local-path",
                                                      "<unset>", "60s", "Filesystem"]
    assert cells("persistentvolumes", volume) == ["pv1", "1Gi", "RWO", "Delete", "Terminating", "default/data",
                                                  "local-path", "<unset>", "", "60s", "<unset>"]
    assert cells("storageclasses", storage_class) == ["local-path (default)", "orchestrator.io/local-path", "Delete",
                                                      "WaitForFirstConsumer", False, "60s"]

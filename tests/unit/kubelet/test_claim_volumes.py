"""persistentVolumeClaim volumes in the kubelet: waiting for the claim, the volume's directory,
readOnly; and which deleted local-path directories the kubelet removes (localpath.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.controllers.persistentvolume.plan import LOCAL_PATH_FINALIZER, SELECTED_NODE_ANNOTATION
from orchestrator.kubelet.localpath import directory_to_remove
from orchestrator.kubelet.volumes import VolumeError, VolumeManager, mounts_for

POD = {"metadata": {"name": "db", "namespace": "shop", "uid": "u-1"},
       "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}


def objects(tmp_path: Path, *, phase="Bound") -> dict:
    claim = {"metadata": {"name": "data"}, "spec": {"volumeName": "pv-1" if phase == "Bound" else None},
             "status": {"phase": phase}}
    volume = {"metadata": {"name": "pv-1"}, "spec": {"local": {"path": str(tmp_path / "lp" / "pv-1")}}}
    return {("persistentvolumeclaims", "data"): claim, ("persistentvolumes", "pv-1"): volume}


async def setup(tmp_path: Path, known: dict) -> dict:
    async def fetch(kind: str, name: str):
        return known.get((kind, name))

    return await VolumeManager(root=tmp_path / "kubelet").setup(POD, fetch=fetch, pod_ip=None, host_ip=None)


async def test_a_bound_claim_mounts_its_volume_directory_created_if_missing(tmp_path: Path) -> None:
    paths = await setup(tmp_path, objects(tmp_path))

    assert paths["data"] == tmp_path / "lp" / "pv-1"
    assert paths["data"].is_dir()


@pytest.mark.parametrize(("known", "message"), [
    pytest.param({}, 'persistentvolumeclaim "data" not found', id="missing"),
    pytest.param(None, 'PVC shop/data has non-bound phase ("Pending")', id="pending"),
])
async def test_the_pod_waits_for_its_claim(tmp_path: Path, known, message) -> None:
    with pytest.raises(VolumeError, match=re.escape(message)) as error:
        await setup(tmp_path, objects(tmp_path, phase="Pending") if known is None else known)
    assert error.value.retry_seconds is not None  # retried soon, not after the config-error delay


def test_read_only_claims_are_mounted_read_only(tmp_path: Path) -> None:
    volumes = {"data": {"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}}}
    container = {"volumeMounts": [{"name": "data", "mountPath": "/data"}]}

    mounts = mounts_for(container, volumes=volumes, volume_paths={"data": tmp_path}, environment={})

    assert mounts[0]["read_only"]


def deleted_volume(path: str, *, node="n1", finalizers=(LOCAL_PATH_FINALIZER,), deleting=True) -> dict:
    metadata = {"name": "pv", "finalizers": list(finalizers), "annotations": {SELECTED_NODE_ANNOTATION: node}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata, "spec": {"local": {"path": path}}}


@pytest.mark.parametrize(("volume", "removed"), [
    pytest.param(deleted_volume("/lp/pvc-1"), True, id="ours"),
    pytest.param(deleted_volume("/lp/pvc-1", deleting=False), False, id="not-deleted"),
    pytest.param(deleted_volume("/lp/pvc-1", node="n2"), False, id="other-node"),
    pytest.param(deleted_volume("/lp/pvc-1", finalizers=()), False, id="retain-no-finalizer"),
    pytest.param(deleted_volume("/etc"), False, id="outside-the-root"),
    pytest.param(deleted_volume("/lp/../etc"), False, id="escaping"),
])
def test_directory_to_remove(volume, removed):
    assert (directory_to_remove(volume, node_name="n1", root=Path("/lp")) is not None) is removed

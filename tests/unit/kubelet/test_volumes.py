"""Unit tests of orchestrator/kubelet/volumes.py: files of configMap/secret/downwardAPI volumes, mounts, layout."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest

from orchestrator.kubelet.volumes import PlannedFile, VolumeError, VolumeManager, mounts_for, planned_files

POD = {"metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"b": "2", "a": "1"}},
       "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "128Mi"}}}]}}
OBJECTS = {
    ("configmaps", "settings"): {"data": {"mode": "fast", "level": "3"}},
    ("secrets", "creds"): {"data": {"password": base64.b64encode(b"s3cret").decode()}},
}


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        pytest.param({"name": "v", "configMap": {"name": "settings", "defaultMode": 0o644}},
                     {"mode": PlannedFile(b"fast", 0o644), "level": PlannedFile(b"3", 0o644)}, id="config-map"),
        pytest.param({"name": "v", "configMap": {"name": "settings", "items": [{"key": "mode", "path": "conf/m",
                                                                                 "mode": 0o600}]}},
                     {"conf/m": PlannedFile(b"fast", 0o600)}, id="config-map-items"),
        pytest.param({"name": "v", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                     {"password": PlannedFile(b"s3cret", 0o400)}, id="secret"),
        pytest.param({"name": "v", "configMap": {"name": "absent", "optional": True}}, {}, id="optional-missing"),
        pytest.param({"name": "v", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "mem", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory",
                                                 "divisor": "1Mi"}}]}},
                     {"labels": PlannedFile(b'a="1"\nb="2"', 0o644), "name": PlannedFile(b"web", 0o644),
                      "mem": PlannedFile(b"128", 0o644)}, id="downward-api"),
        pytest.param({"name": "v", "projected": {"sources": [{"configMap": {"name": "settings",
                                                                              "items": [{"key": "level", "path": "l"}]}},
                                                             {"secret": {"name": "creds"}}]}},
                     {"l": PlannedFile(b"3", 0o644), "password": PlannedFile(b"s3cret", 0o644)}, id="projected"),
    ],
)
def test_planned_files(volume: dict[str, Any], expected: dict[str, PlannedFile]) -> None:
    assert planned_files(volume, pod=POD, objects=OBJECTS) == expected


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        pytest.param({"name": "v", "configMap": {"name": "absent"}}, 'configmap "absent" not found', id="missing"),
        pytest.param({"name": "v", "secret": {"secretName": "gone"}}, 'secret "gone" not found', id="missing-secret"),
        pytest.param({"name": "v", "configMap": {"name": "settings", "items": [{"key": "nope", "path": "x"}]}},
                     "configmap references non-existent config key: nope", id="missing-key"),
    ],
)
def test_planned_files_errors(volume: dict[str, Any], message: str) -> None:
    with pytest.raises(VolumeError) as raised:
        planned_files(volume, pod=POD, objects=OBJECTS)
    assert raised.value.message == f'MountVolume.SetUp failed for volume "v" : {message}'


def test_mounts_read_only_kinds_sub_paths_and_escapes(tmp_path: Path) -> None:
    volumes = {"data": {"name": "data", "emptyDir": {}}, "conf": {"name": "conf", "configMap": {"name": "c"}}}
    paths = {"data": tmp_path / "data", "conf": tmp_path / "conf"}
    container = {"volumeMounts": [{"name": "data", "mountPath": "/data"},
                                  {"name": "data", "mountPath": "/logs", "subPathExpr": "$(POD)/logs"},
                                  {"name": "conf", "mountPath": "/etc/app"}]}
    mounts = mounts_for(container, volumes=volumes, volume_paths=paths, environment={"POD": "web"})
    assert mounts == [
        {"source": str(tmp_path / "data"), "target": "/data", "read_only": False},
        {"source": str(tmp_path / "data" / "web" / "logs"), "target": "/logs", "read_only": False},
        {"source": str(tmp_path / "conf"), "target": "/etc/app", "read_only": True},
    ]
    assert (tmp_path / "data" / "web" / "logs").is_dir()
    with pytest.raises(VolumeError):
        mounts_for({"volumeMounts": [{"name": "data", "mountPath": "/x", "subPath": "../../etc"}]},
                   volumes=volumes, volume_paths=paths, environment={})


async def test_setup_writes_updates_and_cleans_up(tmp_path: Path) -> None:
    manager = VolumeManager(root=tmp_path)
    objects: dict[tuple[str, str], Any] = dict(OBJECTS)

    async def fetch(kind: str, name: str) -> Any:
        return objects.get((kind, name))

    host_dir = tmp_path / "host" / "made"
    pod = {**POD, "spec": {**POD["spec"], "volumes": [
        {"name": "scratch", "emptyDir": {}},
        {"name": "conf", "configMap": {"name": "settings", "defaultMode": 0o640}},
        {"name": "host", "hostPath": {"path": str(host_dir), "type": "DirectoryOrCreate"}},
    ]}}
    paths = await manager.setup(pod, fetch=fetch, pod_ip=None, host_ip=None)
    assert paths["scratch"] == tmp_path / "pods" / "u-1" / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    assert stat.S_IMODE(paths["scratch"].stat().st_mode) == 0o777
    assert (paths["conf"] / "mode").read_bytes() == b"fast"
    assert stat.S_IMODE((paths["conf"] / "mode").stat().st_mode) == 0o640
    assert paths["host"] == host_dir and host_dir.is_dir()

    objects[("configmaps", "settings")] = {"data": {"mode": "slow"}}
    await manager.setup(pod, fetch=fetch, pod_ip=None, host_ip=None)
    assert (paths["conf"] / "mode").read_bytes() == b"slow"
    assert not (paths["conf"] / "level").exists()

    assert manager.pod_uids_on_disk() == ["u-1"]
    await manager.cleanup("u-1")
    assert manager.pod_uids_on_disk() == []


async def test_host_path_type_check(tmp_path: Path) -> None:
    manager = VolumeManager(root=tmp_path)
    pod = {**POD, "spec": {"volumes": [{"name": "h", "hostPath": {"path": str(tmp_path / "nope"),
                                                                   "type": "Directory"}}]}}
    with pytest.raises(VolumeError, match="is not a directory"):
        await manager.setup(pod, fetch=None, pod_ip=None, host_ip=None)  # type: ignore[arg-type]


async def test_unsupported_volume_type(tmp_path: Path) -> None:
    pod = {**POD, "spec": {"volumes": [{"name": "share", "nfs": {"server": "x", "path": "/"}}]}}
    with pytest.raises(VolumeError, match="nfs is not supported"):
        await VolumeManager(root=tmp_path).setup(pod, fetch=None, pod_ip=None, host_ip=None)  # type: ignore[arg-type]

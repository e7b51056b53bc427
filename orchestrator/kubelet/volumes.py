"""Pod volumes on the node's disk, and the bind mounts that put them into containers.

Each pod gets a directory `<root>/pods/<uid>/volumes/<plugin>/<volume>` per volume,
as the kubelet lays them out: `emptyDir` (kubernetes.io~empty-dir, mode 0777),
`configMap` and `secret` (their keys, or the chosen `items`, written as files with
`defaultMode`/`mode`, rewritten when the object changes), `downwardAPI` and
`projected` (configMap, secret and downwardAPI sources). `hostPath` mounts the
node's path itself, checked or created as its `type` says. `persistentVolumeClaim` mounts the
directory of the volume the claim is bound to (`local.path` or `hostPath.path`), created if
missing; until the claim is Bound the pod waits (FailedMount, retried every second). Volumes of configMap,
secret, downwardAPI and projected kind are always mounted read-only, as in Kubernetes.

`<root>` is `$ORC_KUBELET_ROOT` (default /var/lib/orc/kubelet) + `<cluster>/<node>`.
Used by the pod workers (podworker.py); `planned_files` and `mounts_for` are pure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.kubelet.env import (
    EnvError,
    config_map_data,
    expand,
    field_ref_value,
    format_map,
    resource_field_value,
    secret_data,
)
from orchestrator.kubelet.runtime import BindMount

DEFAULT_ROOT = "/var/lib/orc/kubelet"
ROOT_ENV = "ORC_KUBELET_ROOT"
DEFAULT_FILE_MODE = 0o644

PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
READ_ONLY_KINDS = ("configMap", "secret", "downwardAPI", "projected")

# Fetch a ConfigMap or Secret of the pod's namespace by (kind, name); None when it does not exist.
ObjectFetcher = Callable[[str, str], Awaitable[Mapping[str, Any] | None]]


class VolumeError(Exception):
    """A volume cannot be set up; the kubelet records `FailedMount` and leaves the pod ContainerCreating."""

    def __init__(self, volume: str, message: str, *, retry_seconds: float | None = None) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {message}')
        self.volume = volume
        self.message = str(self)
        self.retry_seconds = retry_seconds  # sooner than the default when the cause is expected to pass soon


@dataclass(frozen=True)
class PlannedFile:
    content: bytes
    mode: int


def kubelet_root(cluster: str, node: str) -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT) / cluster / node


def volume_kind(volume: Mapping[str, Any]) -> str:
    """The volume's source type (`emptyDir`, `hostPath`, ...), or "" when it has none."""
    return next((key for key in volume if key != "name" and volume[key] is not None), "")


def _key_files(
    data: Mapping[str, bytes],
    *,
    items: list[Mapping[str, Any]] | None,
    default_mode: int,
    missing_key_message: str,
    optional: bool,
) -> dict[str, PlannedFile]:
    if not items:
        return {key: PlannedFile(value, default_mode) for key, value in data.items()}
    files: dict[str, PlannedFile] = {}
    for item in items:
        key = item.get("key") or ""
        if key not in data:
            if optional:
                continue
            raise ValueError(f"{missing_key_message}: {key}")
        mode = item.get("mode")
        files[item.get("path") or key] = PlannedFile(data[key], default_mode if mode is None else int(mode))
    return files


def _downward_files(
    source: Mapping[str, Any], *, pod: Mapping[str, Any], pod_ip: str | None, host_ip: str | None, default_mode: int
) -> dict[str, PlannedFile]:
    files: dict[str, PlannedFile] = {}
    containers = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
    for item in source.get("items") or []:
        if item.get("fieldRef") is not None:
            field_path = item["fieldRef"].get("fieldPath") or ""
            if field_path in ("metadata.labels", "metadata.annotations"):
                value = format_map((pod.get("metadata") or {}).get(field_path.split(".")[1]) or {})
            else:
                value = field_ref_value(pod, field_path, pod_ip=pod_ip, host_ip=host_ip)
        elif item.get("resourceFieldRef") is not None:
            reference = item["resourceFieldRef"]
            value = resource_field_value(containers.get(reference.get("containerName"), {}), reference,
                                         node_allocatable={})
        else:
            continue
        mode = item.get("mode")
        files[item.get("path") or ""] = PlannedFile(value.encode(), default_mode if mode is None else int(mode))
    return files


def planned_files(
    volume: Mapping[str, Any],
    *,
    pod: Mapping[str, Any],
    objects: Mapping[tuple[str, str], Mapping[str, Any] | None],
    pod_ip: str | None = None,
    host_ip: str | None = None,
) -> dict[str, PlannedFile]:
    """The files a configMap/secret/downwardAPI/projected volume holds (relative path -> content and mode).

    `objects` maps ("configmaps"|"secrets", name) to the object, or None when it
    does not exist. Raises VolumeError with Kubernetes' message.
    """
    name = volume.get("name", "")
    kind = volume_kind(volume)
    source = volume.get(kind) or {}
    try:
        if kind == "projected":
            default_mode = _mode(source.get("defaultMode"))
            files: dict[str, PlannedFile] = {}
            for projection in source.get("sources") or []:
                for projection_kind in ("configMap", "secret", "downwardAPI"):
                    if projection.get(projection_kind) is not None:
                        files.update(_source_files(projection_kind, projection[projection_kind], pod=pod,
                                                   objects=objects, pod_ip=pod_ip, host_ip=host_ip,
                                                   default_mode=default_mode))
            return files
        return _source_files(kind, source, pod=pod, objects=objects, pod_ip=pod_ip, host_ip=host_ip,
                             default_mode=_mode(source.get("defaultMode")))
    except (ValueError, EnvError) as error:
        raise VolumeError(name, str(getattr(error, "message", error))) from error


def _mode(value: Any) -> int:
    return DEFAULT_FILE_MODE if value is None else int(value)


def _source_files(
    kind: str,
    source: Mapping[str, Any],
    *,
    pod: Mapping[str, Any],
    objects: Mapping[tuple[str, str], Mapping[str, Any] | None],
    pod_ip: str | None,
    host_ip: str | None,
    default_mode: int,
) -> dict[str, PlannedFile]:
    optional = bool(source.get("optional"))
    if kind == "configMap":
        object_name = source.get("name") or ""
        config_map = objects.get(("configmaps", object_name))
        if config_map is None:
            if optional:
                return {}
            raise ValueError(f'configmap "{object_name}" not found')
        return _key_files(config_map_data(config_map), items=source.get("items"), default_mode=default_mode,
                          missing_key_message="configmap references non-existent config key", optional=optional)
    if kind == "secret":
        object_name = source.get("secretName") or source.get("name") or ""
        secret = objects.get(("secrets", object_name))
        if secret is None:
            if optional:
                return {}
            raise ValueError(f'secret "{object_name}" not found')
        return _key_files(secret_data(secret), items=source.get("items"), default_mode=default_mode,
                          missing_key_message="references non-existent secret key", optional=optional)
    if kind == "downwardAPI":
        return _downward_files(source, pod=pod, pod_ip=pod_ip, host_ip=host_ip, default_mode=default_mode)
    raise ValueError(f"unsupported volume source {kind!r}")


CLAIM_WAIT_RETRY_SECONDS = 1.0


def claim_volume_path(
    volume: Mapping[str, Any],
    *,
    namespace: str,
    claim: Mapping[str, Any] | None,
    persistent_volume: Mapping[str, Any] | None,
) -> Path:
    """The node directory behind a `persistentVolumeClaim` volume; VolumeError while the claim is not Bound."""
    name = volume.get("name", "")
    claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName") or ""
    if claim is None:
        raise VolumeError(name, f'persistentvolumeclaim "{claim_name}" not found',
                          retry_seconds=CLAIM_WAIT_RETRY_SECONDS)
    phase = (claim.get("status") or {}).get("phase") or ""
    volume_name = (claim.get("spec") or {}).get("volumeName") or ""
    if phase != "Bound" or not volume_name:
        raise VolumeError(name, f'PVC {namespace}/{claim_name} has non-bound phase ("{phase}") or empty '
                          f'pvc.Spec.VolumeName ("{volume_name}")', retry_seconds=CLAIM_WAIT_RETRY_SECONDS)
    if persistent_volume is None:
        raise VolumeError(name, f'persistentvolume "{volume_name}" not found', retry_seconds=CLAIM_WAIT_RETRY_SECONDS)
    spec = persistent_volume.get("spec") or {}
    path = (spec.get("local") or {}).get("path") or (spec.get("hostPath") or {}).get("path")
    if not path:
        raise VolumeError(name, f"volume {volume_name} has no local or hostPath source this kubelet can mount")
    return Path(path)


def _prepare_claim_directory(path: Path) -> Path:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)  # any user of any pod may write it, as k3s's local-path volumes
    return path


def referenced_volume_objects(pod: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The ("configmaps"|"secrets", name) pairs the pod's volumes read."""
    wanted: set[tuple[str, str]] = set()
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        sources = [volume]
        if volume.get("projected") is not None:
            sources = list(volume["projected"].get("sources") or [])
        for source in sources:
            if source.get("configMap") is not None:
                wanted.add(("configmaps", source["configMap"].get("name") or ""))
            if source.get("secret") is not None:
                secret = source["secret"]
                wanted.add(("secrets", secret.get("secretName") or secret.get("name") or ""))
    return wanted


def _safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{path!r}: must be a relative path without '..'")
    return relative


def mounts_for(
    container: Mapping[str, Any],
    *,
    volumes: Mapping[str, Mapping[str, Any]],
    volume_paths: Mapping[str, Path],
    environment: Mapping[str, str],
) -> list[BindMount]:
    """The bind mounts of `container`'s volumeMounts (subPath and subPathExpr resolved).

    Pure except that a missing subPath directory is created, as the kubelet does.
    Raises VolumeError for an unknown volume or an escaping subPath.
    """
    mounts: list[BindMount] = []
    for volume_mount in container.get("volumeMounts") or []:
        name = volume_mount.get("name", "")
        source = volume_paths.get(name)
        if source is None:
            raise VolumeError(name, "volume is not set up")
        sub_path = volume_mount.get("subPath") or ""
        if not sub_path and volume_mount.get("subPathExpr"):
            sub_path = expand(volume_mount["subPathExpr"], environment)
        if sub_path:
            try:
                relative = _safe_relative(sub_path)
            except ValueError as error:
                raise VolumeError(name, f"invalid subPath {error}") from error
            source = source / relative
            if not source.exists():
                source.mkdir(parents=True, exist_ok=True)
        volume = volumes.get(name, {})
        read_only = (bool(volume_mount.get("readOnly")) or volume_kind(volume) in READ_ONLY_KINDS
                     or bool((volume.get("persistentVolumeClaim") or {}).get("readOnly")))
        mounts.append(BindMount(source=str(source), target=volume_mount.get("mountPath", ""), read_only=read_only))
    return mounts


class VolumeManager:
    """Creates, refreshes and removes the volume directories of the pods of one node."""

    def __init__(self, *, root: Path) -> None:
        self.root = root

    @property
    def pods_dir(self) -> Path:
        return self.root / "pods"

    def pod_dir(self, pod_uid: str) -> Path:
        return self.pods_dir / pod_uid

    def pod_uids_on_disk(self) -> list[str]:
        if not self.pods_dir.is_dir():
            return []
        return [entry.name for entry in self.pods_dir.iterdir() if entry.is_dir()]

    async def setup(
        self, pod: Mapping[str, Any], *, fetch: ObjectFetcher, pod_ip: str | None, host_ip: str | None
    ) -> dict[str, Path]:
        """Make every volume of `pod` ready (writing current ConfigMap/Secret contents); returns name -> host path."""
        objects = {key: await fetch(*key) for key in referenced_volume_objects(pod)}
        uid = (pod.get("metadata") or {}).get("uid", "")
        claim_paths = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            if volume_kind(volume) != "persistentVolumeClaim":
                continue
            claim = await fetch("persistentvolumeclaims", volume["persistentVolumeClaim"].get("claimName") or "")
            volume_name = ((claim or {}).get("spec") or {}).get("volumeName")
            persistent_volume = await fetch("persistentvolumes", volume_name) if volume_name else None
            claim_paths[volume["name"]] = claim_volume_path(
                volume, namespace=(pod.get("metadata") or {}).get("namespace") or "", claim=claim,
                persistent_volume=persistent_volume)
        paths = await asyncio.to_thread(self._setup_blocking, pod, uid, objects, pod_ip, host_ip, claim_paths)
        return paths

    def _setup_blocking(
        self,
        pod: Mapping[str, Any],
        uid: str,
        objects: Mapping[tuple[str, str], Mapping[str, Any] | None],
        pod_ip: str | None,
        host_ip: str | None,
        claim_paths: Mapping[str, Path],
    ) -> dict[str, Path]:
        paths: dict[str, Path] = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            name = volume.get("name", "")
            kind = volume_kind(volume)
            if kind == "persistentVolumeClaim":
                paths[name] = _prepare_claim_directory(claim_paths[name])
                continue
            if kind == "hostPath":
                paths[name] = _prepare_host_path(name, volume["hostPath"])
                continue
            if kind not in PLUGIN_DIRS:
                raise VolumeError(name, f"volume type {kind or '<none>'} is not supported by this kubelet")
            directory = self.pod_dir(uid) / "volumes" / PLUGIN_DIRS[kind] / name
            if kind == "emptyDir":
                if not directory.is_dir():
                    directory.mkdir(parents=True, exist_ok=True)
                    # Any user in the container may write an emptyDir, as in Kubernetes.
                    directory.chmod(0o777)
            else:
                files = planned_files(volume, pod=pod, objects=objects, pod_ip=pod_ip, host_ip=host_ip)
                _write_files(directory, files)
            paths[name] = directory
        return paths

    async def cleanup(self, pod_uid: str) -> None:
        """Remove everything of a pod that is gone (emptyDirs included)."""
        directory = self.pod_dir(pod_uid)
        if directory.exists():
            await asyncio.to_thread(shutil.rmtree, directory, True)


def _prepare_host_path(name: str, source: Mapping[str, Any]) -> Path:
    """hostPath `type` checks: DirectoryOrCreate/FileOrCreate create, the others must already exist as such."""
    path = Path(source.get("path") or "")
    path_type = source.get("type") or ""
    checks: dict[str, Callable[[os.stat_result], bool]] = {
        "Directory": lambda st: stat.S_ISDIR(st.st_mode),
        "File": lambda st: stat.S_ISREG(st.st_mode),
        "Socket": lambda st: stat.S_ISSOCK(st.st_mode),
        "CharDevice": lambda st: stat.S_ISCHR(st.st_mode),
        "BlockDevice": lambda st: stat.S_ISBLK(st.st_mode),
    }
    if path_type == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True)
    elif path_type == "FileOrCreate":
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o644)
    elif path_type in checks:
        try:
            ok = checks[path_type](path.stat())
        except OSError:
            ok = False
        if not ok:
            raise VolumeError(name, f"hostPath type check failed: {path} is not a {path_type.lower()}")
    return path


def _write_files(directory: Path, files: Mapping[str, PlannedFile]) -> None:
    """Make `directory` hold exactly `files`: changed files are replaced atomically, stale ones removed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {str(_safe_relative(relative)) for relative in files}
    for relative, planned in files.items():
        target = directory / _safe_relative(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            current = target.read_bytes()
            if current == planned.content and stat.S_IMODE(target.stat().st_mode) == planned.mode:
                continue
        except OSError:
            pass
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(planned.content)
            os.chmod(temporary, planned.mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    for existing in sorted(directory.rglob("*"), reverse=True):
        relative = existing.relative_to(directory).as_posix()
        if existing.is_file() and relative not in wanted:
            existing.unlink(missing_ok=True)

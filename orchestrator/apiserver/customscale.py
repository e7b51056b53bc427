"""The scale subresource of custom resources: autoscaling/v1 Scale read from and written to the CRD's paths.

A CRD version's `subresources.scale` names `specReplicasPath` (required, `.spec.x`),
`statusReplicasPath` (required, `.status.x`) and `labelSelectorPath` (optional, a
string-form selector, as HPA reads it). As kube-apiserver: a missing spec or status
count reads as 0, a missing selector as "", and a write sets only the spec path.

Used by rest.py's `to_scale` / `set_replicas` when the resource is a custom one.
"""

from __future__ import annotations

from typing import Any


def _steps(path: str | None) -> list[str]:
    return [step for step in (path or "").lstrip(".").split(".") if step]


def read_path(obj: dict, path: str | None) -> Any:
    value: Any = obj
    for step in _steps(path):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def write_path(obj: dict, path: str, value: Any) -> None:
    steps = _steps(path)
    target = obj
    for step in steps[:-1]:
        if not isinstance(target.get(step), dict):
            target[step] = {}
        target = target[step]
    target[steps[-1]] = value


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def to_scale(obj: dict, scale: dict) -> dict:
    meta = obj["metadata"]
    selector = read_path(obj, scale.get("labelSelectorPath")) if scale.get("labelSelectorPath") else None
    status: dict[str, Any] = {"replicas": _count(read_path(obj, scale.get("statusReplicasPath")))}
    if isinstance(selector, str) and selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
        "spec": {"replicas": _count(read_path(obj, scale.get("specReplicasPath")))},
        "status": status,
    }


def set_replicas(obj: dict, scale: dict, replicas: Any) -> None:
    write_path(obj, scale.get("specReplicasPath") or ".spec.replicas", replicas)

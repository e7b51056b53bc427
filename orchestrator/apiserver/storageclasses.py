"""The default StorageClass `local-path` and Kubernetes' DefaultStorageClass admission plugin.

`ensure_default_storage_class` runs once at apiserver start-up (app.py lifespan, next to the
default IngressClass) and creates the StorageClass `local-path` (provisioner
`orchestrator.io/local-path`, WaitForFirstConsumer, reclaim policy Delete, marked default by the
`storageclass.kubernetes.io/is-default-class` annotation) unless one of that name exists: the
class k3s users know. A user who deletes it gets it back at the next start-up, as Kubernetes'
bootstrap objects.

`DefaultStorageClassAdmission.check` is one of RestHandler.write_checks: a claim created
without `spec.storageClassName` (nil, not "": "" asks for a volume of no class) gets the name of
the default class; with several defaults, the newest wins (Kubernetes >= 1.28).
"""

from __future__ import annotations

import time
import uuid

from orchestrator.apiserver.storage import KeyExists
from orchestrator.apiserver.tables_storage import BETA_CLASS_ANNOTATION, is_default_class

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_CLASS_NAME = "local-path"
LOCAL_PATH_PROVISIONER = "orchestrator.io/local-path"


def default_storage_class() -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS_NAME, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": LOCAL_PATH_PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }


async def ensure_default_storage_class(storage, clock=time.time) -> None:
    body = default_storage_class()
    body["metadata"]["uid"] = str(uuid.uuid4())
    body["metadata"]["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock()))
    try:
        await storage.create(storage.key("storageclasses", None, DEFAULT_CLASS_NAME), body)
    except KeyExists:
        pass


def pick_default_class(storage_classes: list[dict]) -> str | None:
    """The class a claim without one gets: the newest default class (name breaks ties)."""
    defaults = [c for c in storage_classes if is_default_class(c)]
    if not defaults:
        return None
    newest = max(defaults, key=lambda c: ((c["metadata"].get("creationTimestamp") or ""), c["metadata"]["name"]))
    return newest["metadata"]["name"]


class DefaultStorageClassAdmission:
    def __init__(self, cache):
        self.cache = cache

    async def check(self, request, target, obj: dict, old: dict | None) -> None:
        if target.info.kind != "PersistentVolumeClaim" or target.info.group != "" or old is not None:
            return
        spec = obj.setdefault("spec", {})
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if spec.get("storageClassName") is not None or BETA_CLASS_ANNOTATION in annotations:
            return
        classes, _ = self.cache.snapshot("storageclasses")
        name = pick_default_class(classes)
        if name:
            spec["storageClassName"] = name

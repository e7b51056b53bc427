"""CustomResourceDefinitions become registry entries at run time; their objects go through the one REST handler.

`CustomResourceController` runs inside every apiserver (as kube-apiserver's apiextensions
controllers do): it watches CRDs through the watch cache and, for each one, `sync(name)`

* checks its names against every resource already served (a taken plural/kind: NamesAccepted
  False, reason NameConflict, nothing served),
* serves each `served` version as a `ResourceInfo` (registry.replace_custom), with a
  `CustomResourceStrategy` that validates, defaults and prunes by the version's schema,
* writes `status.acceptedNames` and the NamesAccepted/Established conditions when they change
  (compare-and-swap, so two apiservers on one etcd agree),
* on deletion (finalizer `customresourcecleanup.apiextensions.k8s.io`, added here): Terminating
  condition, every custom object deleted, then the finalizer removed and the CRD deleted.

Started and stopped by app.py's lifespan.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from datetime import UTC, datetime

from orchestrator.api.errors import FieldError
from orchestrator.apiserver import crdschema, customfields
from orchestrator.apiserver.registry import Registry, ResourceInfo
from orchestrator.apiserver.storage import KeyMissing, StaleRevision, Storage
from orchestrator.apiserver.strategies.apiextensions import without_kube_finalizer_rule
from orchestrator.apiserver.strategies.base import DefaultStrategy
from orchestrator.apiserver.watchcache import BOOKMARK, WatchCache

log = logging.getLogger(__name__)

CRD_RESOURCE = "customresourcedefinitions"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


class CustomResourceStrategy(DefaultStrategy):
    """Metadata rules plus the version's structural schema (validation, defaults, pruning)."""

    def __init__(self, *, kind: str, namespaced: bool, has_status: bool, schema: dict, api_version: str = ""):
        super().__init__(kind=kind, namespaced=namespaced, has_status=has_status)
        self.schema = schema or {}
        self.api_version = api_version

    def read_view(self, stored: dict) -> dict:
        """The stored object as this version serves it: conversion strategy None rewrites apiVersion, and the
        schema prunes and defaults on read, as kube-apiserver does when decoding from etcd (a CRD whose schema
        changed, or an object written through another version, reads as this version describes it)."""
        view = copy.deepcopy(stored)
        if self.api_version:
            view["apiVersion"] = self.api_version
        self.default(view)
        return view

    def default(self, obj: dict) -> None:
        crdschema.prune(self.schema, obj)
        crdschema.apply_defaults(self.schema, obj)

    def prepare_for_create(self, obj: dict) -> None:
        # As kube-apiserver's customresource strategy: with a status subresource, status is not the creator's.
        if self.has_status:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1

    def prepare_for_update(self, new: dict, old: dict) -> None:
        """Status is kept (with the subresource); generation counts changes of everything but metadata (and status)."""
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        self.default(new)
        if _content(new, self.has_status) != _content(old, self.has_status):
            new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        """Only status changes through /status: every other field, metadata included, is the stored one."""
        status = new.get("status", _MISSING)
        new.clear()
        new.update(copy.deepcopy(old))
        if status is _MISSING:
            new.pop("status", None)
        else:
            new["status"] = status

    def validate(self, obj: dict) -> list[FieldError]:
        return without_kube_finalizer_rule(self.validate_metadata(obj), obj) + crdschema.validate(self.schema, obj)

    def validate_update(self, new: dict, old: dict) -> list[FieldError]:
        return self.validate(new) + [error for error in without_kube_finalizer_rule(
            self.validate_metadata_update(new, old), new) if error not in self.validate_metadata(new)]

    def unknown_fields(self, obj: dict) -> list[str]:
        """What pruning will drop: an error with fieldValidation=Strict, a warning with Warn (rest.py)."""
        return crdschema.unknown_fields(self.schema, obj)

    def validate_status_update(self, new: dict, old: dict) -> list[FieldError]:
        return without_kube_finalizer_rule(self.validate_metadata_update(new, old), new) + crdschema.validate(
            self.schema, new)


_MISSING = object()


def _content(obj: dict, without_status: bool) -> dict:
    """What metadata.generation tracks: the object without metadata (and without status when it is a subresource)."""
    skipped = ("metadata", "status") if without_status else ("metadata",)
    return {key: value for key, value in obj.items() if key not in skipped}


def resource_infos(crd: dict) -> tuple[ResourceInfo, ...]:
    """One ResourceInfo per served version of `crd`."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    infos = []
    for version in spec.get("versions") or ():
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        served_subresources = tuple(name for name in ("status", "scale") if name in subresources)
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
        strategy = CustomResourceStrategy(kind=names["kind"], namespaced=namespaced,
                                          has_status="status" in subresources, schema=schema,
                                          api_version=f'{spec["group"]}/{version["name"]}')
        infos.append(ResourceInfo(
            spec["group"], version["name"], names["kind"], names["plural"],
            names.get("singular") or names["kind"].lower(), namespaced, "",
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            subresources=served_subresources,
            extra={"strategy": strategy, "crd": crd["metadata"]["name"],
                   "printer_columns": version.get("additionalPrinterColumns") or [],
                   "scale": subresources.get("scale"),
                   "selectable_fields": customfields.selectable_fields(version)},
        ))
    return tuple(infos)


def name_conflict(crd: dict, registry: Registry) -> str | None:
    """Why the CRD's names cannot be served, or None. Plurals are the etcd key segment: unique everywhere."""
    names = (crd.get("spec") or {}).get("names") or {}
    group = (crd.get("spec") or {}).get("group")
    own = crd["metadata"]["name"]
    for info in registry.resources:
        if info.extra.get("crd") == own:
            continue
        if info.plural == names.get("plural"):
            return f'"{names.get("plural")}" is already in use'
        if info.group == group and info.kind == names.get("kind"):
            return f'"{names.get("kind")}" is already in use'
    return None


def _condition(conditions: list[dict], condition_type: str, status: str, reason: str, message: str, now: str) -> None:
    for condition in conditions:
        if condition["type"] == condition_type:
            if condition["status"] != status:
                condition["lastTransitionTime"] = now
            condition.update(status=status, reason=reason, message=message)
            return
    conditions.append({"type": condition_type, "status": status, "lastTransitionTime": now, "reason": reason,
                       "message": message})


class CustomResourceController:
    def __init__(self, *, storage: Storage, cache: WatchCache, registry: Registry, clock=time.time):
        self.storage = storage
        self.cache = cache
        self.registry = registry
        self.clock = clock
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # Serve what is already stored before the first request arrives.
        items, _ = self.cache.snapshot(CRD_RESOURCE)
        for crd in items:
            await self.sync(crd["metadata"]["name"])
        self._task = asyncio.create_task(self._run(), name="crd-controller")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            watcher = self.cache.watch(CRD_RESOURCE, predicate=lambda obj: True, since_revision=None)
            try:
                while (item := await watcher.queue.get()) is not None:
                    event_type, event = item
                    if event_type == BOOKMARK:
                        continue
                    name = event.object["metadata"]["name"]
                    for attempt in range(5):
                        try:
                            if await self.sync(name):
                                break
                        except Exception:  # one bad CRD must not stop the others
                            log.exception("crd %s: sync failed", name)
                            break
                        await asyncio.sleep(0.05 * (attempt + 1))
            finally:
                self.cache.unwatch(watcher)

    def _key(self, name: str) -> bytes:
        return self.storage.key(CRD_RESOURCE, None, name)

    async def sync(self, name: str) -> bool:
        """Bring the registry and the CRD's status in line with the stored CRD; False: retry (conflict)."""
        crd = await self.storage.get(self._key(name))
        if crd is None:
            self.registry.replace_custom(name, ())
            return True
        now = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        metadata = crd["metadata"]
        new = copy.deepcopy(crd)
        status = new.setdefault("status", {})
        conditions = status.setdefault("conditions", [])
        if metadata.get("deletionTimestamp"):
            return await self._terminate(crd, new, now)
        if CLEANUP_FINALIZER not in (metadata.get("finalizers") or []):
            new["metadata"].setdefault("finalizers", []).append(CLEANUP_FINALIZER)
        conflict = name_conflict(crd, self.registry)
        if conflict:
            self.registry.replace_custom(name, ())
            _condition(conditions, "NamesAccepted", "False", "NameConflict", conflict, now)
            _condition(conditions, "Established", "False", "NotAccepted", "not all names are accepted", now)
        else:
            self.registry.replace_custom(name, resource_infos(crd))
            names = crd["spec"]["names"]
            status["acceptedNames"] = {key: names[key] for key in
                                       ("plural", "singular", "shortNames", "kind", "listKind", "categories")
                                       if names.get(key)}
            status["acceptedNames"].setdefault("listKind", f"{names['kind']}List")
            status["acceptedNames"].setdefault("singular", names["kind"].lower())
            _condition(conditions, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now)
            _condition(conditions, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted",
                       now)
        status["storedVersions"] = [v["name"] for v in crd["spec"].get("versions") or () if v.get("storage")]
        return await self._write(crd, new)

    async def _write(self, current: dict, new: dict) -> bool:
        if new == current:
            return True
        try:
            await self.storage.update(self._key(current["metadata"]["name"]), new,
                                      expected_revision=int(current["metadata"]["resourceVersion"]))
        except (StaleRevision, KeyMissing):
            return False
        return True

    async def _terminate(self, crd: dict, new: dict, now: str) -> bool:
        name = crd["metadata"]["name"]
        _condition(new["status"]["conditions"], "Terminating", "True", "InstanceDeletionInProgress",
                   "CustomResource deletion is in progress", now)
        if not await self._write(crd, new):
            return False
        plural = crd["spec"]["names"]["plural"]
        page = await self.storage.list(self.storage.collection_prefix(plural, None))
        for obj in page.items:
            meta = obj["metadata"]
            try:
                await self.storage.delete(self.storage.key(plural, meta.get("namespace"), meta["name"]),
                                          expected_revision=int(meta["resourceVersion"]))
            except (StaleRevision, KeyMissing):
                return False
        self.registry.replace_custom(name, ())
        current = await self.storage.get(self._key(name))
        if current is None:
            return True
        finalizers = [f for f in current["metadata"].get("finalizers") or () if f != CLEANUP_FINALIZER]
        try:
            if finalizers:
                done = copy.deepcopy(current)
                done["metadata"]["finalizers"] = finalizers
                await self.storage.update(self._key(name), done,
                                          expected_revision=int(current["metadata"]["resourceVersion"]))
            else:
                await self.storage.delete(self._key(name), expected_revision=int(current["metadata"]["resourceVersion"]))
        except (StaleRevision, KeyMissing):
            return False
        log.info("deleted crd %s and its %d objects", name, len(page.items))
        return True

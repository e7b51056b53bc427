"""The garbage collector: ownerReferences cascade deletions (Background, Foreground, Orphan).

As pkg/controller/garbagecollector, over a registry of watched resources (the
`GC_RESOURCES` informers, indexed by uid and by owner uid, form the owner→dependents
graph):

- Background: when an owner disappears, each dependent whose owners are all gone is
  deleted (with its own cascade, Background unless its finalizers say otherwise);
  a dependent that still has a live owner only loses its references to the dead ones.
- Foreground: an owner being deleted with the `foregroundDeletion` finalizer has its
  dependents deleted first (dependents that have dependents of their own go in
  Foreground too); once no dependent with `blockOwnerDeletion: true` is left, the
  finalizer is removed and the apiserver deletes the owner.
- Orphan: an owner being deleted with the `orphan` finalizer has its references
  removed from every dependent, then loses the finalizer.

An owner missing from the caches is looked up in the apiserver before anything is
deleted (the caches may lag), and deletions carry the dependent's uid as a
precondition. After a restart, the initial lists re-discover every dependent whose
owner no longer exists, so orphans left behind while the collector was down go too.
`plan_dependent` and `plan_deleting_owner` are the pure decisions.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import (
    CONFIGMAPS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTS,
    JOBS,
    LEASES,
    NODES,
    PODS,
    REPLICASETS,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    Resource,
)
from orchestrator.controllers.base import (
    OWNER_UID_INDEX,
    STANDARD_INDEXES,
    UID_INDEX,
    Controller,
    SharedInformers,
    is_being_deleted,
    owner_references,
)

# CRDs: each established one adds an informer of its custom objects to the graph, as
# kube-controller-manager's GC follows discovery (a CR may own a ConfigMap, and be owned).
CUSTOMRESOURCEDEFINITIONS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                     "CustomResourceDefinition", False)

# Every resource whose objects may own, or be owned by, others (Events never are).
GC_RESOURCES: tuple[Resource, ...] = (DEPLOYMENTS, REPLICASETS, DAEMONSETS, CRONJOBS, JOBS, PODS, SERVICES, ENDPOINTS,
                                      CONFIGMAPS, SECRETS, SERVICEACCOUNTS, LEASES, NODES)
FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN_FINALIZER = "orphan"


class OwnerState(Enum):
    PRESENT = "present"
    ABSENT = "absent"  # gone, or replaced by another object of the same name (other uid)
    DELETING_DEPENDENTS = "deleting-dependents"  # being deleted in Foreground
    UNKNOWN = "unknown"  # a kind the collector does not watch: never presumed gone


def finalizers_of(obj: dict) -> list[str]:
    return list((obj.get("metadata") or {}).get("finalizers") or [])


def is_deleting_dependents(obj: dict) -> bool:
    return is_being_deleted(obj) and FOREGROUND_FINALIZER in finalizers_of(obj)


def owner_state_of(owner: dict) -> OwnerState:
    return OwnerState.DELETING_DEPENDENTS if is_deleting_dependents(owner) else OwnerState.PRESENT


@dataclass
class GCAction:
    """What to do with one object: delete it, drop some owner references, or drop a finalizer."""

    delete_policy: str | None = None  # Background, Foreground or Orphan
    remove_owner_uids: list[str] = field(default_factory=list)
    remove_finalizer: str | None = None
    orphan_dependents: bool = False  # strip the references to this object from its dependents first
    process_dependents: list[dict] = field(default_factory=list)  # look at these dependents again

    @property
    def empty(self) -> bool:
        return (self.delete_policy is None and not self.remove_owner_uids and self.remove_finalizer is None
                and not self.orphan_dependents and not self.process_dependents)


def plan_dependent(obj: dict, owner_states: dict[str, OwnerState], *, has_dependents: bool) -> GCAction:
    """attemptToDeleteItem for an object with owners: keep it, detach it from dead owners, or delete it."""
    references = owner_references(obj)
    if not references or is_being_deleted(obj):
        return GCAction()
    solid, dangling, waiting = [], [], []
    for reference in references:
        state = owner_states.get(reference.get("uid"), OwnerState.UNKNOWN)
        if state == OwnerState.ABSENT:
            dangling.append(reference["uid"])
        elif state == OwnerState.DELETING_DEPENDENTS:
            waiting.append(reference["uid"])
        else:
            solid.append(reference["uid"])
    if solid:
        return GCAction(remove_owner_uids=[*dangling, *waiting])
    if waiting and has_dependents:
        # Its owner waits for it, and it has dependents of its own: they must go first too.
        return GCAction(delete_policy="Foreground")
    finalizers = finalizers_of(obj)
    if ORPHAN_FINALIZER in finalizers:
        return GCAction(delete_policy="Orphan")
    if FOREGROUND_FINALIZER in finalizers:
        return GCAction(delete_policy="Foreground")
    return GCAction(delete_policy="Background")


def blocking_dependents(owner: dict, dependents: list[dict]) -> list[dict]:
    """The dependents whose reference to the owner has blockOwnerDeletion: true."""
    uid = owner["metadata"].get("uid")
    return [dependent for dependent in dependents
            if any(ref.get("uid") == uid and ref.get("blockOwnerDeletion") for ref in owner_references(dependent))]


def plan_deleting_owner(owner: dict, dependents: list[dict]) -> GCAction:
    """An owner being deleted with the orphan or foregroundDeletion finalizer."""
    if not is_being_deleted(owner):
        return GCAction()
    finalizers = finalizers_of(owner)
    if ORPHAN_FINALIZER in finalizers:
        return GCAction(orphan_dependents=True, remove_finalizer=ORPHAN_FINALIZER)
    if FOREGROUND_FINALIZER in finalizers:
        blocking = blocking_dependents(owner, dependents)
        if not blocking:
            return GCAction(remove_finalizer=FOREGROUND_FINALIZER)
        return GCAction(process_dependents=[d for d in blocking if not is_deleting_dependents(d)])
    return GCAction()


def custom_resource_of(crd: dict) -> Resource | None:
    """The storage version of an Established CRD as a Resource (None: not established, or being deleted)."""
    spec = crd.get("spec") or {}
    conditions = {c.get("type"): c.get("status") for c in (crd.get("status") or {}).get("conditions") or ()}
    if conditions.get("Established") != "True" or (crd.get("metadata") or {}).get("deletionTimestamp"):
        return None
    versions = [v for v in spec.get("versions") or () if v.get("served", True)]
    version = next((v for v in versions if v.get("storage")), versions[0] if versions else None)
    names = spec.get("names") or {}
    if version is None or not names.get("plural") or not names.get("kind"):
        return None
    return Resource(spec.get("group", ""), version["name"], names["plural"], names["kind"],
                    spec.get("scope", "Namespaced") == "Namespaced")


def _group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


class GarbageCollector(Controller):
    name = "garbagecollector"

    def __init__(self, client: Any, informers: SharedInformers, *, resources: tuple[Resource, ...] = GC_RESOURCES,
                 workers: int = 5, follow_custom_resources: bool = True):
        super().__init__(workers=workers)
        self.client = client
        self.informers: dict[str, Informer] = {}
        self.resources: dict[str, Resource] = {}
        self._by_kind: dict[tuple[str, str], Resource] = {}
        self._custom_tasks: dict[str, asyncio.Task] = {}  # CRD name -> its custom objects' informer
        for resource in resources:
            self._track(resource, informers.get(resource, indexes=[UID_INDEX, OWNER_UID_INDEX]))
        if follow_custom_resources:
            informers.get(CUSTOMRESOURCEDEFINITIONS).add_handler(
                on_add=self._crd_changed, on_update=lambda old, new: self._crd_changed(new),
                on_delete=self._crd_deleted)

    def _track(self, resource: Resource, informer: Informer) -> None:
        self.informers[resource.plural] = informer
        self.resources[resource.plural] = resource
        self._by_kind[(resource.group, resource.kind)] = resource
        informer.add_handler(
            on_add=lambda obj, r=resource: self._observed(r, obj),
            on_update=lambda old, new, r=resource: self._observed(r, new),
            on_delete=lambda obj, r=resource: self._deleted(obj),
        )

    # --- custom resources join and leave the graph with their CRDs --------------------

    def _crd_changed(self, crd: dict) -> None:
        resource = custom_resource_of(crd)
        name = crd["metadata"]["name"]
        if resource is None:
            self._crd_deleted(crd)
            return
        if name in self._custom_tasks or resource.plural in self.informers:
            return
        informer = Informer(self.client, resource)
        informer.add_index(UID_INDEX, STANDARD_INDEXES[UID_INDEX])
        informer.add_index(OWNER_UID_INDEX, STANDARD_INDEXES[OWNER_UID_INDEX])
        self._track(resource, informer)
        self._custom_tasks[name] = asyncio.get_running_loop().create_task(self._follow(resource, informer),
                                                                          name=f"gc-informer-{name}")
        self.log.info("garbage collector follows %s", resource.plural)

    async def _follow(self, resource: Resource, informer: Informer) -> None:
        """Runs the informer; once it has listed, every dependent of an object of this kind is looked at again:
        an owner created and deleted before that first list was never seen going."""
        running = asyncio.create_task(informer.run())
        try:
            await informer.wait_synced()
            for plural, dependents in list(self.informers.items()):
                for dependent in dependents.list():
                    if any(self._resource_of(ref) == resource for ref in owner_references(dependent)):
                        self.queue.add(self.item(self.resources[plural], dependent))
            await running
        finally:
            running.cancel()

    def _crd_deleted(self, crd: dict) -> None:
        task = self._custom_tasks.pop(crd["metadata"]["name"], None)
        if task is None:
            return
        task.cancel()
        plural = ((crd.get("spec") or {}).get("names") or {}).get("plural")
        resource = self.resources.pop(plural, None)
        self.informers.pop(plural, None)
        if resource is not None:
            self._by_kind.pop((resource.group, resource.kind), None)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            for task in self._custom_tasks.values():
                task.cancel()
            await asyncio.gather(*self._custom_tasks.values(), return_exceptions=True)

    # --- the graph ------------------------------------------------------------------

    @staticmethod
    def item(resource: Resource, obj: dict) -> str:
        return f"{resource.plural}:{key_of(obj)}"

    def _resource_of(self, reference: dict) -> Resource | None:
        return self._by_kind.get((_group_of(reference.get("apiVersion") or ""), reference.get("kind") or ""))

    def _cached_owner(self, reference: dict) -> dict | None:
        resource = self._resource_of(reference)
        if resource is None:
            return None
        found = self.informers[resource.plural].by_index(UID_INDEX, reference.get("uid") or "")
        return found[0] if found else None

    def dependents_of(self, obj: dict) -> list[tuple[Resource, dict]]:
        uid = obj["metadata"].get("uid") or ""
        return [(self.resources[plural], dependent) for plural, informer in self.informers.items()
                for dependent in informer.by_index(OWNER_UID_INDEX, uid)]

    # --- event handlers -------------------------------------------------------------

    def _observed(self, resource: Resource, obj: dict) -> None:
        finalizers = finalizers_of(obj)
        if is_being_deleted(obj) and (ORPHAN_FINALIZER in finalizers or FOREGROUND_FINALIZER in finalizers):
            self.queue.add(self.item(resource, obj))
            return
        for reference in owner_references(obj):
            if self._resource_of(reference) is None:
                continue
            owner = self._cached_owner(reference)
            if owner is None or is_deleting_dependents(owner):
                self.queue.add(self.item(resource, obj))
                return

    def _deleted(self, obj: dict) -> None:
        for resource, dependent in self.dependents_of(obj):
            self.queue.add(self.item(resource, dependent))
        for reference in owner_references(obj):
            owner = self._cached_owner(reference)
            if owner is not None and is_deleting_dependents(owner):
                resource = self._resource_of(reference)
                assert resource is not None
                self.queue.add(self.item(resource, owner))

    # --- sync -----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        plural, _, object_key = key.partition(":")
        if plural not in self.informers:
            return  # a custom resource whose CRD went away
        resource = self.resources[plural]
        obj = self.informers[plural].get(object_key)
        if obj is None:
            return
        if is_being_deleted(obj):
            dependents = [dependent for _, dependent in self.dependents_of(obj)]
            await self._apply(resource, obj, plan_deleting_owner(obj, dependents))
            return
        if not owner_references(obj):
            return
        owner_states = {ref["uid"]: await self._owner_state(obj, ref) for ref in owner_references(obj) if ref.get("uid")}
        action = plan_dependent(obj, owner_states, has_dependents=bool(self.dependents_of(obj)))
        await self._apply(resource, obj, action)

    async def _owner_state(self, dependent: dict, reference: dict) -> OwnerState:
        resource = self._resource_of(reference)
        if resource is None:
            return OwnerState.UNKNOWN
        owner = self._cached_owner(reference)
        if owner is not None:
            return owner_state_of(owner)
        # Not in the cache: ask the apiserver before presuming it gone (isDangling).
        namespace = (dependent.get("metadata") or {}).get("namespace") if resource.namespaced else None
        if resource.namespaced and not namespace:
            return OwnerState.UNKNOWN  # a cluster-scoped object cannot have a namespaced owner
        try:
            live = await self.client.get(resource, reference.get("name") or "", namespace=namespace)
        except NotFound:
            return OwnerState.ABSENT
        if (live.get("metadata") or {}).get("uid") != reference.get("uid"):
            return OwnerState.ABSENT
        return owner_state_of(live)

    async def _apply(self, resource: Resource, obj: dict, action: GCAction) -> None:
        if action.empty:
            return
        metadata = obj["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace")
        label = f"{resource.kind} {key_of(obj)}"
        for dependent_resource, dependent in self.dependents_of(obj) if action.orphan_dependents else ():
            await self._remove_owner_references(dependent_resource, dependent, [metadata["uid"]])
            self.log.info("%s: orphaned dependent %s %s", label, dependent_resource.kind, key_of(dependent))
        for dependent in action.process_dependents:
            dependent_resource = self._resource_for_object(dependent)
            if dependent_resource is not None:
                self.queue.add(self.item(dependent_resource, dependent))
        if action.remove_owner_uids:
            await self._remove_owner_references(resource, obj, action.remove_owner_uids)
            self.log.info("%s: removed references to deleted owners %s", label, ", ".join(action.remove_owner_uids))
        if action.remove_finalizer is not None:
            finalizers = [f for f in finalizers_of(obj) if f != action.remove_finalizer]
            patch = {"metadata": {"finalizers": finalizers or None, "resourceVersion": metadata["resourceVersion"]}}
            try:
                await self.client.patch(resource, name, patch, namespace=namespace, patch_type="merge")
            except NotFound:
                return
            self.log.info("%s: removed finalizer %s", label, action.remove_finalizer)
        if action.delete_policy is not None:
            try:
                await self.client.delete(resource, name, namespace=namespace, propagation_policy=action.delete_policy,
                                         preconditions={"uid": metadata["uid"]})
            except NotFound:
                return
            self.log.info("%s: deleted (owners gone), propagation %s", label, action.delete_policy)

    def _resource_for_object(self, obj: dict) -> Resource | None:
        return self._by_kind.get((_group_of(obj.get("apiVersion") or ""), obj.get("kind") or ""))

    async def _remove_owner_references(self, resource: Resource, obj: dict, uids: list[str]) -> None:
        remaining = [ref for ref in owner_references(obj) if ref.get("uid") not in uids]
        metadata = obj["metadata"]
        patch = {"metadata": {"ownerReferences": remaining or None, "resourceVersion": metadata["resourceVersion"]}}
        try:
            await self.client.patch(resource, metadata["name"], patch, namespace=metadata.get("namespace"),
                                    patch_type="merge")
        except NotFound:
            pass

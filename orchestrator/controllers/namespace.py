"""The namespace controller: a namespace being deleted is emptied, then finalized.

As pkg/controller/namespace: when a Namespace has a deletionTimestamp and still
carries the `kubernetes` finalizer in `spec.finalizers`, every namespaced resource
the apiserver serves is deleted from it (DELETE on each collection); what is still
there (terminating pods, objects held by finalizers) is counted into the Namespace's
conditions (`NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, as
`kubectl describe namespace` shows them) and the namespace is looked at again a
little later. Once nothing is left, the controller PUTs `/api/v1/namespaces/NAME/finalize`
without the `kubernetes` finalizer, and the apiserver removes the namespace.
`namespace_conditions` is the pure part; content is read live, as Kubernetes'
namespace controller does, because its informers would not cover every resource.

Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.errors import APIError, MethodNotAllowed, NotFound
from orchestrator.client.resources import (
    CONFIGMAPS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTS,
    ENDPOINTSLICES,
    EVENTS,
    HORIZONTALPODAUTOSCALERS,
    INGRESSES,
    JOBS,
    LEASES,
    NAMESPACES,
    NETWORKPOLICIES,
    PERSISTENTVOLUMECLAIMS,
    PODDISRUPTIONBUDGETS,
    PODS,
    REPLICASETS,
    ROLEBINDINGS,
    ROLES,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    Resource,
)
from orchestrator.controllers.base import Clock, Controller, SharedInformers, format_time, is_being_deleted

KUBERNETES_FINALIZER = "kubernetes"
# Controllers first, so they stop making pods; events last, so deletions can still be reported.
NAMESPACED_RESOURCES: tuple[Resource, ...] = (DEPLOYMENTS, REPLICASETS, DAEMONSETS, CRONJOBS, JOBS, PODS, SERVICES,
                                              ENDPOINTS, ENDPOINTSLICES, CONFIGMAPS, SECRETS, SERVICEACCOUNTS, LEASES,
                                              EVENTS, INGRESSES, NETWORKPOLICIES, HORIZONTALPODAUTOSCALERS,
                                              PODDISRUPTIONBUDGETS, ROLES, ROLEBINDINGS,
                                              PERSISTENTVOLUMECLAIMS)
CONTENT_REMAINING_RETRY_SECONDS = 2.0

# (type, reason, message) of each condition when all is well (namespaceConditionUpdater's okay values).
_OKAY_CONDITIONS = (
    ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
    ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    ("NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
)


@dataclass
class ContentTotals:
    """What deleting a namespace's content left behind."""

    remaining: dict[Resource, int] = field(default_factory=dict)  # objects per resource
    finalizers: Counter = field(default_factory=Counter)  # finalizer -> objects holding it
    failures: list[str] = field(default_factory=list)  # deletions that failed

    @property
    def empty(self) -> bool:
        return not any(self.remaining.values()) and not self.failures


def _resource_label(resource: Resource) -> str:
    return f"{resource.plural}.{resource.group}"  # `pods.` for the core group, as Kubernetes prints it


def namespace_conditions(existing: list[dict], totals: ContentTotals, *, now: float) -> list[dict]:
    """The Namespace's deletion conditions for these totals; unchanged ones keep their transition time."""
    wanted: dict[str, tuple[str, str, str]] = {kind: ("False", reason, message)
                                               for kind, reason, message in _OKAY_CONDITIONS}
    if totals.failures:
        wanted["NamespaceDeletionContentFailure"] = (
            "True", "ContentDeletionFailed", "Failed to delete all resource types, " + "; ".join(sorted(totals.failures)))
    remaining = sorted(f"{_resource_label(resource)} has {count} resource instances"
                       for resource, count in totals.remaining.items() if count)
    if remaining:
        wanted["NamespaceContentRemaining"] = ("True", "SomeResourcesRemain",
                                               "Some resources are remaining: " + ", ".join(remaining))
    if totals.finalizers:
        held = sorted(f"{finalizer} in {count} resource instances" for finalizer, count in totals.finalizers.items())
        wanted["NamespaceFinalizersRemaining"] = ("True", "SomeFinalizersRemain",
                                                  "Some content in the namespace has finalizers remaining: "
                                                  + ", ".join(held))
    by_type = {condition.get("type"): condition for condition in existing}
    conditions = []
    for condition_type, (status, reason, message) in wanted.items():
        current = by_type.get(condition_type)
        if current is not None and (current.get("status"), current.get("reason"), current.get("message")) == (
                status, reason, message):
            conditions.append(current)
            continue
        conditions.append({"type": condition_type, "status": status, "lastTransitionTime": format_time(now),
                           "reason": reason, "message": message})
    return conditions


def finalize_body(namespace: dict) -> dict:
    """The Namespace as PUT to its finalize subresource: without the `kubernetes` finalizer."""
    body = copy.deepcopy(namespace)
    spec = body.setdefault("spec", {})
    spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != KUBERNETES_FINALIZER]
    return body


class NamespaceController(Controller):
    name = "namespace"

    def __init__(self, client: Any, informers: SharedInformers, *, workers: int = 2, clock: Clock = time.time,
                 resources: tuple[Resource, ...] = NAMESPACED_RESOURCES):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.resources = resources
        self.namespaces = informers.get(NAMESPACES)
        self.namespaces.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new))

    async def sync(self, key: str) -> None:
        namespace = self.namespaces.get(key)
        if namespace is None or not is_being_deleted(namespace):
            return
        if KUBERNETES_FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or []):
            return
        totals = await self._delete_content(key)
        conditions = namespace_conditions((namespace.get("status") or {}).get("conditions") or [], totals,
                                          now=self.clock())
        if conditions != (namespace.get("status") or {}).get("conditions"):
            updated = copy.deepcopy(namespace)
            updated.setdefault("status", {})["conditions"] = conditions
            try:
                namespace = await self.client.update(NAMESPACES, updated, subresource="status")
            except NotFound:
                return
        if not totals.empty:
            remaining = sum(totals.remaining.values())
            self.log.info("namespace %s: %d objects remain, looking again in %.0fs", key, remaining,
                          CONTENT_REMAINING_RETRY_SECONDS)
            self.queue.add_after(key, CONTENT_REMAINING_RETRY_SECONDS)
            return
        try:
            await self.client.request("PUT", NAMESPACES.path(None, key, "finalize"), body=finalize_body(namespace))
        except NotFound:
            return
        self.log.info("namespace %s: empty, finalized", key)

    async def _delete_content(self, namespace: str) -> ContentTotals:
        totals = ContentTotals()
        for resource in self.resources:
            path = resource.path(namespace)
            try:
                await self.client.request("DELETE", path)
            except (NotFound, MethodNotAllowed):
                continue  # a resource this apiserver does not serve
            except APIError as error:
                totals.failures.append(f"{_resource_label(resource)}: {error}")
            listed = await self.client.list(resource, namespace=namespace)
            items = listed.get("items") or []
            totals.remaining[resource] = len(items)
            for item in items:
                for finalizer in (item.get("metadata") or {}).get("finalizers") or []:
                    totals.finalizers[finalizer] += 1
            if items:
                self.log.info("namespace %s: %d %s still terminating", namespace, len(items), resource.plural)
        return totals

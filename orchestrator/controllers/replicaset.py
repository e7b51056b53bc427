"""The ReplicaSet controller: keeps `spec.replicas` pods matching each ReplicaSet's selector.

As pkg/controller/replicaset: `sync(key)` claims the namespace's active pods (adopting
matching orphans, releasing pods whose labels stopped matching), compares their
number with `spec.replicas` and creates (in slow-start batches 1, 2, 4, ...) or deletes
(the least useful first) the difference, then writes the status. Expectations keep a
sync from acting again before the informer has seen its own creations and deletions.
The decisions are the pure functions `plan_replicas` and `calculate_status`.

Events: SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete.
Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.errors import Conflict, NotFound
from orchestrator.apiserver.selectors import LabelSelector, selector_from_object, selector_from_set
from orchestrator.client.events import EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import PODS, REPLICASETS
from orchestrator.controllers.base import (
    NAMESPACE_INDEX,
    Clock,
    Controller,
    SharedInformers,
    controller_ref,
    format_time,
    is_being_deleted,
    labels_of,
    owners_selecting,
    resolve_controller_ref,
)
from orchestrator.controllers.expectations import Expectations
from orchestrator.controllers.podcontrol import PodControl
from orchestrator.controllers.podutil import (
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    pods_to_delete,
    seconds_until_available,
)
from orchestrator.controllers.refmanager import ControllerRefManager

# A sync never creates or deletes more than this many pods (--replicaset-burst... BurstReplicas).
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1
REPLICA_FAILURE = "ReplicaFailure"


# ---------------------------------------------------------------- pure decisions


@dataclass
class ReplicaSetPlan:
    create: int = 0
    delete: list[dict] = field(default_factory=list)


def desired_replicas(rs: dict) -> int:
    replicas = (rs.get("spec") or {}).get("replicas")
    return 1 if replicas is None else replicas


def plan_replicas(rs: dict, *, pods: list[dict], related_pods: list[dict]) -> ReplicaSetPlan:
    """manageReplicas' decision: how many pods to create, or which pods to delete.

    `pods` are the active pods the ReplicaSet controls; `related_pods` those of its
    siblings (same owning Deployment), used to keep the survivors spread over nodes.
    """
    difference = len(pods) - desired_replicas(rs)
    if difference < 0:
        return ReplicaSetPlan(create=min(-difference, BURST_REPLICAS))
    if difference > 0:
        return ReplicaSetPlan(delete=pods_to_delete(pods, related_pods, min(difference, BURST_REPLICAS)))
    return ReplicaSetPlan()


def slow_start_batches(total: int, *, initial: int = SLOW_START_INITIAL_BATCH) -> list[int]:
    """Batch sizes 1, 2, 4, ... summing to `total`: a failing create is tried once, not 500 times."""
    batches = []
    size = initial
    remaining = total
    while remaining > 0:
        batch = min(size, remaining)
        batches.append(batch)
        remaining -= batch
        size *= 2
    return batches


def _omit_zero(status: dict, *keys: str) -> dict:
    # Go's `omitempty`: zero counts are left out of the wire form.
    return {key: value for key, value in status.items() if key not in keys or value}


def calculate_status(rs: dict, *, pods: list[dict], now: float, manage_error: str | None,
                     create_shortfall: bool) -> dict:
    """The ReplicaSet status for its controlled active pods (replica_set_utils.calculateStatus)."""
    spec = rs.get("spec") or {}
    template_labels = selector_from_set(((spec.get("template") or {}).get("metadata") or {}).get("labels"))
    min_ready_seconds = spec.get("minReadySeconds") or 0
    fully_labeled = sum(1 for pod in pods if template_labels.matches(labels_of(pod)))
    ready = [pod for pod in pods if is_pod_ready(pod)]
    available = sum(1 for pod in ready if is_pod_available(pod, min_ready_seconds=min_ready_seconds, now=now))
    old_status = rs.get("status") or {}
    conditions = [dict(c) for c in old_status.get("conditions") or []]
    failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        conditions.append({
            "type": REPLICA_FAILURE,
            "status": "True",
            "lastTransitionTime": format_time(now),
            "reason": "FailedCreate" if create_shortfall else "FailedDelete",
            "message": manage_error,
        })
    elif manage_error is None and failure is not None:
        conditions.remove(failure)
    status = {
        "replicas": len(pods),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": len(ready),
        "availableReplicas": available,
        "observedGeneration": (rs.get("metadata") or {}).get("generation") or 0,
        "conditions": conditions,
    }
    return _omit_zero(status, "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration",
                      "conditions")


def next_availability_check(rs: dict, *, pods: list[dict], now: float) -> float | None:
    """Seconds until a ready pod becomes available (minReadySeconds), so the status is refreshed then."""
    min_ready_seconds = (rs.get("spec") or {}).get("minReadySeconds") or 0
    waits = [wait for pod in pods
             if (wait := seconds_until_available(pod, min_ready_seconds=min_ready_seconds, now=now)) is not None]
    return min(waits) if waits else None


def pod_from_template(rs: dict) -> dict:
    """controller.GetPodFromTemplate: the pod a ReplicaSet creates (generateName `<rs>-`)."""
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    template_meta = template.get("metadata") or {}
    metadata: dict[str, Any] = {"generateName": f"{rs['metadata']['name']}-",
                                "namespace": rs["metadata"].get("namespace")}
    for field_name in ("labels", "annotations", "finalizers"):
        if template_meta.get(field_name):
            metadata[field_name] = template_meta[field_name]
    metadata["ownerReferences"] = [{
        "apiVersion": rs.get("apiVersion") or REPLICASETS.api_version,
        "kind": rs.get("kind") or REPLICASETS.kind,
        "name": rs["metadata"]["name"],
        "uid": rs["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec") or {}}


# ---------------------------------------------------------------- the controller


class ReplicaSetController(Controller):
    name = "replicaset"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 5, clock: Clock = time.time, expectations: Expectations | None = None):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="replicaset-controller")
        self.expectations = expectations or Expectations()
        self.replica_sets = informers.get(REPLICASETS, indexes=[NAMESPACE_INDEX])
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX])
        self.refs = ControllerRefManager(client, owner_resource=REPLICASETS, dependent_resource=PODS)
        self.pod_control = PodControl(client, self.recorder, self.expectations, self.log)
        self.replica_sets.add_handler(on_add=self.enqueue, on_update=self._update_replica_set,
                                      on_delete=self._delete_replica_set)
        self.pods.add_handler(on_add=self._add_pod, on_update=self._update_pod, on_delete=self._delete_pod)

    # --- event handlers: compute keys, nothing else ---------------------------------

    def _update_replica_set(self, old: dict, new: dict) -> None:
        self.enqueue(new)

    def _delete_replica_set(self, rs: dict) -> None:
        self.expectations.forget(key_of(rs))
        self.enqueue(rs)

    def _owning_replica_set(self, pod: dict, ref: dict | None) -> dict | None:
        return resolve_controller_ref(self.replica_sets, pod, ref, kind=REPLICASETS.kind)

    def _add_pod(self, pod: dict) -> None:
        if is_being_deleted(pod):
            self._delete_pod(pod)  # a restarted controller may see a pod already terminating
            return
        rs = self._owning_replica_set(pod, controller_ref(pod))
        if rs is not None:
            self.expectations.creation_observed(key_of(rs))
            self.enqueue(rs)
            return
        if controller_ref(pod) is None:
            for rs in owners_selecting(self.replica_sets, pod):
                self.enqueue(rs)

    def _update_pod(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return  # a resync: nothing changed
        labels_changed = labels_of(old) != labels_of(new)
        if is_being_deleted(new):
            # Graceful deletion: count the pod as gone now and replace it at once.
            self._delete_pod(new)
            if labels_changed:
                self._delete_pod(old)
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and (old_rs := self._owning_replica_set(old, old_ref)) is not None:
            self.enqueue(old_rs)
        if new_ref is not None:
            if (rs := self._owning_replica_set(new, new_ref)) is not None:
                self.enqueue(rs)
            return
        if labels_changed or old_ref != new_ref:
            for rs in owners_selecting(self.replica_sets, new):
                self.enqueue(rs)

    def _delete_pod(self, pod: dict) -> None:
        rs = self._owning_replica_set(pod, controller_ref(pod))
        if rs is None:
            return
        self.expectations.deletion_observed(key_of(rs), key_of(pod))
        self.enqueue(rs)

    # --- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        rs = self.replica_sets.get(key)
        if rs is None:
            self.expectations.forget(key)
            return
        try:
            selector = selector_from_object((rs.get("spec") or {}).get("selector"))
        except ValueError as error:
            self.log.warning("replicaset %s has an invalid selector, not syncing it: %s", key, error)
            return
        needs_sync = self.expectations.satisfied(key)
        namespace = rs["metadata"].get("namespace") or ""
        active = [pod for pod in self.pods.by_index(NAMESPACE_INDEX, namespace) if is_pod_active(pod)]
        pods = await self.refs.claim(rs, selector=selector, candidates=active)

        manage_error: Exception | None = None
        if needs_sync and not is_being_deleted(rs):
            try:
                await self._manage_replicas(rs, key, pods, selector)
            except Exception as error:  # noqa: BLE001 - reported in the status, then re-raised for a retry
                manage_error = error
        now = self.clock()
        status = calculate_status(rs, pods=pods, now=now,
                                  manage_error=None if manage_error is None else str(manage_error),
                                  create_shortfall=len(pods) < desired_replicas(rs))
        await self._write_status(rs, status)
        if manage_error is None and (delay := next_availability_check(rs, pods=pods, now=now)) is not None:
            self.queue.add_after(key, delay + 0.1)
        if manage_error is not None:
            raise manage_error

    def _related_pods(self, rs: dict, pods: list[dict]) -> list[dict]:
        """getIndirectlyRelatedPods: pods of every ReplicaSet controlled by this one's controller."""
        owner = controller_ref(rs)
        if owner is None:
            return pods
        namespace = rs["metadata"].get("namespace") or ""
        sibling_uids = {sibling["metadata"].get("uid")
                        for sibling in self.replica_sets.by_index(NAMESPACE_INDEX, namespace)
                        if (controller_ref(sibling) or {}).get("uid") == owner.get("uid")}
        return [pod for pod in self.pods.by_index(NAMESPACE_INDEX, namespace)
                if (controller_ref(pod) or {}).get("uid") in sibling_uids]

    async def _manage_replicas(self, rs: dict, key: str, pods: list[dict], selector: LabelSelector) -> None:
        plan = plan_replicas(rs, pods=pods, related_pods=self._related_pods(rs, pods))
        if plan.create:
            self.expectations.expect_creations(key, plan.create)
            self.log.info("replicaset %s: too few replicas (need %d, have %d), creating %d",
                          key, desired_replicas(rs), len(pods), plan.create)
            created, error = await self._create_in_batches(rs, plan.create)
            for _ in range(plan.create - created):
                # The informer will never see the pods that were not created.
                self.expectations.creation_observed(key)
            if error is not None:
                raise error
        elif plan.delete:
            self.expectations.expect_deletions(key, [key_of(pod) for pod in plan.delete])
            self.log.info("replicaset %s: too many replicas (need %d, have %d), deleting %d",
                          key, desired_replicas(rs), len(pods), len(plan.delete))
            results = await asyncio.gather(*(self.pod_control.delete(rs, pod) for pod in plan.delete),
                                           return_exceptions=True)
            errors = [result for result in results if isinstance(result, Exception)]
            if errors:
                raise errors[0]

    async def _create_in_batches(self, rs: dict, count: int) -> tuple[int, Exception | None]:
        created = 0
        for batch in slow_start_batches(count):
            results = await asyncio.gather(*(self._create_pod(rs) for _ in range(batch)), return_exceptions=True)
            errors = [result for result in results if isinstance(result, Exception)]
            created += batch - len(errors)
            if errors:
                return created, errors[0]
        return created, None

    async def _create_pod(self, rs: dict) -> None:
        await self.pod_control.create(rs, pod_from_template(rs))

    async def _write_status(self, rs: dict, status: dict) -> None:
        if (rs.get("status") or {}) == status:
            return
        updated = copy.deepcopy(rs)
        updated["status"] = status
        try:
            await self.client.update(REPLICASETS, updated, subresource="status")
        except NotFound:
            return  # deleted meanwhile
        except Conflict:
            # Usually our own previous status write, not yet in the cache: retry once on a fresh read,
            # as updateReplicaSetStatus does (the status is computed from pods, not from the ReplicaSet).
            fresh = await self.client.get(REPLICASETS, rs["metadata"]["name"], namespace=rs["metadata"].get("namespace"))
            if fresh["metadata"].get("uid") != rs["metadata"].get("uid"):
                return
            status = {**status, "observedGeneration": fresh["metadata"].get("generation") or 0}
            if (fresh.get("status") or {}) == status:
                return
            await self.client.update(REPLICASETS, {**fresh, "status": status}, subresource="status")
        self.log.info("replicaset %s: status replicas=%d ready=%d available=%d", key_of(rs), status.get("replicas", 0),
                      status.get("readyReplicas", 0), status.get("availableReplicas", 0))


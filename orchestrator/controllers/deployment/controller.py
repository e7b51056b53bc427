"""The Deployment controller: the I/O half (watch handlers, `sync(key)`, applying plans).

`sync(key)` reads the Deployment and the namespace's ReplicaSets from the informers,
claims the ReplicaSets its selector matches (adopting orphans, releasing strays),
asks `sync.plan_deployment` what to do, and carries the plan out in Kubernetes'
order: create the new ReplicaSet, update (scale) ReplicaSets, delete old revisions,
write the status with the revision annotation (through `/status`). Every write carries the cached
resourceVersion, so a stale cache ends in 409 and a retry instead of a wrong write.

Events: ScalingReplicaSet, ReplicaSetCreateError, SelectingAll.
Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, Conflict, NotFound
from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import DEPLOYMENTS, PODS, REPLICASETS
from orchestrator.controllers.base import (
    NAMESPACE_INDEX,
    Clock,
    Controller,
    SharedInformers,
    controller_ref,
    is_being_deleted,
    is_namespace_terminating,
    labels_of,
    owners_selecting,
    resolve_controller_ref,
)
from orchestrator.controllers.deployment.sync import DeploymentPlan, plan_deployment
from orchestrator.controllers.deployment.util import (
    FAILED_RS_CREATE_REASON,
    PROGRESSING,
    RECREATE,
    REVISION_ANNOTATION,
    equal_ignore_hash,
    has_progress_deadline,
    new_condition,
    set_condition,
    spec_of,
    strategy_type,
)
from orchestrator.controllers.refmanager import ControllerRefManager

# A ReplicaSet the cache has not shown yet already exists: look again shortly (the watch event is on its way).
STALE_CACHE_RETRY_SECONDS = 0.2


class DeploymentController(Controller):
    name = "deployment"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 5, clock: Clock = time.time):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="deployment-controller")
        self.deployments = informers.get(DEPLOYMENTS, indexes=[NAMESPACE_INDEX])
        self.replica_sets = informers.get(REPLICASETS, indexes=[NAMESPACE_INDEX])
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX])
        self.refs = ControllerRefManager(client, owner_resource=DEPLOYMENTS, dependent_resource=REPLICASETS)
        self.deployments.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                     on_delete=self.enqueue)
        self.replica_sets.add_handler(on_add=self._add_replica_set, on_update=self._update_replica_set,
                                      on_delete=self._delete_replica_set)
        self.pods.add_handler(on_delete=self._delete_pod)

    # --- event handlers -------------------------------------------------------------

    def _owning_deployment(self, rs: dict, ref: dict | None) -> dict | None:
        return resolve_controller_ref(self.deployments, rs, ref, kind=DEPLOYMENTS.kind)

    def _add_replica_set(self, rs: dict) -> None:
        if is_being_deleted(rs):
            self._delete_replica_set(rs)
            return
        ref = controller_ref(rs)
        if ref is not None:
            if (deployment := self._owning_deployment(rs, ref)) is not None:
                self.enqueue(deployment)
            return
        for deployment in owners_selecting(self.deployments, rs):
            self.enqueue(deployment)

    def _update_replica_set(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and (previous := self._owning_deployment(old, old_ref)) is not None:
            self.enqueue(previous)
        if new_ref is not None:
            if (deployment := self._owning_deployment(new, new_ref)) is not None:
                self.enqueue(deployment)
            return
        if labels_of(old) != labels_of(new) or old_ref != new_ref:
            for deployment in owners_selecting(self.deployments, new):
                self.enqueue(deployment)

    def _delete_replica_set(self, rs: dict) -> None:
        if (deployment := self._owning_deployment(rs, controller_ref(rs))) is not None:
            self.enqueue(deployment)

    def _delete_pod(self, pod: dict) -> None:
        """A Recreate rollout waits for the last old pod to go away."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != REPLICASETS.kind:
            return
        rs = self.replica_sets.get(f"{pod['metadata'].get('namespace')}/{ref.get('name')}")
        if rs is None:
            return
        deployment = self._owning_deployment(rs, controller_ref(rs))
        if deployment is not None and strategy_type(deployment) == RECREATE:
            self.enqueue(deployment)

    # --- sync -----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        deployment = self.deployments.get(key)
        if deployment is None:
            return
        try:
            selector = selector_from_object(spec_of(deployment).get("selector"))
        except ValueError as error:
            self.log.warning("deployment %s has an invalid selector, not syncing it: %s", key, error)
            return
        if selector.empty:
            await self._refuse_selecting_all(deployment)
            return
        namespace = deployment["metadata"].get("namespace") or ""
        candidates = self.replica_sets.by_index(NAMESPACE_INDEX, namespace)
        replica_sets = await self.refs.claim(deployment, selector=selector, candidates=candidates)
        pods_by_replica_set: dict[str, list[dict]] = {}
        if strategy_type(deployment) == RECREATE:
            pods_by_replica_set = self._pods_by_replica_set(deployment, replica_sets, selector)
        plan = plan_deployment(deployment, replica_sets, pods_by_replica_set=pods_by_replica_set, now=self.clock())
        await self._apply(deployment, key, plan)

    def _pods_by_replica_set(self, deployment: dict, replica_sets: list[dict], selector) -> dict[str, list[dict]]:
        """getPodMapForDeployment: the selected pods grouped by the ReplicaSet controlling them."""
        pods_by_uid: dict[str, list[dict]] = {rs["metadata"]["uid"]: [] for rs in replica_sets}
        for pod in self.pods.by_index(NAMESPACE_INDEX, deployment["metadata"].get("namespace") or ""):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") in pods_by_uid and selector.matches(labels_of(pod)):
                pods_by_uid[ref["uid"]].append(pod)
        return pods_by_uid

    async def _refuse_selecting_all(self, deployment: dict) -> None:
        self.recorder.record(deployment, WARNING, "SelectingAll",
                             "This deployment is selecting all pods. A non-empty selector is required.")
        generation = deployment["metadata"].get("generation") or 0
        status = deployment.get("status") or {}
        if (status.get("observedGeneration") or 0) < generation:
            await self._write_status(deployment, {**status, "observedGeneration": generation})

    # --- applying a plan --------------------------------------------------------------

    async def _apply(self, deployment: dict, key: str, plan: DeploymentPlan) -> None:
        if plan.create is not None and not await self._create_replica_set(deployment, key, plan):
            return
        for write in plan.updates:
            rs = write.replica_set
            await self.client.update(REPLICASETS, rs)
            self.log.info("deployment %s: updated replica set %s (replicas %d)", key, rs["metadata"]["name"],
                          rs["spec"].get("replicas", 0))
            self._record(deployment, write.events)
        for rs in plan.deletions:
            try:
                await self.client.delete(REPLICASETS, rs["metadata"]["name"], namespace=rs["metadata"].get("namespace"),
                                         preconditions={"uid": rs["metadata"]["uid"]})
            except NotFound:
                pass
            self.log.info("deployment %s: deleted old replica set %s (revision history limit)", key,
                          rs["metadata"]["name"])
        if plan.status is not None or plan.revision is not None:
            # The revision annotation goes through `/status` as Kubernetes' controller does: on the main
            # resource an annotation change is a new generation, and `kubectl apply` of an unchanged
            # manifest would then see generation 2 on a deployment nobody edited.
            status = plan.status if plan.status is not None else deployment.get("status") or {}
            await self._write_status(deployment, status, revision=plan.revision)
            if plan.revision is not None:
                self.log.info("deployment %s: revision %s", key, plan.revision)
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after)

    async def _create_replica_set(self, deployment: dict, key: str, plan: DeploymentPlan) -> bool:
        """Creates the plan's new ReplicaSet; False when the rest of the plan must wait for a later sync."""
        assert plan.create is not None
        body = plan.create.replica_set
        name = body["metadata"]["name"]
        namespace = body["metadata"].get("namespace")
        try:
            await self.client.create(REPLICASETS, body, namespace=namespace)
        except AlreadyExists:
            existing = self.replica_sets.get(f"{namespace}/{name}")
            if existing is None:
                try:
                    existing = await self.client.get(REPLICASETS, name, namespace=namespace)
                except NotFound:
                    existing = None
            ours = existing is not None and (controller_ref(existing) or {}).get("uid") == deployment["metadata"]["uid"]
            if existing is None or (ours and equal_ignore_hash(spec_of(existing).get("template"),
                                                                 spec_of(deployment).get("template"))):
                # Our own earlier creation, not in the cache yet: decide again once it is.
                self.queue.add_after(key, STALE_CACHE_RETRY_SECONDS)
                return False
            await self._bump_collision_count(deployment, key)
            raise
        except APIError as error:
            if is_namespace_terminating(error):
                return False
            message = f'Failed to create new replica set "{name}": {error}'
            if has_progress_deadline(deployment):
                status = copy.deepcopy(deployment.get("status") or {})
                set_condition(status, new_condition(PROGRESSING, "False", FAILED_RS_CREATE_REASON, message,
                                                    now=self.clock()))
                try:
                    await self._write_status(deployment, status)
                except APIError:
                    pass  # the failure to create is the news; it is raised below
            self.recorder.record(deployment, WARNING, FAILED_RS_CREATE_REASON, message)
            raise
        self.log.info("deployment %s: created replica set %s (replicas %d)", key, name, body["spec"]["replicas"])
        self._record(deployment, plan.create.events)
        return True

    async def _bump_collision_count(self, deployment: dict, key: str) -> None:
        """Another object took the name `<deployment>-<hash>`: hash again with a new collision count."""
        status = copy.deepcopy(deployment.get("status") or {})
        status["collisionCount"] = (status.get("collisionCount") or 0) + 1
        await self._write_status(deployment, status)
        self.log.info("deployment %s: hash collision, collisionCount is now %d", key, status["collisionCount"])

    async def _write_status(self, deployment: dict, status: dict, *, revision: str | None = None) -> None:
        def with_status(current: dict) -> dict:
            updated = {**current, "status": status}
            if revision is not None:
                metadata = updated["metadata"] = copy.deepcopy(current["metadata"])
                metadata.setdefault("annotations", {})[REVISION_ANNOTATION] = revision
            return updated

        updated = with_status(copy.deepcopy(deployment))
        try:
            await self.client.update(DEPLOYMENTS, updated, subresource="status")
        except NotFound:
            return  # deleted meanwhile: nothing to report on
        except Conflict:
            # Mostly our own last write (status, revision) not yet in the cache. The status only
            # depends on the spec, so while the generation is unchanged it still holds on a fresh read.
            metadata = deployment["metadata"]
            fresh = await self.client.get(DEPLOYMENTS, metadata["name"], namespace=metadata.get("namespace"))
            if (fresh["metadata"].get("uid"), fresh["metadata"].get("generation")) != (
                    metadata.get("uid"), metadata.get("generation")):
                raise
            await self.client.update(DEPLOYMENTS, with_status(fresh), subresource="status")
        self.log.info("deployment %s: status replicas=%d updated=%d ready=%d available=%d", key_of(deployment),
                      status.get("replicas", 0), status.get("updatedReplicas", 0), status.get("readyReplicas", 0),
                      status.get("availableReplicas", 0))

    def _record(self, deployment: dict, events: list[tuple[str, str]]) -> None:
        for reason, message in events:
            self.recorder.record(deployment, NORMAL, reason, message)

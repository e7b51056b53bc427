"""The DaemonSet controller: the I/O half (watch handlers, `sync(key)`, applying plans).

`sync(key)` reads the DaemonSet, the nodes and the namespace's pods from the informers,
claims the pods its selector matches (adopting orphans, releasing strays), asks
`plan.plan_daemonset` what to do, creates the missing pods (in slow-start batches, each
pinned to its node by affinity for the scheduler to bind), deletes the surplus and the
outdated ones, and writes the status. Expectations keep a sync from acting again before
the informer has seen its own creations and deletions. Any change to a node's labels,
taints or schedulability, and any node added or removed, re-syncs every DaemonSet.

Events: SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete, FailedDaemonPod.
Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from orchestrator.api.errors import Conflict, NotFound
from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.client.events import EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import DAEMONSETS, NODES, PODS
from orchestrator.controllers.base import (
    NAMESPACE_INDEX,
    Clock,
    Controller,
    SharedInformers,
    controller_ref,
    is_being_deleted,
    labels_of,
    owners_selecting,
    resolve_controller_ref,
)
from orchestrator.controllers.daemonset.plan import DaemonSetPlan, plan_daemonset, pod_for_node
from orchestrator.controllers.expectations import Expectations
from orchestrator.controllers.podcontrol import PodControl
from orchestrator.controllers.refmanager import ControllerRefManager
from orchestrator.controllers.replicaset import slow_start_batches


class DaemonSetController(Controller):
    name = "daemonset"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 2, clock: Clock = time.time):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="daemonset-controller")
        self.expectations = Expectations()
        self.daemon_sets = informers.get(DAEMONSETS, indexes=[NAMESPACE_INDEX])
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX])
        self.nodes = informers.get(NODES)
        self.refs = ControllerRefManager(client, owner_resource=DAEMONSETS, dependent_resource=PODS)
        self.pod_control = PodControl(client, self.recorder, self.expectations, self.log)
        self.daemon_sets.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                     on_delete=self._delete_daemon_set)
        self.pods.add_handler(on_add=self._add_pod, on_update=self._update_pod, on_delete=self._delete_pod)
        self.nodes.add_handler(on_add=self._enqueue_all, on_update=self._update_node, on_delete=self._enqueue_all)

    # --- event handlers: compute keys, nothing else ---------------------------------

    def _delete_daemon_set(self, daemon_set: dict) -> None:
        self.expectations.forget(key_of(daemon_set))

    def _enqueue_all(self, _node: dict | None = None) -> None:
        for daemon_set in self.daemon_sets.list():
            self.enqueue(daemon_set)

    def _update_node(self, old: dict, new: dict) -> None:
        # Heartbeats change only the status: what decides placement is the labels, taints and schedulability.
        if labels_of(old) != labels_of(new) or old.get("spec") != new.get("spec"):
            self._enqueue_all()

    def _owning_daemon_set(self, pod: dict, ref: dict | None) -> dict | None:
        return resolve_controller_ref(self.daemon_sets, pod, ref, kind=DAEMONSETS.kind)

    def _add_pod(self, pod: dict) -> None:
        if is_being_deleted(pod):
            self._delete_pod(pod)
            return
        daemon_set = self._owning_daemon_set(pod, controller_ref(pod))
        if daemon_set is not None:
            self.expectations.creation_observed(key_of(daemon_set))
            self.enqueue(daemon_set)
        elif controller_ref(pod) is None:
            for selecting in owners_selecting(self.daemon_sets, pod):
                self.enqueue(selecting)

    def _update_pod(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if is_being_deleted(new) and not is_being_deleted(old):
            self._delete_pod(new)
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and (previous := self._owning_daemon_set(old, old_ref)) is not None:
            self.enqueue(previous)
        if new_ref is not None:
            if (daemon_set := self._owning_daemon_set(new, new_ref)) is not None:
                self.enqueue(daemon_set)
        elif labels_of(old) != labels_of(new) or old_ref != new_ref:
            for selecting in owners_selecting(self.daemon_sets, new):
                self.enqueue(selecting)

    def _delete_pod(self, pod: dict) -> None:
        daemon_set = self._owning_daemon_set(pod, controller_ref(pod))
        if daemon_set is not None:
            self.expectations.deletion_observed(key_of(daemon_set), key_of(pod))
            self.enqueue(daemon_set)

    # --- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        daemon_set = self.daemon_sets.get(key)
        if daemon_set is None:
            self.expectations.forget(key)
            return
        try:
            selector = selector_from_object((daemon_set.get("spec") or {}).get("selector"))
        except ValueError as error:
            self.log.warning("daemonset %s has an invalid selector, not syncing it: %s", key, error)
            return
        namespace = daemon_set["metadata"].get("namespace") or ""
        pods = await self.refs.claim(daemon_set, selector=selector,
                                     candidates=self.pods.by_index(NAMESPACE_INDEX, namespace))
        may_manage = self.expectations.satisfied(key) and not is_being_deleted(daemon_set)
        plan = plan_daemonset(daemon_set, nodes=self.nodes.list(), pods=pods, now=self.clock(),
                              may_manage=may_manage)
        error = await self._manage(daemon_set, key, plan)
        await self._write_status(daemon_set, plan.status)
        for event_type, reason, message in plan.events:
            self.recorder.record(daemon_set, event_type, reason, message)
        if error is not None:
            raise error
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after + 0.1)

    async def _manage(self, daemon_set: dict, key: str, plan: DaemonSetPlan) -> Exception | None:
        if not plan.create_on and not plan.delete:
            return None
        self.expectations.expect(key, creations=len(plan.create_on), deletions=[key_of(pod) for pod in plan.delete])
        if plan.create_on:
            self.log.info("daemonset %s: creating pods on %s", key, ", ".join(plan.create_on))
        if plan.delete:
            self.log.info("daemonset %s: deleting %s", key, ", ".join(pod["metadata"]["name"] for pod in plan.delete))
        first_error: Exception | None = None
        nodes = list(plan.create_on)
        for batch in slow_start_batches(len(nodes)):
            batch_nodes, nodes = nodes[:batch], nodes[batch:]
            results = await asyncio.gather(*(self._create_pod(daemon_set, node) for node in batch_nodes),
                                           return_exceptions=True)
            errors = [result for result in results if isinstance(result, Exception)]
            for _ in errors:
                self.expectations.creation_observed(key)
            if errors:
                first_error = errors[0]
                for _ in nodes:  # not attempted: the informer will never see them
                    self.expectations.creation_observed(key)
                break
        results = await asyncio.gather(*(self.pod_control.delete(daemon_set, pod) for pod in plan.delete),
                                       return_exceptions=True)
        return first_error or next((result for result in results if isinstance(result, Exception)), None)

    async def _create_pod(self, daemon_set: dict, node_name: str) -> None:
        await self.pod_control.create(daemon_set, pod_for_node(daemon_set, node_name))

    async def _write_status(self, daemon_set: dict, status: dict) -> None:
        if (daemon_set.get("status") or {}) == status:
            return
        updated = copy.deepcopy(daemon_set)
        updated["status"] = status
        try:
            await self.client.update(DAEMONSETS, updated, subresource="status")
        except NotFound:
            return
        except Conflict:
            # Usually our own previous write, not yet in the cache: once more on a fresh read (the counts come
            # from nodes and pods, not from the DaemonSet), with the generation that read shows.
            metadata = daemon_set["metadata"]
            fresh = await self.client.get(DAEMONSETS, metadata["name"], namespace=metadata.get("namespace"))
            if fresh["metadata"].get("uid") != metadata.get("uid") or \
                    fresh["metadata"].get("generation") != metadata.get("generation"):
                raise  # the spec changed: the next sync computes for it
            if (fresh.get("status") or {}) != status:
                await self.client.update(DAEMONSETS, {**fresh, "status": status}, subresource="status")
        self.log.info("daemonset %s: status desired=%d current=%d ready=%d updated=%d available=%d",
                      key_of(daemon_set), status.get("desiredNumberScheduled", 0),
                      status.get("currentNumberScheduled", 0), status.get("numberReady", 0),
                      status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0))

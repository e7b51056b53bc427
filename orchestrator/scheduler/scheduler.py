"""The scheduling loop: pending pods in, Bindings out.

`Scheduler` keeps the cache and the queue current from two informers (pods, nodes), then, one
pod at a time, runs `algorithm.schedule_pod` against the cache, *assumes* the pod on the chosen
node and POSTs its `pods/<name>/binding` in the background (up to `bind_concurrency` in
flight), so that the next pod is scheduled while the apiserver is still writing. A pod that
fits nowhere gets the FailedScheduling Warning event and a `PodScheduled=False/Unschedulable`
condition with the same message, and waits in the queue's unschedulable part until a node is
added or changes, or a bound pod goes away. A failed binding is forgotten and retried with
backoff.

Pods are ours when `spec.schedulerName` is `default-scheduler` (or unset), they have no
`spec.nodeName`, no scheduling gates, and are not being deleted. Started by main.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrator.api.errors import APIError, Conflict, NotFound
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import PERSISTENTVOLUMECLAIMS, PODS
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.controllers.persistentvolume.plan import SELECTED_NODE_ANNOTATION
from orchestrator.scheduler.algorithm import (
    Diagnosis,
    Profile,
    ScheduleResult,
    default_profile,
    failure_message,
    fit_error_message,
    preemption_message,
    schedule_pod,
)
from orchestrator.scheduler.cache import SchedulerCache
from orchestrator.scheduler.framework import DEFAULT_SCHEDULER_NAME, PodInfo, is_responsible
from orchestrator.scheduler.queue import QueuedPod, SchedulingQueue

log = logging.getLogger(__name__)

DEFAULT_BIND_CONCURRENCY = 64
TERMINAL_PHASES = ("Succeeded", "Failed")
# Pod fields whose change may make an unschedulable pod fit (kube-scheduler's isPodUpdated
# ignores status and bookkeeping metadata, so its own status writes do not requeue the pod).
_BOOKKEEPING_METADATA = ("resourceVersion", "generation", "managedFields")


def is_bound(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def needs_scheduling(pod: dict, scheduler_name: str = DEFAULT_SCHEDULER_NAME) -> bool:
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName")
            and not spec.get("schedulingGates")
            and not (pod.get("metadata") or {}).get("deletionTimestamp")
            and not is_terminal(pod)
            and is_responsible(pod, scheduler_name))


def scheduling_relevant_change(old: dict, new: dict) -> bool:
    def relevant(pod: dict) -> tuple:
        metadata = {k: v for k, v in (pod.get("metadata") or {}).items() if k not in _BOOKKEEPING_METADATA}
        return metadata, pod.get("spec")
    return relevant(old) != relevant(new)


def unschedulable_condition(message: str, *, now: float) -> dict:
    return {
        "type": "PodScheduled",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": "Unschedulable",
        "message": message,
    }


def condition_is_current(pod: dict, message: str) -> bool:
    """podutil.UpdatePodCondition would change nothing: the same status, reason and message."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled":
            return (condition.get("status") == "False" and condition.get("reason") == "Unschedulable"
                    and condition.get("message") == message)
    return False


def binding_for(pod: dict, node_name: str) -> dict:
    metadata = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace"), "uid": metadata.get("uid")},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
    }


class Scheduler:
    def __init__(
        self,
        client: ApiClient,
        *,
        recorder: EventRecorder,
        profile: Profile | None = None,
        scheduler_name: str = DEFAULT_SCHEDULER_NAME,
        bind_concurrency: int = DEFAULT_BIND_CONCURRENCY,
        percentage_of_nodes_to_score: int = 0,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ):
        self.client = client
        self.recorder = recorder
        self.profile = profile or default_profile()
        self.scheduler_name = scheduler_name
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.rng = rng or random.Random()
        self.cache = SchedulerCache()
        self.queue = SchedulingQueue() if clock is None else SchedulingQueue(clock=clock)
        self._bind_slots = asyncio.Semaphore(bind_concurrency)
        self._background: set[asyncio.Task] = set()
        self._next_start_index = 0
        self._pods: Informer | None = None
        self._volume_caches: tuple[Informer, Informer, Informer] | None = None  # claims, volumes, classes

    # --- wiring the informers ----------------------------------------------------------------

    def attach(self, pods: Informer, nodes: Informer) -> None:
        self._pods = pods
        pods.add_handler(on_add=self.on_pod_add, on_update=self.on_pod_update, on_delete=self.on_pod_delete)
        nodes.add_handler(on_add=self.on_node_add, on_update=self.on_node_update, on_delete=self.on_node_delete)

    def attach_volumes(self, claims: Informer, volumes: Informer, classes: Informer) -> None:
        """Schedule pods with PersistentVolumeClaims (plugins/volumebinding.py); claim and volume
        changes may make a waiting pod fit."""
        from orchestrator.scheduler.plugins.volumebinding import VolumeBinding

        self._volume_caches = (claims, volumes, classes)
        self.profile.filters.append(VolumeBinding(self._pod_volumes))
        for informer in (claims, volumes):
            informer.add_handler(on_add=lambda obj: self.queue.move_all_to_active_or_backoff("PvcAdd"),
                                 on_update=lambda old, new: self.queue.move_all_to_active_or_backoff("PvcUpdate"))

    def _pod_volumes(self, pod: dict):
        from orchestrator.scheduler.plugins.volumebinding import PodVolumes, check_pod_volumes

        if self._volume_caches is None:
            return PodVolumes()
        claims, volumes, classes = self._volume_caches
        return check_pod_volumes(pod, get_claim=claims.get, get_volume=volumes.get, get_class=classes.get)

    def on_pod_add(self, pod: dict) -> None:
        if is_bound(pod):
            if not is_terminal(pod):
                self.cache.add_or_update_pod(PodInfo.from_pod(pod))
        elif needs_scheduling(pod, self.scheduler_name):
            self.queue.add(key_of(pod), priority=(pod.get("spec") or {}).get("priority") or 0)

    def on_pod_update(self, old: dict, new: dict) -> None:
        key = key_of(new)
        if is_bound(new):
            self.queue.delete(key)
            if is_terminal(new):
                self._bound_pod_gone(key, "AssignedPodUpdate")
            else:
                self.cache.add_or_update_pod(PodInfo.from_pod(new))
            return
        if not needs_scheduling(new, self.scheduler_name):
            self.queue.delete(key)
            return
        if self.cache.is_assumed(key):
            return  # being bound right now
        if key not in self.queue or scheduling_relevant_change(old, new):
            self.queue.update(key, priority=(new.get("spec") or {}).get("priority") or 0)

    def on_pod_delete(self, pod: dict) -> None:
        key = key_of(pod)
        self.queue.delete(key)
        if self.cache.node_of(key) is not None:
            self._bound_pod_gone(key, "AssignedPodDelete")

    def _bound_pod_gone(self, key: str, event: str) -> None:
        self.cache.remove_pod(key)
        self.queue.move_all_to_active_or_backoff(event)

    def on_node_add(self, node: dict) -> None:
        self.cache.add_or_update_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd")

    def on_node_update(self, old: dict, new: dict) -> None:
        self.cache.add_or_update_node(new)
        if old.get("spec") != new.get("spec") or _schedulable_status(old) != _schedulable_status(new) \
                or (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            self.queue.move_all_to_active_or_backoff("NodeUpdate")

    def on_node_delete(self, node: dict) -> None:
        self.cache.remove_node(node["metadata"]["name"])

    # --- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Schedules pods until cancelled; in-flight bindings are awaited or cancelled on the way out."""
        try:
            while True:
                queued = await self.queue.pop()
                await self.schedule_one(queued)
                # Let informer events and binding responses in between two decisions.
                await asyncio.sleep(0)
        finally:
            for task in list(self._background):
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)

    def _current_pod(self, key: str) -> dict | None:
        """The pod as the informer has it now, if it still needs us (skipPodSchedule)."""
        pod = self._pods.get(key) if self._pods is not None else None
        if pod is None or not needs_scheduling(pod, self.scheduler_name) or self.cache.is_assumed(key):
            return None
        return pod

    async def schedule_one(self, queued: QueuedPod) -> ScheduleResult | None:
        pod = self._current_pod(queued.key)
        if pod is None:
            return None
        pod_info = PodInfo.from_pod(pod)
        pod_volumes = self._pod_volumes(pod)
        if pod_volumes.unschedulable:  # VolumeBinding's PreFilter: no node can help
            nodes = self.cache.node_count
            message = (f"{fit_error_message(nodes, {})} {pod_volumes.unschedulable}. "
                       f"{preemption_message(pod_info, nodes, Diagnosis())}.")
            self._unschedulable(pod, pod_info, queued, message)
            return None
        result = schedule_pod(pod_info, self.cache.table, self.profile, start_index=self._next_start_index,
                              percentage_of_nodes_to_score=self.percentage_of_nodes_to_score, rng=self.rng)
        self._next_start_index = result.next_start_index
        if result.node_name is None:
            self._unschedulable(pod, pod_info, queued, failure_message(pod_info, result))
            return result
        self.cache.assume_pod(pod_info, result.node_name)
        # Back-pressure: at most bind_concurrency bindings in flight.
        await self._bind_slots.acquire()
        self._spawn(self._bind(pod, queued, result.node_name, pod_volumes.claims_to_select))
        return result

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _bind(self, pod: dict, queued: QueuedPod, node_name: str, claims_to_select: list | None = None) -> None:
        metadata = pod["metadata"]
        key = queued.key
        try:
            for claim in claims_to_select or []:  # VolumeBinding's PreBind
                await self.client.patch(PERSISTENTVOLUMECLAIMS, claim["metadata"]["name"], {"metadata": {
                    "annotations": {SELECTED_NODE_ANNOTATION: node_name}}}, namespace=metadata.get("namespace"),
                    patch_type="merge")
            await self.client.create_subresource(PODS, metadata["name"], "binding", binding_for(pod, node_name),
                                                 namespace=metadata.get("namespace"))
        except (APIError, ApiUnavailable) as error:
            self.cache.forget_pod(key)
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")  # its room is free again
            if isinstance(error, NotFound) or (isinstance(error, Conflict) and "already assigned" in str(error)):
                log.info("binding %s to %s not needed: %s", key, node_name, error)
                return
            log.warning("binding %s to %s failed, will retry: %s", key, node_name, error)
            self.recorder.record(pod, WARNING, "FailedScheduling", f"Binding rejected: {error}")
            current = self._current_pod(key)
            if current is not None:
                self.queue.add_backoff(queued)
            return
        finally:
            self._bind_slots.release()
        log.info("bound %s to %s", key, node_name)
        self.recorder.record(pod, NORMAL, "Scheduled",
                             f"Successfully assigned {key} to {node_name}")

    def _unschedulable(self, pod: dict, pod_info: PodInfo, queued: QueuedPod, message: str) -> None:
        log.info("unable to schedule %s: %s", pod_info.key, message)
        self.recorder.record(pod, WARNING, "FailedScheduling", message)
        self.queue.add_unschedulable(queued)
        if not condition_is_current(pod, message):
            self._spawn(self._set_unschedulable_condition(pod, message))

    async def _set_unschedulable_condition(self, pod: dict, message: str) -> None:
        metadata = pod["metadata"]
        condition = unschedulable_condition(message, now=time.time())
        patch = {"status": {"conditions": [condition]}}  # strategic merge: conditions merge by type
        try:
            await self.client.patch(PODS, metadata["name"], patch, namespace=metadata.get("namespace"),
                                    patch_type="strategic", subresource="status")
        except (APIError, ApiUnavailable) as error:
            log.info("could not update the PodScheduled condition of %s: %s", key_of(pod), error)


def _schedulable_status(node: dict) -> tuple:
    """What of a node's status can change where pods fit (not heartbeats)."""
    status = node.get("status") or {}
    conditions = tuple((c.get("type"), c.get("status")) for c in status.get("conditions") or [])
    return status.get("allocatable"), status.get("capacity"), conditions

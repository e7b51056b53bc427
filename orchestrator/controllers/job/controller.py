"""The Job controller: the I/O half (watch handlers, `sync(key)`, applying plans).

`sync(key)` reads the Job and the namespace's pods from the informers, claims the pods
its selector matches, asks `plan.plan_job` what to do and does it in Kubernetes' order:
create and delete pods, write the status (with newly finished pods listed as uncounted),
then remove those pods' `batch.kubernetes.io/job-tracking` finalizer, then record the
events of a finished Job. Every status write carries the cached resourceVersion, so a
stale cache ends in 409 and a retry instead of a count made twice. Pods still carrying
the finalizer after their Job went away (or finished) are released by the same workers
under an `orphan-pod:` key.

Events: SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete, Completed,
BackoffLimitExceeded, DeadlineExceeded, Suspended, Resumed.
Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.apiserver.selectors import selector_from_object
from orchestrator.client.events import EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import JOBS, PODS
from orchestrator.controllers.base import (
    NAMESPACE_INDEX,
    OWNER_UID_INDEX,
    Clock,
    Controller,
    SharedInformers,
    controller_ref,
    is_being_deleted,
    labels_of,
    owners_selecting,
    resolve_controller_ref,
)
from orchestrator.controllers.expectations import Expectations
from orchestrator.controllers.job.plan import (
    DEFAULT_POD_FAILURE_BACKOFF,
    JOB_TRACKING_FINALIZER,
    JobPlan,
    has_tracking_finalizer,
    is_job_finished,
    is_managed_elsewhere,
    plan_job,
    pod_from_job,
)
from orchestrator.controllers.podcontrol import PodControl
from orchestrator.controllers.refmanager import ControllerRefManager

ORPHAN_POD_KEY_PREFIX = "orphan-pod:"
# Strategic merge patch that drops only our finalizer, whatever others the pod carries.
REMOVE_TRACKING_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


class JobController(Controller):
    name = "job"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 5, clock: Clock = time.time,
                 pod_failure_backoff: float = DEFAULT_POD_FAILURE_BACKOFF):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="job-controller")
        self.pod_failure_backoff = pod_failure_backoff
        self.expectations = Expectations()
        # Per Job key: uids of pods whose finalizer this controller removed, until the cache shows it.
        self.finalizer_removals: dict[str, set[str]] = {}
        self.jobs = informers.get(JOBS, indexes=[NAMESPACE_INDEX])
        self.pods = informers.get(PODS, indexes=[NAMESPACE_INDEX, OWNER_UID_INDEX])
        self.refs = ControllerRefManager(client, owner_resource=JOBS, dependent_resource=PODS)
        self.pod_control = PodControl(client, self.recorder, self.expectations, self.log)
        self.jobs.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                              on_delete=self._delete_job)
        self.pods.add_handler(on_add=self._add_pod, on_update=self._update_pod, on_delete=self._delete_pod)

    # --- event handlers: compute keys, nothing else ---------------------------------

    def _delete_job(self, job: dict) -> None:
        key = key_of(job)
        self.expectations.forget(key)
        self.finalizer_removals.pop(key, None)
        for pod in self.pods.by_index(OWNER_UID_INDEX, job["metadata"].get("uid") or ""):
            if has_tracking_finalizer(pod):
                self.queue.add(ORPHAN_POD_KEY_PREFIX + key_of(pod))

    def _owning_job(self, pod: dict) -> dict | None:
        return resolve_controller_ref(self.jobs, pod, controller_ref(pod), kind=JOBS.kind)

    def _job_key_of(self, pod: dict) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != JOBS.kind:
            return None
        return f"{pod['metadata'].get('namespace')}/{ref.get('name')}"

    def _finalizer_gone(self, pod: dict) -> None:
        job_key = self._job_key_of(pod)
        if job_key is not None and job_key in self.finalizer_removals:
            self.finalizer_removals[job_key].discard(pod["metadata"].get("uid"))

    def _add_pod(self, pod: dict) -> None:
        if is_being_deleted(pod):
            self._pod_gone_or_going(pod)
            return
        job = self._owning_job(pod)
        if job is not None:
            self.expectations.creation_observed(key_of(job))
            self.enqueue(job)
            return
        if self._job_key_of(pod) is not None:
            if has_tracking_finalizer(pod):
                self.queue.add(ORPHAN_POD_KEY_PREFIX + key_of(pod))
            return
        if controller_ref(pod) is None:
            for job in owners_selecting(self.jobs, pod):
                self.enqueue(job)

    def _update_pod(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if has_tracking_finalizer(old) and not has_tracking_finalizer(new):
            self._finalizer_gone(new)
        if is_being_deleted(new) and not is_being_deleted(old):
            self._pod_gone_or_going(new)
        old_job, job = self._owning_job(old), self._owning_job(new)
        if old_job is not None and (job is None or key_of(old_job) != key_of(job)):
            self.enqueue(old_job)
        if job is not None:
            self.enqueue(job)
        elif self._job_key_of(new) is not None and has_tracking_finalizer(new):
            self.queue.add(ORPHAN_POD_KEY_PREFIX + key_of(new))
        elif controller_ref(new) is None and labels_of(old) != labels_of(new):
            for selecting in owners_selecting(self.jobs, new):
                self.enqueue(selecting)

    def _pod_gone_or_going(self, pod: dict) -> None:
        job = self._owning_job(pod)
        if job is not None:
            self.expectations.deletion_observed(key_of(job), key_of(pod))
            self.enqueue(job)
        elif self._job_key_of(pod) is not None and has_tracking_finalizer(pod):
            self.queue.add(ORPHAN_POD_KEY_PREFIX + key_of(pod))

    def _delete_pod(self, pod: dict) -> None:
        self._finalizer_gone(pod)
        self._pod_gone_or_going(pod)

    # --- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        if key.startswith(ORPHAN_POD_KEY_PREFIX):
            await self._release_orphan_pod(key.removeprefix(ORPHAN_POD_KEY_PREFIX))
            return
        job = self.jobs.get(key)
        if job is None:
            self.expectations.forget(key)
            self.finalizer_removals.pop(key, None)
            return
        if is_managed_elsewhere(job):
            return
        try:
            selector = selector_from_object((job.get("spec") or {}).get("selector"))
        except ValueError as error:
            self.log.warning("job %s has an invalid selector, not syncing it: %s", key, error)
            return
        namespace = job["metadata"].get("namespace") or ""
        pods = await self.refs.claim(job, selector=selector,
                                     candidates=self.pods.by_index(NAMESPACE_INDEX, namespace))
        plan = plan_job(job, pods=pods, now=self.clock(), may_manage=self.expectations.satisfied(key),
                        expected_finalizer_removals=frozenset(self.finalizer_removals.get(key, ())),
                        pod_failure_backoff=self.pod_failure_backoff)
        manage_error = await self._manage_pods(job, key, plan)
        if not await self._write_status(job, plan.status):
            return  # the Job went away meanwhile
        await self._remove_finalizers(key, plan.remove_finalizers)
        for event_type, reason, message in plan.events:
            self.recorder.record(job, event_type, reason, message)
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after + 0.1)
        if manage_error is not None:
            raise manage_error

    async def _manage_pods(self, job: dict, key: str, plan: JobPlan) -> Exception | None:
        """Creates and deletes what the plan says; the status is corrected for creations that failed."""
        error: Exception | None = None
        if plan.create:
            self.expectations.expect_creations(key, len(plan.create))
            self.log.info("job %s: creating %d pod(s)", key, len(plan.create))
            results = await asyncio.gather(*(self._create_pod(job, index) for index in plan.create),
                                           return_exceptions=True)
            failures = [result for result in results if isinstance(result, Exception)]
            for _ in failures:
                self.expectations.creation_observed(key)  # the informer will never see these
            if failures:
                active = (plan.status.get("active") or 0) - len(failures)
                plan.status.pop("active", None)
                if active > 0:
                    plan.status["active"] = active
                error = failures[0]
        elif plan.delete:
            self.expectations.expect_deletions(key, [key_of(pod) for pod in plan.delete])
            self.log.info("job %s: deleting %d active pod(s)", key, len(plan.delete))
            results = await asyncio.gather(*(self.pod_control.delete(job, pod) for pod in plan.delete),
                                           return_exceptions=True)
            error = next((result for result in results if isinstance(result, Exception)), None)
        return error

    async def _create_pod(self, job: dict, index: int | None) -> None:
        await self.pod_control.create(job, pod_from_job(job, index=index))

    async def _write_status(self, job: dict, status: dict) -> bool:
        """PUT /status with the cached resourceVersion (409 is raised for a retry); False if the Job is gone."""
        if (job.get("status") or {}) == status:
            return True
        try:
            await self.client.update(JOBS, {**job, "status": status}, subresource="status")
        except NotFound:
            return False
        self.log.info("job %s: status active=%d succeeded=%d failed=%d%s", key_of(job), status.get("active", 0),
                      status.get("succeeded", 0), status.get("failed", 0),
                      "".join(f" {c['type']}" for c in status.get("conditions") or [] if c.get("status") == "True"))
        return True

    async def _remove_finalizers(self, key: str, pods: list[dict]) -> None:
        if not pods:
            return
        expected = self.finalizer_removals.setdefault(key, set())
        expected.update(pod["metadata"].get("uid") for pod in pods)
        results = await asyncio.gather(*(self._remove_finalizer(pod) for pod in pods), return_exceptions=True)
        failures = []
        for pod, result in zip(pods, results, strict=True):
            if isinstance(result, Exception):
                expected.discard(pod["metadata"].get("uid"))  # not removed: it must be tried again
                failures.append(result)
        if failures:
            raise failures[0]

    async def _remove_finalizer(self, pod: dict) -> None:
        try:
            await self.client.patch(PODS, pod["metadata"]["name"], REMOVE_TRACKING_FINALIZER,
                                    namespace=pod["metadata"].get("namespace"), patch_type="strategic")
        except NotFound:
            return

    async def _release_orphan_pod(self, pod_key: str) -> None:
        """A pod whose Job is gone or finished does not need counting: its finalizer goes."""
        pod = self.pods.get(pod_key)
        if pod is None or not has_tracking_finalizer(pod):
            return
        job = self._owning_job(pod)
        if job is not None and not is_job_finished(job):
            return  # its Job is alive and will count it
        self.log.info("job controller: releasing orphan pod %s", pod_key)
        await self._remove_finalizer(pod)

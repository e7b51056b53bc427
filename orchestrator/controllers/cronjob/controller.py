"""The CronJob controller: the I/O half (watch handlers, `sync(key)`, applying plans).

`sync(key)` reads the CronJob and the Jobs it controls from the informers; where the cache
may lag it asks the apiserver (a Job the CronJob does not list: is the CronJob's status
newer? a listed Job the cache does not have: is it really gone?), asks `plan.plan_cronjob`
what to do, deletes Jobs (Background, with a uid precondition), creates the scheduled Job,
writes the status with the cached resourceVersion, records the events and comes back just
after the next scheduled time. The Job's name is the lock that keeps a run from starting twice.

Events: SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete, SawCompletedJob,
UnexpectedJob, MissingJob, JobAlreadyActive, MissSchedule, UnparseableSchedule,
UnknownTimeZone, TooManyMissedTimes. Run by the controller-manager (`manager.py`).
"""

from __future__ import annotations

import time
from datetime import UTC, tzinfo
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, Conflict, NotFound
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import key_of
from orchestrator.client.resources import CRONJOBS, JOBS
from orchestrator.controllers.base import (
    OWNER_UID_INDEX,
    Clock,
    Controller,
    SharedInformers,
    controller_ref,
    is_namespace_terminating,
    resolve_controller_ref,
)
from orchestrator.controllers.cronjob.plan import CronJobPlan, job_finished_type, job_reference, plan_cronjob


class CronJobController(Controller):
    name = "cronjob"

    def __init__(self, client: Any, informers: SharedInformers, *, recorder: EventRecorder | None = None,
                 workers: int = 2, clock: Clock = time.time, default_zone: tzinfo = UTC):
        super().__init__(workers=workers, clock=clock)
        self.client = client
        self.recorder = recorder or EventRecorder(client, component="cronjob-controller")
        self.default_zone = default_zone
        self.cronjobs = informers.get(CRONJOBS)
        self.jobs = informers.get(JOBS, indexes=[OWNER_UID_INDEX])
        self.cronjobs.add_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new))
        self.jobs.add_handler(on_add=self._job_changed, on_update=lambda old, new: self._job_changed(new),
                              on_delete=self._job_changed)

    def _job_changed(self, job: dict) -> None:
        cronjob = resolve_controller_ref(self.cronjobs, job, controller_ref(job), kind=CRONJOBS.kind)
        if cronjob is not None:
            self.enqueue(cronjob)

    def _controlled_jobs(self, cronjob: dict) -> list[dict]:
        uid = cronjob["metadata"].get("uid")
        return [job for job in self.jobs.by_index(OWNER_UID_INDEX, uid or "")
                if (controller_ref(job) or {}).get("uid") == uid]

    # --- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cronjob = self.cronjobs.get(key)
        if cronjob is None:
            return
        jobs = self._controlled_jobs(cronjob)
        cronjob = await self._fresh_if_status_lags(cronjob, jobs)
        if cronjob is None:
            return
        plan = plan_cronjob(cronjob, jobs=jobs, now=self.clock(), gone_uids=await self._gone_active_jobs(cronjob, jobs),
                            default_zone=self.default_zone)
        error = await self._delete_jobs(cronjob, plan)
        if error is None and plan.create is not None:
            error = await self._create_job(cronjob, plan)
        await self._write_status(cronjob, plan.status)
        for event_type, reason, message in plan.events:
            self.recorder.record(cronjob, event_type, reason, message)
        if error is not None:
            raise error
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after)

    async def _fresh_if_status_lags(self, cronjob: dict, jobs: list[dict]) -> dict | None:
        """An unfinished Job missing from `status.active` may be our own, written after the cache's copy."""
        listed = {reference.get("uid") for reference in (cronjob.get("status") or {}).get("active") or []}
        if all(job["metadata"].get("uid") in listed or job_finished_type(job) for job in jobs):
            return cronjob
        metadata = cronjob["metadata"]
        try:
            fresh = await self.client.get(CRONJOBS, metadata["name"], namespace=metadata.get("namespace"))
        except NotFound:
            return None
        return fresh if fresh["metadata"].get("uid") == metadata.get("uid") else None

    async def _gone_active_jobs(self, cronjob: dict, jobs: list[dict]) -> frozenset[str]:
        """Jobs of `status.active` the cache lacks and the apiserver confirms are gone."""
        cached = {job["metadata"].get("uid") for job in jobs}
        gone = set()
        for reference in (cronjob.get("status") or {}).get("active") or []:
            if reference.get("uid") in cached:
                continue
            try:
                job = await self.client.get(JOBS, reference.get("name") or "", namespace=reference.get("namespace"))
            except NotFound:
                gone.add(reference.get("uid"))
                continue
            if job["metadata"].get("uid") != reference.get("uid"):
                gone.add(reference.get("uid"))
        return frozenset(gone)

    async def _delete_jobs(self, cronjob: dict, plan: CronJobPlan) -> Exception | None:
        for job in plan.delete:
            name = job["metadata"]["name"]
            try:
                await self.client.delete(JOBS, name, namespace=job["metadata"].get("namespace"),
                                         propagation_policy="Background",
                                         preconditions={"uid": job["metadata"].get("uid")})
            except (NotFound, Conflict):
                continue  # gone already, or a new Job of that name
            except APIError as error:
                self.recorder.record(cronjob, WARNING, "FailedDelete", f"Deleted job: {error}")
                return error
            self.log.info("cronjob %s: deleted job %s", key_of(cronjob), name)
            self.recorder.record(cronjob, NORMAL, "SuccessfulDelete", f"Deleted job {name}")
        return None

    async def _create_job(self, cronjob: dict, plan: CronJobPlan) -> Exception | None:
        """Creates the scheduled Job and, on success, lists it in the status about to be written."""
        try:
            created = await self.client.create(JOBS, plan.create, namespace=cronjob["metadata"].get("namespace"))
        except APIError as error:
            if is_namespace_terminating(error):
                return None
            if not isinstance(error, AlreadyExists):  # another actor made it; the status follows
                self.recorder.record(cronjob, WARNING, "FailedCreate", f"Error creating job: {error}")
            return error
        name = created["metadata"]["name"]
        self.log.info("cronjob %s: created job %s for %s", key_of(cronjob), name, plan.scheduled_time)
        self.recorder.record(cronjob, NORMAL, "SuccessfulCreate", f"Created job {name}")
        plan.status["active"] = [*(plan.status.get("active") or []), job_reference(created)]
        plan.status["lastScheduleTime"] = plan.scheduled_time
        return None

    async def _write_status(self, cronjob: dict, status: dict) -> None:
        if (cronjob.get("status") or {}) == status:
            return
        try:
            await self.client.update(CRONJOBS, {**cronjob, "status": status}, subresource="status")
        except NotFound:
            return

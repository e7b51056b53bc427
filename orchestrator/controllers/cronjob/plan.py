"""The CronJob controller's decisions, as pure functions of a CronJob, its Jobs and the time.

As pkg/controller/cronjob (cronjob_controllerv2.go, Kubernetes 1.32), one sync:

1. Finished Jobs beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted,
   oldest first.
2. `status.active` is reconciled with the Jobs that exist: finished ones leave it
   (SawCompletedJob), vanished ones leave it (MissingJob), unfinished Jobs it does not list
   are reported (UnexpectedJob); `lastSuccessfulTime` follows the latest completed Job.
3. Unless the CronJob is suspended or being deleted: the most recent scheduled time that has
   passed since `lastScheduleTime` (or creation), no further back than
   `startingDeadlineSeconds`, gets a Job named `<cronjob>-<minutes since the epoch>` — unless
   it is too late (MissSchedule), already done, or `concurrencyPolicy: Forbid` finds a Job
   still running (JobAlreadyActive); `Replace` deletes the running ones first.
4. The key comes back shortly after the next scheduled time.

Schedules are read in `spec.timeZone`, else in the controller's zone. `plan_cronjob` returns
a `CronJobPlan`; controller.py carries it out. The clock is a parameter, so tests need not
wait a minute.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.api.cron import Schedule, ScheduleError, parse_schedule
from orchestrator.client.events import NORMAL, WARNING
from orchestrator.controllers.base import format_time, is_being_deleted, parse_time
from orchestrator.controllers.job.plan import COMPLETE, FAILED, has_condition

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1  # seconds after the scheduled minute the key comes back
TOO_MANY_MISSED = 100


@dataclass
class CronJobPlan:
    """What one sync does: delete Jobs, create one, write the status, record events, come back later."""

    delete: list[dict] = field(default_factory=list)  # Jobs: over the history limits, or replaced
    create: dict | None = None  # on success the controller adds it to `status.active` with `scheduled_time`
    scheduled_time: str | None = None
    status: dict = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    requeue_after: float | None = None


# ---------------------------------------------------------------- reading CronJobs and Jobs


def job_finished_type(job: dict) -> str | None:
    """FinishedCondition: "Complete" or "Failed" when the Job is finished, else None."""
    for condition_type in (COMPLETE, FAILED):
        if has_condition(job, condition_type):
            return condition_type
    return None


def schedule_zone(cronjob: dict, default: tzinfo) -> tzinfo:
    """spec.timeZone, or the controller's zone; raises ValueError for an unknown zone."""
    name = (cronjob.get("spec") or {}).get("timeZone")
    if name is None:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name}") from error


def job_name(cronjob: dict, scheduled: datetime) -> str:
    """getJobName: the CronJob's name and the scheduled time in minutes since the epoch (a lock on the run)."""
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def job_reference(job: dict) -> dict:
    """The ObjectReference `status.active` lists."""
    metadata = job["metadata"]
    reference = {"kind": "Job", "namespace": metadata.get("namespace"), "name": metadata["name"],
                 "uid": metadata.get("uid"), "apiVersion": "batch/v1",
                 "resourceVersion": metadata.get("resourceVersion")}
    return {key: value for key, value in reference.items() if value}


def job_from_template(cronjob: dict, scheduled: datetime) -> dict:
    """getJobFromTemplate2: the template's labels, annotations and spec, owned by the CronJob."""
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = scheduled.isoformat(timespec="seconds").replace("+00:00", "Z")
    metadata: dict = {"name": job_name(cronjob, scheduled), "annotations": annotations}
    if template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])
    owner = cronjob["metadata"]
    metadata["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob", "name": owner["name"],
                                    "uid": owner["uid"], "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
            "spec": copy.deepcopy(template.get("spec") or {})}


# ---------------------------------------------------------------- schedule arithmetic


def most_recent_schedule(cronjob: dict, schedule: Schedule, now: datetime, *,
                         include_starting_deadline: bool) -> tuple[datetime, datetime | None, bool]:
    """mostRecentScheduleTime: (earliest time considered, latest scheduled time in (earliest, now] or None,
    whether more than 100 runs were missed). `now` is aware, in the schedule's zone."""
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    since = parse_time(status.get("lastScheduleTime")) or parse_time(cronjob["metadata"].get("creationTimestamp"))
    earliest = datetime.fromtimestamp(since if since is not None else now.timestamp(), UTC).astimezone(now.tzinfo)
    deadline = spec.get("startingDeadlineSeconds")
    if include_starting_deadline and deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    first = schedule.next_after(earliest)
    if first is None or first > now:
        return earliest, None, False
    missed, moment = 0, first
    while moment is not None and moment <= now and missed <= TOO_MANY_MISSED:
        missed += 1
        moment = schedule.next_after(moment)
    return earliest, schedule.latest_at_or_before(now), missed > TOO_MANY_MISSED


def seconds_until_next_run(cronjob: dict, schedule: Schedule, now: datetime) -> float | None:
    """nextScheduleTimeDuration: from now until just after the run following the most recent one."""
    earliest, latest, _ = most_recent_schedule(cronjob, schedule, now, include_starting_deadline=False)
    following = schedule.next_after(latest or earliest)
    if following is None:
        return None
    return (following - now).total_seconds() + NEXT_SCHEDULE_DELTA


def _rfc1123z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


# ---------------------------------------------------------------- the plan


def _by_start_time(job: dict) -> tuple:
    """byJobStartTime: started ones first, oldest first, names break ties."""
    started = parse_time((job.get("status") or {}).get("startTime"))
    return (started is None, started or 0.0, job["metadata"]["name"])


def jobs_over_history_limits(cronjob: dict, jobs: list[dict]) -> list[dict]:
    """cleanupFinishedJobs: the oldest finished Jobs beyond each history limit."""
    spec = cronjob.get("spec") or {}
    surplus: list[dict] = []
    for finished_type, limit_key in ((COMPLETE, "successfulJobsHistoryLimit"), (FAILED, "failedJobsHistoryLimit")):
        limit = spec.get(limit_key)
        if limit is None:
            continue
        finished = sorted((job for job in jobs if job_finished_type(job) == finished_type), key=_by_start_time)
        surplus += finished[:max(0, len(finished) - limit)]
    return surplus


def plan_cronjob(cronjob: dict, *, jobs: list[dict], now: float, gone_uids: frozenset[str] = frozenset(),
                 default_zone: tzinfo = UTC) -> CronJobPlan:
    """One sync of `cronjob`. `jobs` are the Jobs it controls; `gone_uids` are Jobs of `status.active` that the
    apiserver confirmed are gone."""
    spec = cronjob.get("spec") or {}
    plan = CronJobPlan()
    status = copy.deepcopy(cronjob.get("status") or {})
    active = list(status.get("active") or [])

    def leave_active(uid: str | None) -> None:
        active[:] = [reference for reference in active if reference.get("uid") != uid]

    # 1. History limits.
    plan.delete = jobs_over_history_limits(cronjob, jobs)
    for job in plan.delete:
        leave_active(job["metadata"].get("uid"))
    deleted_uids = {job["metadata"].get("uid") for job in plan.delete}

    # 2. The active list against the Jobs that exist.
    children = {job["metadata"].get("uid") for job in jobs}
    last_successful = parse_time(status.get("lastSuccessfulTime"))
    for job in jobs:
        uid = job["metadata"].get("uid")
        listed = any(reference.get("uid") == uid for reference in active)
        finished_type = job_finished_type(job)
        if not listed and finished_type is None and uid not in deleted_uids:
            plan.events.append((WARNING, "UnexpectedJob",
                                f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}"))
        elif listed and finished_type is not None:
            leave_active(uid)
            plan.events.append((NORMAL, "SawCompletedJob",
                                f"Saw completed job: {job['metadata']['name']}, condition: {finished_type}"))
        if finished_type == COMPLETE:
            completed = parse_time((job.get("status") or {}).get("completionTime"))
            if completed is not None and (last_successful is None or completed > last_successful):
                last_successful = completed
    for reference in list(active):
        if reference.get("uid") not in children and reference.get("uid") in gone_uids:
            leave_active(reference.get("uid"))
            plan.events.append((NORMAL, "MissingJob", f"Active job went missing: {reference.get('name')}"))
    if last_successful is not None:
        status["lastSuccessfulTime"] = format_time(last_successful)

    def finish() -> CronJobPlan:
        status.pop("active", None)
        if active:
            status["active"] = active
        plan.status = status
        return plan

    # 3. Scheduling.
    if is_being_deleted(cronjob) or spec.get("suspend"):
        return finish()
    try:
        zone = schedule_zone(cronjob, default_zone)
    except ValueError as error:
        plan.events.append((WARNING, "UnknownTimeZone", f'invalid timeZone: "{spec.get("timeZone")}": {error}'))
        return finish()
    try:
        schedule = parse_schedule(spec.get("schedule") or "")
    except ScheduleError as error:
        plan.events.append((WARNING, "UnparseableSchedule", f'unparseable schedule: "{spec.get("schedule")}" : {error}'))
        return finish()
    moment = datetime.fromtimestamp(now, UTC).astimezone(zone)
    _, scheduled, too_many_missed = most_recent_schedule(cronjob, schedule, moment, include_starting_deadline=True)
    if too_many_missed:
        plan.events.append((WARNING, "TooManyMissedTimes", "too many missed start times. Set or decrease "
                                                           ".spec.startingDeadlineSeconds or check clock skew"))
    plan.requeue_after = seconds_until_next_run(cronjob, schedule, moment)
    if scheduled is None:
        return finish()
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and scheduled + timedelta(seconds=deadline) < moment:
        plan.events.append((WARNING, "MissSchedule", f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}"))
        return finish()
    name = job_name(cronjob, scheduled)
    last_scheduled = parse_time(status.get("lastScheduleTime"))
    if any(reference.get("name") == name for reference in active) or last_scheduled == scheduled.timestamp():
        return finish()
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        plan.events.append((NORMAL, "JobAlreadyActive",
                            "Not starting job because prior execution is running and concurrency policy is Forbid"))
        return finish()
    if policy == "Replace":
        by_uid = {job["metadata"].get("uid"): job for job in jobs}
        for reference in list(active):
            running = by_uid.get(reference.get("uid"))
            if running is not None and running["metadata"].get("uid") not in deleted_uids:
                plan.delete.append(running)
            leave_active(reference.get("uid"))
    plan.create = job_from_template(cronjob, scheduled)
    plan.scheduled_time = format_time(scheduled.timestamp())
    return finish()

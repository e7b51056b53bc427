"""The Job controller's decisions, as pure functions of a Job, its pods and the time.

As pkg/controller/job (Kubernetes 1.32), with finished pods tracked by a finalizer:

- Every pod the controller creates carries `batch.kubernetes.io/job-tracking`. A pod that
  finished (or is being deleted, which counts as a failure) while it still has the finalizer
  is first listed by uid in `status.uncountedTerminatedPods`; once that status is written the
  finalizer is removed; the next sync moves the uid into `succeeded`/`failed`. A pod whose
  finalizer is gone is never counted again, so counts survive pods being deleted.
- The controller keeps `min(parallelism, completions - succeeded)` pods active (for
  `Indexed` jobs: one pod per pending index), creating new ones after a failure only once
  the pod failure backoff (10 s doubling up to 10 min) has passed.
- More failures than `backoffLimit` (or, with `restartPolicy: OnFailure`, that many container
  restarts), or running past `activeDeadlineSeconds`, marks the Job `FailureTarget`; enough
  successes mark it `SuccessCriteriaMet`. Either way its active pods are deleted, and the
  terminal `Failed`/`Complete` condition follows once no pod is left running or uncounted.
- A suspended Job has its active pods deleted and the `Suspended` condition; resuming it
  resets `startTime`.

`plan_job` returns a `JobPlan`; the controller (controller.py) carries it out. Used by
controller.py and the unit tests.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from orchestrator.client.events import NORMAL, WARNING
from orchestrator.controllers.base import format_time, is_being_deleted, parse_time
from orchestrator.controllers.podutil import is_pod_active, is_pod_ready, pods_to_delete

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_LABEL = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"
INDEXED = "Indexed"

COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
FAILURE_TARGET, SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"
BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")

DEFAULT_POD_FAILURE_BACKOFF = 10.0  # DefaultJobPodFailureBackOff
MAX_POD_FAILURE_BACKOFF = 600.0  # MaxJobPodFailureBackOff
BURST_PODS = 500  # a sync never creates or deletes more pods than this


@dataclass
class JobPlan:
    """What one sync of a Job does, in order: create/delete pods, write status, drop finalizers, record events."""

    create: list[int | None] = field(default_factory=list)  # one per pod: its completion index (None: NonIndexed)
    delete: list[dict] = field(default_factory=list)
    status: dict = field(default_factory=dict)
    remove_finalizers: list[dict] = field(default_factory=list)  # only once `status` is written
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message), after the status
    requeue_after: float | None = None


# ---------------------------------------------------------------- reading jobs and pods


def condition_of(job: dict, condition_type: str) -> dict | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def has_condition(job: dict, condition_type: str) -> bool:
    condition = condition_of(job, condition_type)
    return condition is not None and condition.get("status") == "True"


def is_job_finished(job: dict) -> bool:
    """IsJobFinished: Complete or Failed is True."""
    return has_condition(job, COMPLETE) or has_condition(job, FAILED)


def finish_time(job: dict) -> float | None:
    """When the Job became Complete or Failed (the condition's lastTransitionTime)."""
    for condition_type in (COMPLETE, FAILED):
        condition = condition_of(job, condition_type)
        if condition is not None and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def is_managed_elsewhere(job: dict) -> bool:
    """spec.managedBy names another controller: this one leaves the Job alone."""
    managed_by = (job.get("spec") or {}).get("managedBy")
    return managed_by is not None and managed_by != JOB_CONTROLLER_NAME


def has_tracking_finalizer(pod: dict) -> bool:
    return JOB_TRACKING_FINALIZER in ((pod.get("metadata") or {}).get("finalizers") or [])


def _uid(pod: dict) -> str:
    return (pod.get("metadata") or {}).get("uid") or ""


def _phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def completion_index(pod: dict) -> int | None:
    """The pod's index (annotation `batch.kubernetes.io/job-completion-index`), None when absent or invalid."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(COMPLETION_INDEX_ANNOTATION)
    if value is None or not value.isdigit():
        return None
    return int(value)


def pod_finish_time(pod: dict) -> float | None:
    """getFinishedTime: the last container to terminate, else the deletion, else None."""
    status = pod.get("status") or {}
    finished = [parse_time(((container.get("state") or {}).get("terminated") or {}).get("finishedAt"))
                for container in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])]
    finished = [moment for moment in finished if moment is not None]
    if finished:
        return max(finished)
    return parse_time((pod.get("metadata") or {}).get("deletionTimestamp"))


def _only_replace_failed_pods(spec: dict) -> bool:
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: dict, spec: dict) -> bool:
    """isPodFailed: phase Failed, or (unless only failed pods are replaced) deleted before it succeeded."""
    if _phase(pod) == "Failed":
        return True
    if _only_replace_failed_pods(spec):
        return False
    return is_being_deleted(pod) and _phase(pod) != "Succeeded"


def is_pod_terminating(pod: dict) -> bool:
    return is_being_deleted(pod) and _phase(pod) not in ("Succeeded", "Failed")


# ---------------------------------------------------------------- indexes


def parse_indexes(text: str | None) -> set[int]:
    """"1,3-5,7" -> {1, 3, 4, 5, 7} (the completedIndexes format); malformed parts are skipped."""
    indexes: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.strip().partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            indexes.update(range(int(first), int(last or first) + 1))
    return indexes


def format_indexes(indexes: set[int]) -> str:
    """{1, 3, 4, 5, 7} -> "1,3-5,7": runs of three or more become intervals."""
    parts: list[str] = []
    ordered = sorted(indexes)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{ordered[start]}-{ordered[end]}")
        else:
            parts.extend(str(index) for index in ordered[start:end + 1])
        start = end + 1
    return ",".join(parts)


# ---------------------------------------------------------------- decisions


def pod_failure_backoff_remaining(pods: list[dict], *, now: float, base: float = DEFAULT_POD_FAILURE_BACKOFF,
                                  maximum: float = MAX_POD_FAILURE_BACKOFF, spec: dict | None = None) -> float:
    """Seconds before a replacement may be created: base * 2^(failures since the last success - 1), capped."""
    spec = spec or {}
    finished = []
    for pod in pods:
        if _phase(pod) == "Succeeded":
            finished.append((pod_finish_time(pod) or 0.0, False))
        elif is_pod_failed(pod, spec):
            finished.append((pod_finish_time(pod) or now, True))
    finished.sort(key=lambda entry: entry[0])
    failures, last_failure = 0, None
    for moment, failed in finished:
        if failed:
            failures, last_failure = failures + 1, moment
        else:
            failures, last_failure = 0, None
    if failures == 0 or last_failure is None:
        return 0.0
    delay = min(base * 2 ** (failures - 1), maximum)
    return max(0.0, last_failure + delay - now)


def past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
    """pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures."""
    spec = job.get("spec") or {}
    if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if _phase(pod) in ("Running", "Pending"):
            status = pod.get("status") or {}
            for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
                restarts += container.get("restartCount") or 0
    limit = spec.get("backoffLimit")
    limit = 6 if limit is None else limit
    return restarts > 0 if limit == 0 else restarts >= limit


def active_deadline_remaining(job: dict, *, now: float) -> float | None:
    """Seconds left of activeDeadlineSeconds (<= 0: past it); None when there is no running deadline."""
    spec, status = job.get("spec") or {}, job.get("status") or {}
    deadline = spec.get("activeDeadlineSeconds")
    started = parse_time(status.get("startTime"))
    if deadline is None or started is None or spec.get("suspend"):
        return None
    return started + deadline - now


def _new_condition(condition_type: str, status: str, reason: str, message: str, now: float) -> dict:
    stamp = format_time(now)
    return {"type": condition_type, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def _ensure_condition(conditions: list[dict], condition_type: str, status: str, reason: str, message: str,
                      now: float) -> bool:
    """ensureJobConditionStatus: set the condition's status (adding it only when True); True if it changed."""
    for condition in conditions:
        if condition.get("type") == condition_type:
            if condition.get("status") == status and condition.get("reason") == reason \
                    and condition.get("message") == message:
                return False
            transitioned = condition.get("status") != status
            condition.update(status=status, reason=reason, message=message, lastProbeTime=format_time(now))
            if transitioned:
                condition["lastTransitionTime"] = format_time(now)
            return True
    if status == "True":
        conditions.append(_new_condition(condition_type, status, reason, message, now))
        return True
    return False


def _wanted_active_non_indexed(spec: dict, *, succeeded: int, active: int) -> int:
    parallelism = spec.get("parallelism")
    parallelism = 1 if parallelism is None else parallelism
    completions = spec.get("completions")
    if completions is None:
        # A work queue: once any pod succeeded no new pod starts; the others finish on their own.
        return active if succeeded > 0 else parallelism
    return max(0, min(completions - succeeded, parallelism))


@dataclass
class _Snapshot:
    """The pods of one Job, sorted out once."""

    active: list[dict]
    terminating: list[dict]
    tracked: list[dict]  # still carrying the finalizer this controller has not already removed


def _snapshot(pods: list[dict], expected_removals: frozenset[str]) -> _Snapshot:
    return _Snapshot(
        active=[pod for pod in pods if is_pod_active(pod)],
        terminating=[pod for pod in pods if is_pod_terminating(pod)],
        tracked=[pod for pod in pods if has_tracking_finalizer(pod) and _uid(pod) not in expected_removals],
    )


def plan_job(job: dict, *, pods: list[dict], now: float, may_manage: bool = True,
             expected_finalizer_removals: frozenset[str] = frozenset(),
             pod_failure_backoff: float = DEFAULT_POD_FAILURE_BACKOFF) -> JobPlan:
    """syncJob's decisions for `job` and the pods it controls (active, finished and terminating).

    `may_manage` is false while the controller still waits to see its own creations and
    deletions (expectations): pods are then counted but none are created or deleted.
    `expected_finalizer_removals` are uids whose finalizer this controller already removed,
    though the cache may not show it yet: they are never counted twice.
    """
    spec = job.get("spec") or {}
    old_status = job.get("status") or {}
    plan = JobPlan()
    snapshot = _snapshot(pods, expected_finalizer_removals)
    indexed = spec.get("completionMode") == INDEXED
    completions = spec.get("completions")

    if is_job_finished(job):
        # Leftovers (the Job finished while a pod was being created): let them go uncounted.
        plan.remove_finalizers = list(snapshot.tracked)
        plan.status = copy.deepcopy(old_status)
        return plan

    # 1. Pods counted in an earlier sync whose finalizer is gone move into the counters.
    uncounted = old_status.get("uncountedTerminatedPods") or {}
    uncounted_succeeded = list(uncounted.get("succeeded") or [])
    uncounted_failed = list(uncounted.get("failed") or [])
    tracked_uids = {_uid(pod) for pod in snapshot.tracked}
    succeeded = (old_status.get("succeeded") or 0) + sum(1 for uid in uncounted_succeeded if uid not in tracked_uids)
    failed = (old_status.get("failed") or 0) + sum(1 for uid in uncounted_failed if uid not in tracked_uids)
    uncounted_succeeded = [uid for uid in uncounted_succeeded if uid in tracked_uids]
    uncounted_failed = [uid for uid in uncounted_failed if uid in tracked_uids]
    already_uncounted = set(uncounted_succeeded) | set(uncounted_failed)

    # 2. Has the Job failed? (An interim condition from an earlier sync stands.)
    conditions = [dict(condition) for condition in old_status.get("conditions") or []]
    finished: tuple[str, str, str] | None = None  # (interim type, reason, message)
    for interim in (FAILURE_TARGET, SUCCESS_CRITERIA_MET):
        condition = condition_of(job, interim)
        if condition is not None and condition.get("status") == "True":
            finished = (interim, condition.get("reason") or "", condition.get("message") or "")
            break
    newly_failed = [pod for pod in snapshot.tracked if _uid(pod) not in already_uncounted
                    and _phase(pod) != "Succeeded" and is_pod_failed(pod, spec)]
    backoff_limit = spec.get("backoffLimit")
    backoff_limit = 6 if backoff_limit is None else backoff_limit
    if finished is None:
        deadline_left = active_deadline_remaining(job, now=now)
        if failed + len(uncounted_failed) + len(newly_failed) > backoff_limit \
                or past_backoff_limit_on_failure(job, snapshot.active):
            finished = (FAILURE_TARGET, *BACKOFF_LIMIT_EXCEEDED)
        elif deadline_left is not None and deadline_left <= 0:
            finished = (FAILURE_TARGET, *DEADLINE_EXCEEDED)
        elif deadline_left is not None:
            plan.requeue_after = deadline_left
    failing = finished is not None and finished[0] == FAILURE_TARGET

    # 3. Finished pods still carrying the finalizer are listed as uncounted; the finalizer then goes.
    completed_indexes = parse_indexes(old_status.get("completedIndexes")) if indexed else set()
    for pod in snapshot.tracked:
        uid = _uid(pod)
        if _phase(pod) == "Succeeded":
            if uid not in already_uncounted:
                uncounted_succeeded.append(uid)
            index = completion_index(pod)
            if indexed and index is not None and index < (completions or 0):
                completed_indexes.add(index)
        elif is_pod_failed(pod, spec) or failing:
            if uid not in already_uncounted:
                uncounted_failed.append(uid)
        elif not (finished is not None or is_being_deleted(job)):
            continue  # still running: its finalizer stays
        plan.remove_finalizers.append(pod)
    if indexed:
        for pod in pods:  # succeeded pods counted in earlier syncs still name their index
            index = completion_index(pod)
            if _phase(pod) == "Succeeded" and index is not None and index < (completions or 0):
                completed_indexes.add(index)
    succeeded_so_far = len(completed_indexes) if indexed else succeeded + len(uncounted_succeeded)

    # 4. Create or delete pods.
    active_count = len(snapshot.active)
    terminating_count = len(snapshot.terminating)
    suspended = bool(spec.get("suspend"))
    if may_manage and not is_being_deleted(job):
        if finished is not None or suspended:
            plan.delete = list(snapshot.active)
        elif indexed:
            _manage_indexed(plan, spec, snapshot, completed_indexes=completed_indexes)
        else:
            wanted = _wanted_active_non_indexed(spec, succeeded=succeeded_so_far, active=active_count)
            if active_count > wanted:
                plan.delete = pods_to_delete(snapshot.active, snapshot.active, min(active_count - wanted, BURST_PODS))
            elif active_count < wanted:
                missing = wanted - active_count
                if _only_replace_failed_pods(spec):
                    missing -= terminating_count
                plan.create = [None] * max(0, min(missing, BURST_PODS))
        if plan.create:
            remaining = pod_failure_backoff_remaining(pods, now=now, base=pod_failure_backoff, spec=spec)
            if remaining > 0:
                plan.create = []
                plan.requeue_after = remaining if plan.requeue_after is None else min(plan.requeue_after, remaining)
    deleted_uids = {_uid(pod) for pod in plan.delete}
    active_after = active_count - len(plan.delete) + len(plan.create)
    ready_after = sum(1 for pod in snapshot.active if is_pod_ready(pod) and _uid(pod) not in deleted_uids)
    terminating_after = terminating_count + len(plan.delete)

    # 5. Success.
    if finished is None and not suspended:
        if indexed:
            complete = completions is not None and len(completed_indexes) >= completions
        elif completions is None:
            complete = succeeded_so_far > 0 and active_after == 0
        else:
            complete = succeeded_so_far >= completions and active_after == 0
        if complete:
            finished = (SUCCESS_CRITERIA_MET, *COMPLETIONS_REACHED)

    # 6. Conditions, start and completion times.
    start_time = old_status.get("startTime")
    completion_time = old_status.get("completionTime")
    if finished is not None:
        interim_type, reason, message = finished
        _ensure_condition(conditions, interim_type, "True", reason, message, now)
        if not uncounted_succeeded and not uncounted_failed and active_after == 0 and terminating_after == 0:
            final_type = COMPLETE if interim_type == SUCCESS_CRITERIA_MET else FAILED
            _ensure_condition(conditions, final_type, "True", reason, message, now)
            if final_type == COMPLETE:
                completion_time = format_time(now)
                plan.events.append((NORMAL, "Completed", "Job completed"))
            else:
                plan.events.append((WARNING, reason, message))
            plan.requeue_after = None
    elif may_manage and not is_being_deleted(job):
        if suspended:
            if _ensure_condition(conditions, SUSPENDED, "True", "JobSuspended", "Job suspended", now):
                plan.events.append((NORMAL, "Suspended", "Job suspended"))
        elif _ensure_condition(conditions, SUSPENDED, "False", "JobResumed", "Job resumed", now):
            plan.events.append((NORMAL, "Resumed", "Job resumed"))
            # The deadline counts the time a Job is continuously active: it starts again.
            start_time = format_time(now)
    if start_time is None and not suspended:
        start_time = format_time(now)

    status: dict[str, Any] = {}
    if conditions:
        status["conditions"] = conditions
    if start_time is not None:
        status["startTime"] = start_time
    if completion_time is not None:
        status["completionTime"] = completion_time
    if active_after:
        status["active"] = active_after
    final_succeeded = len(completed_indexes) if indexed else succeeded
    if final_succeeded:
        status["succeeded"] = final_succeeded
    if failed:
        status["failed"] = failed
    status["terminating"] = terminating_after
    if indexed and completed_indexes:
        status["completedIndexes"] = format_indexes(completed_indexes)
    uncounted_status: dict[str, list[str]] = {}
    if uncounted_succeeded:
        uncounted_status["succeeded"] = uncounted_succeeded
    if uncounted_failed:
        uncounted_status["failed"] = uncounted_failed
    status["uncountedTerminatedPods"] = uncounted_status
    status["ready"] = ready_after
    plan.status = status
    return plan


def _manage_indexed(plan: JobPlan, spec: dict, snapshot: _Snapshot, *, completed_indexes: set[int]) -> None:
    """manageJob for Indexed Jobs: one active pod per pending index, lowest indexes first."""
    completions = spec.get("completions") or 0
    parallelism = spec.get("parallelism")
    parallelism = 1 if parallelism is None else parallelism
    seen: set[int] = set()
    keep: list[dict] = []
    for pod in snapshot.active:
        index = completion_index(pod)
        # A duplicate, out of range or already completed index is surplus.
        if index is None or index >= completions or index in completed_indexes or index in seen:
            plan.delete.append(pod)
        else:
            seen.add(index)
            keep.append(pod)
    if len(keep) > parallelism:
        plan.delete += pods_to_delete(keep, keep, len(keep) - parallelism)
    if plan.delete:
        return  # replacements come in the next sync, once the cache has seen these go
    busy = set(seen)
    if _only_replace_failed_pods(spec):
        busy |= {index for pod in snapshot.terminating if (index := completion_index(pod)) is not None}
    pending = [index for index in range(completions) if index not in completed_indexes and index not in busy]
    plan.create = pending[:min(parallelism - len(keep), BURST_PODS)]


def pod_from_job(job: dict, *, index: int | None) -> dict:
    """The pod the Job creates (generateName `<job>-`, or `<job>-<index>-` for Indexed Jobs)."""
    template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
    template_meta = template.get("metadata") or {}
    job_meta = job["metadata"]
    name_prefix = f"{job_meta['name']}-" if index is None else f"{job_meta['name']}-{index}-"
    metadata: dict[str, Any] = {"generateName": name_prefix, "namespace": job_meta.get("namespace")}
    labels = dict(template_meta.get("labels") or {})
    annotations = dict(template_meta.get("annotations") or {})
    pod_spec = template.get("spec") or {}
    if index is not None:
        annotations[COMPLETION_INDEX_ANNOTATION] = str(index)
        labels[COMPLETION_INDEX_LABEL] = str(index)
        if not pod_spec.get("hostname"):
            pod_spec["hostname"] = f"{job_meta['name']}-{index}"
        field_ref = {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"}
        for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
            env = container.setdefault("env", [])
            if not any(variable.get("name") == COMPLETION_INDEX_ENV for variable in env):
                env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": dict(field_ref)}})
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    metadata["finalizers"] = [*(template_meta.get("finalizers") or []), JOB_TRACKING_FINALIZER]
    metadata["ownerReferences"] = [{
        "apiVersion": job.get("apiVersion") or "batch/v1",
        "kind": job.get("kind") or "Job",
        "name": job_meta["name"],
        "uid": job_meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def ttl_expiry(job: dict) -> float | None:
    """When a finished Job with `ttlSecondsAfterFinished` may be deleted; None when never."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if ttl is None or is_being_deleted(job):
        return None
    finished_at = finish_time(job)
    return None if finished_at is None else finished_at + ttl

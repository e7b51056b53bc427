"""Judging a rollout's progress: the Progressing condition and the progress deadline (progress.go).

After every step of a rollout, `sync_rollout_status` computes the Deployment's status
and its Progressing condition: NewReplicaSetAvailable once the rollout is complete,
ReplicaSetUpdated (with a fresh lastUpdateTime) whenever the counts improved, and
ProgressDeadlineExceeded once nothing improved for `progressDeadlineSeconds`. While a
rollout is stuck, it asks to be synced again when the deadline falls due, so the
timeout is noticed without any other event.

Used by `rolling.py` and `recreate.py`; `kubectl rollout status` reads the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.controllers.base import parse_time
from orchestrator.controllers.deployment.util import (
    NEW_RS_AVAILABLE_REASON,
    PROGRESSING,
    REPLICA_FAILURE,
    REPLICA_SET_UPDATED_REASON,
    TIMED_OUT_REASON,
    get_condition,
    has_progress_deadline,
    new_condition,
    progress_deadline_seconds,
    remove_condition,
    replicas_of,
    set_condition,
)

if TYPE_CHECKING:
    from orchestrator.controllers.deployment.sync import Rollout


def _count(status: dict, field_name: str) -> int:
    return status.get(field_name) or 0


def deployment_complete(deployment: dict, status: dict) -> bool:
    """Every replica is updated and available, and the latest spec was observed."""
    replicas = replicas_of(deployment)
    return (_count(status, "updatedReplicas") == replicas
            and _count(status, "replicas") == replicas
            and _count(status, "availableReplicas") == replicas
            and _count(status, "observedGeneration") >= ((deployment.get("metadata") or {}).get("generation") or 0))


def deployment_progressing(old_status: dict, new_status: dict) -> bool:
    """Some count moved the right way: more updated, fewer old, more ready or available."""
    old_old_replicas = _count(old_status, "replicas") - _count(old_status, "updatedReplicas")
    new_old_replicas = _count(new_status, "replicas") - _count(new_status, "updatedReplicas")
    return (_count(new_status, "updatedReplicas") > _count(old_status, "updatedReplicas")
            or new_old_replicas < old_old_replicas
            or _count(new_status, "readyReplicas") > _count(old_status, "readyReplicas")
            or _count(new_status, "availableReplicas") > _count(old_status, "availableReplicas"))


def deployment_timed_out(deployment: dict, status: dict, *, now: float) -> bool:
    """No progress reported for longer than progressDeadlineSeconds."""
    deadline = progress_deadline_seconds(deployment)
    if deadline is None:
        return False
    condition = get_condition(status, PROGRESSING)
    if condition is None:
        return False  # no base to estimate progress from
    if condition.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False  # a finished rollout cannot time out
    if condition.get("reason") == TIMED_OUT_REASON:
        return True
    last_update = parse_time(condition.get("lastUpdateTime"))
    return last_update is not None and last_update + deadline < now


def seconds_until_progress_check(deployment: dict, status: dict, new_status: dict, *, now: float) -> float | None:
    """requeueStuckDeployment: when to look again for a timeout; None when there is nothing to wait for."""
    deadline = progress_deadline_seconds(deployment)
    condition = get_condition(status, PROGRESSING)
    if deadline is None or condition is None:
        return None
    if deployment_complete(deployment, new_status) or condition.get("reason") == TIMED_OUT_REASON:
        return None
    last_update = parse_time(condition.get("lastUpdateTime"))
    if last_update is None:
        return None
    after = last_update + deadline - now
    # Timestamps have whole seconds: one more second makes sure the deadline has passed by then.
    return 0.0 if after < 1 else after + 1


def sync_rollout_status(rollout: Rollout, all_replica_sets: list[dict | None], new_rs: dict | None) -> None:
    """syncRolloutStatus: the status after a rollout step, with its Progressing condition."""
    deployment = rollout.deployment
    new_status = rollout.calculate_status(all_replica_sets, new_rs)
    if not has_progress_deadline(deployment):
        remove_condition(new_status, PROGRESSING)
    current = get_condition(rollout.status, PROGRESSING)
    complete_before = (_count(new_status, "replicas") == _count(new_status, "updatedReplicas")
                       and current is not None and current.get("reason") == NEW_RS_AVAILABLE_REASON)
    subject = (f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs is not None
               else f'Deployment "{deployment["metadata"]["name"]}"')
    if has_progress_deadline(deployment) and not complete_before:
        if deployment_complete(deployment, new_status):
            set_condition(new_status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE_REASON,
                                                    f"{subject} has successfully progressed.", now=rollout.now))
        elif deployment_progressing(rollout.original_status, new_status):
            condition = new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED_REASON, f"{subject} is progressing.",
                                      now=rollout.now)
            # Progress refreshes lastUpdateTime even with the same reason, which set_condition would not.
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(new_status, PROGRESSING)
            set_condition(new_status, condition)
        elif deployment_timed_out(deployment, new_status, now=rollout.now):
            set_condition(new_status, new_condition(PROGRESSING, "False", TIMED_OUT_REASON,
                                                    f"{subject} has timed out progressing.", now=rollout.now))
    failure = _replica_failure(all_replica_sets, new_rs)
    if failure is not None:
        set_condition(new_status, failure)
    else:
        remove_condition(new_status, REPLICA_FAILURE)
    if new_status == rollout.status:
        rollout.plan.requeue_after = seconds_until_progress_check(deployment, rollout.status, new_status,
                                                                  now=rollout.now)
    rollout.status = new_status


def _replica_failure(all_replica_sets: list[dict | None], new_rs: dict | None) -> dict | None:
    """getReplicaFailures: a ReplicaFailure of the new ReplicaSet (else of an old one) surfaces on the Deployment."""
    candidates = [new_rs] if new_rs is not None else []
    candidates += [rs for rs in all_replica_sets if rs is not None and rs is not new_rs]
    for rs in candidates:
        condition = get_condition(rs.get("status") or {}, REPLICA_FAILURE)
        if condition is not None:
            return {"type": REPLICA_FAILURE, "status": condition.get("status"),
                    "lastUpdateTime": condition.get("lastTransitionTime"),
                    "lastTransitionTime": condition.get("lastTransitionTime"),
                    "reason": condition.get("reason"), "message": condition.get("message")}
    return None

"""The RollingUpdate strategy (rolling.go): grow the new ReplicaSet, shrink the old ones, within bounds.

Each sync takes one step: scale the new ReplicaSet up as far as `replicas + maxSurge`
allows; if nothing grew, scale old ReplicaSets down as far as `replicas - maxUnavailable`
available pods allow (unhealthy old pods first, since removing them costs no
availability); once complete, clean up old revisions. The next step happens when
the ReplicaSets' statuses change.

Used by `sync.plan_deployment`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.controllers.deployment.progress import deployment_complete, sync_rollout_status
from orchestrator.controllers.deployment.util import (
    active,
    available_replica_count,
    by_creation,
    max_unavailable,
    new_rs_new_replicas,
    replica_count,
    replicas_of,
)

if TYPE_CHECKING:
    from orchestrator.controllers.deployment.sync import Rollout


def rollout_rolling(rollout: Rollout) -> None:
    new_rs, old_replica_sets = rollout.all_replica_sets_and_sync_revision(create=True)
    all_replica_sets = [*old_replica_sets, new_rs]
    if reconcile_new_replica_set(rollout, all_replica_sets, new_rs):
        sync_rollout_status(rollout, all_replica_sets, new_rs)
        return
    if reconcile_old_replica_sets(rollout, all_replica_sets, active(old_replica_sets), new_rs):
        sync_rollout_status(rollout, all_replica_sets, new_rs)
        return
    if deployment_complete(rollout.deployment, rollout.status):
        rollout.cleanup(old_replica_sets)
    sync_rollout_status(rollout, all_replica_sets, new_rs)


def reconcile_new_replica_set(rollout: Rollout, all_replica_sets: list[dict], new_rs: dict) -> bool:
    """Scale the new ReplicaSet towards the Deployment's replicas, never beyond replicas + maxSurge."""
    replicas = replicas_of(rollout.deployment)
    if replicas_of(new_rs) == replicas:
        return False
    if replicas_of(new_rs) > replicas:
        scaled, _ = rollout.scale_and_record_event(new_rs, replicas)
        return scaled
    scaled, _ = rollout.scale_and_record_event(new_rs, new_rs_new_replicas(rollout.deployment, all_replica_sets, new_rs))
    return scaled


def reconcile_old_replica_sets(rollout: Rollout, all_replica_sets: list[dict], old_replica_sets: list[dict],
                               new_rs: dict) -> bool:
    """Scale old ReplicaSets down, keeping at least replicas - maxUnavailable pods available.

    What may go: every pod above that minimum, except the new ReplicaSet's pods that are
    not available yet (they may never become so and must not count as capacity).
    """
    if replica_count(old_replica_sets) == 0:
        return False
    deployment = rollout.deployment
    min_available = replicas_of(deployment) - max_unavailable(deployment)
    new_rs_unavailable = replicas_of(new_rs) - ((new_rs.get("status") or {}).get("availableReplicas") or 0)
    max_scaled_down = replica_count(all_replica_sets) - min_available - new_rs_unavailable
    if max_scaled_down <= 0:
        return False
    old_replica_sets, cleaned_up = cleanup_unhealthy_replicas(rollout, old_replica_sets, max_scaled_down)
    scaled_down = scale_down_old_replica_sets(rollout, [*old_replica_sets, new_rs], old_replica_sets)
    return cleaned_up + scaled_down > 0


def cleanup_unhealthy_replicas(rollout: Rollout, old_replica_sets: list[dict],
                               max_cleanup: int) -> tuple[list[dict], int]:
    """Scale old ReplicaSets down by their unavailable pods first: losing those costs no availability."""
    cleaned = 0
    updated_replica_sets = []
    for rs in by_creation(old_replica_sets):
        available = (rs.get("status") or {}).get("availableReplicas") or 0
        if cleaned >= max_cleanup or replicas_of(rs) == 0 or replicas_of(rs) == available:
            updated_replica_sets.append(rs)
            continue
        count = min(max_cleanup - cleaned, replicas_of(rs) - available)
        _, rs = rollout.scale_and_record_event(rs, replicas_of(rs) - count)
        cleaned += count
        updated_replica_sets.append(rs)
    return updated_replica_sets, cleaned


def scale_down_old_replica_sets(rollout: Rollout, all_replica_sets: list[dict], old_replica_sets: list[dict]) -> int:
    """Scale the oldest ReplicaSets down by as many available pods as exceed the minimum."""
    deployment = rollout.deployment
    min_available = replicas_of(deployment) - max_unavailable(deployment)
    available = available_replica_count(all_replica_sets)
    if available <= min_available:
        return 0
    to_scale_down = available - min_available
    scaled_down = 0
    for rs in by_creation(old_replica_sets):
        if scaled_down >= to_scale_down:
            break
        if replicas_of(rs) == 0:
            continue
        count = min(replicas_of(rs), to_scale_down - scaled_down)
        rollout.scale_and_record_event(rs, replicas_of(rs) - count)
        scaled_down += count
    return scaled_down

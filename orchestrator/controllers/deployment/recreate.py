"""The Recreate strategy (recreate.go): every old pod is gone before any new one is created.

Each sync: scale every old ReplicaSet to zero; while old pods still exist (terminating
included, except finished ones), wait; then create the new ReplicaSet (only now, so
nothing scales up early) at full size, and clean up old revisions once complete.

Used by `sync.plan_deployment`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.controllers.deployment.progress import deployment_complete, sync_rollout_status
from orchestrator.controllers.deployment.util import active, actual_replica_count, replicas_of

if TYPE_CHECKING:
    from orchestrator.controllers.deployment.sync import Rollout


def rollout_recreate(rollout: Rollout, pods_by_replica_set: dict[str, list[dict]]) -> None:
    new_rs, old_replica_sets = rollout.all_replica_sets_and_sync_revision(create=False)
    all_replica_sets = [*old_replica_sets, new_rs]
    if scale_down_old_replica_sets(rollout, active(old_replica_sets)):
        sync_rollout_status(rollout, all_replica_sets, new_rs)
        return
    if old_pods_running(new_rs, old_replica_sets, pods_by_replica_set):
        sync_rollout_status(rollout, all_replica_sets, new_rs)
        return
    if new_rs is None:
        new_rs, old_replica_sets = rollout.all_replica_sets_and_sync_revision(create=True)
        all_replica_sets = [*old_replica_sets, new_rs]
    rollout.scale_and_record_event(new_rs, replicas_of(rollout.deployment))
    if deployment_complete(rollout.deployment, rollout.status):
        rollout.cleanup(old_replica_sets)
    sync_rollout_status(rollout, all_replica_sets, new_rs)


def scale_down_old_replica_sets(rollout: Rollout, old_replica_sets: list[dict]) -> bool:
    scaled = False
    for rs in old_replica_sets:
        if replicas_of(rs) == 0:
            continue
        changed, _ = rollout.scale_and_record_event(rs, 0)
        scaled = scaled or changed
    return scaled


def old_pods_running(new_rs: dict | None, old_replica_sets: list[dict],
                     pods_by_replica_set: dict[str, list[dict]]) -> bool:
    """Old ReplicaSets still report pods, or pods of theirs that have not finished still exist."""
    if actual_replica_count(old_replica_sets) > 0:
        return True
    new_uid = None if new_rs is None else new_rs["metadata"].get("uid")
    for rs_uid, pods in pods_by_replica_set.items():
        if new_uid is not None and rs_uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False

"""One sync of a Deployment as a pure computation: what to write, decided in memory.

`plan_deployment(deployment, replica_sets, pods_by_replica_set=..., now=...)` follows
syncDeployment of pkg/controller/deployment step by step, but instead of calling the
apiserver it records each write in a `DeploymentPlan` and goes on with the written
value, as the real controller goes on with the object the server returned:

- a Deployment being deleted only gets its status refreshed;
- a paused Deployment, or one whose replicas changed (a scaling event, detected by the
  desired-replicas annotation of its ReplicaSets), is scaled proportionally (`sync`);
- otherwise the strategy rolls it out (`rolling.py`, `recreate.py`) and its progress is
  judged (`progress.py`).

`Rollout` holds the in-memory state of that one sync and the operations shared by every
path (sync.go): finding or creating the new ReplicaSet, scaling one, proportional
scaling, cleaning up old revisions, computing the status.

Used by `controller.py`, which applies the plan; unit-tested table-driven without I/O.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from orchestrator.controllers.base import annotations_of, is_being_deleted, new_controller_ref
from orchestrator.controllers.deployment.recreate import rollout_recreate
from orchestrator.controllers.deployment.rollback import next_revision, set_new_replica_set_annotations
from orchestrator.controllers.deployment.rolling import rollout_rolling
from orchestrator.controllers.deployment.util import (
    AVAILABLE,
    DESIRED_REPLICAS_ANNOTATION,
    FOUND_NEW_RS_REASON,
    MAX_REPLICAS_ANNOTATION,
    MINIMUM_REPLICAS_AVAILABLE,
    MINIMUM_REPLICAS_UNAVAILABLE,
    NEW_REPLICA_SET_REASON,
    PAUSED_DEPLOY_REASON,
    POD_TEMPLATE_HASH_LABEL,
    PROGRESSING,
    RECREATE,
    RESUMED_DEPLOY_REASON,
    REVISION_ANNOTATION,
    TIMED_OUT_REASON,
    active,
    actual_replica_count,
    annotated_int,
    available_replica_count,
    by_revision,
    by_size_newer_first,
    by_size_older_first,
    compute_hash,
    creation_order_key,
    find_new_replica_set,
    find_old_replica_sets,
    get_condition,
    has_progress_deadline,
    is_paused,
    is_rolling_update,
    is_saturated,
    max_surge,
    max_unavailable,
    min_ready_seconds,
    new_condition,
    new_rs_new_replicas,
    ready_replica_count,
    replica_count,
    replicas_annotations_need_update,
    replicas_of,
    revision_history_limit,
    set_condition,
    set_replicas_annotations,
    spec_of,
    strategy_type,
)

SCALING_REPLICA_SET = "ScalingReplicaSet"


@dataclass
class ReplicaSetWrite:
    """A ReplicaSet to create or update (the whole object), and the event to record on success."""

    replica_set: dict
    events: list[tuple[str, str]] = field(default_factory=list)  # (reason, message) on the Deployment


@dataclass
class DeploymentPlan:
    create: ReplicaSetWrite | None = None
    updates: list[ReplicaSetWrite] = field(default_factory=list)
    deletions: list[dict] = field(default_factory=list)
    revision: str | None = None  # the Deployment's revision annotation, when it must change
    status: dict | None = None  # the Deployment's new status, when it changed
    requeue_after: float | None = None  # sync again after this many seconds (progress deadline)

    @property
    def empty(self) -> bool:
        return (self.create is None and not self.updates and not self.deletions and self.revision is None
                and self.status is None)


class Rollout:
    """The in-memory state of one sync of one Deployment, and the plan it accumulates."""

    def __init__(self, deployment: dict, replica_sets: list[dict], *, now: float):
        self.deployment = deployment
        self.name = deployment["metadata"]["name"]
        self.now = now
        self.original_status = deployment.get("status") or {}
        self.status = copy.deepcopy(self.original_status)  # d.Status, as this sync changes it
        self.original_revision = annotations_of(deployment).get(REVISION_ANNOTATION)
        self.revision = self.original_revision
        self._replica_sets = {rs["metadata"]["name"]: copy.deepcopy(rs) for rs in replica_sets}
        self.plan = DeploymentPlan()

    # --- the working set of ReplicaSets ---------------------------------------------

    @property
    def replica_sets(self) -> list[dict]:
        return list(self._replica_sets.values())

    def _write(self, rs: dict, event: tuple[str, str] | None) -> None:
        name = rs["metadata"]["name"]
        self._replica_sets[name] = rs
        events = [event] if event else []
        if self.plan.create is not None and self.plan.create.replica_set["metadata"]["name"] == name:
            self.plan.create.replica_set = rs
            self.plan.create.events.extend(events)
            return
        for write in self.plan.updates:
            if write.replica_set["metadata"]["name"] == name:
                write.replica_set = rs
                write.events.extend(events)
                return
        self.plan.updates.append(ReplicaSetWrite(rs, events))

    def set_revision(self, revision: str | None) -> None:
        if revision is not None:
            self.revision = revision

    # --- getNewReplicaSet -------------------------------------------------------------

    def all_replica_sets_and_sync_revision(self, *, create: bool) -> tuple[dict | None, list[dict]]:
        """(the new ReplicaSet or None, all old ReplicaSets), the revisions brought up to date."""
        _, all_old = find_old_replica_sets(self.deployment, self.replica_sets)
        return self._new_replica_set(all_old, create=create), all_old

    def _new_replica_set(self, old_replica_sets: list[dict], *, create: bool) -> dict | None:
        deployment = self.deployment
        existing = find_new_replica_set(deployment, self.replica_sets)
        new_revision = next_revision(old_replica_sets)
        if existing is not None:
            updated = copy.deepcopy(existing)
            annotations_changed = set_new_replica_set_annotations(deployment, updated, new_revision=new_revision,
                                                                  exists=True)
            if annotations_changed or (spec_of(updated).get("minReadySeconds") or 0) != min_ready_seconds(deployment):
                updated["spec"]["minReadySeconds"] = min_ready_seconds(deployment)
                self._write(updated, None)
                return updated
            self.set_revision(annotations_of(updated).get(REVISION_ANNOTATION))
            if has_progress_deadline(deployment) and get_condition(self.status, PROGRESSING) is None:
                set_condition(self.status, new_condition(
                    PROGRESSING, "True", FOUND_NEW_RS_REASON, f'Found new replica set "{updated["metadata"]["name"]}"',
                    now=self.now))
            return existing
        if not create:
            return None
        new_rs = self._new_replica_set_object()
        new_rs["spec"]["replicas"] = new_rs_new_replicas(deployment, [*old_replica_sets, new_rs], new_rs)
        set_new_replica_set_annotations(deployment, new_rs, new_revision=new_revision, exists=False)
        replicas = new_rs["spec"]["replicas"]
        events = []
        if replicas > 0:
            events.append((SCALING_REPLICA_SET, f"Scaled up replica set {new_rs['metadata']['name']} to {replicas} from 0"))
        self._replica_sets[new_rs["metadata"]["name"]] = new_rs
        self.plan.create = ReplicaSetWrite(new_rs, events)
        self.set_revision(str(new_revision))
        if has_progress_deadline(deployment):
            set_condition(self.status, new_condition(
                PROGRESSING, "True", NEW_REPLICA_SET_REASON, f'Created new replica set "{new_rs["metadata"]["name"]}"',
                now=self.now))
        return new_rs

    def _new_replica_set_object(self) -> dict:
        deployment = self.deployment
        spec = spec_of(deployment)
        template = copy.deepcopy(spec.get("template") or {})
        pod_template_hash = compute_hash(template, self.status.get("collisionCount"))
        template.setdefault("metadata", {})
        template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}),
                                          POD_TEMPLATE_HASH_LABEL: pod_template_hash}
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH_LABEL: pod_template_hash}
        return {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{self.name}-{pod_template_hash}",
                "namespace": deployment["metadata"].get("namespace"),
                "ownerReferences": [new_controller_ref(deployment)],
                "labels": dict(template["metadata"]["labels"]),
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": min_ready_seconds(deployment),
                "selector": selector,
                "template": template,
            },
        }

    # --- scaling ReplicaSets ----------------------------------------------------------

    def scale_replica_set(self, rs: dict, new_scale: int, operation: str) -> tuple[bool, dict]:
        """scaleReplicaSet: set the size and the replicas annotations; an event if the size changed."""
        deployment = self.deployment
        desired = replicas_of(deployment)
        maximum = desired + max_surge(deployment)
        size_changes = replicas_of(rs) != new_scale
        if not size_changes and not replicas_annotations_need_update(rs, desired=desired, maximum=maximum):
            return False, rs
        old_scale = replicas_of(rs)
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = new_scale
        set_replicas_annotations(updated, desired=desired, maximum=maximum)
        event = None
        if size_changes:
            event = (SCALING_REPLICA_SET,
                     f"Scaled {operation} replica set {rs['metadata']['name']} to {new_scale} from {old_scale}")
        self._write(updated, event)
        return size_changes, updated

    def scale_and_record_event(self, rs: dict, new_scale: int) -> tuple[bool, dict]:
        """scaleReplicaSetAndRecordEvent: nothing to do when the size is already right."""
        if replicas_of(rs) == new_scale:
            return False, rs
        return self.scale_replica_set(rs, new_scale, "up" if replicas_of(rs) < new_scale else "down")

    def scale(self, new_rs: dict | None, old_replica_sets: list[dict]) -> None:
        """sync.go scale: a scaling event spread over the ReplicaSets in proportion to their sizes."""
        deployment = self.deployment
        replicas = replicas_of(deployment)
        active_or_latest = _find_active_or_latest(new_rs, old_replica_sets)
        if active_or_latest is not None:
            if replicas_of(active_or_latest) != replicas:
                self.scale_and_record_event(active_or_latest, replicas)
            return
        if is_saturated(deployment, new_rs):
            # The new ReplicaSet already runs everything: the old ones go.
            for old in active(old_replica_sets):
                self.scale_and_record_event(old, 0)
            return
        if not is_rolling_update(deployment):
            return
        replica_sets = active([*old_replica_sets, new_rs])
        allowed_size = replicas + max_surge(deployment) if replicas > 0 else 0
        to_add = allowed_size - replica_count(replica_sets)
        if to_add > 0:
            replica_sets, operation = by_size_newer_first(replica_sets), "up"
        elif to_add < 0:
            replica_sets, operation = by_size_older_first(replica_sets), "down"
        else:
            operation = ""
        added = 0
        new_sizes: dict[str, int] = {}
        for rs in replica_sets:
            if to_add != 0:
                proportion = _proportion(rs, deployment, to_add=to_add, added=added)
                new_sizes[rs["metadata"]["name"]] = replicas_of(rs) + proportion
                added += proportion
            else:
                new_sizes[rs["metadata"]["name"]] = replicas_of(rs)
        for index, rs in enumerate(replica_sets):
            name = rs["metadata"]["name"]
            if index == 0 and to_add != 0:
                # Leftovers of the rounding go to the largest ReplicaSet.
                new_sizes[name] = max(0, new_sizes[name] + to_add - added)
            self.scale_replica_set(rs, new_sizes[name], operation)

    # --- cleanup and status -----------------------------------------------------------

    def cleanup(self, old_replica_sets: list[dict]) -> None:
        """cleanupDeployment: delete the oldest idle ReplicaSets beyond revisionHistoryLimit."""
        limit = revision_history_limit(self.deployment)
        if limit is None:
            return
        cleanable = [rs for rs in old_replica_sets if rs is not None and not is_being_deleted(rs)]
        surplus = len(cleanable) - limit
        if surplus <= 0:
            return
        for rs in by_revision(cleanable)[:surplus]:
            status = rs.get("status") or {}
            # Only a ReplicaSet that is scaled to zero and has seen it (observedGeneration) may go.
            if (status.get("replicas") or 0) != 0 or replicas_of(rs) != 0:
                continue
            if ((rs.get("metadata") or {}).get("generation") or 0) > (status.get("observedGeneration") or 0):
                continue
            self.plan.deletions.append(rs)

    def calculate_status(self, all_replica_sets: list[dict], new_rs: dict | None) -> dict:
        """calculateStatus: counts from the ReplicaSets' statuses, the Available condition."""
        deployment = self.deployment
        available = available_replica_count(all_replica_sets)
        unavailable = max(0, replica_count(all_replica_sets) - available)
        status = {
            "observedGeneration": deployment["metadata"].get("generation") or 0,
            "replicas": actual_replica_count(all_replica_sets),
            "updatedReplicas": actual_replica_count([new_rs]),
            "readyReplicas": ready_replica_count(all_replica_sets),
            "availableReplicas": available,
            "unavailableReplicas": unavailable,
            "conditions": copy.deepcopy(self.status.get("conditions") or []),
            "collisionCount": self.status.get("collisionCount"),
        }
        if available >= replicas_of(deployment) - max_unavailable(deployment):
            condition = new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE,
                                      "Deployment has minimum availability.", now=self.now)
        else:
            condition = new_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE,
                                      "Deployment does not have minimum availability.", now=self.now)
        set_condition(status, condition)
        return wire_status(status)

    def sync_deployment_status(self, all_replica_sets: list[dict], new_rs: dict | None) -> None:
        self.status = self.calculate_status(all_replica_sets, new_rs)

    # --- the paths of syncDeployment ----------------------------------------------------

    def check_paused_conditions(self) -> None:
        """A paused Deployment says so in its Progressing condition (unless it already timed out)."""
        if not has_progress_deadline(self.deployment):
            return
        condition = get_condition(self.status, PROGRESSING)
        if condition is not None and condition.get("reason") == TIMED_OUT_REASON:
            return
        paused_noted = condition is not None and condition.get("reason") == PAUSED_DEPLOY_REASON
        if is_paused(self.deployment) and not paused_noted:
            set_condition(self.status, new_condition(PROGRESSING, "Unknown", PAUSED_DEPLOY_REASON,
                                                     "Deployment is paused", now=self.now))
        elif not is_paused(self.deployment) and paused_noted:
            set_condition(self.status, new_condition(PROGRESSING, "Unknown", RESUMED_DEPLOY_REASON,
                                                     "Deployment is resumed", now=self.now))

    def is_scaling_event(self) -> bool:
        """Some active ReplicaSet was sized for another number of replicas than the Deployment's."""
        new_rs, old_replica_sets = self.all_replica_sets_and_sync_revision(create=False)
        for rs in active([*old_replica_sets, new_rs]):
            desired = annotated_int(rs, DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired != replicas_of(self.deployment):
                return True
        return False

    def sync(self) -> None:
        """Scaling event or paused: scale proportionally; a paused Deployment also cleans up."""
        new_rs, old_replica_sets = self.all_replica_sets_and_sync_revision(create=False)
        self.scale(new_rs, old_replica_sets)
        new_rs, old_replica_sets = self._current(new_rs), [self._current(rs) for rs in old_replica_sets]
        if is_paused(self.deployment):
            self.cleanup(old_replica_sets)
        self.sync_deployment_status([*old_replica_sets, new_rs], new_rs)

    def sync_status_only(self) -> None:
        new_rs, old_replica_sets = self.all_replica_sets_and_sync_revision(create=False)
        self.sync_deployment_status([*old_replica_sets, new_rs], new_rs)

    def _current(self, rs: dict | None) -> dict | None:
        return None if rs is None else self._replica_sets.get(rs["metadata"]["name"], rs)

    def finish(self) -> DeploymentPlan:
        if self.status != self.original_status:
            self.plan.status = self.status
        if self.revision != self.original_revision:
            self.plan.revision = self.revision
        return self.plan


def wire_status(status: dict) -> dict:
    """DeploymentStatus as Kubernetes writes it: every zero count and empty list left out (omitempty)."""
    return {key: value for key, value in status.items() if value not in (None, 0, [])}


def _find_active_or_latest(new_rs: dict | None, old_replica_sets: list[dict]) -> dict | None:
    """FindActiveOrLatest: the one active ReplicaSet, or the newest when none is active; None if several are."""
    if new_rs is None and not old_replica_sets:
        return None
    newest_first = sorted(old_replica_sets, key=creation_order_key, reverse=True)
    active_ones = active([*newest_first, new_rs])
    if len(active_ones) == 1:
        return active_ones[0]
    if not active_ones:
        return new_rs if new_rs is not None else newest_first[0]
    return None


def _replica_set_fraction(rs: dict, deployment: dict) -> int:
    """getReplicaSetFraction: this ReplicaSet's share of a new total, minus its current size."""
    replicas = replicas_of(deployment)
    if replicas == 0:
        return -replicas_of(rs)
    deployment_max = replicas + max_surge(deployment)
    annotated = annotated_int(rs, MAX_REPLICAS_ANNOTATION)
    if not annotated:
        # No (or a zero) annotation: fall back to the Deployment's current size.
        annotated = (deployment.get("status") or {}).get("replicas") or 0
    if not annotated:
        return 0
    new_size = replicas_of(rs) * deployment_max / annotated
    return _round_half_away_from_zero(new_size) - replicas_of(rs)


def _round_half_away_from_zero(value: float) -> int:
    # Go's math.Round, unlike Python's round(), which rounds halves to even.
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def _proportion(rs: dict, deployment: dict, *, to_add: int, added: int) -> int:
    """GetProportion: bounded so the whole never moves by more than `to_add`."""
    if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def plan_deployment(deployment: dict, replica_sets: list[dict], *, pods_by_replica_set: dict[str, list[dict]],
                    now: float) -> DeploymentPlan:
    """syncDeployment's decisions for a Deployment and the ReplicaSets it controls.

    `pods_by_replica_set` maps ReplicaSet uid to its pods (only the Recreate strategy
    looks at pods: it waits for every old pod to be gone before creating new ones).
    """
    rollout = Rollout(deployment, replica_sets, now=now)
    if is_being_deleted(deployment):
        rollout.sync_status_only()
        return rollout.finish()
    rollout.check_paused_conditions()
    if is_paused(deployment) or rollout.is_scaling_event():
        rollout.sync()
    elif strategy_type(deployment) == RECREATE:
        rollout_recreate(rollout, pods_by_replica_set)
    else:
        rollout_rolling(rollout)
    return rollout.finish()

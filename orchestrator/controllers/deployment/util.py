"""Pure helpers of the Deployment controller (pkg/controller/deployment/util/deployment_util.go).

Defaults, the rolling-update fenceposts (maxSurge rounds up, maxUnavailable rounds
down), the pod-template hash, finding the new and old ReplicaSets of a Deployment,
their replica counts, their annotations, their orderings, and Deployment conditions.
Everything works on plain dicts and never mutates its arguments unless it says so.

Used by the other modules of this package.
"""

from __future__ import annotations

import copy
import json
import math
import re

from orchestrator.controllers.base import annotations_of, format_time, parse_time

# --- names Kubernetes uses ----------------------------------------------------------

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
DEPRECATED_ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
# Annotations of a Deployment that are not copied to its ReplicaSets.
ANNOTATIONS_TO_SKIP = frozenset({
    LAST_APPLIED_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    DEPRECATED_ROLLBACK_TO_ANNOTATION,
})
MAX_REVISION_HISTORY_LENGTH = 2000  # characters of the revision-history annotation

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"

AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
# Condition reasons (deploymentutil).
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
NEW_REPLICA_SET_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_DEPLOY_REASON = "DeploymentPaused"
RESUMED_DEPLOY_REASON = "DeploymentResumed"
REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"

# apps/v1 defaults (SetDefaults_Deployment), applied here too in case a writer skipped them.
DEFAULT_MAX_SURGE = "25%"
DEFAULT_MAX_UNAVAILABLE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
MAX_INT32 = 2**31 - 1


# --- the Deployment's settings, defaulted ---------------------------------------------


def spec_of(obj: dict) -> dict:
    return obj.get("spec") or {}


def replicas_of(obj: dict) -> int:
    """spec.replicas of a Deployment or ReplicaSet (defaults to 1)."""
    replicas = spec_of(obj).get("replicas")
    return 1 if replicas is None else replicas


def strategy_type(deployment: dict) -> str:
    return (spec_of(deployment).get("strategy") or {}).get("type") or ROLLING_UPDATE


def is_rolling_update(deployment: dict) -> bool:
    return strategy_type(deployment) == ROLLING_UPDATE


def rolling_update_params(deployment: dict) -> tuple[int | str, int | str]:
    rolling = (spec_of(deployment).get("strategy") or {}).get("rollingUpdate") or {}
    max_surge = rolling.get("maxSurge")
    max_unavailable = rolling.get("maxUnavailable")
    return (DEFAULT_MAX_SURGE if max_surge is None else max_surge,
            DEFAULT_MAX_UNAVAILABLE if max_unavailable is None else max_unavailable)


def min_ready_seconds(obj: dict) -> int:
    return spec_of(obj).get("minReadySeconds") or 0


def revision_history_limit(deployment: dict) -> int | None:
    limit = spec_of(deployment).get("revisionHistoryLimit")
    return DEFAULT_REVISION_HISTORY_LIMIT if limit is None else limit


def progress_deadline_seconds(deployment: dict) -> int | None:
    """None when the Deployment has no progress deadline (HasProgressDeadline is false)."""
    deadline = spec_of(deployment).get("progressDeadlineSeconds")
    if deadline is None:
        deadline = DEFAULT_PROGRESS_DEADLINE_SECONDS
    return None if deadline == MAX_INT32 else deadline


def has_progress_deadline(deployment: dict) -> bool:
    return progress_deadline_seconds(deployment) is not None


def is_paused(deployment: dict) -> bool:
    return bool(spec_of(deployment).get("paused"))


# --- fenceposts ----------------------------------------------------------------------

_PERCENT = re.compile(r"^([0-9]+)%$")


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: `3` is 3, `"25%"` of 10 is 3 (up) or 2 (down)."""
    if isinstance(value, int):
        return value
    match = _PERCENT.match(value)
    if match is None:
        if value.isdigit():  # a bare number in a string, as intstr parses it
            return int(value)
        raise ValueError(f"invalid value for IntOrString: invalid value {value!r}")
    scaled = int(match.group(1)) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def resolve_fenceposts(max_surge: int | str, max_unavailable: int | str, desired: int) -> tuple[int, int]:
    """The absolute surge and unavailability allowed; never both zero (unavailable becomes 1)."""
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        # maxUnavailable can round down to zero; a rollout must still be able to move.
        unavailable = 1
    return surge, unavailable


def max_surge(deployment: dict) -> int:
    if not is_rolling_update(deployment):
        return 0
    surge, _ = resolve_fenceposts(*rolling_update_params(deployment), replicas_of(deployment))
    return surge


def max_unavailable(deployment: dict) -> int:
    replicas = replicas_of(deployment)
    if not is_rolling_update(deployment) or replicas == 0:
        return 0
    _, unavailable = resolve_fenceposts(*rolling_update_params(deployment), replicas)
    return min(unavailable, replicas)


# --- the pod-template hash -------------------------------------------------------------

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # no vowels (no words), no 0/1/3 (look like o/l/e)
_FNV32_OFFSET, _FNV32_PRIME = 0x811C9DC5, 0x01000193


def _fnv32a(data: bytes, start: int = _FNV32_OFFSET) -> int:
    value = start
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: every character mapped into the safe alphabet."""
    return "".join(_SAFE_ALPHABET[ord(character) % len(_SAFE_ALPHABET)] for character in text)


def _without_nulls(value):
    """A JSON value with its null members dropped: in Go's typed objects null and absent are one
    (kubectl's `rollout undo` sends `creationTimestamp: null` inside the template, for instance)."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """controller.ComputeHash: FNV-32a of the template (and the collision count), safely encoded.

    Kubernetes hashes Go's printed form of the struct; the canonical JSON is hashed here,
    so the values differ from a real cluster's but are just as stable.
    """
    canonical = json.dumps(_without_nulls(template), sort_keys=True, separators=(",", ":"))
    value = _fnv32a(canonical.encode())
    if collision_count is not None:
        value = _fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little"), value)
    return safe_encode(str(value))


def _without_hash_label(template: dict) -> dict:
    template = _without_nulls(copy.deepcopy(template or {}))
    labels = (template.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
        if not labels:
            template["metadata"].pop("labels")
        if not template["metadata"]:
            template.pop("metadata")
    return template


def equal_ignore_hash(template1: dict | None, template2: dict | None) -> bool:
    """EqualIgnoreHash: the templates are the same but for the pod-template-hash label (and nulls)."""
    return _without_hash_label(template1 or {}) == _without_hash_label(template2 or {})


# --- ReplicaSets of a Deployment -------------------------------------------------------


def creation_order_key(rs: dict) -> tuple[float, str]:
    """ReplicaSetsByCreationTimestamp: oldest first, ties by name."""
    metadata = rs.get("metadata") or {}
    created = parse_time(metadata.get("creationTimestamp"))
    return (float("inf") if created is None else created, metadata.get("name") or "")


def by_creation(replica_sets: list[dict]) -> list[dict]:
    return sorted(replica_sets, key=creation_order_key)


def revision_of(obj: dict) -> int:
    """The revision annotation as a number; 0 when missing or not a number."""
    try:
        return int(annotations_of(obj).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(replica_sets: list[dict]) -> int:
    return max((revision_of(rs) for rs in replica_sets), default=0)


def by_revision(replica_sets: list[dict]) -> list[dict]:
    """ReplicaSetsByRevision: lowest revision first, ties by creation."""
    return sorted(replica_sets, key=lambda rs: (revision_of(rs), creation_order_key(rs)))


def by_size_newer_first(replica_sets: list[dict]) -> list[dict]:
    """ReplicaSetsBySizeNewer: largest first; among equals the newest first (scaling up)."""
    newest_first = sorted(replica_sets, key=creation_order_key, reverse=True)
    return sorted(newest_first, key=lambda rs: -replicas_of(rs))


def by_size_older_first(replica_sets: list[dict]) -> list[dict]:
    """ReplicaSetsBySizeOlder: largest first; among equals the oldest first (scaling down)."""
    return sorted(by_creation(replica_sets), key=lambda rs: -replicas_of(rs))


def find_new_replica_set(deployment: dict, replica_sets: list[dict]) -> dict | None:
    """The oldest ReplicaSet whose template is the Deployment's (FindNewReplicaSet)."""
    template = spec_of(deployment).get("template")
    for rs in by_creation(replica_sets):
        if equal_ignore_hash(spec_of(rs).get("template"), template):
            return rs
    return None


def find_old_replica_sets(deployment: dict, replica_sets: list[dict]) -> tuple[list[dict], list[dict]]:
    """(old ReplicaSets with replicas, all old ReplicaSets), the new one excluded."""
    new_rs = find_new_replica_set(deployment, replica_sets)
    # By name: a ReplicaSet this sync is about to create has no uid yet, and names are unique.
    all_old = [rs for rs in replica_sets if new_rs is None or rs["metadata"]["name"] != new_rs["metadata"]["name"]]
    return [rs for rs in all_old if replicas_of(rs) != 0], all_old


def active(replica_sets: list[dict]) -> list[dict]:
    """FilterActiveReplicaSets: those asking for at least one pod."""
    return [rs for rs in replica_sets if rs is not None and replicas_of(rs) > 0]


def _status_count(rs: dict, field_name: str) -> int:
    return (rs.get("status") or {}).get(field_name) or 0


def replica_count(replica_sets: list[dict]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(replicas_of(rs) for rs in replica_sets if rs is not None)


def pod_count_upper_bound(replica_sets: list[dict]) -> int:
    """How many pods the ReplicaSets may have right now: each asks for spec.replicas, but pods it
    was asked to give up count until its status shows them gone.

    Kubernetes counts spec.replicas alone, so for a moment a rollout can have one pod more than
    `replicas + maxSurge` (the old pod not yet deleted, the new one already created); counting
    both keeps the bound strict at the cost of waiting for the deletion to be observed.
    """
    return sum(max(replicas_of(rs), _status_count(rs, "replicas")) for rs in replica_sets if rs is not None)


def actual_replica_count(replica_sets: list[dict]) -> int:
    return sum(_status_count(rs, "replicas") for rs in replica_sets if rs is not None)


def ready_replica_count(replica_sets: list[dict]) -> int:
    return sum(_status_count(rs, "readyReplicas") for rs in replica_sets if rs is not None)


def available_replica_count(replica_sets: list[dict]) -> int:
    return sum(_status_count(rs, "availableReplicas") for rs in replica_sets if rs is not None)


def annotated_int(obj: dict, annotation: str) -> int | None:
    try:
        return int(annotations_of(obj)[annotation])
    except (KeyError, ValueError):
        return None


def set_replicas_annotations(rs: dict, *, desired: int, maximum: int) -> bool:
    """Writes desired-replicas and max-replicas on `rs` (mutated); True if they changed."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for annotation, value in ((DESIRED_REPLICAS_ANNOTATION, str(desired)), (MAX_REPLICAS_ANNOTATION, str(maximum))):
        if annotations.get(annotation) != value:
            annotations[annotation] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: dict, *, desired: int, maximum: int) -> bool:
    annotations = annotations_of(rs)
    return (annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(desired)
            or annotations.get(MAX_REPLICAS_ANNOTATION) != str(maximum))


def is_saturated(deployment: dict, rs: dict | None) -> bool:
    """The ReplicaSet runs all of the Deployment's replicas and they are available."""
    if rs is None:
        return False
    desired = annotated_int(rs, DESIRED_REPLICAS_ANNOTATION)
    replicas = replicas_of(deployment)
    return replicas_of(rs) == replicas and desired == replicas and _status_count(rs, "availableReplicas") == replicas


def new_rs_new_replicas(deployment: dict, all_replica_sets: list[dict], new_rs: dict) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may grow now (never past replicas + maxSurge pods)."""
    if strategy_type(deployment) == RECREATE:
        return replicas_of(deployment)
    replicas = replicas_of(deployment)
    surge = scaled_value(rolling_update_params(deployment)[0], replicas, round_up=True)
    max_total = replicas + surge
    current = pod_count_upper_bound(all_replica_sets)
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, replicas - replicas_of(new_rs))
    return replicas_of(new_rs) + scale_up


# --- conditions -----------------------------------------------------------------------


def get_condition(status: dict, condition_type: str) -> dict | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def new_condition(condition_type: str, status: str, reason: str, message: str, *, now: float) -> dict:
    timestamp = format_time(now)
    return {"type": condition_type, "status": status, "lastUpdateTime": timestamp, "lastTransitionTime": timestamp,
            "reason": reason, "message": message}


def set_condition(status: dict, condition: dict) -> None:
    """SetDeploymentCondition (mutates `status`): same status and reason is left alone; same
    status keeps its lastTransitionTime; the condition moves to the end of the list."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"] and current.get("reason") == condition["reason"]:
        return
    condition = dict(condition)
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != condition["type"]]
    status["conditions"].append(condition)


def remove_condition(status: dict, condition_type: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != condition_type]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)

"""What controllers need to know about pods: active, ready, available, and which to delete first.

Mirrors k8s.io/kubernetes/pkg/api/v1/pod (IsPodReady, IsPodAvailable) and the
ordering of pkg/controller (ActivePodsWithRanks) that the ReplicaSet controller uses
to pick the least useful pods when it scales down. Pure functions on pod dicts.

Used by the ReplicaSet, Deployment, Endpoints and node lifecycle controllers.
"""

from __future__ import annotations

from collections import Counter

from orchestrator.controllers.base import annotations_of, parse_time

POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
# Pending < Unknown < Running: a pod that has not started yet is cheaper to lose (podPhaseToOrdinal).
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def is_pod_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_pod_active(pod: dict) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    return not is_pod_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def pod_condition(pod: dict, condition_type: str) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_pod_ready(pod: dict) -> bool:
    condition = pod_condition(pod, "Ready")
    return condition is not None and condition.get("status") == "True"


def pod_ready_since(pod: dict) -> float | None:
    """When the pod last became Ready (the Ready condition's lastTransitionTime), if it is ready."""
    if not is_pod_ready(pod):
        return None
    return parse_time((pod_condition(pod, "Ready") or {}).get("lastTransitionTime"))


def is_pod_available(pod: dict, *, min_ready_seconds: int, now: float) -> bool:
    """podutil.IsPodAvailable: ready for at least minReadySeconds."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    ready_since = pod_ready_since(pod)
    return ready_since is not None and ready_since + min_ready_seconds <= now


def seconds_until_available(pod: dict, *, min_ready_seconds: int, now: float) -> float | None:
    """For a ready pod that is not yet available: how long until it is. None otherwise."""
    if not min_ready_seconds or not is_pod_ready(pod) or is_pod_available(
            pod, min_ready_seconds=min_ready_seconds, now=now):
        return None
    ready_since = pod_ready_since(pod)
    return None if ready_since is None else max(0.0, ready_since + min_ready_seconds - now)


def pod_ip(pod: dict) -> str | None:
    status = pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    if pod_ips and (pod_ips[0] or {}).get("ip"):
        return pod_ips[0]["ip"]
    return status.get("podIP") or None


def _max_container_restarts(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((status.get("restartCount") or 0 for status in statuses), default=0)


def _deletion_cost(pod: dict) -> int:
    try:
        return int(annotations_of(pod).get(POD_DELETION_COST_ANNOTATION, 0))
    except ValueError:
        return 0


def _newest_first(timestamp: float | None) -> float:
    # afterOrZero: an unknown time counts as the newest of all.
    return float("-inf") if timestamp is None else -timestamp


def deletion_order_key(pod: dict, rank: int) -> tuple:
    """Sorts the least useful pod first, as ActivePodsWithRanks.Less does.

    Unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
    pod-deletion-cost first; more co-located siblings (rank) first; ready for less time
    first; more restarts first; newer first.
    """
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    ready = is_pod_ready(pod)
    return (
        1 if spec.get("nodeName") else 0,
        _PHASE_ORDINAL.get(status.get("phase") or "", 0),
        1 if ready else 0,
        _deletion_cost(pod),
        -rank,
        _newest_first(pod_ready_since(pod)) if ready else 0.0,
        -_max_container_restarts(pod),
        _newest_first(parse_time((pod.get("metadata") or {}).get("creationTimestamp"))),
    )


def pods_to_delete(pods: list[dict], related_pods: list[dict], count: int) -> list[dict]:
    """getPodsToDelete: the `count` least useful of `pods`.

    A pod's rank is how many active related pods (of the same ReplicaSet, or of every
    ReplicaSet of the same Deployment) share its node, so doubled-up nodes lose pods first
    and the survivors stay spread.
    """
    if count >= len(pods):
        return list(pods)
    pods_on_node = Counter((pod.get("spec") or {}).get("nodeName") or "" for pod in related_pods if is_pod_active(pod))
    ranked = sorted(pods, key=lambda pod: deletion_order_key(pod, pods_on_node[(pod.get("spec") or {}).get("nodeName") or ""]))
    return ranked[:count]

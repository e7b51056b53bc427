"""The HPA's arithmetic, pure: replicas wanted for a resource metric, then stabilized and rate-limited.

`resource_replicas` follows Kubernetes' replica calculator: usage over the pods' requests
(Utilization) or per pod (AverageValue) against the target gives a ratio; within the tolerance
(0.1) nothing changes; pods without metrics count as at the target's edge that damps the change
(100 % of request when shrinking, 0 when growing) and unready pods as idle when growing, and a
ratio that then flips direction or falls within the tolerance keeps the current count.

`normalize` is normalizeDesiredReplicasWithBehaviors: the recommendation is stabilized over the
windows (the lowest of the scale-up window, the highest of the scale-down window), then capped by
the scaling policies over the recent scale events and by min/max, with the reason that
ScalingLimited reports. Times are seconds from the injected clock.

Used by orchestrator/controllers/hpa/controller.py; tested in tests/unit/controllers/test_hpa_replicas.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from orchestrator.api.quantity import parse_quantity

TOLERANCE = 0.1
DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300


class MetricsError(Exception):
    """The metric cannot be computed (no metrics, a pod without a request): ScalingActive turns False."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class PodInfo:
    """What the calculator needs of one pod of the target: its request, readiness and usage."""

    name: str
    request: float | None  # the sum of its containers' requests of the resource; None if one has none
    ready: bool
    usage: float | None  # from the metrics API; None when it has no metrics (yet)


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    utilization: int | None  # percent of request (Utilization targets)
    average_value: float | None  # per-pod usage (cores or bytes)


def resource_replicas(*, current_replicas: int, pods: list[PodInfo], target_utilization: int | None = None,
                      target_average_value: float | None = None, resource: str = "cpu",
                      tolerance: float = TOLERANCE) -> Recommendation:
    """Replicas wanted so the pods' average usage meets the target (GetResourceReplicas / GetRawResourceReplicas)."""
    measured = [pod for pod in pods if pod.usage is not None and pod.ready]
    ignored = [pod for pod in pods if pod.usage is not None and not pod.ready]
    missing = [pod for pod in pods if pod.usage is None]
    if not measured and not ignored:
        raise MetricsError("FailedGetResourceMetric",
                           f"unable to get metrics for resource {resource}: no metrics returned from resource "
                           "metrics API")
    if not measured:
        measured, ignored = ignored, []  # only unready pods reported: use them rather than nothing

    utilization_target = target_utilization is not None

    def requests_of(subset: list[PodInfo]) -> float:
        if any(pod.request is None for pod in subset):
            name = next(pod.name for pod in subset if pod.request is None)
            raise MetricsError("FailedGetResourceMetric", f"failed to get {resource} utilization: missing request "
                               f"for {resource} in container of pod {name}")
        return sum(pod.request for pod in subset)

    def ratio_of(usage: float, subset: list[PodInfo]) -> tuple[float, float]:
        """(usage ratio against the target, the utilization or average value it stands for)."""
        if utilization_target:
            requested = requests_of(subset)
            if requested <= 0:
                raise MetricsError("FailedGetResourceMetric", f"failed to get {resource} utilization: "
                                   "the pods request nothing")
            # As Kubernetes: milli-units, and the ratio of the truncated whole percentage.
            utilization = round(usage * 1000) * 100 // max(1, round(requested * 1000))
            return utilization / target_utilization, utilization
        average = usage / len(subset)
        return average / target_average_value, average

    usage = sum(pod.usage for pod in measured)
    ratio, observed = ratio_of(usage, measured)

    def result(replicas: int) -> Recommendation:
        return Recommendation(replicas, int(observed) if utilization_target else None,
                              None if utilization_target else observed)

    if not missing and not ignored:
        if abs(1.0 - ratio) <= tolerance:
            return result(current_replicas)
        return result(math.ceil(ratio * len(measured)))

    scaling_up = ratio > 1.0
    rebalanced = list(measured)
    for pod in missing:
        # A pod without metrics damps the change: idle when growing, at its request (or the target) when shrinking.
        if scaling_up:
            rebalanced.append(PodInfo(pod.name, pod.request, pod.ready, 0.0))
        elif utilization_target:
            rebalanced.append(PodInfo(pod.name, pod.request, pod.ready, pod.request or 0.0))
        else:
            rebalanced.append(PodInfo(pod.name, pod.request, pod.ready, target_average_value))
    if scaling_up:
        rebalanced += [PodInfo(pod.name, pod.request, pod.ready, 0.0) for pod in ignored]
    new_ratio, _ = ratio_of(sum(pod.usage for pod in rebalanced), rebalanced)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0) != (new_ratio < 1.0):
        return result(current_replicas)
    wanted = math.ceil(new_ratio * len(rebalanced))
    if (new_ratio < 1.0 and wanted > current_replicas) or (new_ratio > 1.0 and wanted < current_replicas):
        return result(current_replicas)  # the rebalancing would move against the measured direction
    return result(wanted)


def quantity_value(text: str | int | float) -> float:
    return float(parse_quantity(text))


# ---------------------------------------------------------------- behavior


@dataclass(frozen=True)
class Policy:
    type: str  # Pods | Percent
    value: int
    period_seconds: int


@dataclass(frozen=True)
class Rules:
    stabilization_window_seconds: int
    select_policy: str  # Max | Min | Disabled
    policies: tuple[Policy, ...]


DEFAULT_SCALE_UP = Rules(0, "Max", (Policy("Pods", 4, 15), Policy("Percent", 100, 15)))
DEFAULT_SCALE_DOWN = Rules(DEFAULT_DOWNSCALE_STABILIZATION_SECONDS, "Max", (Policy("Percent", 100, 15),))


def rules_from_spec(rules: dict | None, default: Rules, *, default_window: int | None = None) -> Rules:
    """Rules from an HPA's `behavior.scaleUp`/`scaleDown` (missing parts from Kubernetes' defaults)."""
    rules = rules or {}
    window = rules.get("stabilizationWindowSeconds")
    if window is None:
        window = default.stabilization_window_seconds if default_window is None else default_window
    policies = tuple(Policy(p.get("type", "Pods"), int(p.get("value") or 0), int(p.get("periodSeconds") or 15))
                     for p in rules.get("policies") or []) or default.policies
    return Rules(int(window), rules.get("selectPolicy") or default.select_policy, policies)


@dataclass(frozen=True)
class ScaleEvent:
    at: float
    change: int  # always positive: pods added (scale-up history) or removed (scale-down history)


@dataclass
class History:
    """What the controller remembers of one HPA between syncs (in memory, as kube-controller-manager)."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_up_events: list[ScaleEvent] = field(default_factory=list)
    scale_down_events: list[ScaleEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Normalized:
    replicas: int
    stabilized: int
    able_reason: str
    able_message: str
    limited: bool
    limited_reason: str
    limited_message: str


def _scale_up_limit(current: int, events: list[ScaleEvent], rules: Rules, now: float) -> int:
    if rules.select_policy == "Disabled":
        return current
    choose = min if rules.select_policy == "Min" else max
    limits = []
    for policy in rules.policies:
        added = sum(e.change for e in events if e.at > now - policy.period_seconds)
        start = current - added
        if policy.type == "Pods":
            limits.append(start + policy.value)
        else:
            limits.append(math.ceil(start * (1 + policy.value / 100)))
    return choose(limits) if limits else current


def _scale_down_limit(current: int, events: list[ScaleEvent], rules: Rules, now: float) -> int:
    if rules.select_policy == "Disabled":
        return current
    # "Max" allows the largest change, that is the lowest floor.
    choose = max if rules.select_policy == "Min" else min
    limits = []
    for policy in rules.policies:
        removed = sum(e.change for e in events if e.at > now - policy.period_seconds)
        start = current + removed
        if policy.type == "Pods":
            limits.append(start - policy.value)
        else:
            limits.append(int(start * (1 - policy.value / 100)))
    return choose(limits) if limits else current


def normalize(*, desired: int, current: int, min_replicas: int, max_replicas: int, up: Rules, down: Rules,
              history: History, now: float) -> Normalized:
    """Stabilize `desired` over the windows (recording it in `history`), then apply the policies and min/max."""
    up_recommendation = down_recommendation = desired
    for at, replicas in history.recommendations:
        if at > now - up.stabilization_window_seconds:
            up_recommendation = min(up_recommendation, replicas)
        if at > now - down.stabilization_window_seconds:
            down_recommendation = max(down_recommendation, replicas)
    stabilized = min(max(current, up_recommendation), down_recommendation)
    longest = max(up.stabilization_window_seconds, down.stabilization_window_seconds)
    history.recommendations = [(at, r) for at, r in history.recommendations if at > now - longest]
    history.recommendations.append((now, desired))
    if stabilized != desired:
        if stabilized > desired:
            able = ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the "
                    "highest recent recommendation")
        else:
            able = ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest "
                    "recent recommendation")
    else:
        able = ("ReadyForNewScale", "recommended size matches current size")

    replicas, reason, message = stabilized, "DesiredWithinRange", "the desired count is within the acceptable range"
    if stabilized > current:
        limit = max(current, _scale_up_limit(current, history.scale_up_events, up, now))
        if max_replicas > limit:
            maximum, why = limit, ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum "
                                   "scale rate")
        else:
            maximum, why = max_replicas, ("TooManyReplicas", "the desired replica count is more than the maximum "
                                          "replica count")
        if stabilized > maximum:
            replicas, (reason, message) = maximum, why
    elif stabilized < current:
        limit = min(current, _scale_down_limit(current, history.scale_down_events, down, now))
        if min_replicas < limit:
            minimum, why = limit, ("ScaleDownLimit", "the desired replica count is decreasing faster than the "
                                   "maximum scale rate")
        else:
            minimum, why = min_replicas, ("TooFewReplicas", "the desired replica count is less than the minimum "
                                          "replica count")
        if stabilized < minimum:
            replicas, (reason, message) = minimum, why
    return Normalized(replicas=replicas, stabilized=stabilized, able_reason=able[0], able_message=able[1],
                      limited=replicas != stabilized, limited_reason=reason, limited_message=message)


def record_scale(history: History, *, old: int, new: int, now: float, up: Rules, down: Rules) -> None:
    """Remember a rescale for the policies' periods (older events are dropped)."""
    longest = max([p.period_seconds for p in (*up.policies, *down.policies)] or [0])
    history.scale_up_events = [e for e in history.scale_up_events if e.at > now - longest]
    history.scale_down_events = [e for e in history.scale_down_events if e.at > now - longest]
    if new > old:
        history.scale_up_events.append(ScaleEvent(now, new - old))
    elif new < old:
        history.scale_down_events.append(ScaleEvent(now, old - new))

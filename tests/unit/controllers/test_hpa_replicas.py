"""The HPA's pure arithmetic: replicas for a resource metric, stabilization, policies, min/max."""

from __future__ import annotations

import pytest

from orchestrator.controllers.hpa import replicas as calc
from orchestrator.controllers.hpa.replicas import DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, History, PodInfo, Policy, Rules


def pods(*usages, request=0.1, ready=True):
    return [PodInfo(name=f"p{i}", request=request, ready=ready, usage=u) for i, u in enumerate(usages)]


@pytest.mark.parametrize(("current", "infos", "target", "expected", "utilization"), [
    pytest.param(1, pods(0.2), 50, 4, 200, id="one-pod-at-200pct-of-a-50pct-target"),
    pytest.param(2, pods(0.05, 0.05), 50, 2, 50, id="at-target"),
    pytest.param(2, pods(0.054, 0.054), 50, 2, 54, id="within-tolerance-above"),
    pytest.param(2, pods(0.046, 0.046), 50, 2, 46, id="within-tolerance-below"),
    pytest.param(4, pods(0.0, 0.0, 0.0, 0.0), 50, 0, 0, id="idle-goes-to-zero-before-min"),
    pytest.param(3, pods(0.1, 0.1, 0.1), 50, 6, 100, id="double"),
    pytest.param(3, pods(0.2, None, None), 50, 4, 200, id="missing-pods-count-idle-when-growing"),
    pytest.param(3, pods(0.01, None, None), 50, 3, 10, id="missing-pods-count-at-request-when-shrinking"),
])
def test_utilization_replicas(current, infos, target, expected, utilization):
    result = calc.resource_replicas(current_replicas=current, pods=infos, target_utilization=target)
    assert (result.replicas, result.utilization) == (expected, utilization)


def test_unready_pods_count_idle_when_growing_and_a_flipped_direction_keeps_the_count():
    infos = pods(0.15) + pods(0.3, 0.3, 0.3, ready=False)
    result = calc.resource_replicas(current_replicas=4, pods=infos, target_utilization=100)
    assert result.replicas == 4  # the ready pod alone says 150 %; with the unready ones idle, 37 %: no change


def test_average_value_target():
    result = calc.resource_replicas(current_replicas=2, pods=pods(0.3, 0.3), target_average_value=0.1)
    assert (result.replicas, round(result.average_value, 3)) == (6, 0.3)


def test_missing_request_is_a_metrics_error():
    infos = [PodInfo("a", None, True, 0.1)]
    with pytest.raises(calc.MetricsError, match="missing request for cpu"):
        calc.resource_replicas(current_replicas=1, pods=infos, target_utilization=50)


def test_no_metrics_is_a_metrics_error():
    with pytest.raises(calc.MetricsError, match="no metrics returned"):
        calc.resource_replicas(current_replicas=1, pods=pods(None), target_utilization=50)


def normalize(desired, current, *, history=None, now=100.0, up=DEFAULT_SCALE_UP, down=DEFAULT_SCALE_DOWN,
              min_replicas=1, max_replicas=10):
    return calc.normalize(desired=desired, current=current, min_replicas=min_replicas, max_replicas=max_replicas,
                          up=up, down=down, history=history or History(), now=now)


@pytest.mark.parametrize(("desired", "current", "max_replicas", "expected", "reason"), [
    pytest.param(4, 1, 3, 3, "TooManyReplicas", id="capped-by-max"),
    pytest.param(0, 2, 10, 1, "TooFewReplicas", id="floored-by-min"),
    pytest.param(20, 2, 50, 6, "ScaleUpLimit", id="default-scale-up-is-max-of-4-pods-or-100pct"),
    pytest.param(3, 2, 10, 3, "DesiredWithinRange", id="within-range"),
])
def test_limits(desired, current, max_replicas, expected, reason):
    down = Rules(0, "Max", DEFAULT_SCALE_DOWN.policies)
    result = normalize(desired, current, max_replicas=max_replicas, down=down)
    assert (result.replicas, result.limited_reason) == (expected, reason)
    assert result.limited == (reason != "DesiredWithinRange")


def test_scale_down_is_stabilized_over_the_window():
    history = History(recommendations=[(50.0, 5), (90.0, 4)])
    down = Rules(30, "Max", DEFAULT_SCALE_DOWN.policies)
    result = normalize(1, 5, history=history, down=down, now=100.0)
    assert (result.replicas, result.able_reason) == (4, "ScaleDownStabilized")  # 5 fell out of the 30 s window
    later = normalize(1, 4, history=history, down=down, now=200.0)
    assert later.replicas == 1


def test_scale_up_is_stabilized_over_its_window():
    history = History(recommendations=[(95.0, 2)])
    up = Rules(60, "Max", DEFAULT_SCALE_UP.policies)
    result = normalize(8, 2, history=history, up=up)
    assert (result.replicas, result.able_reason) == (2, "ScaleUpStabilized")


@pytest.mark.parametrize(("policies", "select", "expected"), [
    pytest.param((Policy("Pods", 1, 60),), "Max", 9, id="one-pod-a-minute"),
    pytest.param((Policy("Percent", 50, 60),), "Max", 5, id="half-a-minute"),
    pytest.param((Policy("Pods", 1, 60), Policy("Percent", 50, 60)), "Max", 5, id="max-picks-the-larger-change"),
    pytest.param((Policy("Pods", 1, 60), Policy("Percent", 50, 60)), "Min", 9, id="min-picks-the-smaller-change"),
    pytest.param((Policy("Pods", 1, 60),), "Disabled", 10, id="disabled"),
])
def test_scale_down_policies(policies, select, expected):
    result = normalize(1, 10, down=Rules(0, select, policies))
    assert result.replicas == expected


def test_recent_scale_events_count_against_the_policy_period():
    history = History()
    up = Rules(0, "Max", (Policy("Pods", 2, 60),))
    calc.record_scale(history, old=2, new=4, now=90.0, up=up, down=DEFAULT_SCALE_DOWN)
    result = normalize(10, 4, history=history, up=up, now=100.0)
    assert result.replicas == 4  # 2 pods already added in this minute
    assert normalize(10, 4, history=history, up=up, now=151.0).replicas == 6


def test_rules_from_spec_fill_defaults():
    rules = calc.rules_from_spec({"stabilizationWindowSeconds": 10}, DEFAULT_SCALE_DOWN)
    assert rules == Rules(10, "Max", DEFAULT_SCALE_DOWN.policies)
    assert calc.rules_from_spec(None, DEFAULT_SCALE_DOWN, default_window=42).stabilization_window_seconds == 42

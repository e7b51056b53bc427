"""Unit tests of orchestrator.controllers.podutil: readiness, availability, which pods go first."""

from __future__ import annotations

import pytest

from orchestrator.controllers.podutil import is_pod_active, is_pod_available, pod_ip, pods_to_delete
from tests.unit.controllers.builders import NOW, new_pod


@pytest.mark.parametrize(
    ("pod", "active"),
    [
        pytest.param(new_pod("a"), True, id="running"),
        pytest.param(new_pod("a", phase="Pending", ready=False), True, id="pending"),
        pytest.param(new_pod("a", phase="Succeeded"), False, id="succeeded"),
        pytest.param(new_pod("a", phase="Failed"), False, id="failed"),
        pytest.param(new_pod("a", deleting=True), False, id="terminating"),
    ],
)
def test_is_pod_active(pod, active):
    assert is_pod_active(pod) is active


@pytest.mark.parametrize(
    ("ready", "ready_since", "min_ready_seconds", "available"),
    [
        pytest.param(True, 0, 0, True, id="ready-no-min"),
        pytest.param(False, 0, 0, False, id="not-ready"),
        pytest.param(True, -10, 5, True, id="ready-long-enough"),
        pytest.param(True, -3, 5, False, id="ready-too-recently"),
    ],
)
def test_is_pod_available(ready, ready_since, min_ready_seconds, available):
    pod = new_pod("a", ready=ready, ready_since=ready_since)
    assert is_pod_available(pod, min_ready_seconds=min_ready_seconds, now=NOW) is available


def test_pod_ip_prefers_pod_ips_then_pod_ip():
    pod = new_pod("a", ip="10.1.1.1")
    assert pod_ip(pod) == "10.1.1.1"
    del pod["status"]["podIPs"]
    assert pod_ip(pod) == "10.1.1.1"
    assert pod_ip(new_pod("b", ip=None)) is None


@pytest.mark.parametrize(
    ("pods", "count", "expected"),
    [
        pytest.param([new_pod("assigned"), new_pod("unassigned", node=None)], 1, ["unassigned"], id="unscheduled-first"),
        pytest.param([new_pod("running"), new_pod("pending", phase="Pending")], 1, ["pending"], id="pending-first"),
        pytest.param([new_pod("ready"), new_pod("not-ready", ready=False)], 1, ["not-ready"], id="not-ready-first"),
        pytest.param([new_pod("old", created=-100, ready_since=-100), new_pod("new", created=-10, ready_since=-100)],
                     1, ["new"], id="newer-first"),
        pytest.param([new_pod("long", ready_since=-100), new_pod("short", ready_since=-5)], 1, ["short"],
                     id="ready-for-less-time-first"),
        pytest.param([new_pod("calm"), new_pod("crashy", restarts=4)], 1, ["crashy"], id="more-restarts-first"),
        pytest.param([new_pod("cheap", annotations={"controller.kubernetes.io/pod-deletion-cost": "-5"}),
                      new_pod("dear")], 1, ["cheap"], id="lower-deletion-cost-first"),
        pytest.param([new_pod("a"), new_pod("b")], 5, ["a", "b"], id="all-when-count-exceeds"),
    ],
)
def test_pods_to_delete_prefers_the_least_useful(pods, count, expected):
    chosen = pods_to_delete(pods, pods, count)
    assert [pod["metadata"]["name"] for pod in chosen] == expected


def test_pods_to_delete_takes_from_doubled_up_nodes_first():
    pods = [new_pod("n1-a", node="n1"), new_pod("n1-b", node="n1"), new_pod("n2-a", node="n2"),
            new_pod("n3-a", node="n3")]
    chosen = pods_to_delete(pods, pods, 1)
    assert chosen[0]["spec"]["nodeName"] == "n1"

"""Unit tests of orchestrator.scheduler.framework: pod requests, host ports, tolerations, NodeInfo."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.framework import (
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    HostPort,
    NodeInfo,
    PodInfo,
    pod_requests,
    tolerates,
)
from tests.unit.scheduler.builders import new_node, new_pod

MI = 1024 * 1024


def container(cpu: str | None = None, memory: str | None = None, *, restart_policy: str | None = None) -> dict:
    requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value is not None}
    body: dict = {"name": "c", "resources": {"requests": requests}}
    if restart_policy:
        body["restartPolicy"] = restart_policy
    return body


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"containers": [container("100m", "128Mi")]}, (100, 128 * MI, 100, 128 * MI), id="one-container"),
        pytest.param({"containers": [container("100m", "64Mi"), container("250m", "64Mi")]},
                     (350, 128 * MI, 350, 128 * MI), id="containers-add-up"),
        pytest.param({"containers": [container()]},
                     (0, 0, DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST), id="no-requests-score-as-defaults"),
        pytest.param({"containers": [container("0", "0")]}, (0, 0, 0, 0), id="explicit-zero-stays-zero"),
        pytest.param({"containers": [container("100m", "64Mi")], "initContainers": [container("1", "32Mi")]},
                     (1000, 64 * MI, 1000, 64 * MI), id="init-container-peak-wins-per-resource"),
        pytest.param({"containers": [container("100m", "64Mi")],
                      "initContainers": [container("200m", "16Mi", restart_policy="Always"), container("250m", "8Mi")]},
                     (450, 80 * MI, 450, 80 * MI), id="sidecar-adds-to-containers-and-later-inits"),
        pytest.param({"containers": [container("100m", "64Mi")], "overhead": {"cpu": "50m", "memory": "1Mi"}},
                     (150, 65 * MI, 150, 65 * MI), id="overhead-added"),
    ],
)
def test_pod_requests(spec, expected):
    assert pod_requests(spec) == expected


@pytest.mark.parametrize(
    ("first", "second", "conflict"),
    [
        pytest.param(HostPort("0.0.0.0", "TCP", 80), HostPort("0.0.0.0", "TCP", 80), True, id="same-port"),
        pytest.param(HostPort("0.0.0.0", "TCP", 80), HostPort("0.0.0.0", "UDP", 80), False, id="other-protocol"),
        pytest.param(HostPort("10.0.0.1", "TCP", 80), HostPort("10.0.0.2", "TCP", 80), False, id="distinct-ips"),
        pytest.param(HostPort("10.0.0.1", "TCP", 80), HostPort("0.0.0.0", "TCP", 80), True, id="wildcard-takes-all"),
        pytest.param(HostPort("0.0.0.0", "TCP", 80), HostPort("0.0.0.0", "TCP", 81), False, id="other-port"),
    ],
)
def test_host_port_conflicts(first, second, conflict):
    assert first.conflicts_with(second) is conflict
    assert second.conflicts_with(first) is conflict


NO_SCHEDULE = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        pytest.param({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, True,
                     id="exact"),
        pytest.param({"key": "dedicated", "value": "gpu"}, True, id="operator-defaults-to-equal-any-effect"),
        pytest.param({"key": "dedicated", "operator": "Equal", "value": "cpu"}, False, id="other-value"),
        pytest.param({"key": "dedicated", "operator": "Exists"}, True, id="exists-any-value"),
        pytest.param({"operator": "Exists"}, True, id="empty-key-exists-tolerates-everything"),
        pytest.param({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, False, id="other-effect"),
        pytest.param({"key": "other", "operator": "Exists"}, False, id="other-key"),
    ],
)
def test_tolerates(toleration, expected):
    assert tolerates(toleration, NO_SCHEDULE) is expected


def test_node_info_counts_and_frees_what_pods_request():
    info = NodeInfo("node-0")
    info.set_node(new_node(cpu="2", memory="1Gi", pods=3))
    web = PodInfo.from_pod(new_pod("web", cpu="500m", memory="100Mi", host_ports=[80]))
    info.add_pod(web)
    assert (info.allocatable_milli_cpu, info.allowed_pods) == (2000, 3)
    assert (info.requested_milli_cpu, info.requested_memory, len(info.pods)) == (500, 100 * MI, 1)
    assert info.used_ports == {HostPort("0.0.0.0", "TCP", 80): 1}
    info.remove_pod(web.key)
    assert (info.requested_milli_cpu, info.requested_memory, info.pods) == (0, 0, {})
    assert not info.used_ports


def test_pod_info_reads_the_scheduling_facts():
    pod = new_pod("api", namespace="shop", cpu="1", owner_uid="rs-1", priority=7,
                  tolerations=[{"operator": "Exists"}], node_selector={"disk": "ssd"})
    info = PodInfo.from_pod(pod)
    assert (info.key, info.milli_cpu, info.owner_uid, info.priority) == ("shop/api", 1000, "rs-1", 7)
    assert info.node_selector == {"disk": "ssd"} and info.tolerations == ({"operator": "Exists"},)

"""Unit tests of the pure helpers of orchestrator/kubelet/podworker.py and main.py."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.kubelet.main import listen_addresses
from orchestrator.kubelet.podworker import (
    NodeSettings,
    container_user,
    cpu_millis,
    memory_bytes,
    pod_reference,
    port_bindings,
    termination_grace_seconds,
    update_concerns_kubelet,
)


def test_port_bindings_publish_host_ports_only() -> None:
    spec = {"containers": [{"name": "a", "ports": [{"containerPort": 8080, "hostPort": 30080},
                                                   {"containerPort": 9090}]},
                           {"name": "b", "ports": [{"containerPort": 53, "hostPort": 5353, "protocol": "UDP",
                                                    "hostIP": "127.0.0.1"}]}]}
    assert port_bindings(spec) == {"8080/tcp": 30080, "53/udp": ("127.0.0.1", 5353)}


@pytest.mark.parametrize(
    ("value", "millis"),
    [pytest.param("100m", 100, id="millis"), pytest.param("1.5", 1500, id="fraction"),
     pytest.param(2, 2000, id="int"), pytest.param(None, None, id="unset")],
)
def test_cpu_millis(value: Any, millis: int | None) -> None:
    assert cpu_millis(value) == millis


def test_memory_bytes() -> None:
    assert memory_bytes("64Mi") == 64 * 1024 * 1024
    assert memory_bytes("1G") == 10**9


@pytest.mark.parametrize(
    ("container", "pod_spec", "user"),
    [
        pytest.param({}, {}, None, id="unset"),
        pytest.param({"securityContext": {"runAsUser": 1000}}, {}, "1000", id="container"),
        pytest.param({}, {"securityContext": {"runAsUser": 1, "runAsGroup": 2}}, "1:2", id="pod"),
        pytest.param({"securityContext": {"runAsUser": 5}}, {"securityContext": {"runAsUser": 1}}, "5",
                     id="container-wins"),
    ],
)
def test_container_user(container: dict, pod_spec: dict, user: str | None) -> None:
    assert container_user(container, pod_spec) == user


def test_grace_period_and_reference() -> None:
    pod = {"metadata": {"name": "web", "namespace": "ns", "uid": "u"}, "spec": {"terminationGracePeriodSeconds": 5}}
    assert termination_grace_seconds(pod) == 5
    assert termination_grace_seconds({**pod, "metadata": {**pod["metadata"], "deletionGracePeriodSeconds": 1}}) == 1
    assert termination_grace_seconds({"metadata": {}, "spec": {}}) == 30
    assert pod_reference(pod) == "web_ns(u)"


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        pytest.param({"metadata": {"resourceVersion": "1"}, "status": {"phase": "Pending"}},
                     {"metadata": {"resourceVersion": "2"}, "status": {"phase": "Running"}}, False,
                     id="own-status-write"),
        pytest.param({"metadata": {}}, {"metadata": {"deletionTimestamp": "t"}}, True, id="deletion"),
        pytest.param({"spec": {"containers": [{"image": "a"}]}}, {"spec": {"containers": [{"image": "b"}]}}, True,
                     id="image-changed"),
        pytest.param({"status": {"phase": "Running"}}, {"status": {"phase": "Succeeded"}}, True, id="terminal"),
    ],
)
def testupdate_concerns_kubelet(old: dict, new: dict, changed: bool) -> None:
    assert update_concerns_kubelet(old, new) is changed


def test_network_name_and_listen_addresses() -> None:
    settings = NodeSettings(node_name="n1", cluster_name="orc", host_ip="10.0.0.2", pod_infra_image="pause")
    assert settings.network_name == "orc-orc-n1"
    assert listen_addresses("0.0.0.0", "10.0.0.2") == ["0.0.0.0"]
    assert listen_addresses("127.0.0.1", "10.0.0.2") == ["127.0.0.1", "10.0.0.2"]
    assert listen_addresses("127.0.0.1", "127.0.0.1") == ["127.0.0.1"]

"""Unit tests of orchestrator/kubelet/node.py: the Node status built from `docker info`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.kubelet.node import KUBELET_VERSION, build_node_status, go_architecture, node_labels

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ENGINE = {"NCPU": 2, "MemTotal": 25_000_000_000, "ServerVersion": "24.0.5", "KernelVersion": "6.1.0",
          "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "Architecture": "x86_64"}


def status_of(engine_error: str | None = None, previous: list | None = None, now: datetime = NOW) -> dict:
    return build_node_status(engine_info=ENGINE, engine_error=engine_error, host_ip="192.168.1.10", node_name="n1",
                             port=10250, previous_conditions=previous or [], now=now,
                             ephemeral_storage_bytes=100 * 1024 * 1024, machine_id="m", boot_id="b")


def test_capacity_addresses_and_node_info() -> None:
    status = status_of()
    assert status["capacity"] == {"pods": "110", "cpu": "2", "memory": "24414062Ki", "ephemeral-storage": "102400Ki"}
    assert status["allocatable"] == status["capacity"]
    assert status["addresses"] == [{"type": "InternalIP", "address": "192.168.1.10"},
                                   {"type": "Hostname", "address": "n1"}]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = status["nodeInfo"]
    assert info["containerRuntimeVersion"] == "docker://24.0.5"
    assert info["kubeletVersion"] == KUBELET_VERSION == "v1.32.0-orc"
    assert (info["architecture"], info["operatingSystem"]) == ("amd64", "linux")
    assert info["osImage"] == "Debian GNU/Linux 12 (bookworm)"


@pytest.mark.parametrize(
    ("engine_error", "ready", "reason", "message"),
    [
        pytest.param(None, "True", "KubeletReady", "kubelet is posting ready status", id="docker-answers"),
        pytest.param("connection refused", "False", "KubeletNotReady",
                     "container runtime is down: connection refused", id="docker-down"),
    ],
)
def test_ready_condition(engine_error: str | None, ready: str, reason: str, message: str) -> None:
    conditions = {c["type"]: c for c in status_of(engine_error)["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"], conditions["Ready"]["message"]) == (
        ready, reason, message)
    for pressure in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert conditions[pressure]["status"] == "False"


def test_transition_time_kept_while_the_status_holds_heartbeat_moves() -> None:
    first = status_of()["conditions"]
    later = NOW + timedelta(seconds=10)
    second = {c["type"]: c for c in status_of(previous=first, now=later)["conditions"]}
    assert second["Ready"]["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert second["Ready"]["lastHeartbeatTime"] == "2026-01-02T03:04:15Z"
    third = {c["type"]: c for c in status_of("down", previous=first, now=later)["conditions"]}
    assert third["Ready"]["lastTransitionTime"] == "2026-01-02T03:04:15Z"


@pytest.mark.parametrize(
    ("machine", "arch"),
    [pytest.param("x86_64", "amd64", id="x86"), pytest.param("aarch64", "arm64", id="arm")],
)
def test_architecture_and_labels(machine: str, arch: str) -> None:
    assert go_architecture(machine) == arch
    labels = node_labels("n1", arch)
    assert labels["kubernetes.io/hostname"] == "n1"
    assert labels["kubernetes.io/arch"] == arch and labels["kubernetes.io/os"] == "linux"

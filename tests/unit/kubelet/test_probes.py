"""Unit tests of orchestrator/kubelet/probes.py: probe thresholds, ports and the pod-address rule."""

from __future__ import annotations

import pytest

from orchestrator.kubelet.probes import LIVENESS, READINESS, STARTUP, ProbeState, resolve_port, run_handler


@pytest.mark.parametrize(
    ("kind", "success_threshold", "failure_threshold", "results", "expected"),
    [
        pytest.param(READINESS, 1, 3, [], [False], id="readiness-starts-unready"),
        pytest.param(LIVENESS, 1, 3, [], [True], id="liveness-starts-alive"),
        pytest.param(STARTUP, 1, 3, [], [None], id="startup-starts-unknown"),
        pytest.param(READINESS, 1, 3, [True], [False, True], id="one-success-is-enough"),
        pytest.param(READINESS, 2, 3, [True, True], [False, False, True], id="success-threshold"),
        pytest.param(LIVENESS, 1, 3, [False, False, False], [True, True, True, False], id="failure-threshold"),
        pytest.param(LIVENESS, 1, 3, [False, False, True, False, False], [True, True, True, True, True, True],
                     id="a-success-resets-the-failures"),
        pytest.param(READINESS, 1, 1, [True, False, True], [False, True, False, True], id="flapping"),
    ],
)
def test_probe_state(kind: str, success_threshold: int, failure_threshold: int, results: list[bool],
                     expected: list[bool | None]) -> None:
    state = ProbeState(kind=kind, success_threshold=success_threshold, failure_threshold=failure_threshold)
    seen = [state.result]
    for result in results:
        state.observe(result)
        seen.append(state.result)
    assert seen == expected


def test_observe_reports_changes_only() -> None:
    state = ProbeState(kind=READINESS, failure_threshold=1)
    assert state.observe(True) is True
    assert state.observe(True) is False
    assert state.observe(False) is True


@pytest.mark.parametrize(
    ("port", "expected"),
    [pytest.param(8080, 8080, id="number"), pytest.param("8080", 8080, id="numeric-string"),
     pytest.param("http", 80, id="named"), pytest.param("nope", None, id="unknown-name")],
)
def test_resolve_port(port: object, expected: int | None) -> None:
    container = {"ports": [{"name": "http", "containerPort": 80}]}
    assert resolve_port(port, container) == expected


@pytest.mark.parametrize(
    ("handler", "pod_ip", "message_part"),
    [
        pytest.param({"httpGet": {"host": "203.0.113.9", "port": 80, "path": "/"}}, "10.1.0.5", "refused",
                     id="http-foreign-host"),
        pytest.param({"tcpSocket": {"host": "203.0.113.9", "port": 80}}, "10.1.0.5", "refused",
                     id="tcp-foreign-host"),
        pytest.param({"httpGet": {"port": 80, "path": "/"}}, None, "no IP address", id="no-pod-ip"),
    ],
)
async def test_probes_never_contact_anything_but_the_pod(handler: dict, pod_ip: str | None, message_part: str) -> None:
    outcome = await run_handler(handler, container={}, container_id="c", pod_ip=pod_ip, runtime=None,  # type: ignore[arg-type]
                                session=None, timeout_seconds=1)  # type: ignore[arg-type]
    assert outcome.success is False
    assert message_part in outcome.message

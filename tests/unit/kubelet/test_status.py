"""Unit tests of orchestrator/kubelet/status.py: the pure pod-status computation and the batched writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestrator.api.errors import NotFound
from orchestrator.kubelet.runtime import ROLE_CONTAINER, ROLE_INIT, ROLE_SANDBOX, ContainerInfo
from orchestrator.kubelet.status import (
    PodContainers,
    StatusWriter,
    WaitingReason,
    compute_pod_status,
    pod_phase,
    should_restart,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=5)
NOW_TEXT = "2026-01-02T03:04:05Z"
EARLIER_TEXT = "2026-01-02T02:59:05Z"
UID = "uid-1"


# ---------------------------------------------------------------- builders


def new_container(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", **fields}


def new_pod(
    containers: list[dict[str, Any]] | None = None,
    *,
    init_containers: list[dict[str, Any]] | None = None,
    restart_policy: str = "Always",
    status: dict[str, Any] | None = None,
    deleting: bool = False,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "default", "uid": UID}
    if deleting:
        metadata["deletionTimestamp"] = NOW_TEXT
    pod_spec: dict[str, Any] = {"containers": containers or [new_container()], "restartPolicy": restart_policy,
                                "nodeName": "n1", **spec}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec, "status": status or {}}


def instance(
    name: str = "app",
    *,
    state: str = "running",
    exit_code: int | None = None,
    restart_count: int = 0,
    role: str = ROLE_CONTAINER,
    container_id: str | None = None,
    error: str = "",
    oom_killed: bool = False,
    ip: str | None = None,
    sandbox_id: str | None = "sandbox-0",
) -> ContainerInfo:
    return ContainerInfo(
        id=container_id or f"{name}-{restart_count}",
        name=f"orc_{name}_{restart_count}",
        pod_namespace="default",
        pod_name="web",
        pod_uid=UID,
        container_name=name,
        role=role,
        restart_count=restart_count,
        state=state,
        exit_code=exit_code if state in ("exited", "dead") else None,
        started_at=EARLIER + timedelta(seconds=restart_count) if state != "created" else None,
        finished_at=EARLIER + timedelta(seconds=restart_count, milliseconds=500) if state == "exited" else None,
        created_at=EARLIER + timedelta(seconds=restart_count),
        image="busybox:1.36",
        image_id="sha256:abc",
        spec_hash="",
        oom_killed=oom_killed,
        error=error,
        ip=ip,
        sandbox_id=None if role == ROLE_SANDBOX else sandbox_id,
    )


def sandbox(*, running: bool = True, restart_count: int = 0) -> ContainerInfo:
    return instance("POD", state="running" if running else "exited", exit_code=0, role=ROLE_SANDBOX,
                    container_id=f"sandbox-{restart_count}", ip="10.1.0.5" if running else None,
                    restart_count=restart_count)


def compute(pod: dict[str, Any], containers: list[ContainerInfo], **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"pod": pod, "containers": containers, "waiting_reasons": {}, "readiness": {},
                                 "started": {}, "host_ip": "192.168.1.10", "previous_status": None, "now": NOW}
    arguments.update(overrides)
    return compute_pod_status(**arguments)


def conditions_of(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {condition["type"]: condition for condition in status["conditions"]}


# ---------------------------------------------------------------- phase and container states


@pytest.mark.parametrize(
    ("pod", "containers", "overrides", "phase", "state", "ready"),
    [
        pytest.param(new_pod(), [], {}, "Pending", {"waiting": {"reason": "ContainerCreating"}}, False,
                     id="nothing-yet"),
        pytest.param(new_pod(), [sandbox(), instance()], {}, "Running",
                     {"running": {"startedAt": EARLIER_TEXT}}, True, id="running"),
        pytest.param(new_pod(restart_policy="Never"), [sandbox(), instance(state="exited", exit_code=1)], {},
                     "Failed", {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": EARLIER_TEXT,
                                               "finishedAt": "2026-01-02T02:59:05Z",
                                               "containerID": "docker://app-0"}}, False, id="never-failed"),
        pytest.param(new_pod(restart_policy="OnFailure"), [sandbox(), instance(state="exited", exit_code=0)], {},
                     "Succeeded", {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": EARLIER_TEXT,
                                                  "finishedAt": "2026-01-02T02:59:05Z",
                                                  "containerID": "docker://app-0"}}, False, id="onfailure-done"),
        pytest.param(new_pod(), [sandbox(), instance(state="exited", exit_code=1)],
                     {"waiting_reasons": {"app": WaitingReason("CrashLoopBackOff", "back-off 10s restarting")}},
                     "Running", {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting"}},
                     False, id="crash-loop-is-running"),
        pytest.param(new_pod(), [sandbox()],
                     {"waiting_reasons": {"app": WaitingReason("ErrImagePull", "no registry")}},
                     "Pending", {"waiting": {"reason": "ErrImagePull", "message": "no registry"}}, False,
                     id="image-pull-error"),
        pytest.param(new_pod(), [sandbox(), instance(state="exited", exit_code=137, oom_killed=True)], {},
                     "Running", {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": EARLIER_TEXT,
                                                "finishedAt": "2026-01-02T02:59:05Z",
                                                "containerID": "docker://app-0"}}, False, id="oom-killed"),
        pytest.param(new_pod(containers=[new_container(readinessProbe={"exec": {"command": ["true"]}})]),
                     [sandbox(), instance()], {}, "Running", {"running": {"startedAt": EARLIER_TEXT}}, False,
                     id="readiness-probe-not-yet-passed"),
        pytest.param(new_pod(containers=[new_container(readinessProbe={"exec": {"command": ["true"]}})]),
                     [sandbox(), instance()], {"readiness": {"app-0": True}}, "Running",
                     {"running": {"startedAt": EARLIER_TEXT}}, True, id="readiness-probe-passed"),
        pytest.param(new_pod(containers=[new_container(startupProbe={"exec": {"command": ["true"]}})]),
                     [sandbox(), instance()], {}, "Running", {"running": {"startedAt": EARLIER_TEXT}}, False,
                     id="not-started-not-ready"),
        pytest.param(new_pod(), [sandbox(), instance(state="created", error="exec: not found")], {}, "Running",
                     {"terminated": {"exitCode": 128, "reason": "StartError", "message": "exec: not found",
                                     "startedAt": "1970-01-01T00:00:00Z", "finishedAt": EARLIER_TEXT,
                                     "containerID": "docker://app-0"}}, False, id="start-error"),
    ],
)
def test_phase_and_container_state(
    pod: dict[str, Any], containers: list[ContainerInfo], overrides: dict[str, Any], phase: str,
    state: dict[str, Any], ready: bool,
) -> None:
    status = compute(pod, containers, **overrides)
    assert status["phase"] == phase
    (container_status,) = status["containerStatuses"]
    assert container_status["state"] == state
    assert container_status["ready"] is ready


def test_restart_count_last_state_and_ids_come_from_the_newest_two_instances() -> None:
    containers = [sandbox(), instance(state="exited", exit_code=1, restart_count=2),
                  instance(restart_count=3), instance(state="exited", exit_code=1, restart_count=1)]
    (status,) = compute(new_pod(), containers)["containerStatuses"]
    assert status["restartCount"] == 3
    assert status["containerID"] == "docker://app-3"
    assert status["imageID"] == "docker://sha256:abc"
    assert status["image"] == "busybox:1.36"
    assert status["lastState"]["terminated"]["containerID"] == "docker://app-2"
    assert status["started"] is True


def test_crash_loop_moves_the_terminated_state_to_last_state() -> None:
    containers = [sandbox(), instance(state="exited", exit_code=1, restart_count=4)]
    reasons = {"app": WaitingReason("CrashLoopBackOff", "back-off 40s")}
    (status,) = compute(new_pod(), containers, waiting_reasons=reasons)["containerStatuses"]
    assert status["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["restartCount"] == 4


def test_waiting_reason_is_ignored_for_a_container_that_will_not_be_restarted() -> None:
    containers = [sandbox(), instance(state="exited", exit_code=0)]
    reasons = {"app": WaitingReason("CrashLoopBackOff", "stale")}
    (status,) = compute(new_pod(restart_policy="OnFailure"), containers, waiting_reasons=reasons)[
        "containerStatuses"]
    assert "terminated" in status["state"]


def test_container_statuses_are_sorted_by_name_init_statuses_keep_spec_order() -> None:
    pod = new_pod([new_container("zeta"), new_container("alpha")],
                  init_containers=[new_container("second-init"), new_container("first-init")])
    status = compute(pod, [])
    assert [s["name"] for s in status["containerStatuses"]] == ["alpha", "zeta"]
    assert [s["name"] for s in status["initContainerStatuses"]] == ["second-init", "first-init"]
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}


# ---------------------------------------------------------------- init containers


@pytest.mark.parametrize(
    ("init_instances", "restart_policy", "phase", "initialized", "pod_reason_message"),
    [
        pytest.param([], "Always", "Pending", ("False", "ContainersNotInitialized",
                                               "containers with incomplete status: [setup]"), None, id="not-run"),
        pytest.param([instance("setup", role=ROLE_INIT)], "Always", "Pending",
                     ("False", "ContainersNotInitialized", "containers with incomplete status: [setup]"), None,
                     id="running"),
        pytest.param([instance("setup", role=ROLE_INIT, state="exited", exit_code=0)], "Always", "Pending",
                     ("True", None, None), None, id="done-app-not-started"),
        pytest.param([instance("setup", role=ROLE_INIT, state="exited", exit_code=1)], "Never", "Failed",
                     ("False", "ContainersNotInitialized", "containers with incomplete status: [setup]"), None,
                     id="failed-never"),
        pytest.param([instance("setup", role=ROLE_INIT, state="exited", exit_code=1)], "Always", "Pending",
                     ("False", "ContainersNotInitialized", "containers with incomplete status: [setup]"), None,
                     id="failed-will-retry"),
    ],
)
def test_init_containers(
    init_instances: list[ContainerInfo], restart_policy: str, phase: str, initialized: tuple, pod_reason_message: Any
) -> None:
    pod = new_pod(init_containers=[new_container("setup")], restart_policy=restart_policy)
    status = compute(pod, [sandbox(), *init_instances])
    assert status["phase"] == phase
    condition = conditions_of(status)["Initialized"]
    assert (condition["status"], condition.get("reason"), condition.get("message")) == initialized


def test_completed_init_container_is_ready_and_app_container_started() -> None:
    pod = new_pod(init_containers=[new_container("setup")])
    containers = [sandbox(), instance("setup", role=ROLE_INIT, state="exited", exit_code=0), instance("app")]
    status = compute(pod, containers)
    assert status["phase"] == "Running"
    assert status["initContainerStatuses"][0]["ready"] is True
    assert conditions_of(status)["Initialized"]["status"] == "True"
    assert conditions_of(status)["Ready"]["status"] == "True"


# ---------------------------------------------------------------- conditions


def test_conditions_of_a_ready_pod() -> None:
    status = compute(new_pod(), [sandbox(), instance()])
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert all(c["status"] == "True" for c in status["conditions"])
    assert all(c["lastTransitionTime"] == NOW_TEXT for c in status["conditions"])


def test_unready_containers_are_named_in_ready_and_containers_ready() -> None:
    probe = {"readinessProbe": {"exec": {"command": ["true"]}}}
    pod = new_pod([new_container("b", **probe), new_container("a", **probe), new_container("c")])
    containers = [sandbox(), instance("a"), instance("b"), instance("c")]
    conditions = conditions_of(compute(pod, containers))
    for condition_type in ("Ready", "ContainersReady"):
        assert conditions[condition_type]["status"] == "False"
        assert conditions[condition_type]["reason"] == "ContainersNotReady"
        assert conditions[condition_type]["message"] == "containers with unready status: [b a]"


def test_completed_pod_conditions() -> None:
    conditions = conditions_of(compute(new_pod(restart_policy="Never"),
                                       [sandbox(running=False), instance(state="exited", exit_code=0)]))
    assert conditions["Ready"]["reason"] == "PodCompleted"
    assert conditions["ContainersReady"]["reason"] == "PodCompleted"
    assert conditions["PodReadyToStartContainers"]["status"] == "False"


def test_transition_times_are_kept_while_a_condition_keeps_its_status() -> None:
    first = compute(new_pod(), [sandbox(), instance()], now=EARLIER)
    probe = {"readinessProbe": {"exec": {"command": ["true"]}}}
    later = compute(new_pod([new_container(**probe)]), [sandbox(), instance()], previous_status=first)
    conditions = conditions_of(later)
    assert conditions["PodScheduled"]["lastTransitionTime"] == EARLIER_TEXT
    assert conditions["Ready"]["lastTransitionTime"] == NOW_TEXT  # True -> False


def test_other_conditions_are_kept_and_the_schedulers_time_is_used() -> None:
    api_status = {"conditions": [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": EARLIER_TEXT},
        {"type": "example.com/gate", "status": "True", "lastTransitionTime": EARLIER_TEXT},
    ]}
    pod = new_pod(status=api_status, readinessGates=[{"conditionType": "example.com/gate"}])
    status = compute(pod, [sandbox(), instance()])
    conditions = conditions_of(status)
    assert conditions["example.com/gate"]["status"] == "True"
    assert conditions["PodScheduled"]["lastTransitionTime"] == EARLIER_TEXT
    assert conditions["Ready"]["status"] == "True"


def test_readiness_gate_not_met() -> None:
    pod = new_pod(readinessGates=[{"conditionType": "example.com/gate"}])
    ready = conditions_of(compute(pod, [sandbox(), instance()]))["Ready"]
    assert ready["reason"] == "ReadinessGatesNotReady"
    assert ready["message"] == 'corresponding condition of pod readiness gate "example.com/gate" does not exist.'


# ---------------------------------------------------------------- pod-level fields


def test_addresses_start_time_and_qos() -> None:
    pod = new_pod([new_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}})])
    status = compute(pod, [sandbox(), instance()])
    assert status["podIP"] == "10.1.0.5" and status["podIPs"] == [{"ip": "10.1.0.5"}]
    assert status["hostIP"] == "192.168.1.10" and status["hostIPs"] == [{"ip": "192.168.1.10"}]
    assert status["startTime"] == NOW_TEXT
    assert status["qosClass"] == "Guaranteed"


def test_start_time_and_pod_ip_survive_a_stopped_sandbox() -> None:
    previous = {"startTime": EARLIER_TEXT, "podIP": "10.1.0.9", "phase": "Running"}
    status = compute(new_pod(restart_policy="Never"), [sandbox(running=False), instance(state="exited", exit_code=0)],
                     previous_status=previous)
    assert status["startTime"] == EARLIER_TEXT
    assert status["podIP"] == "10.1.0.9"


def test_a_host_network_pod_has_the_node_address() -> None:
    status = compute(new_pod(hostNetwork=True), [sandbox(), instance()])
    assert status["podIP"] == "192.168.1.10" and status["podIPs"] == [{"ip": "192.168.1.10"}]


def test_a_terminal_pod_stays_terminal() -> None:
    pod = new_pod(status={"phase": "Succeeded"})
    assert compute(pod, [])["phase"] == "Succeeded"


def test_a_vanished_running_container_counts_as_terminated_unknown() -> None:
    previous = {"containerStatuses": [{"name": "app", "state": {"running": {"startedAt": EARLIER_TEXT}},
                                       "restartCount": 2, "lastState": {}}]}
    (status,) = compute(new_pod(), [sandbox()], previous_status=previous)["containerStatuses"]
    assert status["restartCount"] == 3
    assert status["lastState"]["terminated"]["reason"] == "ContainerStatusUnknown"


@pytest.mark.parametrize(
    ("info", "policy", "deleting", "expected"),
    [
        pytest.param(None, "Never", False, True, id="never-started"),
        pytest.param(instance(), "Always", False, False, id="running"),
        pytest.param(instance(state="exited", exit_code=0), "Always", False, True, id="always"),
        pytest.param(instance(state="exited", exit_code=0), "OnFailure", False, False, id="onfailure-success"),
        pytest.param(instance(state="exited", exit_code=2), "OnFailure", False, True, id="onfailure-failure"),
        pytest.param(instance(state="exited", exit_code=2), "Never", False, False, id="never"),
        pytest.param(instance(state="created"), "Never", False, True, id="created-not-started"),
        pytest.param(None, "Always", True, False, id="deleting"),
    ],
)
def test_should_restart(info: ContainerInfo | None, policy: str, deleting: bool, expected: bool) -> None:
    assert should_restart(info, restart_policy=policy, deleting=deleting) is expected


def test_pod_containers_group_newest_first() -> None:
    grouped = PodContainers.group([instance(restart_count=0, state="exited", exit_code=1), sandbox(),
                                   instance(restart_count=1), sandbox(running=False, restart_count=1)])
    assert [info.restart_count for info in grouped.instances("app")] == [1, 0]
    assert grouped.sandbox is not None and grouped.sandbox.restart_count == 1
    assert grouped.running_sandbox is None


def test_pod_phase_of_sidecar_pods() -> None:
    pod = new_pod(init_containers=[new_container("proxy", restartPolicy="Always")])
    statuses = [{"name": "app", "state": {"running": {}}}]
    init = [{"name": "proxy", "state": {"running": {}}, "started": True}]
    assert pod_phase(pod=pod, container_statuses=statuses, init_statuses=init, has_initialized=True) == "Running"


# ---------------------------------------------------------------- the writer


class FakePatchClient:
    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.patches: list[tuple[str, dict]] = []
        self.fail_with = fail_with
        self.gate = asyncio.Event()
        self.gate.set()

    async def patch(self, resource: Any, name: str, patch: dict, **options: Any) -> dict:
        await self.gate.wait()
        assert options["subresource"] == "status" and options["patch_type"] == "merge"
        self.patches.append((name, patch))
        if self.fail_with is not None:
            raise self.fail_with
        return {}


async def test_writer_coalesces_to_the_latest_status_and_skips_repeats() -> None:
    client = FakePatchClient()
    client.gate.clear()
    writer = StatusWriter(client)  # type: ignore[arg-type]
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Pending"})
    await asyncio.sleep(0)
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Running", "podIP": "10.0.0.1"})
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Running", "podIP": "10.0.0.2"})
    client.gate.set()
    await writer.flush()
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Running", "podIP": "10.0.0.2"})
    await writer.flush()
    assert [patch["status"]["phase"] for _, patch in client.patches] == ["Pending", "Running"]
    last = client.patches[-1][1]["status"]
    assert last["podIP"] == "10.0.0.2"
    assert last["message"] is None  # owned fields not in the status are removed


async def test_writer_skips_a_status_the_apiserver_already_has() -> None:
    client = FakePatchClient()
    writer = StatusWriter(client)  # type: ignore[arg-type]
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Running"}, stored={"phase": "Running"})
    await writer.flush()
    assert client.patches == []


async def test_writer_drops_the_status_of_a_pod_that_is_gone() -> None:
    client = FakePatchClient(fail_with=NotFound("pods \"web\" not found"))
    writer = StatusWriter(client)  # type: ignore[arg-type]
    writer.submit(namespace="default", name="web", uid=UID, status={"phase": "Running"})
    await writer.flush()
    assert len(client.patches) == 1
    assert writer.last_written(UID) is None

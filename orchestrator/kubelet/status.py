"""Pod status: computed as a pure function of what the node observes, and written to the apiserver in batches.

`compute_pod_status` turns (pod spec, the pod's Docker containers, the reasons the
last container starts failed, probe results, clock) into the pod's `status` exactly
as the kubelet's generateAPIPodStatus does: `phase` (getPhase), the kubelet-owned
conditions (PodReadyToStartContainers, Initialized, Ready, ContainersReady,
PodScheduled) with stable `lastTransitionTime`s, `containerStatuses` (sorted by
name) and `initContainerStatuses` (spec order) with state, lastState, ready,
started, restartCount, image, imageID and containerID, plus podIP(s), hostIP(s),
startTime and qosClass. It never moves a pod out of a terminal phase.

`StatusWriter` sends those statuses: at most one write in flight per pod, the
latest status wins, and a status equal to the last one written is not sent again,
so a busy node does not flood the apiserver.

Used by the pod workers (podworker.py) and the kubelet's log server (server.py).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.api.errors import APIError, NotFound
from orchestrator.apiserver.strategies.podspec import compute_pod_qos
from orchestrator.client.resources import PODS
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.kubelet.runtime import ContainerInfo

log = logging.getLogger(__name__)

PHASE_PENDING, PHASE_RUNNING, PHASE_SUCCEEDED, PHASE_FAILED = "Pending", "Running", "Succeeded", "Failed"
TERMINAL_PHASES = (PHASE_SUCCEEDED, PHASE_FAILED)

REASON_CONTAINER_CREATING = "ContainerCreating"
REASON_POD_INITIALIZING = "PodInitializing"
REASON_CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
REASON_CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
REASON_CREATE_CONTAINER_ERROR = "CreateContainerError"
REASON_RUN_CONTAINER_ERROR = "RunContainerError"

CONDITION_READY_TO_START = "PodReadyToStartContainers"
CONDITION_INITIALIZED = "Initialized"
CONDITION_READY = "Ready"
CONDITION_CONTAINERS_READY = "ContainersReady"
CONDITION_SCHEDULED = "PodScheduled"
KUBELET_CONDITIONS = (
    CONDITION_READY_TO_START,
    CONDITION_INITIALIZED,
    CONDITION_READY,
    CONDITION_CONTAINERS_READY,
    CONDITION_SCHEDULED,
)

# The status fields the kubelet owns: a write sets each of them (null removes one that no longer applies).
KUBELET_STATUS_FIELDS = (
    "phase",
    "conditions",
    "message",
    "reason",
    "hostIP",
    "hostIPs",
    "podIP",
    "podIPs",
    "startTime",
    "containerStatuses",
    "initContainerStatuses",
    "qosClass",
)

# containerd's reason and exit code for a container whose process could not be started.
START_ERROR_REASON = "StartError"
START_ERROR_EXIT_CODE = 128
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WaitingReason:
    """Why the last attempt to start a container failed (the kubelet's reasonCache entry)."""

    reason: str
    message: str = ""


def format_time(moment: datetime) -> str:
    """metav1.Time on the wire: RFC 3339 in UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- the pod's containers, grouped


def _newest_first(containers: Sequence[ContainerInfo]) -> list[ContainerInfo]:
    return sorted(
        containers,
        key=lambda info: (info.restart_count, info.created_at or _EPOCH),
        reverse=True,
    )


@dataclass(frozen=True)
class PodContainers:
    """A pod's Docker containers: its sandboxes and, per container name, every instance, newest first."""

    sandboxes: list[ContainerInfo] = field(default_factory=list)
    by_name: dict[str, list[ContainerInfo]] = field(default_factory=dict)

    @classmethod
    def group(cls, containers: Sequence[ContainerInfo]) -> PodContainers:
        sandboxes = _newest_first([info for info in containers if info.is_sandbox])
        grouped: dict[str, list[ContainerInfo]] = {}
        for info in containers:
            if not info.is_sandbox:
                grouped.setdefault(info.container_name, []).append(info)
        return cls(sandboxes=sandboxes, by_name={name: _newest_first(items) for name, items in grouped.items()})

    @property
    def sandbox(self) -> ContainerInfo | None:
        """The newest sandbox (running or not)."""
        return self.sandboxes[0] if self.sandboxes else None

    @property
    def running_sandbox(self) -> ContainerInfo | None:
        sandbox = self.sandbox
        return sandbox if sandbox is not None and sandbox.running else None

    def latest(self, container_name: str) -> ContainerInfo | None:
        instances = self.by_name.get(container_name)
        return instances[0] if instances else None

    def instances(self, container_name: str) -> list[ContainerInfo]:
        return self.by_name.get(container_name, [])


def has_exited(info: ContainerInfo) -> bool:
    """Finished, or never got to run because its start failed (a `created` container with an engine error)."""
    return info.state in ("exited", "dead") or (info.state == "created" and bool(info.error))


def exit_code_of(info: ContainerInfo) -> int:
    if info.state == "created":
        return START_ERROR_EXIT_CODE
    return info.exit_code if info.exit_code is not None else 0


def finished_at_of(info: ContainerInfo) -> datetime:
    """When the instance ended; a failed start ends when it was created."""
    return info.finished_at or info.created_at or _EPOCH


def should_restart(info: ContainerInfo | None, *, restart_policy: str, deleting: bool) -> bool:
    """kubecontainer.ShouldContainerBeRestarted: a missing, never-started or (per policy) exited container."""
    if deleting:
        return False
    if info is None:
        return True
    if info.running:
        return False
    if not has_exited(info):
        return True  # created but never started, or an unknown state
    if restart_policy == "Never":
        return False
    if restart_policy == "OnFailure" and exit_code_of(info) == 0:
        return False
    return True


def is_sidecar(container: Mapping[str, Any]) -> bool:
    """A restartable init container (`restartPolicy: Always`), which keeps running beside the app containers."""
    return container.get("restartPolicy") == "Always"


# ---------------------------------------------------------------- container statuses


def _instance_state(info: ContainerInfo) -> dict[str, Any]:
    if info.running or info.state == "paused":
        return {"running": {"startedAt": format_time(info.started_at or info.created_at or _EPOCH)}}
    if has_exited(info):
        exit_code = exit_code_of(info)
        terminated: dict[str, Any] = {"exitCode": exit_code}
        if info.state == "created":
            terminated.update(reason=START_ERROR_REASON, message=info.error, startedAt=format_time(_EPOCH))
        else:
            if info.oom_killed:
                terminated["reason"] = "OOMKilled"
            else:
                terminated["reason"] = "Completed" if exit_code == 0 else "Error"
            terminated["startedAt"] = format_time(info.started_at or info.created_at or _EPOCH)
        terminated["finishedAt"] = format_time(finished_at_of(info))
        terminated["containerID"] = f"docker://{info.id}"
        return {"terminated": terminated}
    return {"waiting": {"reason": REASON_CONTAINER_CREATING}}


def _container_statuses(
    *,
    specs: Sequence[Mapping[str, Any]],
    observed: PodContainers,
    previous_statuses: Sequence[Mapping[str, Any]],
    waiting_reasons: Mapping[str, WaitingReason],
    readiness: Mapping[str, bool],
    started: Mapping[str, bool],
    restart_policy: str,
    deleting: bool,
    has_init_containers: bool,
    is_init: bool,
) -> list[dict[str, Any]]:
    """convertToAPIContainerStatuses plus the probe manager's UpdatePodStatus, for one list of containers."""
    previous_by_name = {status.get("name"): status for status in previous_statuses}
    default_reason = REASON_POD_INITIALIZING if has_init_containers else REASON_CONTAINER_CREATING
    statuses: list[dict[str, Any]] = []
    for spec in specs:
        name = spec["name"]
        instances = observed.instances(name)
        previous = previous_by_name.get(name)
        status: dict[str, Any] = {
            "name": name,
            "state": {"waiting": {"reason": default_reason}},
            "lastState": {},
            "ready": False,
            "restartCount": 0,
            "image": spec.get("image", ""),
            "imageID": "",
            "started": False,
        }
        if not instances and previous is not None:
            previous_state = previous.get("state") or {}
            if previous_state.get("terminated") is not None:
                # The container is gone, but it had terminated: that stays true.
                status = copy.deepcopy(dict(previous))
            else:
                status["restartCount"] = previous.get("restartCount") or 0
                status["lastState"] = copy.deepcopy(previous.get("lastState") or {})
                if previous_state.get("running") is not None and not status["lastState"].get("terminated"):
                    # It ran and vanished without a trace: it did terminate, with an unknown status.
                    status["lastState"] = {"terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was deleted.  "
                                   "The container used to be Running",
                    }}
                    if not deleting:
                        status["restartCount"] += 1
        if instances:
            latest = instances[0]
            status["state"] = _instance_state(latest)
            status["restartCount"] = latest.restart_count
            status["containerID"] = f"docker://{latest.id}"
            status["imageID"] = f"docker://{latest.image_id}" if latest.image_id else ""
            if len(instances) > 1:
                status["lastState"] = _instance_state(instances[1])
        latest = instances[0] if instances else None
        init_succeeded = is_init and latest is not None and has_exited(latest) and exit_code_of(latest) == 0
        policy = "Always" if is_init and is_sidecar(spec) else restart_policy
        if (
            not init_succeeded
            and name in waiting_reasons
            and should_restart(latest, restart_policy=policy, deleting=deleting)
        ):
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            waiting = waiting_reasons[name]
            status["state"] = {"waiting": {"reason": waiting.reason, **({"message": waiting.message}
                                                                          if waiting.message else {})}}
        _set_started_and_ready(status, spec, latest, readiness=readiness, started=started, is_init=is_init)
        statuses.append(status)
    if not is_init:
        statuses.sort(key=lambda item: item["name"])
    return statuses


def _set_started_and_ready(
    status: dict[str, Any],
    spec: Mapping[str, Any],
    latest: ContainerInfo | None,
    *,
    readiness: Mapping[str, bool],
    started: Mapping[str, bool],
    is_init: bool,
) -> None:
    running = latest is not None and "running" in status["state"]
    if running:
        assert latest is not None
        has_started = started.get(latest.id, spec.get("startupProbe") is None)
    else:
        has_started = False
    status["started"] = has_started
    if is_init and not is_sidecar(spec):
        terminated = status["state"].get("terminated")
        status["ready"] = terminated is not None and terminated.get("exitCode") == 0
        return
    if not has_started:
        status["ready"] = False
        return
    assert latest is not None
    status["ready"] = readiness.get(latest.id, spec.get("readinessProbe") is None)


# ---------------------------------------------------------------- phase and conditions


def pod_phase(
    *, pod: Mapping[str, Any], container_statuses: Sequence[Mapping[str, Any]],
    init_statuses: Sequence[Mapping[str, Any]], has_initialized: bool,
) -> str:
    """The kubelet's getPhase (Kubernetes v1.32, sidecars included, pod not yet terminal)."""
    spec = pod.get("spec") or {}
    restart_policy = spec.get("restartPolicy") or "Always"
    init_by_name = {status["name"]: status for status in init_statuses}
    app_by_name = {status["name"]: status for status in container_statuses}
    pending_regular_init = pending_sidecar = failed_init = 0
    unknown = running = waiting = stopped = succeeded = 0
    for container in spec.get("initContainers") or []:
        status = init_by_name.get(container["name"])
        state = (status or {}).get("state") or {}
        last_terminated = ((status or {}).get("lastState") or {}).get("terminated")
        if is_sidecar(container):
            if status is None:
                unknown += 1
            elif state.get("running") is not None:
                if not status.get("started"):
                    pending_sidecar += 1
                running += 1
            elif state.get("terminated") is not None:
                pass
            elif state.get("waiting") is not None and last_terminated is None:
                pending_sidecar += 1
                waiting += 1
            elif state.get("waiting") is None:
                pending_sidecar += 1
                unknown += 1
            continue
        if status is None or state.get("running") is not None:
            pending_regular_init += 1
        elif state.get("terminated") is not None:
            if state["terminated"].get("exitCode", 0) != 0:
                failed_init += 1
        elif state.get("waiting") is not None:
            if last_terminated is not None:
                if last_terminated.get("exitCode", 0) != 0:
                    failed_init += 1
            else:
                pending_regular_init += 1
        else:
            pending_regular_init += 1
    for container in spec.get("containers") or []:
        status = app_by_name.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state = status.get("state") or {}
        if state.get("running") is not None:
            running += 1
        elif state.get("terminated") is not None:
            stopped += 1
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
        elif state.get("waiting") is not None:
            if (status.get("lastState") or {}).get("terminated") is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if failed_init > 0 and restart_policy == "Never":
        return PHASE_FAILED
    if pending_regular_init > 0 or (pending_sidecar > 0 and not has_initialized) or waiting > 0:
        return PHASE_PENDING
    if running > 0 and unknown == 0:
        return PHASE_RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        if restart_policy == "Always":
            return PHASE_RUNNING
        if stopped == succeeded:
            return PHASE_SUCCEEDED
        if restart_policy == "Never":
            return PHASE_FAILED
        return PHASE_RUNNING
    return PHASE_PENDING


def _go_list(names: Sequence[str]) -> str:
    """How Go's %s prints a []string: [a b c]."""
    return "[" + " ".join(names) + "]"


def _containers_ready_condition(
    pod: Mapping[str, Any], statuses_by_name: Mapping[str, Mapping[str, Any]], phase: str
) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    unknown: list[str] = []
    unready: list[str] = []
    counted = [c for c in spec.get("initContainers") or [] if is_sidecar(c)] + list(spec.get("containers") or [])
    for container in counted:
        status = statuses_by_name.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif not status.get("ready"):
            unready.append(container["name"])
    if phase == PHASE_SUCCEEDED and not unknown:
        return {"type": CONDITION_CONTAINERS_READY, "status": "False", "reason": "PodCompleted"}
    if phase == PHASE_FAILED:
        return {"type": CONDITION_CONTAINERS_READY, "status": "False", "reason": "PodFailed"}
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_go_list(unready)}")
    if messages:
        return {"type": CONDITION_CONTAINERS_READY, "status": "False", "reason": "ContainersNotReady",
                "message": ", ".join(messages)}
    return {"type": CONDITION_CONTAINERS_READY, "status": "True"}


def _ready_condition(
    pod: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]], containers_ready: Mapping[str, Any]
) -> dict[str, Any]:
    if containers_ready["status"] != "True":
        return {**containers_ready, "type": CONDITION_READY}
    unready = []
    by_type = {condition.get("type"): condition for condition in conditions}
    for gate in (pod.get("spec") or {}).get("readinessGates") or []:
        gate_type = gate.get("conditionType")
        condition = by_type.get(gate_type)
        if condition is None:
            unready.append(f'corresponding condition of pod readiness gate "{gate_type}" does not exist.')
        elif condition.get("status") != "True":
            unready.append(f'the status of pod readiness gate "{gate_type}" is not "True", but {condition.get("status")}')
    if unready:
        return {"type": CONDITION_READY, "status": "False", "reason": "ReadinessGatesNotReady",
                "message": ", ".join(unready)}
    return {"type": CONDITION_READY, "status": "True"}


def _initialized_condition(
    pod: Mapping[str, Any], init_statuses: Sequence[Mapping[str, Any]], app_statuses: Sequence[Mapping[str, Any]],
    phase: str,
) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    by_name = {status["name"]: status for status in init_statuses}
    unknown: list[str] = []
    incomplete: list[str] = []
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif (is_sidecar(container) and not status.get("started")) or (
            not is_sidecar(container) and not status.get("ready")
        ):
            incomplete.append(container["name"])
    if phase == PHASE_SUCCEEDED and not unknown:
        return {"type": CONDITION_INITIALIZED, "status": "True", "reason": "PodCompleted"}
    if _any_regular_container_started(app_statuses):
        return {"type": CONDITION_INITIALIZED, "status": "True"}
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_go_list(incomplete)}")
    if messages:
        return {"type": CONDITION_INITIALIZED, "status": "False", "reason": "ContainersNotInitialized",
                "message": ", ".join(messages)}
    return {"type": CONDITION_INITIALIZED, "status": "True"}


def _any_regular_container_started(app_statuses: Sequence[Mapping[str, Any]]) -> bool:
    for status in app_statuses:
        state = status.get("state") or {}
        if state.get("running") is not None or state.get("terminated") is not None:
            return True
        if (status.get("lastState") or {}).get("terminated") is not None:
            return True
    return False


def _with_transition_times(
    conditions: list[dict[str, Any]], previous_conditions: Sequence[Mapping[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """A condition keeps its lastTransitionTime while its status stays the same (the status manager's rule)."""
    previous_by_type = {condition.get("type"): condition for condition in previous_conditions}
    result = []
    for condition in conditions:
        previous = previous_by_type.get(condition["type"])
        if previous is not None and previous.get("status") == condition["status"] and previous.get("lastTransitionTime"):
            transition = previous["lastTransitionTime"]
        else:
            transition = format_time(now)
        result.append({"type": condition["type"], "status": condition["status"], "lastTransitionTime": transition,
                       **{key: condition[key] for key in ("reason", "message") if condition.get(key)}})
    return result


# ---------------------------------------------------------------- the whole status


def compute_pod_status(
    *,
    pod: Mapping[str, Any],
    containers: Sequence[ContainerInfo],
    waiting_reasons: Mapping[str, WaitingReason],
    readiness: Mapping[str, bool],
    started: Mapping[str, bool],
    host_ip: str,
    previous_status: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """The pod's status as the kubelet reports it (generateAPIPodStatus), from what the node observes.

    `containers` are the pod's Docker containers (sandboxes included); `readiness`
    and `started` map container ids to probe results (a container with no entry is
    ready/started unless it has a readiness/startup probe); `previous_status` is the
    status last computed for the pod (or the apiserver's), which keeps startTime,
    restart history and condition transition times stable.
    """
    spec = pod.get("spec") or {}
    metadata = pod.get("metadata") or {}
    api_status = pod.get("status") or {}
    previous = previous_status if previous_status is not None else api_status
    observed = PodContainers.group(containers)
    deleting = bool(metadata.get("deletionTimestamp"))
    restart_policy = spec.get("restartPolicy") or "Always"
    has_init_containers = bool(spec.get("initContainers"))
    common = {"observed": observed, "waiting_reasons": waiting_reasons, "readiness": readiness, "started": started,
              "restart_policy": restart_policy, "deleting": deleting, "has_init_containers": has_init_containers}
    container_statuses = _container_statuses(
        specs=spec.get("containers") or [], previous_statuses=previous.get("containerStatuses") or [],
        is_init=False, **common,
    )
    init_statuses = _container_statuses(
        specs=spec.get("initContainers") or [], previous_statuses=previous.get("initContainerStatuses") or [],
        is_init=True, **common,
    )
    phase = pod_phase(pod=pod, container_statuses=container_statuses, init_statuses=init_statuses,
                      has_initialized=_any_regular_container_started(container_statuses))
    # Pods never leave a terminal phase.
    if phase not in TERMINAL_PHASES:
        if previous.get("phase") in TERMINAL_PHASES:
            phase = previous["phase"]
        elif api_status.get("phase") in TERMINAL_PHASES:
            phase = api_status["phase"]

    status: dict[str, Any] = {"phase": phase}
    if phase == previous.get("phase"):
        for key in ("reason", "message"):
            value = previous.get(key) or api_status.get(key)
            if value:
                status[key] = value

    statuses_by_name = {item["name"]: item for item in init_statuses + container_statuses}
    kept_conditions = [dict(condition) for condition in api_status.get("conditions") or []
                       if condition.get("type") not in KUBELET_CONDITIONS]
    containers_ready = _containers_ready_condition(pod, statuses_by_name, phase)
    generated = [
        {"type": CONDITION_READY_TO_START, "status": "True" if observed.running_sandbox else "False"},
        _initialized_condition(pod, init_statuses, container_statuses, phase),
        _ready_condition(pod, kept_conditions, containers_ready),
        containers_ready,
        {"type": CONDITION_SCHEDULED, "status": "True"},
    ]
    previous_conditions = list(previous.get("conditions") or [])
    # The scheduler's PodScheduled time is the one to keep when the kubelet has not written one yet.
    previous_conditions += [c for c in api_status.get("conditions") or [] if c.get("type") == CONDITION_SCHEDULED]
    status["conditions"] = kept_conditions + _with_transition_times(generated, previous_conditions, now)

    status["hostIP"] = host_ip
    status["hostIPs"] = [{"ip": host_ip}]
    sandbox = observed.running_sandbox
    if spec.get("hostNetwork"):
        pod_ip = host_ip  # a host-network pod has the node's address
    elif sandbox is not None and sandbox.ip:
        pod_ip = sandbox.ip
    else:
        pod_ip = previous.get("podIP") or api_status.get("podIP")
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    status["startTime"] = previous.get("startTime") or api_status.get("startTime") or format_time(now)
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = container_statuses
    status["qosClass"] = api_status.get("qosClass") or compute_pod_qos(spec)
    return status


# ---------------------------------------------------------------- writing


@dataclass
class _PodStatusSlot:
    namespace: str
    name: str
    pending: dict[str, Any] | None = None
    last_written: dict[str, Any] | None = None
    writer: asyncio.Task | None = None


class StatusWriter:
    """Writes pod statuses: one write in flight per pod, the newest status wins, repeats are skipped.

    `submit` never blocks; a failed write is retried (after `retry_seconds`) unless
    a newer status replaced it or the pod is gone. `max_concurrent_writes` bounds
    how many pods are written at once across the node.
    """

    def __init__(self, client: ApiClient, *, max_concurrent_writes: int = 16, retry_seconds: float = 1.0) -> None:
        self._client = client
        self._slots: dict[str, _PodStatusSlot] = {}
        self._limit = asyncio.Semaphore(max_concurrent_writes)
        self._retry_seconds = retry_seconds

    def submit(
        self, *, namespace: str, name: str, uid: str, status: dict[str, Any], stored: dict[str, Any] | None = None
    ) -> None:
        """Queue `status` for the pod; `stored` is the status the apiserver already has, if known
        (a restarted kubelet whose pods did not change writes nothing)."""
        slot = self._slots.get(uid)
        if slot is None:
            slot = self._slots[uid] = _PodStatusSlot(namespace=namespace, name=name, last_written=stored)
        if status == slot.last_written and slot.writer is None:
            slot.pending = None
            return
        slot.pending = status
        if slot.writer is None:
            slot.writer = asyncio.get_running_loop().create_task(self._drain(uid, slot))

    def last_written(self, uid: str) -> dict[str, Any] | None:
        slot = self._slots.get(uid)
        return slot.last_written if slot else None

    def forget(self, uid: str) -> None:
        """The pod is gone: stop writing its status."""
        slot = self._slots.pop(uid, None)
        if slot is not None and slot.writer is not None:
            slot.writer.cancel()

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for the writes in flight, e.g. before a clean shutdown."""
        writers = [slot.writer for slot in self._slots.values() if slot.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=timeout)

    async def close(self) -> None:
        for slot in self._slots.values():
            if slot.writer is not None:
                slot.writer.cancel()
        self._slots.clear()

    async def _drain(self, uid: str, slot: _PodStatusSlot) -> None:
        try:
            while slot.pending is not None:
                status = slot.pending
                slot.pending = None
                if status == slot.last_written:
                    continue
                try:
                    async with self._limit:
                        await self._write(slot, status)
                    slot.last_written = status
                except NotFound:
                    log.debug("pod %s/%s is gone; dropping its status", slot.namespace, slot.name)
                    return
                except APIError as error:
                    if error.code < 500 and error.code not in (409, 429):
                        # Refused for good (e.g. Invalid): sending it again would not help.
                        log.error("the status of pod %s/%s was refused: %s", slot.namespace, slot.name, error)
                        continue
                    await self._retry_later(slot, status, error)
                except ApiUnavailable as error:
                    await self._retry_later(slot, status, error)
        finally:
            slot.writer = None

    async def _retry_later(self, slot: _PodStatusSlot, status: dict[str, Any], error: Exception) -> None:
        log.warning("writing the status of pod %s/%s failed, retrying: %s", slot.namespace, slot.name, error)
        if slot.pending is None:
            slot.pending = status
        await asyncio.sleep(self._retry_seconds)

    async def _write(self, slot: _PodStatusSlot, status: dict[str, Any]) -> None:
        # A merge patch of the owned fields: lists are replaced whole, and a field set to
        # null is removed (a podIP or message that no longer applies).
        patch = {"status": {key: status.get(key) for key in KUBELET_STATUS_FIELDS}}
        await self._client.patch(PODS, slot.name, patch, namespace=slot.namespace, patch_type="merge",
                                 subresource="status")

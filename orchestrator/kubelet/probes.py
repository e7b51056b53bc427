"""Startup, liveness and readiness probes of the containers this node runs, as the kubelet's prober.

One asyncio task per (container instance, probe kind) runs the probe every
`periodSeconds` once `initialDelaySeconds` have passed since the container
started, within `timeoutSeconds`; a result counts only after `successThreshold`
successes or `failureThreshold` failures in a row (`ProbeState`, pure). Liveness
and readiness probes start once the startup probe (if any) has succeeded. Results
are kept per container id: `started`, `readiness`, and `failure(container_id)` (a
liveness or startup failure, on which the pod worker kills and restarts the
container). Every failed probe is recorded as an `Unhealthy` event, as Kubernetes does.

Probes reach only the pod's own address (the sandbox IP this kubelet created):
an `httpGet.host`/`tcpSocket.host` naming anything else fails without any traffic.

Used by the pod workers (podworker.py), which also run preStop hooks with `run_handler`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from orchestrator.client.events import WARNING, EventRecorder
from orchestrator.kubelet.runtime import ContainerInfo, DockerRuntime, DockerRuntimeError, ExecTimeout

log = logging.getLogger(__name__)

STARTUP, LIVENESS, READINESS = "startup", "liveness", "readiness"
PROBE_KINDS = (STARTUP, LIVENESS, READINESS)
_SPEC_FIELDS = {STARTUP: "startupProbe", LIVENESS: "livenessProbe", READINESS: "readinessProbe"}
_EVENT_NAMES = {STARTUP: "Startup", LIVENESS: "Liveness", READINESS: "Readiness"}
USER_AGENT = "kube-probe/1.32"
_MAX_BODY_BYTES = 10 * 1024


@dataclass(frozen=True)
class ProbeOutcome:
    success: bool
    message: str = ""


class ProbeState:
    """The prober worker's threshold logic: a result counts after enough identical results in a row.

    `result` starts as Kubernetes' initial value: readiness False (not ready until
    a probe passes), liveness True, startup None (unknown).
    """

    def __init__(self, *, kind: str, success_threshold: int = 1, failure_threshold: int = 3) -> None:
        self.kind = kind
        self.success_threshold = max(1, success_threshold)
        self.failure_threshold = max(1, failure_threshold)
        self.result: bool | None = {READINESS: False, LIVENESS: True, STARTUP: None}[kind]
        self._last: bool | None = None
        self._run = 0

    def observe(self, success: bool) -> bool:
        """Count one probe result; True when `result` changed."""
        if success == self._last:
            self._run += 1
        else:
            self._last = success
            self._run = 1
        threshold = self.success_threshold if success else self.failure_threshold
        if self._run < threshold:
            return False
        changed = self.result != success
        self.result = success
        if not success and self.kind in (LIVENESS, STARTUP):
            # The container will be restarted: the next failure run starts from zero.
            self._run = 0
        return changed


def probe_spec(container: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    return container.get(_SPEC_FIELDS[kind])


def resolve_port(port: Any, container: Mapping[str, Any]) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        for declared in container.get("ports") or []:
            if declared.get("name") == port:
                return declared.get("containerPort")
    return None


async def run_handler(
    handler: Mapping[str, Any],
    *,
    container: Mapping[str, Any],
    container_id: str,
    pod_ip: str | None,
    runtime: DockerRuntime,
    session: aiohttp.ClientSession,
    timeout_seconds: float,
) -> ProbeOutcome:
    """Run one probe or lifecycle handler (exec, httpGet, tcpSocket, sleep) against the pod's own address."""
    try:
        if handler.get("exec") is not None:
            return await _exec(handler["exec"], container_id=container_id, runtime=runtime, timeout=timeout_seconds)
        if handler.get("httpGet") is not None:
            return await _http_get(handler["httpGet"], container=container, pod_ip=pod_ip, session=session,
                                   timeout=timeout_seconds)
        if handler.get("tcpSocket") is not None:
            return await _tcp_socket(handler["tcpSocket"], container=container, pod_ip=pod_ip, timeout=timeout_seconds)
        if handler.get("sleep") is not None:
            await asyncio.sleep(min(float(handler["sleep"].get("seconds") or 0), timeout_seconds))
            return ProbeOutcome(True)
        if handler.get("grpc") is not None:
            # Not implemented here; never fail a container for what this kubelet cannot check.
            return ProbeOutcome(True, "grpc probes are not supported by this kubelet")
    except DockerRuntimeError as error:
        return ProbeOutcome(False, error.message)
    return ProbeOutcome(False, "probe has no handler")


async def _exec(action: Mapping[str, Any], *, container_id: str, runtime: DockerRuntime, timeout: float) -> ProbeOutcome:
    command = list(action.get("command") or [])
    try:
        exit_code, output = await runtime.exec(container_id, command, timeout_seconds=timeout)
    except ExecTimeout:
        return ProbeOutcome(False, f"command {_go_quote(' '.join(command))} timed out")
    text = output.decode(errors="replace").strip()
    return ProbeOutcome(exit_code == 0, text)


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _target_host(requested: str | None, pod_ip: str | None) -> tuple[str | None, str | None]:
    """The address to probe and, when refused, why: only the pod's own IP is ever contacted."""
    if not pod_ip:
        return None, "the pod has no IP address yet"
    if requested and requested != pod_ip:
        return None, f"probing host {requested!r} is refused: this kubelet only probes the pod's own address {pod_ip}"
    return pod_ip, None


async def _http_get(
    action: Mapping[str, Any],
    *,
    container: Mapping[str, Any],
    pod_ip: str | None,
    session: aiohttp.ClientSession,
    timeout: float,
) -> ProbeOutcome:
    host, refusal = _target_host(action.get("host"), pod_ip)
    if refusal:
        return ProbeOutcome(False, refusal)
    port = resolve_port(action.get("port"), container)
    if port is None:
        return ProbeOutcome(False, f"unknown port {action.get('port')!r}")
    scheme = (action.get("scheme") or "HTTP").lower()
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for header in action.get("httpHeaders") or []:
        headers[header.get("name", "")] = header.get("value", "")
    try:
        async with session.get(
            url,
            headers=headers,
            allow_redirects=False,  # a redirect could point anywhere; 3xx counts as success anyway
            ssl=False,  # Kubernetes does not verify probe certificates
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.content.read(_MAX_BODY_BYTES)
            if 200 <= response.status < 400:
                return ProbeOutcome(True, body.decode(errors="replace"))
            return ProbeOutcome(False, f"HTTP probe failed with statuscode: {response.status}")
    except TimeoutError:
        return ProbeOutcome(False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while '
                                   "awaiting headers)")
    except aiohttp.ClientError as error:
        return ProbeOutcome(False, f'Get "{url}": {_connection_error_text(error, host, port)}')


def _connection_error_text(error: Exception, host: str, port: int) -> str:
    cause = getattr(error, "os_error", None) or error.__cause__ or error
    if isinstance(cause, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    return f"dial tcp {host}:{port}: {cause}"


async def _tcp_socket(
    action: Mapping[str, Any], *, container: Mapping[str, Any], pod_ip: str | None, timeout: float
) -> ProbeOutcome:
    host, refusal = _target_host(action.get("host"), pod_ip)
    if refusal:
        return ProbeOutcome(False, refusal)
    port = resolve_port(action.get("port"), container)
    if port is None:
        return ProbeOutcome(False, f"unknown port {action.get('port')!r}")
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return ProbeOutcome(False, f"dial tcp {host}:{port}: i/o timeout")
    except ConnectionRefusedError:
        return ProbeOutcome(False, f"dial tcp {host}:{port}: connect: connection refused")
    except OSError as error:
        return ProbeOutcome(False, f"dial tcp {host}:{port}: {error.strerror or error}")
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return ProbeOutcome(True)


@dataclass
class _ProbeWorker:
    pod_uid: str
    container_id: str
    kind: str
    task: asyncio.Task


class ProbeManager:
    """Runs the probes of every running container of this node and keeps their results.

    `update_pod` is called by the pod worker after each sync with the pod and its
    containers; it starts the probe tasks of new container instances and stops
    those whose container stopped. `on_change(pod_uid)` is called when a result
    changes, so the pod worker re-syncs (writes `ready`, restarts a dead container).
    """

    def __init__(
        self,
        *,
        runtime: DockerRuntime,
        recorder: EventRecorder | None,
        on_change: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runtime = runtime
        self._recorder = recorder
        self._on_change = on_change
        self._clock = clock
        self._workers: dict[tuple[str, str], _ProbeWorker] = {}
        self._started: dict[str, bool] = {}
        self._readiness: dict[str, bool] = {}
        self._failures: dict[str, str] = {}  # container id -> why it must be restarted
        self._container_pods: dict[str, str] = {}  # container id -> pod uid
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env=False: probes never go through an HTTP proxy; force_close: no idle sockets into pods.
            connector = aiohttp.TCPConnector(force_close=True, limit=64)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    # -- results --------------------------------------------------------------------------------

    def started(self, container_id: str) -> bool | None:
        return self._started.get(container_id)

    def readiness(self, container_id: str) -> bool | None:
        return self._readiness.get(container_id)

    def failure(self, container_id: str) -> str | None:
        """Why a running container must be restarted ("Container c failed liveness probe"), or None."""
        return self._failures.get(container_id)

    def results_for(self, pod_uid: str) -> tuple[dict[str, bool], dict[str, bool]]:
        """(started, readiness) by container id, for the pod's status."""
        ids = [cid for cid, uid in self._container_pods.items() if uid == pod_uid]
        started = {cid: self._started[cid] for cid in ids if cid in self._started}
        readiness = {cid: self._readiness[cid] for cid in ids if cid in self._readiness}
        return started, readiness

    # -- lifecycle ------------------------------------------------------------------------------

    def update_pod(
        self,
        pod: Mapping[str, Any],
        containers: list[tuple[Mapping[str, Any], ContainerInfo]],
        pod_ip: str | None,
    ) -> None:
        """Probe exactly the running instances among `containers` ((spec, instance) pairs) of `pod`."""
        pod_uid = (pod.get("metadata") or {}).get("uid", "")
        wanted: set[tuple[str, str]] = set()
        for spec, info in containers:
            if not info.running:
                continue
            self._container_pods[info.id] = pod_uid
            has_startup = probe_spec(spec, STARTUP) is not None
            started = self._started.get(info.id)
            if has_startup and not started:
                wanted.add((info.id, STARTUP))
            if not has_startup or started:
                for kind in (LIVENESS, READINESS):
                    if probe_spec(spec, kind) is not None:
                        wanted.add((info.id, kind))
            for kind in PROBE_KINDS:
                key = (info.id, kind)
                if key in wanted and key not in self._workers:
                    task = asyncio.get_running_loop().create_task(
                        self._probe_loop(pod=pod, spec=spec, info=info, kind=kind, pod_ip=pod_ip),
                        name=f"probe-{kind}-{info.id[:12]}",
                    )
                    self._workers[key] = _ProbeWorker(pod_uid, info.id, kind, task)
        for key, worker in list(self._workers.items()):
            if worker.pod_uid == pod_uid and key not in wanted:
                worker.task.cancel()
                del self._workers[key]
        running_ids = {info.id for _, info in containers if info.running}
        for container_id in [cid for cid, uid in self._container_pods.items() if uid == pod_uid]:
            if container_id not in running_ids:
                self._forget_container(container_id)

    def remove_pod(self, pod_uid: str) -> None:
        for key, worker in list(self._workers.items()):
            if worker.pod_uid == pod_uid:
                worker.task.cancel()
                del self._workers[key]
        for container_id in [cid for cid, uid in self._container_pods.items() if uid == pod_uid]:
            self._forget_container(container_id)

    async def close(self) -> None:
        for worker in self._workers.values():
            worker.task.cancel()
        self._workers.clear()
        if self._session is not None:
            await self._session.close()

    def _forget_container(self, container_id: str) -> None:
        self._container_pods.pop(container_id, None)
        self._started.pop(container_id, None)
        self._readiness.pop(container_id, None)
        self._failures.pop(container_id, None)

    # -- one probe ------------------------------------------------------------------------------

    async def _probe_loop(
        self, *, pod: Mapping[str, Any], spec: Mapping[str, Any], info: ContainerInfo, kind: str, pod_ip: str | None
    ) -> None:
        probe = probe_spec(spec, kind) or {}
        period = float(probe.get("periodSeconds") or 10)
        timeout = float(probe.get("timeoutSeconds") or 1)
        initial_delay = float(probe.get("initialDelaySeconds") or 0)
        state = ProbeState(kind=kind, success_threshold=int(probe.get("successThreshold") or 1),
                           failure_threshold=int(probe.get("failureThreshold") or 3))
        pod_uid = (pod.get("metadata") or {}).get("uid", "")
        if kind == READINESS and info.id not in self._readiness:
            self._readiness[info.id] = False
        started_at = (info.started_at or datetime.now(UTC)).timestamp()
        try:
            wait = started_at + initial_delay - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            while True:
                outcome = await run_handler(probe, container=spec, container_id=info.id, pod_ip=pod_ip,
                                            runtime=self._runtime, session=self.session(), timeout_seconds=timeout)
                if not outcome.success and self._recorder is not None:
                    message = f"{_EVENT_NAMES[kind]} probe failed: {outcome.message}".rstrip()
                    self._recorder.record(pod, WARNING, "Unhealthy", message)
                if state.observe(outcome.success):
                    self._apply(kind, info.id, spec.get("name", ""), state.result)
                    self._on_change(pod_uid)
                if kind in (LIVENESS, STARTUP) and state.result is False:
                    return  # the container is restarted; its next instance gets new probes
                if kind == STARTUP and state.result:
                    return  # started: liveness and readiness take over
                await asyncio.sleep(period)
        except asyncio.CancelledError:
            raise
        except Exception:  # a probe must never take the kubelet down
            log.exception("%s probe of container %s failed unexpectedly", kind, info.id[:12])

    def _apply(self, kind: str, container_id: str, container_name: str, result: bool | None) -> None:
        if kind == READINESS:
            self._readiness[container_id] = bool(result)
        elif kind == STARTUP:
            self._started[container_id] = bool(result)
            if result is False:
                self._failures[container_id] = f"Container {container_name} failed startup probe"
        elif kind == LIVENESS and result is False:
            self._failures[container_id] = f"Container {container_name} failed liveness probe"

"""Pod workers: one asyncio task per pod bound to this node, converging its Docker containers to its spec.

A `PodWorker` sleeps until it is woken (the pod changed, a container of the pod died,
a probe result changed, a back-off ran out, or the 10 s resync) and then runs one
`sync`, like the kubelet's syncPod:

- pod gone from the apiserver → stop and remove its containers and volumes;
- `deletionTimestamp` set → preStop hooks, SIGTERM, SIGKILL after the grace period,
  remove everything, then confirm with DELETE gracePeriodSeconds=0 (uid precondition);
- otherwise: volumes, the sandbox (pod IP, hostname, hostPorts, the cluster DNS in its
  resolv.conf), init containers in
  order, then the app containers, with image pulls (ErrImagePull / ImagePullBackOff),
  the restart policy and crash-loop back-off (CrashLoopBackOff), and restarts on a
  failed liveness/startup probe or a changed container spec. Then the pod's status is
  computed (status.py) and handed to the batched status writer.

Running `sync` twice in a row does nothing the second time. `PodWorkers` owns the
workers: it feeds them from the pod informer and the Docker event stream, adopts the
containers a previous kubelet left running, and removes those of pods that no longer
exist. Used by orchestrator/kubelet/main.py; the log server reads the statuses.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.api.errors import APIError, Conflict, NotFound
from orchestrator.api.quantity import parse_quantity
from orchestrator.apiserver.allocators import CLUSTER_DOMAIN
from orchestrator.client.events import NORMAL, WARNING, EventRecorder
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import CONFIGMAPS, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, SECRETS
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.kubelet.backoff import CrashLoopBackoff, crash_backoff_key, format_duration
from orchestrator.kubelet.env import EnvError, expand_command, referenced_objects, resolve_env
from orchestrator.kubelet.images import (
    REASON_ERR_IMAGE_NEVER_PULL,
    REASON_ERR_IMAGE_PULL,
    REASON_IMAGE_PULL_BACKOFF,
    REASON_INVALID_IMAGE_NAME,
    ImageBackoff,
    default_pull_policy,
    parse_image,
    should_pull,
)
from orchestrator.kubelet.probes import ProbeManager, run_handler
from orchestrator.kubelet.runtime import (
    ROLE_CONTAINER,
    ROLE_INIT,
    ContainerInfo,
    ContainerNotFound,
    DockerRuntime,
    DockerRuntimeError,
    ImagePullError,
    hash_container_spec,
)
from orchestrator.kubelet.status import (
    REASON_CRASH_LOOP_BACK_OFF,
    REASON_CREATE_CONTAINER_CONFIG_ERROR,
    REASON_CREATE_CONTAINER_ERROR,
    REASON_RUN_CONTAINER_ERROR,
    TERMINAL_PHASES,
    PodContainers,
    StatusWriter,
    WaitingReason,
    compute_pod_status,
    exit_code_of,
    finished_at_of,
    has_exited,
    is_sidecar,
    should_restart,
)
from orchestrator.kubelet.volumes import VolumeError, VolumeManager, mounts_for
from orchestrator.proxy.podconfig import pod_dns_config, service_environment

log = logging.getLogger(__name__)

RESYNC_SECONDS = 10.0
VOLUME_REFRESH_SECONDS = 60.0
CONFIG_ERROR_RETRY_SECONDS = 5.0
IMAGE_PULL_FAILURE_MEMORY_SECONDS = 300.0
DEFAULT_GRACE_SECONDS = 30
MINIMUM_GRACE_SECONDS = 2
# Instances kept per container name: the current one and the previous (for lastState and `logs --previous`).
INSTANCES_KEPT = 2
HOUSEKEEPING_SECONDS = 30.0
_WAKING_DOCKER_ACTIONS = ("die", "oom", "destroy")


@dataclass(frozen=True)
class NodeSettings:
    """What every pod worker of this kubelet needs to know about the node."""

    node_name: str
    cluster_name: str
    host_ip: str
    pod_infra_image: str
    cluster_dns: tuple[str, ...] = ()  # what ClusterFirst pods get as nameservers (empty: the host's)
    cluster_domain: str = CLUSTER_DOMAIN

    @property
    def network_name(self) -> str:
        """The Docker bridge network of this node's pods."""
        return f"orc-{self.cluster_name}-{self.node_name}"


class PodWorkerContext:
    """The collaborators shared by the pod workers of one kubelet (injected, so tests can build their own)."""

    def __init__(
        self,
        *,
        settings: NodeSettings,
        runtime: DockerRuntime,
        client: ApiClient,
        pods: Informer,
        recorder: EventRecorder,
        status_writer: StatusWriter,
        probes: ProbeManager,
        volumes: VolumeManager,
        services: Callable[[], list[dict[str, Any]]] = list,
        pod_cidr: Callable[[], str | None] = lambda: None,
        report_pod_cidr: Callable[[str], Awaitable[None]] | None = None,
        node_allocatable: Callable[[], Mapping[str, str]] = dict,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.client = client
        self.pods = pods
        self.recorder = recorder
        self.status_writer = status_writer
        self.probes = probes
        self.volumes = volumes
        self.services = services
        self.pod_cidr = pod_cidr
        self.report_pod_cidr = report_pod_cidr
        self.node_allocatable = node_allocatable
        self.clock = clock
        self.image_backoff = ImageBackoff(clock=time.monotonic)
        self.crash_backoff = CrashLoopBackoff(clock=clock)
        self._network_ready = False
        self._network_lock = asyncio.Lock()
        self._pull_failures: dict[str, float] = {}  # image -> when a pull last failed

    async def ensure_network(self) -> None:
        """Create this node's pod network once (subnet = the node's podCIDR when it has one)."""
        if self._network_ready:
            return
        async with self._network_lock:
            if self._network_ready:
                return
            subnet = self.pod_cidr()
            try:
                await self.runtime.ensure_network(self.settings.network_name, subnet)
            except DockerRuntimeError as error:
                if not subnet:
                    raise
                log.warning("cannot create network %s with the node's podCIDR %s (%s); letting Docker choose",
                            self.settings.network_name, subnet, error.message)
                await self.runtime.ensure_network(self.settings.network_name, None)
            if not self.pod_cidr() and self.report_pod_cidr is not None:
                # Docker chose the subnet: the Node says it, so the proxy can tell this cluster's pods
                # from another cluster's on the same machine (their Service rules must not mix).
                chosen = await self.runtime.network_subnet(self.settings.network_name)
                if chosen:
                    await self.report_pod_cidr(chosen)
            self._network_ready = True

    def forget_network(self) -> None:
        """Check the network again next time (it may have been removed behind our back)."""
        self._network_ready = False

    def pull_failed_recently(self, image: str) -> bool:
        failed_at = self._pull_failures.get(image)
        return failed_at is not None and time.monotonic() - failed_at < IMAGE_PULL_FAILURE_MEMORY_SECONDS

    def note_pull_failure(self, image: str) -> None:
        self._pull_failures[image] = time.monotonic()


def pod_reference(pod: Mapping[str, Any]) -> str:
    """format.Pod: `name_namespace(uid)`, how the kubelet names a pod in messages."""
    metadata = pod.get("metadata") or {}
    return f"{metadata.get('name')}_{metadata.get('namespace')}({metadata.get('uid')})"


def port_bindings(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The sandbox's published ports: every containerPort with a hostPort, in the docker SDK's form."""
    bindings: dict[str, Any] = {}
    for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        for port in container.get("ports") or []:
            host_port = port.get("hostPort")
            if not host_port:
                continue
            key = f"{port['containerPort']}/{(port.get('protocol') or 'TCP').lower()}"
            bindings[key] = (port["hostIP"], host_port) if port.get("hostIP") else host_port
    return bindings


def cpu_millis(value: Any) -> int | None:
    if value is None:
        return None
    return math.ceil(parse_quantity(value) * 1000)


def memory_bytes(value: Any) -> int | None:
    if value is None:
        return None
    return int(parse_quantity(value))


def container_user(container: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> str | None:
    """`runAsUser[:runAsGroup]` from the container's securityContext, else the pod's."""
    pod_context = pod_spec.get("securityContext") or {}
    context = container.get("securityContext") or {}
    user = context.get("runAsUser", pod_context.get("runAsUser"))
    group = context.get("runAsGroup", pod_context.get("runAsGroup"))
    if user is None:
        return None
    return f"{user}:{group}" if group is not None else str(user)


def termination_grace_seconds(pod: Mapping[str, Any]) -> int:
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionGracePeriodSeconds") is not None:
        return int(metadata["deletionGracePeriodSeconds"])
    grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return int(grace) if grace is not None else DEFAULT_GRACE_SECONDS


class PodWorker:
    """Converges the containers of one pod (one uid) until the pod is gone from this node."""

    def __init__(self, context: PodWorkerContext, *, uid: str, key: str) -> None:
        self.context = context
        self.uid = uid
        self.key = key
        self.pod: dict[str, Any] | None = None
        self.last_status: dict[str, Any] | None = None
        self.waiting_reasons: dict[str, WaitingReason] = {}
        self._wakeup = asyncio.Event()
        self._deadline: float | None = None
        self._volume_paths: dict[str, Path] | None = None
        self._volumes_refreshed = 0.0
        self._sandbox_failures = 0
        self._sandbox_retry_at = 0.0
        self._sync_failures = 0
        self._reported_dead: set[str] = set()

    # -- scheduling ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wakeup.set()

    def container_died(self, container_id: str) -> None:
        """The engine announced the death of one of the pod's containers: look at once, and believe it."""
        self._reported_dead.add(container_id)
        self.wake()

    def wake_after(self, seconds: float) -> None:
        """Sync again within `seconds` (the earliest request wins)."""
        deadline = time.monotonic() + max(0.0, seconds)
        if self._deadline is None or deadline < self._deadline:
            self._deadline = deadline

    async def run(self) -> None:
        """Sync whenever woken, until the pod is gone from this node."""
        self.wake()
        while True:
            timeout = RESYNC_SECONDS
            if self._deadline is not None:
                timeout = max(0.0, min(timeout, self._deadline - time.monotonic()))
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                pass
            self._wakeup.clear()
            self._deadline = None
            try:
                finished = await self.sync()
                self._sync_failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a failed sync is retried with back-off, never fatal to the kubelet
                self._sync_failures += 1
                delay = min(0.5 * 2 ** self._sync_failures, 30.0)
                if isinstance(error, DockerRuntimeError | ApiUnavailable | APIError):
                    log.warning("pod %s: sync failed, retrying in %.1fs: %s", self.key, delay, error)
                else:
                    log.exception("pod %s: sync failed unexpectedly, retrying in %.1fs", self.key, delay)
                self.wake_after(delay)
                continue
            if finished:
                return

    # -- one sync --------------------------------------------------------------------------------

    async def sync(self) -> bool:
        """Converge once; True when the pod is gone from this node for good (the worker ends)."""
        context = self.context
        pod = context.pods.get(self.key)
        if pod is None or (pod.get("metadata") or {}).get("uid") != self.uid:
            await self.remove_from_node(reason="the pod no longer exists")
            return True
        self.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            await self._terminate(pod)
            return await self._confirm_deletion(pod)
        containers = await self._observe()
        log.debug("pod %s: sync sees %s", self.key,
                  ", ".join(f"{info.container_name}#{info.restart_count}={info.state}" for info in containers))
        if self._is_terminal(pod):
            if await self._stop_running(pod, PodContainers.group(containers)):
                containers = await self._observe()
            self._publish(pod, containers)
            return False
        if await self._converge(pod, containers):
            containers = await self._observe()
            containers = await self._prune(containers)
        self._update_probes(pod, containers)
        status = self._publish(pod, containers)
        if status["phase"] in TERMINAL_PHASES:
            self.wake()  # the next sync stops what still runs (the sandbox) and keeps the phase
        return False

    def _is_terminal(self, pod: Mapping[str, Any]) -> bool:
        phases = ((pod.get("status") or {}).get("phase"), (self.last_status or {}).get("phase"))
        return any(phase in TERMINAL_PHASES for phase in phases)

    async def _observe(self) -> list[ContainerInfo]:
        containers = await self.context.runtime.list_containers(pod_uid=self.uid)
        observed = []
        for info in containers:
            # A failed start leaves the state `created` with an error, which a cached inspect would hide; and
            # the engine lists a container as running for a moment after announcing its death.
            if info.state == "created" or (info.running and info.id in self._reported_dead):
                try:
                    info = await self.context.runtime.inspect(info.id)
                except ContainerNotFound:
                    continue
            if not info.running:
                self._reported_dead.discard(info.id)
            observed.append(info)
        listed = {info.id for info in observed}
        self._reported_dead &= listed
        if self._reported_dead:
            self.wake_after(0.2)
        return observed

    def _publish(self, pod: Mapping[str, Any], containers: list[ContainerInfo]) -> dict[str, Any]:
        started, readiness = self.context.probes.results_for(self.uid)
        status = compute_pod_status(
            pod=pod,
            containers=containers,
            waiting_reasons=self.waiting_reasons,
            readiness=readiness,
            started=started,
            host_ip=self.context.settings.host_ip,
            previous_status=self.last_status,
            now=datetime.fromtimestamp(self.context.clock(), UTC),
        )
        self.last_status = status
        metadata = pod["metadata"]
        self.context.status_writer.submit(namespace=metadata["namespace"], name=metadata["name"], uid=self.uid,
                                          status=status, stored=pod.get("status"))
        return status

    def _update_probes(self, pod: Mapping[str, Any], containers: list[ContainerInfo]) -> None:
        spec = pod.get("spec") or {}
        observed = PodContainers.group(containers)
        sandbox = observed.running_sandbox
        probed = []
        for container in [c for c in spec.get("initContainers") or [] if is_sidecar(c)] + list(
                spec.get("containers") or []):
            latest = observed.latest(container["name"])
            if latest is not None:
                probed.append((container, latest))
        pod_ip = sandbox.ip if sandbox is not None else None
        if spec.get("hostNetwork") and sandbox is not None:
            pod_ip = self.context.settings.host_ip
        self.context.probes.update_pod(pod, probed, pod_ip)

    # -- converging ------------------------------------------------------------------------------

    async def _converge(self, pod: dict[str, Any], containers: list[ContainerInfo]) -> bool:
        """One pass of syncPod; True when containers were created, started or stopped."""
        spec = pod.get("spec") or {}
        observed = PodContainers.group(containers)
        changed = await self._stop_strays(pod, observed)
        if changed:
            observed = PodContainers.group(await self._observe())
        if not await self._ensure_volumes(pod, observed):
            return changed
        sandbox = observed.running_sandbox
        if sandbox is None:
            if self._pod_is_done(spec, observed):
                return changed
            sandbox = await self._create_sandbox(pod, observed)
            if sandbox is None:
                return changed
            changed = True
        initialized, init_changed = await self._run_init_containers(pod, observed, sandbox)
        changed = changed or init_changed
        if initialized:
            changed = await self._run_app_containers(pod, observed, sandbox) or changed
        return changed

    async def _stop_strays(self, pod: Mapping[str, Any], observed: PodContainers) -> bool:
        """Stop containers still running in a sandbox that is not the pod's running one (it died)."""
        sandbox = observed.running_sandbox
        strays = [info for instances in observed.by_name.values() for info in instances
                  if info.running and (sandbox is None or info.sandbox_id != sandbox.id)]
        for info in strays:
            self.context.recorder.record(pod, NORMAL, "Killing", f"Stopping container {info.container_name}")
        await asyncio.gather(*(self.context.runtime.stop_container(info.id, timeout_seconds=MINIMUM_GRACE_SECONDS)
                               for info in strays))
        return bool(strays)

    def _pod_is_done(self, spec: Mapping[str, Any], observed: PodContainers) -> bool:
        """No new sandbox for a pod whose containers all finished for good (computePodActions' rule)."""
        if observed.sandbox is None:
            return False
        restart_policy = spec.get("restartPolicy") or "Always"
        if restart_policy == "Never" and observed.by_name:
            return True
        if restart_policy == "OnFailure":
            latest = [observed.latest(c["name"]) for c in spec.get("containers") or []]
            return all(info is not None and has_exited(info) and exit_code_of(info) == 0 for info in latest)
        return False

    async def _ensure_volumes(self, pod: Mapping[str, Any], observed: PodContainers) -> bool:
        now = time.monotonic()
        if self._volume_paths is not None and now - self._volumes_refreshed < VOLUME_REFRESH_SECONDS:
            return True
        sandbox = observed.running_sandbox
        namespace = pod["metadata"]["namespace"]
        try:
            self._volume_paths = await self.context.volumes.setup(
                pod, fetch=lambda kind, name: self._get_object(kind, namespace, name),
                pod_ip=sandbox.ip if sandbox is not None else None, host_ip=self.context.settings.host_ip,
            )
            self._volumes_refreshed = now
            return True
        except VolumeError as error:
            message, retry = error.message, error.retry_seconds
        except OSError as error:
            message, retry = f"MountVolume.SetUp failed: {error}", None
        self.context.recorder.record(pod, WARNING, "FailedMount", message)
        if self._volume_paths is not None:
            return True  # keep the containers running on the content they have
        self.wake_after(retry or CONFIG_ERROR_RETRY_SECONDS)
        return False

    async def _get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        resource = {"configmaps": CONFIGMAPS, "secrets": SECRETS, "persistentvolumeclaims": PERSISTENTVOLUMECLAIMS,
                    "persistentvolumes": PERSISTENTVOLUMES}[kind]
        try:
            return await self.context.client.get(resource, name, namespace=namespace)
        except NotFound:
            return None
        except (ApiUnavailable, APIError) as error:
            singular = {"configmaps": "configMap", "secrets": "secret"}.get(kind, resource.kind)
            raise VolumeError(name, f"couldn't get {singular} {namespace}/{name}: {error}") from error

    async def _create_sandbox(self, pod: Mapping[str, Any], observed: PodContainers) -> ContainerInfo | None:
        context = self.context
        if time.monotonic() < self._sandbox_retry_at:
            return None
        metadata, spec = pod["metadata"], pod.get("spec") or {}
        previous = observed.sandbox
        if previous is not None:
            context.recorder.record(pod, NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        network = "host" if spec.get("hostNetwork") else context.settings.network_name
        nameservers, searches, options = pod_dns_config(pod, cluster_dns=list(context.settings.cluster_dns),
                                                        cluster_domain=context.settings.cluster_domain)
        try:
            if not spec.get("hostNetwork"):
                await context.ensure_network()
            sandbox = await context.runtime.create_sandbox(
                pod_namespace=metadata["namespace"],
                pod_name=metadata["name"],
                pod_uid=self.uid,
                hostname=spec.get("hostname") or metadata["name"],
                image=context.settings.pod_infra_image,
                network=network,
                port_bindings=port_bindings(spec),
                dns=nameservers or None,
                dns_search=searches or None,
                dns_options=options or None,
                attempt=previous.restart_count + 1 if previous is not None else 0,
            )
        except DockerRuntimeError as error:
            context.forget_network()
            self._sandbox_failures += 1
            delay = min(2.0 ** self._sandbox_failures, 60.0)
            self._sandbox_retry_at = time.monotonic() + delay
            context.recorder.record(pod, WARNING, "FailedCreatePodSandBox",
                                    f"Failed to create pod sandbox: {error.message}")
            log.warning("pod %s: creating the sandbox failed, retrying in %.0fs: %s", self.key, delay, error.message)
            self.wake_after(delay)
            return None
        self._sandbox_failures = 0
        log.info("pod %s: sandbox %s up with IP %s", self.key, sandbox.id[:12], sandbox.ip)
        for old in observed.sandboxes:
            await context.runtime.remove_container(old.id)
        return sandbox

    async def _run_init_containers(
        self, pod: dict[str, Any], observed: PodContainers, sandbox: ContainerInfo
    ) -> tuple[bool, bool]:
        """Run the init containers in order; (all done, anything changed)."""
        spec = pod.get("spec") or {}
        restart_policy = spec.get("restartPolicy") or "Always"
        changed = False
        for container in spec.get("initContainers") or []:
            name = container["name"]
            # A new sandbox runs the init containers again: only its own instances count.
            here = [info for info in observed.instances(name) if info.sandbox_id == sandbox.id]
            latest_here = here[0] if here else None
            latest = latest_here or observed.latest(name)
            if is_sidecar(container):
                if latest_here is not None and latest_here.running:
                    if await self._kill_if_needed(pod, container, latest_here, restart=True):
                        return False, True
                    if container.get("startupProbe") is not None and not self.context.probes.started(latest_here.id):
                        return False, changed
                    continue
                if latest_here is not None and latest_here.state == "created" and not latest_here.error:
                    return False, await self._start_created(pod, container, latest_here)
                changed = await self._start_or_back_off(pod, container, role=ROLE_INIT, latest=latest,
                                                        sandbox=sandbox) or changed
                return False, changed
            if latest_here is None:
                restart_count = latest.restart_count + 1 if latest is not None else 0
                started = await self._start_container(pod, container, role=ROLE_INIT, restart_count=restart_count,
                                                      sandbox=sandbox)
                return False, started or changed
            if latest_here.running:
                return False, changed
            if latest_here.state == "created" and not latest_here.error:
                return False, await self._start_created(pod, container, latest_here)
            if exit_code_of(latest_here) == 0:
                continue
            if restart_policy == "Never":
                return False, changed  # the pod has failed
            changed = await self._start_or_back_off(pod, container, role=ROLE_INIT, latest=latest_here,
                                                    sandbox=sandbox) or changed
            return False, changed
        return True, changed

    async def _run_app_containers(self, pod: dict[str, Any], observed: PodContainers, sandbox: ContainerInfo) -> bool:
        spec = pod.get("spec") or {}
        restart_policy = spec.get("restartPolicy") or "Always"
        changed = False
        for container in spec.get("containers") or []:
            latest = observed.latest(container["name"])
            if latest is not None and latest.running:
                if not await self._kill_if_needed(pod, container, latest, restart=restart_policy != "Never"):
                    continue
                changed = True
                try:
                    latest = await self.context.runtime.inspect(latest.id)
                except ContainerNotFound:
                    latest = None
            if latest is not None and latest.state == "created" and not latest.error:
                changed = await self._start_created(pod, container, latest) or changed
                continue
            if not should_restart(latest, restart_policy=restart_policy, deleting=False):
                continue
            changed = await self._start_or_back_off(pod, container, role=ROLE_CONTAINER, latest=latest,
                                                    sandbox=sandbox) or changed
        return changed

    async def _kill_if_needed(
        self, pod: Mapping[str, Any], container: Mapping[str, Any], info: ContainerInfo, *, restart: bool
    ) -> bool:
        """Stop a running container whose spec changed or whose liveness/startup probe failed."""
        reason = None
        if info.spec_hash and info.spec_hash != hash_container_spec(dict(container)):
            reason = f"Container {container['name']} definition changed"
        else:
            reason = self.context.probes.failure(info.id)
        if reason is None:
            return False
        message = f"{reason}, will be restarted" if restart else reason
        grace = termination_grace_seconds(pod)
        probe = container.get("livenessProbe") or {}
        if "liveness" in reason and probe.get("terminationGracePeriodSeconds") is not None:
            grace = int(probe["terminationGracePeriodSeconds"])
        log.info("pod %s: %s", self.key, message)
        self.context.recorder.record(pod, NORMAL, "Killing", message)
        await self._stop_container(pod, container, info, grace_seconds=grace)
        return True

    async def _start_created(self, pod: Mapping[str, Any], container: Mapping[str, Any], info: ContainerInfo) -> bool:
        """Start a container that was created but never started (a kubelet stopped in between)."""
        try:
            await self.context.runtime.start_container(info.id)
        except DockerRuntimeError as error:
            self._fail_start(pod, container["name"], REASON_RUN_CONTAINER_ERROR, error.message)
            return True
        self.context.recorder.record(pod, NORMAL, "Started", f"Started container {container['name']}")
        self.waiting_reasons.pop(container["name"], None)
        return True

    async def _start_or_back_off(
        self, pod: Mapping[str, Any], container: Mapping[str, Any], *, role: str, latest: ContainerInfo | None,
        sandbox: ContainerInfo,
    ) -> bool:
        """Start the next instance, unless the crash-loop back-off of the last exit has not run out."""
        context = self.context
        name = container["name"]
        metadata = pod["metadata"]
        spec_hash = hash_container_spec(dict(container))
        key = crash_backoff_key(pod_name=metadata["name"], pod_namespace=metadata["namespace"], pod_uid=self.uid,
                                container_name=name, spec_hash=spec_hash)
        if latest is not None and has_exited(latest):
            finished = finished_at_of(latest).timestamp()
            if context.crash_backoff.is_in_backoff_since(key, finished):
                delay = format_duration(context.crash_backoff.get(key))
                reference = pod_reference(pod)
                self.waiting_reasons[name] = WaitingReason(
                    REASON_CRASH_LOOP_BACK_OFF, f"back-off {delay} restarting failed container={name} pod={reference}")
                context.recorder.record(pod, WARNING, "BackOff",
                                        f"Back-off restarting failed container {name} in pod {reference}")
                self.wake_after(context.crash_backoff.remaining_seconds(key, finished) + 0.05)
                return False
            context.crash_backoff.next(key, finished)
        restart_count = latest.restart_count + 1 if latest is not None else 0
        return await self._start_container(pod, container, role=role, restart_count=restart_count, sandbox=sandbox,
                                           spec_hash=spec_hash)

    async def _start_container(
        self,
        pod: Mapping[str, Any],
        container: Mapping[str, Any],
        *,
        role: str,
        restart_count: int,
        sandbox: ContainerInfo,
        spec_hash: str | None = None,
    ) -> bool:
        """Pull if needed, create and start one container instance; False when it did not get created."""
        context = self.context
        name = container["name"]
        metadata, spec = pod["metadata"], pod.get("spec") or {}
        if not await self._ensure_image(pod, container):
            return False
        try:
            environment = await self._environment(pod, container, sandbox.ip)
            volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
            mounts = mounts_for(container, volumes=volumes, volume_paths=self._volume_paths or {},
                                environment=environment)
        except (EnvError, VolumeError) as error:
            self._fail_start(pod, name, REASON_CREATE_CONTAINER_CONFIG_ERROR, error.message)
            self.wake_after(CONFIG_ERROR_RETRY_SECONDS)
            return False
        command, args = expand_command(container, environment)
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        try:
            info = await context.runtime.create_container(
                sandbox_id=sandbox.id,
                pod_namespace=metadata["namespace"],
                pod_name=metadata["name"],
                pod_uid=self.uid,
                container_name=name,
                role=role,
                restart_count=restart_count,
                image=container["image"],
                command=command,
                args=args,
                env=environment,
                working_dir=container.get("workingDir"),
                mounts=mounts,
                cpu_limit_millis=cpu_millis(limits.get("cpu")),
                cpu_request_millis=cpu_millis(requests.get("cpu")),
                memory_limit_bytes=memory_bytes(limits.get("memory")),
                spec_hash=spec_hash or hash_container_spec(dict(container)),
                tty=bool(container.get("tty")),
                stdin=bool(container.get("stdin")),
                user=container_user(container, spec),
                share_process_namespace=bool(spec.get("shareProcessNamespace")),
            )
        except DockerRuntimeError as error:
            self._fail_start(pod, name, REASON_CREATE_CONTAINER_ERROR, error.message)
            self.wake_after(CONFIG_ERROR_RETRY_SECONDS)
            return False
        context.recorder.record(pod, NORMAL, "Created", f"Created container: {name}")
        try:
            await context.runtime.start_container(info.id)
        except DockerRuntimeError as error:
            self._fail_start(pod, name, REASON_RUN_CONTAINER_ERROR, error.message)
            self.wake_after(1.0)
            return True
        context.recorder.record(pod, NORMAL, "Started", f"Started container {name}")
        self.waiting_reasons.pop(name, None)
        log.info("pod %s: started container %s (restart %d)", self.key, name, restart_count)
        return True

    def _fail_start(self, pod: Mapping[str, Any], container_name: str, reason: str, message: str) -> None:
        self.waiting_reasons[container_name] = WaitingReason(reason, message)
        self.context.recorder.record(pod, WARNING, "Failed", f"Error: {message}")
        log.info("pod %s: container %s: %s: %s", self.key, container_name, reason, message)

    async def _environment(self, pod: Mapping[str, Any], container: Mapping[str, Any], pod_ip: str | None) -> dict:
        namespace = pod["metadata"]["namespace"]
        wanted = referenced_objects(container)
        config_maps = {name: await self._get_env_object(CONFIGMAPS, namespace, name) for name in wanted.config_maps}
        secrets = {name: await self._get_env_object(SECRETS, namespace, name) for name in wanted.secrets}
        services = service_environment(self.context.services(), namespace=namespace,
                                       enable_service_links=(pod.get("spec") or {}).get("enableServiceLinks", True))
        return resolve_env(container=container, pod=pod, config_maps=config_maps, secrets=secrets, pod_ip=pod_ip,
                           host_ip=self.context.settings.host_ip, node_allocatable=self.context.node_allocatable(),
                           service_environment=services)

    async def _get_env_object(self, resource: Any, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.context.client.get(resource, name, namespace=namespace)
        except NotFound:
            return None
        except (ApiUnavailable, APIError) as error:
            raise EnvError(f"couldn't get {resource.kind} {namespace}/{name}: {error}") from error

    async def _ensure_image(self, pod: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
        """The image pull policy (images.py), with Kubernetes' events and waiting reasons; True when present."""
        context = self.context
        name, image = container["name"], container.get("image") or ""
        recorder = context.recorder
        try:
            parse_image(image)
        except ValueError as error:
            message = f'Failed to apply default image tag "{image}": {error}'
            self.waiting_reasons[name] = WaitingReason(REASON_INVALID_IMAGE_NAME, message)
            recorder.record(pod, WARNING, "InspectFailed", message)
            return False
        policy = container.get("imagePullPolicy") or default_pull_policy(image)
        present = await context.runtime.image_present(image)
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.waiting_reasons[name] = WaitingReason(REASON_ERR_IMAGE_NEVER_PULL, message)
            recorder.record(pod, WARNING, REASON_ERR_IMAGE_NEVER_PULL, message)
            self.wake_after(CONFIG_ERROR_RETRY_SECONDS * 2)
            return False
        already_present = f'Container image "{image}" already present on machine'
        if not should_pull(policy, image, present) or (present and context.pull_failed_recently(image)):
            recorder.record(pod, NORMAL, "Pulled", already_present)
            return True
        backoff_key = f"{self.uid}_{image}"
        if context.image_backoff.in_backoff(backoff_key):
            message = f'Back-off pulling image "{image}"'
            self.waiting_reasons[name] = WaitingReason(REASON_IMAGE_PULL_BACKOFF, message)
            recorder.record(pod, NORMAL, "BackOff", message)
            recorder.record(pod, WARNING, "Failed", f"Error: {REASON_IMAGE_PULL_BACKOFF}")
            self.wake_after(context.image_backoff.remaining_seconds(backoff_key) + 0.05)
            return False
        recorder.record(pod, NORMAL, "Pulling", f'Pulling image "{image}"')
        began = time.monotonic()
        try:
            await context.runtime.pull(image)
        except ImagePullError as error:
            if present:
                # No registry answers (air-gapped), but the node has the image: run what is here.
                context.note_pull_failure(image)
                log.info("pod %s: pulling %s failed (%s); using the image present on this node",
                         self.key, image, error.message)
                recorder.record(pod, NORMAL, "Pulled", already_present)
                return True
            context.image_backoff.record_failure(backoff_key)
            self.waiting_reasons[name] = WaitingReason(REASON_ERR_IMAGE_PULL, error.message)
            recorder.record(pod, WARNING, "Failed", f'Failed to pull image "{image}": {error.message}')
            recorder.record(pod, WARNING, "Failed", f"Error: {REASON_ERR_IMAGE_PULL}")
            # Look again shortly, so the status moves on to ImagePullBackOff as Kubernetes' does.
            self.wake_after(1.0)
            return False
        context.image_backoff.reset(backoff_key)
        elapsed = time.monotonic() - began
        recorder.record(pod, NORMAL, "Pulled", f'Successfully pulled image "{image}" in {elapsed:.3f}s')
        return True

    async def _prune(self, containers: list[ContainerInfo]) -> list[ContainerInfo]:
        """Remove dead instances beyond the newest two per container, and dead sandboxes but the newest."""
        observed = PodContainers.group(containers)
        doomed = [info for instances in observed.by_name.values() for info in instances[INSTANCES_KEPT:]
                  if not info.running]
        doomed += [info for info in observed.sandboxes[1:] if not info.running]
        for info in doomed:
            await self.context.runtime.remove_container(info.id)
        gone = {info.id for info in doomed}
        return [info for info in containers if info.id not in gone]

    # -- stopping --------------------------------------------------------------------------------

    async def _stop_container(
        self, pod: Mapping[str, Any], container: Mapping[str, Any] | None, info: ContainerInfo, *, grace_seconds: int
    ) -> None:
        """Run the preStop hook (if any) within the grace period, then SIGTERM, then SIGKILL when it runs out."""
        began = time.monotonic()
        pre_stop = ((container or {}).get("lifecycle") or {}).get("preStop")
        if pre_stop and grace_seconds > 0:
            sandbox_ip = None
            if self.last_status:
                sandbox_ip = self.last_status.get("podIP")
            outcome = await run_handler(pre_stop, container=container or {}, container_id=info.id, pod_ip=sandbox_ip,
                                        runtime=self.context.runtime, session=self.context.probes.session(),
                                        timeout_seconds=grace_seconds)
            if not outcome.success:
                self.context.recorder.record(pod, WARNING, "FailedPreStopHook",
                                             f"PreStopHook failed: {outcome.message}".strip())
        remaining = grace_seconds - (time.monotonic() - began)
        timeout = max(int(remaining), MINIMUM_GRACE_SECONDS) if grace_seconds > 0 else 0
        await self.context.runtime.stop_container(info.id, timeout_seconds=timeout)

    async def _stop_running(self, pod: Mapping[str, Any], observed: PodContainers) -> bool:
        """A finished pod: stop whatever still runs (sidecars, the sandbox); containers stay for their logs."""
        spec = pod.get("spec") or {}
        specs = {c["name"]: c for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or [])}
        running = [info for instances in observed.by_name.values() for info in instances if info.running]
        grace = termination_grace_seconds(pod)
        await asyncio.gather(*(self._stop_container(pod, specs.get(info.container_name), info, grace_seconds=grace)
                               for info in running))
        sandboxes = [info for info in observed.sandboxes if info.running]
        for sandbox in sandboxes:
            await self.context.runtime.stop_container(sandbox.id, timeout_seconds=0)
        if running or sandboxes:
            self.context.probes.remove_pod(self.uid)
        return bool(running or sandboxes)

    async def _terminate(self, pod: Mapping[str, Any]) -> None:
        """Graceful deletion: stop every container within the pod's grace period, then remove all of it."""
        context = self.context
        grace = termination_grace_seconds(pod)
        context.probes.remove_pod(self.uid)
        observed = PodContainers.group(await self._observe())
        spec = pod.get("spec") or {}
        specs = {c["name"]: c for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or [])}
        running = [info for instances in observed.by_name.values() for info in instances if info.running]
        for info in running:
            context.recorder.record(pod, NORMAL, "Killing", f"Stopping container {info.container_name}")
        if running:
            log.info("pod %s: stopping %d container(s), grace period %ds", self.key, len(running), grace)
        await asyncio.gather(*(self._stop_container(pod, specs.get(info.container_name), info, grace_seconds=grace)
                               for info in running))
        await self._remove_everything()

    async def _confirm_deletion(self, pod: Mapping[str, Any]) -> bool:
        """DELETE with grace 0 once nothing of the pod runs; True when the apiserver has let it go."""
        metadata = pod["metadata"]
        try:
            await self.context.client.delete(PODS, metadata["name"], namespace=metadata["namespace"],
                                             grace_period_seconds=0, preconditions={"uid": self.uid})
        except (NotFound, Conflict):
            pass  # already gone, or the name now belongs to another pod
        except (ApiUnavailable, APIError) as error:
            log.warning("pod %s: confirming the deletion failed, retrying: %s", self.key, error)
            self.wake_after(1.0)
            return False
        log.info("pod %s: deleted", self.key)
        return True

    async def remove_from_node(self, *, reason: str) -> None:
        """The pod is gone: stop (briefly) and remove everything it left on this node."""
        containers = await self.context.runtime.list_containers(pod_uid=self.uid)
        running = [info for info in containers if info.running and not info.is_sandbox]
        if containers:
            log.info("pod %s (uid %s): %s; removing its %d container(s)", self.key, self.uid, reason, len(containers))
        await asyncio.gather(*(self.context.runtime.stop_container(info.id, timeout_seconds=1) for info in running))
        self.context.probes.remove_pod(self.uid)
        await self._remove_everything()

    async def _remove_everything(self) -> None:
        context = self.context
        await context.runtime.remove_pod_containers(self.uid)
        await context.volumes.cleanup(self.uid)
        context.status_writer.forget(self.uid)
        if self.pod is not None:
            metadata = self.pod["metadata"]
            context.crash_backoff.forget_prefix(f"{metadata['name']}_{metadata['namespace']}_{self.uid}_")


class PodWorkers:
    """All pod workers of this kubelet, fed by the pod informer and by the Docker event stream."""

    def __init__(self, context: PodWorkerContext) -> None:
        self.context = context
        self._workers: dict[str, PodWorker] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    # -- informer handlers (sync: they only start and wake workers) ------------------------------

    def on_pod_add(self, pod: dict[str, Any]) -> None:
        self._ensure_worker(pod).wake()

    def on_pod_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        worker = self._ensure_worker(new)
        old_uid = (old.get("metadata") or {}).get("uid")
        if old_uid != worker.uid and old_uid in self._workers:
            self._workers[old_uid].wake()  # the name now belongs to a new pod: the old one goes
        if update_concerns_kubelet(old, new):
            worker.wake()

    def on_pod_delete(self, pod: dict[str, Any]) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        worker = self._workers.get(uid)
        if worker is not None:
            worker.wake()

    def wake(self, pod_uid: str) -> None:
        worker = self._workers.get(pod_uid)
        if worker is not None:
            worker.wake()

    def status_of(self, pod_uid: str) -> dict[str, Any] | None:
        """The status last computed for a pod (what `kubectl logs` checks), None if no worker has one."""
        worker = self._workers.get(pod_uid)
        return worker.last_status if worker is not None else None

    def __len__(self) -> int:
        return len(self._workers)

    def _ensure_worker(self, pod: dict[str, Any]) -> PodWorker:
        uid = pod["metadata"]["uid"]
        worker = self._workers.get(uid)
        if worker is None:
            worker = self._workers[uid] = PodWorker(self.context, uid=uid, key=key_of(pod))
            self._tasks[uid] = asyncio.get_running_loop().create_task(self._run_worker(worker), name=f"pod-{uid}")
        return worker

    async def _run_worker(self, worker: PodWorker) -> None:
        try:
            await worker.run()
        finally:
            self._workers.pop(worker.uid, None)
            self._tasks.pop(worker.uid, None)

    # -- startup and housekeeping ----------------------------------------------------------------

    async def remove_orphans(self) -> int:
        """Remove the containers and volumes of pods this node no longer runs; returns how many pods.

        At startup this is what makes a restarted kubelet adopt the containers of
        existing pods (their workers find them) and clean up after pods deleted
        while it was down. Only this cluster's and this node's containers are listed.
        """
        known = {(pod.get("metadata") or {}).get("uid") for pod in self.context.pods.list()} | set(self._workers)
        containers = await self.context.runtime.list_containers()
        orphans: dict[str, list[ContainerInfo]] = {}
        for info in containers:
            if info.pod_uid and info.pod_uid not in known:
                orphans.setdefault(info.pod_uid, []).append(info)
        removers = [PodWorker(self.context, uid=uid, key=f"{infos[0].pod_namespace}/{infos[0].pod_name}")
                    for uid, infos in orphans.items()]
        await asyncio.gather(*(remover.remove_from_node(reason="the pod no longer exists") for remover in removers))
        for uid in self.context.volumes.pod_uids_on_disk():
            if uid not in known and uid not in orphans:
                await self.context.volumes.cleanup(uid)
        return len(orphans)

    async def housekeeping(self) -> None:
        """Every 30 s: remove orphaned containers, trim the back-off tables."""
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                await self.remove_orphans()
            except DockerRuntimeError as error:
                log.warning("housekeeping failed: %s", error.message)
            self.context.crash_backoff.gc()
            self.context.image_backoff.gc()

    async def watch_docker_events(self) -> None:
        """Wake a pod's worker as soon as one of its containers dies (docker kill, OOM, a crash)."""
        delay = 0.5
        while True:
            try:
                async for event in self.context.runtime.events():
                    delay = 0.5
                    log.debug("docker event %s of %s/%s container %s", event.get("action"),
                              event.get("pod_namespace"), event.get("pod_name"), event.get("container_name"))
                    worker = self._workers.get(event.get("pod_uid") or "")
                    if worker is None or event.get("action") not in _WAKING_DOCKER_ACTIONS:
                        continue
                    if event.get("action") == "die" and event.get("container_id"):
                        worker.container_died(event["container_id"])
                    else:
                        worker.wake()
            except DockerRuntimeError as error:
                log.warning("docker event stream failed, reconnecting in %.1fs: %s", delay, error.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            # Events may have been missed while disconnected: let every worker look.
            for worker in list(self._workers.values()):
                worker.wake()

    async def stop(self) -> None:
        """Stop every worker without touching its containers (a kubelet restart leaves pods running)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def update_concerns_kubelet(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether an update concerns the kubelet: anything but the status (which the kubelet itself writes)."""
    def relevant(pod: Mapping[str, Any]) -> tuple:
        metadata = {key: value for key, value in (pod.get("metadata") or {}).items()
                    if key not in ("resourceVersion", "managedFields")}
        phase = (pod.get("status") or {}).get("phase")
        return metadata, pod.get("spec"), phase in TERMINAL_PHASES

    return relevant(old) != relevant(new)

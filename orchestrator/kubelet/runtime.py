"""The kubelet's container runtime: pods as labelled Docker containers, behind an asyncio API.

A pod is a sandbox container (the pause image, owner of the network namespace,
the pod IP and the published hostPorts) plus one container per init/app container
joined to it (`network_mode=container:<sandbox>`), as dockershim did. Every
container carries labels naming its cluster, node, pod and container, so a
restarted kubelet adopts what runs, and `DockerRuntime` only ever lists, and only
ever deletes by pod, the containers of its own cluster and node: two clusters or
nodes can share one engine.

The docker SDK is blocking: short calls run in a worker thread
(`asyncio.to_thread`); streams (logs, events, exec output) get a thread of their
own that is released by closing the stream's socket when the consumer stops. An attached
exec (`exec_attach`, kubectl exec) is a raw engine socket read on the event loop (attach.py).

Used by the kubelet's pod workers, its garbage collection and `kubectl logs/exec`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import docker
import docker.errors
import docker.types
import requests.exceptions

from orchestrator.kubelet.attach import AttachedExec
from orchestrator.kubelet.images import normalize_image, parse_image

LABEL_CLUSTER = "orc.cluster"
LABEL_NODE = "orc.node"
LABEL_POD_NAMESPACE = "orc.pod.namespace"
LABEL_POD_NAME = "orc.pod.name"
LABEL_POD_UID = "orc.pod.uid"
LABEL_CONTAINER_NAME = "orc.container.name"
LABEL_ROLE = "orc.role"
LABEL_RESTART_COUNT = "orc.container.restart-count"
LABEL_SPEC_HASH = "orc.container.hash"
LABEL_SANDBOX_ID = "orc.sandbox.id"
LABEL_NETWORK = "orc.network"

ROLE_SANDBOX = "sandbox"
ROLE_CONTAINER = "container"
ROLE_INIT = "init"
ROLES = (ROLE_SANDBOX, ROLE_CONTAINER, ROLE_INIT)
SANDBOX_CONTAINER_NAME = "POD"

# Kubernetes' default containerLogMaxSize/containerLogMaxFiles: logs never fill the disk.
_LOG_CONFIG = docker.types.LogConfig(type="json-file", config={"max-size": "10m", "max-file": "5"})
_DOCKER_ZERO_TIME = "0001-01-01T00:00:00Z"
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")
_CONTAINER_EVENTS = ("create", "start", "die", "oom", "destroy")
_STREAM_END = object()
# What the SDK raises when the engine cannot be reached or misbehaves (besides its own APIError).
_TRANSPORT_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


class DockerRuntimeError(Exception):
    """A runtime operation failed; the message is what the kubelet shows in events and container status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DockerRuntimeError):
    """The engine has no such object (container, image or network)."""


class ContainerNotFound(NotFoundError):
    """The container does not exist (any more)."""


class ImagePullError(DockerRuntimeError):
    """Pulling an image failed (always, where no registry is reachable); the kubelet reports ErrImagePull."""


class ImageNotPresent(NotFoundError):
    """A container was to be created from an image the engine does not have."""


class CreateContainerError(DockerRuntimeError):
    """The engine refused to create a container (reason CreateContainerError / FailedCreatePodSandBox)."""


class StartContainerError(DockerRuntimeError):
    """The engine created a container but could not start it (a missing executable, a taken hostPort)."""


class ExecTimeout(DockerRuntimeError):
    """An exec'd command did not finish in time (the command itself may still be running)."""


class BindMount(TypedDict, total=False):
    """A host path bind-mounted into a container (volumes, service-account tokens, /etc/hosts)."""

    source: str
    target: str
    read_only: bool


@dataclass(frozen=True)
class ContainerInfo:
    """One container of this node as the engine reports it, decoded from its labels and state."""

    id: str
    name: str
    pod_namespace: str
    pod_name: str
    pod_uid: str
    container_name: str
    role: str
    restart_count: int
    state: str  # created | running | paused | restarting | removing | exited | dead
    exit_code: int | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime | None
    image: str
    image_id: str
    spec_hash: str
    oom_killed: bool
    error: str  # the engine's message when a start failed
    ip: str | None  # sandboxes only: the pod IP
    sandbox_id: str | None  # containers only: the sandbox whose namespaces they share
    labels: dict[str, str] = field(default_factory=dict)
    pid: int = 0  # the main process while running: its /proc/<pid>/cgroup locates the container's cgroups

    @property
    def is_sandbox(self) -> bool:
        return self.role == ROLE_SANDBOX

    @property
    def running(self) -> bool:
        return self.state == "running"


def hash_container_spec(container_spec: dict[str, Any]) -> str:
    """A short stable hash of a container's spec (wire form), stored on the container so a changed spec is noticed."""
    canonical = json.dumps(container_spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def docker_container_name(
    *, cluster: str, node: str, pod_namespace: str, pod_name: str, container_name: str, pod_uid: str, attempt: int
) -> str:
    """`orc_<cluster>_<node>_<ns>_<pod>_<container>_<uid8>_<attempt>`: unique per attempt, readable in `docker ps`.

    The cluster is part of the name because names are engine-wide: two clusters
    with a node of the same name (and tests with fixed pod uids) must not collide.
    """
    parts = (cluster, node, pod_namespace, pod_name, container_name, pod_uid[:8], str(attempt))
    return "orc_" + "_".join(_NAME_UNSAFE.sub("-", part) for part in parts)


def container_info_from_inspect(attributes: dict[str, Any]) -> ContainerInfo:
    """Decode `docker inspect` output of a container this runtime created."""
    config = attributes.get("Config") or {}
    state = attributes.get("State") or {}
    labels = config.get("Labels") or {}
    role = labels.get(LABEL_ROLE, ROLE_CONTAINER)
    ip = None
    if role == ROLE_SANDBOX:
        networks = (attributes.get("NetworkSettings") or {}).get("Networks") or {}
        preferred = networks.get(labels.get(LABEL_NETWORK, "")) or next(iter(networks.values()), {})
        ip = (preferred or {}).get("IPAddress") or None
    status = state.get("Status", "unknown")
    return ContainerInfo(
        id=attributes["Id"],
        name=attributes.get("Name", "").lstrip("/"),
        pod_namespace=labels.get(LABEL_POD_NAMESPACE, ""),
        pod_name=labels.get(LABEL_POD_NAME, ""),
        pod_uid=labels.get(LABEL_POD_UID, ""),
        container_name=labels.get(LABEL_CONTAINER_NAME, ""),
        role=role,
        restart_count=_int_or_zero(labels.get(LABEL_RESTART_COUNT)),
        state=status,
        exit_code=state.get("ExitCode") if status in ("exited", "dead") else None,
        started_at=_parse_docker_time(state.get("StartedAt")),
        finished_at=_parse_docker_time(state.get("FinishedAt")),
        created_at=_parse_docker_time(attributes.get("Created")),
        image=config.get("Image", ""),
        image_id=attributes.get("Image", ""),
        spec_hash=labels.get(LABEL_SPEC_HASH, ""),
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or "",
        ip=ip,
        sandbox_id=labels.get(LABEL_SANDBOX_ID) or None,
        labels=dict(labels),
        pid=int(state.get("Pid") or 0),
    )


class DockerRuntime:
    """The containers of one node of one cluster on a Docker engine.

    Construct it once per kubelet; it keeps one `docker.DockerClient` (pass your
    own to reach another engine, e.g. `docker.DockerClient(base_url=...)`).
    """

    def __init__(self, *, cluster: str, node: str, docker_client: docker.DockerClient | None = None) -> None:
        self.cluster = cluster
        self.node = node
        try:
            self._client = docker_client or docker.from_env()
        except docker.errors.DockerException as error:
            raise DockerRuntimeError(f"cannot reach the Docker engine: {error}") from error
        self._owns_client = docker_client is None
        # Inspect results by (id, state): a container's details change only with its state.
        self._inspect_cache: dict[tuple[str, str], ContainerInfo] = {}
        self._network_lock = asyncio.Lock()

    @property
    def scope_labels(self) -> dict[str, str]:
        """The labels that make a container this node's."""
        return {LABEL_CLUSTER: self.cluster, LABEL_NODE: self.node}

    async def close(self) -> None:
        if self._owns_client:
            await asyncio.to_thread(self._client.close)

    # -- engine ---------------------------------------------------------------------------------

    async def ping(self) -> str:
        """The engine's version; raises DockerRuntimeError when the engine does not answer."""
        version = await self._call(self._client.api.version)
        return version.get("Version", "")

    async def info(self) -> dict[str, Any]:
        """What the node reports as capacity and node info."""
        engine_info = await self._call(self._client.api.info)
        keys = ("NCPU", "MemTotal", "ServerVersion", "KernelVersion", "OperatingSystem", "Architecture")
        return {key: engine_info.get(key) for key in keys}

    # -- networks -------------------------------------------------------------------------------

    async def ensure_network(self, name: str, subnet: str | None = None) -> None:
        """Create the bridge network `name` for this node's sandboxes unless it exists."""
        async with self._network_lock:
            if await self._find_network(name) is not None:
                return
            ipam = None
            if subnet:
                ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
            await self._call(
                self._client.api.create_network,
                name,
                driver="bridge",
                ipam=ipam,
                labels=dict(self.scope_labels),
                check_duplicate=True,
            )

    async def network_subnet(self, name: str) -> str | None:
        """The IPv4 subnet Docker gave the network `name` (None when it has none or does not exist)."""
        network = await self._find_network(name)
        for pool in (((network or {}).get("IPAM") or {}).get("Config") or []):
            subnet = pool.get("Subnet") or ""
            if subnet and ":" not in subnet:
                return subnet
        return None

    async def remove_network(self, name: str) -> None:
        """Remove the network `name` if it exists and belongs to this cluster (never anyone else's)."""
        network = await self._find_network(name)
        if network is None or (network.get("Labels") or {}).get(LABEL_CLUSTER) != self.cluster:
            return
        try:
            await self._call(self._client.api.remove_network, network["Id"])
        except NotFoundError:
            pass

    async def _find_network(self, name: str) -> dict[str, Any] | None:
        # The engine's name filter matches substrings, so compare exactly.
        networks = await self._call(self._client.api.networks, names=[name])
        return next((network for network in networks if network.get("Name") == name), None)

    # -- listing and inspecting ------------------------------------------------------------------

    async def list_containers(self, *, pod_uid: str | None = None, all: bool = True) -> list[ContainerInfo]:
        """This node's containers (of every pod, or of `pod_uid`), running or not unless `all=False`."""
        return await asyncio.to_thread(self._list_containers_blocking, pod_uid, all)

    def _list_containers_blocking(self, pod_uid: str | None, include_stopped: bool) -> list[ContainerInfo]:
        label_filters = [f"{key}={value}" for key, value in self.scope_labels.items()]
        if pod_uid is not None:
            label_filters.append(f"{LABEL_POD_UID}={pod_uid}")
        summaries = self._translate(self._client.api.containers, all=include_stopped, filters={"label": label_filters})
        containers: list[ContainerInfo] = []
        for summary in summaries:
            key = (summary["Id"], summary.get("State", ""))
            info = self._inspect_cache.get(key)
            if info is None:
                try:
                    info = container_info_from_inspect(
                        self._translate(self._client.api.inspect_container, summary["Id"])
                    )
                except ContainerNotFound:
                    continue  # removed between the list and the inspect
                if info.state == key[1]:
                    self._inspect_cache[key] = info
            containers.append(info)
        listed_ids = {summary["Id"] for summary in summaries}
        if include_stopped and pod_uid is None:
            # Only a full listing tells which cached containers are gone.
            for stale_key in [key for key in self._inspect_cache if key[0] not in listed_ids]:
                self._inspect_cache.pop(stale_key, None)
        return containers

    async def inspect(self, container_id: str) -> ContainerInfo:
        """The current state of one container; raises ContainerNotFound."""
        attributes = await self._call(self._client.api.inspect_container, container_id)
        return container_info_from_inspect(attributes)

    async def sandbox_ip(self, container_id: str) -> str:
        """The pod IP held by a sandbox; raises DockerRuntimeError when it has none (not running)."""
        info = await self.inspect(container_id)
        if not info.ip:
            raise DockerRuntimeError(f"sandbox {info.name} has no IP address (state {info.state})")
        return info.ip

    # -- creating and running ----------------------------------------------------------------------

    async def create_sandbox(
        self,
        *,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        hostname: str,
        image: str,
        network: str,
        port_bindings: dict[str, Any] | None = None,
        dns: list[str] | None = None,
        dns_search: list[str] | None = None,
        dns_options: list[str] | None = None,
        extra_hosts: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        attempt: int = 0,
    ) -> ContainerInfo:
        """Create and start the sandbox of a pod (RunPodSandbox) and return it, with its IP.

        `port_bindings` publishes hostPorts in the docker SDK's `ports` form:
        `{"8080/tcp": 30080}` or `{"8080/tcp": ("127.0.0.1", 30080)}`. `labels`
        (e.g. the pod's labels) are added but never replace the runtime's own.
        A sandbox that cannot start (a taken hostPort) is removed again before
        StartContainerError is raised, so nothing half-made stays behind.
        """
        all_labels = {**(labels or {}), **self._pod_labels(pod_namespace, pod_name, pod_uid)}
        all_labels.update(
            {
                LABEL_CONTAINER_NAME: SANDBOX_CONTAINER_NAME,
                LABEL_ROLE: ROLE_SANDBOX,
                LABEL_RESTART_COUNT: str(attempt),
                LABEL_NETWORK: network,
            }
        )
        name = docker_container_name(
            cluster=self.cluster,
            node=self.node,
            pod_namespace=pod_namespace,
            pod_name=pod_name,
            container_name=SANDBOX_CONTAINER_NAME,
            pod_uid=pod_uid,
            attempt=attempt,
        )
        create_options: dict[str, Any] = {
            "image": normalize_image(image),
            "name": name,
            "hostname": hostname[:63],
            "labels": all_labels,
            "detach": True,
            "network": network,
            # The pod's containers join the sandbox's IPC namespace, which Docker allows only when asked.
            "ipc_mode": "shareable",
            "ports": port_bindings or {},
            "dns": dns,
            "dns_search": dns_search,
            "dns_opt": dns_options,
            "extra_hosts": extra_hosts,
            "log_config": _LOG_CONFIG,
            "restart_policy": {"Name": "no"},
        }
        container_id = (await asyncio.to_thread(self._create_blocking, create_options))["Id"]
        try:
            await self.start_container(container_id)
        except DockerRuntimeError:
            await self.remove_container(container_id)
            raise
        return await self.inspect(container_id)

    async def create_container(
        self,
        *,
        sandbox_id: str,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        container_name: str,
        role: str = ROLE_CONTAINER,
        restart_count: int = 0,
        image: str,
        command: list[str] | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        working_dir: str | None = None,
        mounts: Iterable[BindMount] = (),
        cpu_limit_millis: int | None = None,
        cpu_request_millis: int | None = None,
        memory_limit_bytes: int | None = None,
        spec_hash: str = "",
        tty: bool = False,
        stdin: bool = False,
        user: str | None = None,
        share_process_namespace: bool = False,
    ) -> ContainerInfo:
        """Create (not start) one container of a pod inside its sandbox's network and IPC namespaces.

        Kubernetes semantics: `command` replaces the image's ENTRYPOINT and, unless
        `args` is given too, drops its CMD; `args` alone replaces only the CMD.
        Raises ImageNotPresent (the kubelet pulls first), CreateContainerError, and
        ValueError for a malformed image reference (InvalidImageName).
        """
        if role not in (ROLE_CONTAINER, ROLE_INIT):
            raise ValueError(f"role must be {ROLE_CONTAINER!r} or {ROLE_INIT!r}, not {role!r}")
        all_labels = self._pod_labels(pod_namespace, pod_name, pod_uid)
        all_labels.update(
            {
                LABEL_CONTAINER_NAME: container_name,
                LABEL_ROLE: role,
                LABEL_RESTART_COUNT: str(restart_count),
                LABEL_SPEC_HASH: spec_hash,
                LABEL_SANDBOX_ID: sandbox_id,
            }
        )
        name = docker_container_name(
            cluster=self.cluster,
            node=self.node,
            pod_namespace=pod_namespace,
            pod_name=pod_name,
            container_name=container_name,
            pod_uid=pod_uid,
            attempt=restart_count,
        )
        create_options: dict[str, Any] = {
            "image": normalize_image(image),
            "name": name,
            "labels": all_labels,
            "detach": True,
            "environment": dict(env or {}),
            "working_dir": working_dir or None,
            "volumes": _binds(mounts),
            "network_mode": f"container:{sandbox_id}",
            "ipc_mode": f"container:{sandbox_id}",
            "tty": tty,
            "stdin_open": stdin,
            "user": user,
            "log_config": _LOG_CONFIG,
            "restart_policy": {"Name": "no"},
            **_entrypoint_and_cmd(command, args),
            **_resource_limits(cpu_limit_millis, cpu_request_millis, memory_limit_bytes),
        }
        if share_process_namespace:
            create_options["pid_mode"] = f"container:{sandbox_id}"
        return container_info_from_inspect(await asyncio.to_thread(self._create_blocking, create_options))

    def _create_blocking(self, create_options: dict[str, Any]) -> dict[str, Any]:
        """Create a container; a leftover of ours with the same name (a create whose answer was lost) is replaced."""
        try:
            return self._create_once(create_options)
        except docker.errors.APIError as error:
            if error.status_code != 409 or not self._is_ours(create_options["name"]):
                raise CreateContainerError(_engine_message(error)) from error
        except _TRANSPORT_ERRORS as error:
            raise DockerRuntimeError(str(error)) from error
        self._remove_blocking(create_options["name"])
        try:
            return self._create_once(create_options)
        except docker.errors.APIError as error:
            raise CreateContainerError(_engine_message(error)) from error
        except _TRANSPORT_ERRORS as error:
            raise DockerRuntimeError(str(error)) from error

    def _create_once(self, create_options: dict[str, Any]) -> dict[str, Any]:
        """Create and return the new container's inspect attributes."""
        try:
            container = self._client.containers.create(**create_options)
        except docker.errors.ImageNotFound as error:
            raise ImageNotPresent(
                f"image {create_options['image']!r} is not present: {_engine_message(error)}"
            ) from error
        return container.attrs

    def _is_ours(self, container_name: str) -> bool:
        try:
            attributes = self._client.api.inspect_container(container_name)
        except docker.errors.NotFound:
            return False
        labels = (attributes.get("Config") or {}).get("Labels") or {}
        return all(labels.get(key) == value for key, value in self.scope_labels.items())

    async def start_container(self, container_id: str) -> None:
        """Start a created container; raises StartContainerError with the engine's reason."""
        try:
            await asyncio.to_thread(self._client.api.start, container_id)
        except docker.errors.NotFound as error:
            raise ContainerNotFound(_engine_message(error)) from error
        except docker.errors.APIError as error:
            raise StartContainerError(_engine_message(error)) from error
        except _TRANSPORT_ERRORS as error:
            raise DockerRuntimeError(str(error)) from error

    async def stop_container(self, container_id: str, *, timeout_seconds: int) -> None:
        """Send the stop signal (SIGTERM unless the image says otherwise), then SIGKILL after the timeout.

        Stopping a container that is gone or already stopped is not an error.
        """
        try:
            await self._call(self._client.api.stop, container_id, timeout=max(0, int(timeout_seconds)))
        except ContainerNotFound:
            pass

    async def remove_container(self, container_id: str) -> None:
        """Remove a container, killing it if it runs; a container that is already gone is fine."""
        await asyncio.to_thread(self._remove_blocking, container_id)

    def _remove_blocking(self, container_id: str) -> None:
        try:
            self._client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if error.status_code == 409 and "already in progress" in _engine_message(error):
                return
            raise DockerRuntimeError(_engine_message(error)) from error
        except _TRANSPORT_ERRORS as error:
            raise DockerRuntimeError(str(error)) from error

    async def remove_pod_containers(self, pod_uid: str) -> None:
        """Remove every container of one pod on this node: its containers first, then its sandboxes."""
        containers = await self.list_containers(pod_uid=pod_uid)
        for container in sorted(containers, key=lambda info: info.is_sandbox):
            await self.remove_container(container.id)

    # -- logs, exec, events -----------------------------------------------------------------------

    async def logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[bytes]:
        """The container's output, stdout and stderr interleaved, in chunks as the engine sends them.

        With `follow` it ends when the container stops or the consumer stops iterating.
        """
        since = time.time() - since_seconds if since_seconds else None

        def open_stream() -> Any:
            return self._translate(
                self._client.api.logs,
                container_id,
                stdout=True,
                stderr=True,
                stream=True,
                follow=follow,
                timestamps=timestamps,
                tail="all" if tail is None else max(0, tail),
                since=since,
            )

        async for chunk in _iterate_in_thread(open_stream):
            yield chunk

    async def exec(
        self, container_id: str, command: list[str], *, timeout_seconds: float | None = None
    ) -> tuple[int, bytes]:
        """Run `command` in a running container; returns its exit code and its output (stdout+stderr).

        Raises ExecTimeout when `timeout_seconds` pass first (as an exec probe's timeout).
        """
        exec_id = (
            await self._call(self._client.api.exec_create, container_id, command, stdout=True, stderr=True, tty=False)
        )["Id"]

        def open_stream() -> Any:
            return self._translate(self._client.api.exec_start, exec_id, stream=True)

        output = bytearray()

        async def collect() -> None:
            async for chunk in _iterate_in_thread(open_stream):
                output.extend(chunk)

        try:
            await asyncio.wait_for(collect(), timeout_seconds)
        except TimeoutError as error:
            raise ExecTimeout(f"command {command!r} timed out after {timeout_seconds}s") from error
        exit_code = (await self._call(self._client.api.exec_inspect, exec_id)).get("ExitCode")
        return (exit_code if exit_code is not None else -1), bytes(output)

    async def exec_attach(
        self, container_id: str, command: list[str], *, stdin: bool, stdout: bool, stderr: bool, tty: bool
    ) -> AttachedExec:
        """Start `command` in a running container attached to a raw stream (see attach.py); the caller
        pumps it, closes it, and asks `exec_exit_code` at the end."""
        exec_id = (
            await self._call(self._client.api.exec_create, container_id, command, stdin=stdin, stdout=stdout,
                             stderr=stderr, tty=tty)
        )["Id"]
        sdk_socket = await self._call(self._client.api.exec_start, exec_id, socket=True, tty=tty)
        try:
            return AttachedExec.from_sdk_socket(exec_id, sdk_socket)
        except TypeError as error:
            raise DockerRuntimeError(str(error)) from error

    async def exec_resize(self, exec_id: str, *, width: int, height: int) -> None:
        """Resize an exec's TTY (the engine refuses once the process is gone: the caller may ignore that)."""
        await self._call(self._client.api.exec_resize, exec_id, height=height, width=width)

    async def exec_exit_code(self, exec_id: str, *, wait_seconds: float = 5.0) -> int:
        """The exit code of an exec whose stream ended. The engine records it a moment after the
        stream closes, so this waits (bounded) for `Running` to turn false; -1 if it never does."""
        deadline = time.monotonic() + wait_seconds
        while True:
            state = await self._call(self._client.api.exec_inspect, exec_id)
            if not state.get("Running") and state.get("ExitCode") is not None:
                return state["ExitCode"]
            if time.monotonic() >= deadline:
                return -1
            await asyncio.sleep(0.05)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Lifecycle events of this node's containers, as they happen, so the kubelet need not poll.

        Each is `{"action": create|start|die|oom|destroy, "container_id", "pod_uid",
        "pod_namespace", "pod_name", "container_name", "role", "exit_code" (die only), "time"}`.
        """
        filters = {
            "type": ["container"],
            "event": list(_CONTAINER_EVENTS),
            "label": [f"{key}={value}" for key, value in self.scope_labels.items()],
        }

        def open_stream() -> Any:
            return self._translate(self._client.api.events, filters=filters, decode=True)

        async for event in _iterate_in_thread(open_stream):
            attributes = (event.get("Actor") or {}).get("Attributes") or {}
            exit_code = attributes.get("exitCode")
            yield {
                "action": event.get("Action") or event.get("status"),
                "container_id": (event.get("Actor") or {}).get("ID") or event.get("id"),
                "pod_uid": attributes.get(LABEL_POD_UID, ""),
                "pod_namespace": attributes.get(LABEL_POD_NAMESPACE, ""),
                "pod_name": attributes.get(LABEL_POD_NAME, ""),
                "container_name": attributes.get(LABEL_CONTAINER_NAME, ""),
                "role": attributes.get(LABEL_ROLE, ""),
                "exit_code": int(exit_code) if exit_code is not None else None,
                "time": event.get("timeNano", 0) / 1e9,
            }

    # -- images -----------------------------------------------------------------------------------

    async def image_present(self, image: str) -> bool:
        """Whether the engine has `image` (`busybox` means `busybox:latest`)."""
        try:
            await self._call(self._client.api.inspect_image, normalize_image(image), _not_found=ImageNotPresent)
        except ImageNotPresent:
            return False
        return True

    async def image_id(self, image: str) -> str:
        """The engine's id (`sha256:...`) of a present image; raises ImageNotPresent."""
        attributes = await self._call(
            self._client.api.inspect_image, normalize_image(image), _not_found=ImageNotPresent
        )
        return attributes["Id"]

    async def pull(self, image: str) -> None:
        """Pull `image` from its registry; raises ImagePullError with the engine's reason."""
        try:
            reference = parse_image(image)
        except ValueError as error:
            raise ImagePullError(str(error)) from error
        await asyncio.to_thread(self._pull_blocking, image, reference.repository, reference.digest or reference.tag)

    def _pull_blocking(self, image: str, repository: str, tag_or_digest: str | None) -> None:
        try:
            progress = self._client.api.pull(repository, tag=tag_or_digest or "latest", stream=True, decode=True)
            for message in progress:
                # Failures after the pull began arrive as messages of a successful response.
                if message.get("error"):
                    raise ImagePullError(f"failed to pull image {image!r}: {message['error']}")
        except docker.errors.APIError as error:
            raise ImagePullError(f"failed to pull image {image!r}: {_engine_message(error)}") from error
        except _TRANSPORT_ERRORS as error:
            raise ImagePullError(f"failed to pull image {image!r}: {error}") from error

    # -- helpers ------------------------------------------------------------------------------------

    def _pod_labels(self, pod_namespace: str, pod_name: str, pod_uid: str) -> dict[str, str]:
        return {
            **self.scope_labels,
            LABEL_POD_NAMESPACE: pod_namespace,
            LABEL_POD_NAME: pod_name,
            LABEL_POD_UID: pod_uid,
        }

    async def _call(
        self,
        function: Callable[..., Any],
        *args: Any,
        _not_found: type[NotFoundError] = ContainerNotFound,
        **kwargs: Any,
    ) -> Any:
        return await asyncio.to_thread(self._translate, function, *args, _not_found=_not_found, **kwargs)

    @staticmethod
    def _translate(
        function: Callable[..., Any],
        *args: Any,
        _not_found: type[NotFoundError] = ContainerNotFound,
        **kwargs: Any,
    ) -> Any:
        """Call the SDK and turn its errors into this module's (once, here); a 404 becomes `_not_found`."""
        try:
            return function(*args, **kwargs)
        except docker.errors.NotFound as error:
            raise _not_found(_engine_message(error)) from error
        except docker.errors.APIError as error:
            raise DockerRuntimeError(_engine_message(error)) from error
        except _TRANSPORT_ERRORS as error:
            raise DockerRuntimeError(str(error)) from error


async def _iterate_in_thread(open_stream: Callable[[], Any]) -> AsyncIterator[Any]:
    """Iterate a blocking docker stream on a thread of its own, without blocking the event loop.

    The stream is opened and read on that thread; when the consumer stops (end,
    break, cancellation) the stream's socket is closed, which wakes the thread.
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orc-docker-stream")
    opening: Future[Any] = executor.submit(open_stream)
    stream = None
    try:
        try:
            stream = await asyncio.wrap_future(opening)
        except asyncio.CancelledError:
            # The stream may still open after we gave up on it: close it then.
            opening.add_done_callback(_close_opened_stream)
            raise
        iterator: Iterator[Any] = iter(stream)
        loop = asyncio.get_running_loop()
        while True:
            item = await loop.run_in_executor(executor, next, iterator, _STREAM_END)
            if item is _STREAM_END:
                return
            yield item
    finally:
        if stream is not None:
            _close_stream(stream)
        executor.shutdown(wait=False, cancel_futures=True)


def _close_opened_stream(opening: Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        _close_stream(opening.result())


def _close_stream(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # noqa: BLE001 - the socket may already be closed; nothing is left to release
        pass


def _entrypoint_and_cmd(command: list[str] | None, args: list[str] | None) -> dict[str, Any]:
    """Kubernetes' command/args on Docker's ENTRYPOINT/CMD (an empty list means unset, as in Kubernetes)."""
    options: dict[str, Any] = {}
    if command:
        # A non-empty Entrypoint makes the engine ignore the image's Cmd, as Kubernetes wants.
        options["entrypoint"] = list(command)
    if args:
        options["command"] = list(args)
    return options


def _resource_limits(
    cpu_limit_millis: int | None, cpu_request_millis: int | None, memory_limit_bytes: int | None
) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if cpu_limit_millis:
        limits["nano_cpus"] = cpu_limit_millis * 1_000_000
    if cpu_request_millis:
        # As the kubelet's MilliCPUToShares: 1024 shares per CPU, at least 2.
        limits["cpu_shares"] = max(2, cpu_request_millis * 1024 // 1000)
    if memory_limit_bytes:
        limits["mem_limit"] = memory_limit_bytes
        # Kubernetes runs containers without swap: the limit is the limit.
        limits["memswap_limit"] = memory_limit_bytes
    return limits


def _binds(mounts: Iterable[BindMount]) -> list[str] | None:
    # The list form, because the dict form keys by host path and one host path may be mounted twice.
    binds = [f"{mount['source']}:{mount['target']}:{'ro' if mount.get('read_only') else 'rw'}" for mount in mounts]
    return binds or None


def _engine_message(error: docker.errors.APIError | docker.errors.DockerException) -> str:
    explanation = getattr(error, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or error)


def _parse_docker_time(value: str | None) -> datetime | None:
    """Docker's RFC 3339 times carry nanoseconds, which datetime cannot hold: keep microseconds."""
    if not value or value == _DOCKER_ZERO_TIME:
        return None
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value)
    if not match:
        return None
    seconds, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]
    return datetime.fromisoformat(f"{seconds}{fraction}{'+00:00' if zone == 'Z' else zone}")


def _int_or_zero(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0

"""The kubelet's Node: registration, the node Lease heartbeat, and the Node's status.

`NodeAgent.register` creates the Node (or, after a restart, takes over the one that
exists: labels reconciled, status rewritten). `NodeAgent.run` then keeps the Lease
`kube-node-lease/<node>` renewed every 10 s (leaseDurationSeconds 40, holder = the
node) and posts the Node status every 10 s, or at once when the Docker engine stops
or starts answering: capacity and allocatable from `docker info` (CPUs, memory,
pods 110, ephemeral storage), addresses, `nodeInfo`, the kubelet endpoint, and the
conditions MemoryPressure/DiskPressure/PIDPressure (False) and Ready (True while
Docker answers; False with reason KubeletNotReady and the engine's error otherwise).

`build_node_status` is pure. Used by orchestrator/kubelet/main.py.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import shutil
import socket
import struct
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, Conflict, NotFound
from orchestrator.client.events import NORMAL, EventRecorder
from orchestrator.client.leaderelection import format_micro_time
from orchestrator.client.resources import LEASES, NODES
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.kubelet.runtime import DockerRuntime, DockerRuntimeError
from orchestrator.kubelet.status import format_time

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.32.0-orc"
MAX_PODS = 110
NODE_LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
HEARTBEAT_SECONDS = 10.0
ENGINE_TIMEOUT_SECONDS = 5.0
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
                  "s390x": "s390x", "ppc64le": "ppc64le"}

# (type, reason when healthy, message when healthy)
_PRESSURE_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def go_architecture(machine: str) -> str:
    """GOARCH spelling of a machine name (`x86_64` -> `amd64`)."""
    return _ARCHITECTURES.get(machine.lower(), machine.lower())


def node_labels(node_name: str, architecture: str) -> dict[str, str]:
    """The well-known labels the kubelet sets on its Node."""
    return {
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": architecture,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": architecture,
    }


def detect_node_ip() -> str:
    """The IPv4 address of the interface that holds the default route, else 127.0.0.1.

    A UDP socket "connected" to the default gateway sends nothing, but the kernel
    picks the source address it would use, which is that interface's address.
    """
    try:
        with open("/proc/net/route") as routes:
            next(routes)
            for line in routes:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000":
                    gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                        probe.connect((gateway, 9))
                        address = probe.getsockname()[0]
                    if address and not address.startswith("0."):
                        return address
    except (OSError, ValueError, StopIteration):
        pass
    return "127.0.0.1"


def _read_first_line(path: str) -> str:
    try:
        return Path(path).read_text().strip().splitlines()[0]
    except (OSError, IndexError):
        return ""


def _condition(
    condition_type: str, status: str, reason: str, message: str, *,
    previous: Mapping[str, Mapping[str, Any]], now: str,
) -> dict[str, Any]:
    before = previous.get(condition_type)
    transition = before.get("lastTransitionTime") if before and before.get("status") == status else None
    return {"type": condition_type, "status": status, "lastHeartbeatTime": now,
            "lastTransitionTime": transition or now, "reason": reason, "message": message}


def build_node_status(
    *,
    engine_info: Mapping[str, Any],
    engine_error: str | None,
    host_ip: str,
    node_name: str,
    port: int,
    previous_conditions: list[Mapping[str, Any]],
    now: datetime,
    ephemeral_storage_bytes: int | None = None,
    machine_id: str = "",
    boot_id: str = "",
) -> dict[str, Any]:
    """The Node's `status` from `docker info` (`engine_info`) and whether the engine answers (`engine_error`)."""
    timestamp = format_time(now)
    previous = {condition.get("type"): condition for condition in previous_conditions}
    capacity: dict[str, str] = {"pods": str(MAX_PODS)}
    if engine_info.get("NCPU"):
        capacity["cpu"] = str(engine_info["NCPU"])
    if engine_info.get("MemTotal"):
        capacity["memory"] = f"{int(engine_info['MemTotal']) // 1024}Ki"
    if ephemeral_storage_bytes:
        capacity["ephemeral-storage"] = f"{ephemeral_storage_bytes // 1024}Ki"
    conditions = [_condition(kind, "False", reason, message, previous=previous, now=timestamp)
                  for kind, reason, message in _PRESSURE_CONDITIONS]
    if engine_error is None:
        conditions.append(_condition("Ready", "True", "KubeletReady", "kubelet is posting ready status",
                                     previous=previous, now=timestamp))
    else:
        conditions.append(_condition("Ready", "False", "KubeletNotReady",
                                     f"container runtime is down: {engine_error}", previous=previous, now=timestamp))
    version = engine_info.get("ServerVersion") or ""
    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": host_ip}, {"type": "Hostname", "address": node_name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "nodeInfo": {
            "machineID": machine_id,
            "systemUUID": machine_id,
            "bootID": boot_id,
            "kernelVersion": engine_info.get("KernelVersion") or platform.release(),
            "osImage": engine_info.get("OperatingSystem") or "",
            "containerRuntimeVersion": f"docker://{version}" if version else "",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": go_architecture(engine_info.get("Architecture") or platform.machine()),
        },
    }


class NodeAgent:
    """Registers this node and keeps its Lease and status fresh until cancelled."""

    def __init__(
        self,
        *,
        client: ApiClient,
        runtime: DockerRuntime,
        node_name: str,
        host_ip: str,
        port: int,
        data_dir: Path | None = None,
        recorder: EventRecorder | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.node_name = node_name
        self.host_ip = host_ip
        self.port = port
        self.data_dir = data_dir
        self.recorder = recorder
        self.heartbeat_seconds = heartbeat_seconds
        self.clock = clock
        self.node: dict[str, Any] | None = None
        self._engine_info: dict[str, Any] = {}
        self._engine_error: str | None = "not checked yet"
        self._status_changed = asyncio.Event()

    @property
    def pod_cidr(self) -> str | None:
        return ((self.node or {}).get("spec") or {}).get("podCIDR") or None

    async def report_pod_cidr(self, cidr: str) -> None:
        """Record the pod network's subnet as this Node's podCIDR when it has none (`orc up`, where
        Docker picks the subnet); a failure is logged: only the proxy's rule scoping depends on it."""
        if self.pod_cidr:
            return
        try:
            self.node = await self.client.patch(NODES, self.node_name, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}},
                                                patch_type="merge")
            log.info("node %s: podCIDR %s (the pod network's subnet)", self.node_name, cidr)
        except (APIError, ApiUnavailable) as error:
            log.warning("node %s: podCIDR %s not recorded: %s", self.node_name, cidr, error)

    @property
    def allocatable(self) -> dict[str, str]:
        return dict(((self.node or {}).get("status") or {}).get("allocatable") or {})

    @property
    def engine_ready(self) -> bool:
        return self._engine_error is None

    async def check_engine(self) -> None:
        """Ask Docker whether it answers (and what it has), noting a change of health."""
        before = self._engine_error
        try:
            await asyncio.wait_for(self.runtime.ping(), ENGINE_TIMEOUT_SECONDS)
            if not self._engine_info or before is not None:
                self._engine_info = await asyncio.wait_for(self.runtime.info(), ENGINE_TIMEOUT_SECONDS)
            self._engine_error = None
        except TimeoutError:
            self._engine_error = f"the Docker engine did not answer within {ENGINE_TIMEOUT_SECONDS:.0f}s"
        except DockerRuntimeError as error:
            self._engine_error = error.message
        if (before is None) != (self._engine_error is None):
            if self._engine_error is None:
                log.info("node %s: the Docker engine answers", self.node_name)
                self._record("NodeReady", f"Node {self.node_name} status is now: NodeReady")
            else:
                log.warning("node %s: the Docker engine does not answer: %s", self.node_name, self._engine_error)
                self._record("NodeNotReady", f"Node {self.node_name} status is now: NodeNotReady")
            self._status_changed.set()

    def _record(self, reason: str, message: str) -> None:
        """An event about this Node (what `kubectl describe node` lists), once it is registered."""
        if self.recorder is not None and self.node is not None:
            self.recorder.record(self.node, NORMAL, reason, message)

    def _status(self, previous_conditions: list[Mapping[str, Any]]) -> dict[str, Any]:
        disk_root = self.data_dir if self.data_dir is not None and self.data_dir.exists() else Path("/")
        try:
            disk_bytes = shutil.disk_usage(disk_root).total
        except OSError:
            disk_bytes = None
        return build_node_status(
            engine_info=self._engine_info,
            engine_error=self._engine_error,
            host_ip=self.host_ip,
            node_name=self.node_name,
            port=self.port,
            previous_conditions=previous_conditions,
            now=datetime.fromtimestamp(self.clock(), UTC),
            ephemeral_storage_bytes=disk_bytes,
            machine_id=_read_first_line("/etc/machine-id"),
            boot_id=_read_first_line("/proc/sys/kernel/random/boot_id"),
        )

    async def register(self) -> dict[str, Any]:
        """Create the Node, or adopt the existing one; retries until the apiserver answers."""
        delay = 0.5
        while True:
            try:
                return await self._register_once()
            except (ApiUnavailable, APIError) as error:
                log.warning("node %s: registration failed, retrying in %.1fs: %s", self.node_name, delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _register_once(self) -> dict[str, Any]:
        await self.check_engine()
        labels = node_labels(self.node_name, go_architecture(self._engine_info.get("Architecture")
                                                              or platform.machine()))
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": labels,
                "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": {},
            "status": self._status([]),
        }
        try:
            self.node = await self.client.create(NODES, node)
            log.info("node %s: registered (InternalIP %s)", self.node_name, self.host_ip)
        except AlreadyExists:
            existing = await self.client.get(NODES, self.node_name)
            missing = {key: value for key, value in labels.items()
                       if (existing["metadata"].get("labels") or {}).get(key) != value}
            if missing:
                existing = await self.client.patch(NODES, self.node_name, {"metadata": {"labels": missing}},
                                                   patch_type="merge")
            self.node = existing
            await self._post_status()
            log.info("node %s: took over the existing Node (InternalIP %s)", self.node_name, self.host_ip)
        assert self.node is not None
        self._record("Starting", "Starting kubelet.")
        if self.engine_ready:
            self._record("NodeReady", f"Node {self.node_name} status is now: NodeReady")
        return self.node

    async def _post_status(self) -> None:
        previous = ((self.node or {}).get("status") or {}).get("conditions") or []
        patch = {"status": self._status(previous)}
        self.node = await self.client.patch(NODES, self.node_name, patch, patch_type="merge", subresource="status")

    async def run(self) -> None:
        """Heartbeats until cancelled: the Lease and the Node status, each every `heartbeat_seconds`."""
        await asyncio.gather(self._status_loop(), self._lease_loop())

    async def _status_loop(self) -> None:
        while True:
            await self.check_engine()
            try:
                await self._post_status()
            except NotFound:
                log.warning("node %s: the Node object is gone; registering again", self.node_name)
                await self.register()
            except (ApiUnavailable, APIError) as error:
                log.warning("node %s: posting the node status failed: %s", self.node_name, error)
            self._status_changed.clear()
            try:
                await asyncio.wait_for(self._status_changed.wait(), self.heartbeat_seconds)
            except TimeoutError:
                pass

    async def _lease_loop(self) -> None:
        lease: dict[str, Any] | None = None
        while True:
            try:
                lease = await self._renew_lease(lease)
                delay = self.heartbeat_seconds
            except (ApiUnavailable, APIError) as error:
                log.warning("node %s: renewing the node lease failed: %s", self.node_name, error)
                lease = None
                delay = 1.0
            await asyncio.sleep(delay)

    async def _renew_lease(self, lease: dict[str, Any] | None) -> dict[str, Any]:
        """Renew the Lease last written (`lease`), or the one stored now; create it when there is none."""
        now = format_micro_time(self.clock())
        if lease is not None:
            try:
                return await self.client.update(LEASES, self._renewed(lease, now), namespace=NODE_LEASE_NAMESPACE)
            except (Conflict, NotFound):
                pass  # someone else wrote it, or removed it: start again from what is stored
        try:
            current = await self.client.get(LEASES, self.node_name, namespace=NODE_LEASE_NAMESPACE)
        except NotFound:
            return await self.client.create(LEASES, self._new_lease(now), namespace=NODE_LEASE_NAMESPACE)
        return await self.client.update(LEASES, self._renewed(current, now), namespace=NODE_LEASE_NAMESPACE)

    def _renewed(self, lease: dict[str, Any], now: str) -> dict[str, Any]:
        spec = {**(lease.get("spec") or {}), "holderIdentity": self.node_name,
                "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": now}
        return {**lease, "spec": spec}

    def _new_lease(self, now: str) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.node_name, "namespace": NODE_LEASE_NAMESPACE}
        node_metadata = (self.node or {}).get("metadata") or {}
        if node_metadata.get("uid"):
            metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                            "uid": node_metadata["uid"]}]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                     "renewTime": now},
        }

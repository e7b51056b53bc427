"""What a simulated kubelet writes, as pure functions: its Node, its Lease, its pods' status.

The objects are what a real kubelet registers and reports (pkg/kubelet/nodestatus,
pkg/kubelet/status), with fake addresses and versions: a Node with capacity, allocatable,
labels, addresses, nodeInfo and the four kubelet conditions; a Lease in `kube-node-lease`
owned by the Node; a pod status with phase Running, the five pod conditions, IPs, start time
and one running status per container. Times that did not change are kept, so that building
the status again from the result changes nothing (writes are skipped when equal).

Used by the simulator (simulator.py); unit-tested without I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime

from orchestrator.client.leaderelection import format_micro_time

NODE_LEASE_NAMESPACE = "kube-node-lease"
NODE_LEASE_DURATION_SECONDS = 40
SIM_LABEL = "type"
SIM_LABEL_VALUE = "sim"
KUBELET_VERSION = "v1.32.0-sim"
NODE_ADDRESS_NETWORK = ipaddress.ip_network("10.240.0.0/12")  # node i gets the (i+1)th address
KUBELET_PORT = 10250

# (type, status, reason, message) of a healthy kubelet's node conditions, in its order.
HEALTHY_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def timestamp(seconds: float) -> str:
    """metav1.Time: RFC 3339 in whole seconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_address(index: int) -> str:
    return str(NODE_ADDRESS_NETWORK.network_address + index + 1)


def _fake_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def node_conditions(current: list[dict] | None, *, now: float) -> list[dict]:
    """The healthy conditions with a fresh heartbeat; a condition keeps its lastTransitionTime
    unless its status changes (e.g. back to Ready=True after the node controller set Unknown)."""
    previous = {condition.get("type"): condition for condition in current or []}
    conditions = []
    for condition_type, status, reason, message in HEALTHY_CONDITIONS:
        old = previous.get(condition_type) or {}
        transition = old.get("lastTransitionTime") if old.get("status") == status else None
        conditions.append({
            "type": condition_type,
            "status": status,
            "lastHeartbeatTime": timestamp(now),
            "lastTransitionTime": transition or timestamp(now),
            "reason": reason,
            "message": message,
        })
    return conditions


def new_node(name: str, *, index: int, cpu: str, memory: str, pods: int, now: float) -> dict:
    resources = {"cpu": cpu, "memory": memory, "pods": str(pods), "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                SIM_LABEL: SIM_LABEL_VALUE,
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {},
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": node_conditions(None, now=now),
            "addresses": [{"type": "InternalIP", "address": node_address(index)},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
            "nodeInfo": {
                "machineID": _fake_id("machine", name)[:32],
                "systemUUID": _fake_id("system", name)[:32],
                "bootID": _fake_id("boot", name, str(now))[:32],
                "kernelVersion": "6.1.0-sim",
                "osImage": "Simulated Linux",
                "containerRuntimeVersion": "sim://1.0.0",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def new_lease(node_name: str, *, node_uid: str | None, now: float) -> dict:
    metadata: dict = {"name": node_name, "namespace": NODE_LEASE_NAMESPACE}
    if node_uid:
        metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid}]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {"holderIdentity": node_name, "leaseDurationSeconds": NODE_LEASE_DURATION_SECONDS,
                 "renewTime": format_micro_time(now)},
    }


def renewed_lease(lease: dict, *, node_name: str, now: float) -> dict:
    spec = dict(lease.get("spec") or {})
    spec.update(holderIdentity=node_name, leaseDurationSeconds=NODE_LEASE_DURATION_SECONDS,
                renewTime=format_micro_time(now))
    return {**lease, "spec": spec}


# --- pods ------------------------------------------------------------------------------------

def probe_always_fails(probe: Mapping | None) -> bool:
    """The one probe a simulation can judge: `exec: [false]` (or /bin/false) never succeeds.
    Every other probe is taken as passing, so pods are ready unless their spec says otherwise."""
    command = ((probe or {}).get("exec") or {}).get("command") or []
    return len(command) == 1 and posixpath.basename(command[0]) == "false"


def _condition(condition_type: str, ready: bool, previous: Mapping, now: float, *,
               reason: str = "", message: str = "") -> dict:
    status = "True" if ready else "False"
    old = previous.get(condition_type) or {}
    transition = old.get("lastTransitionTime") if old.get("status") == status else None
    condition = {"type": condition_type, "status": status, "lastProbeTime": None,
                 "lastTransitionTime": transition or timestamp(now)}
    if not ready:
        condition.update(reason=reason, message=message)
    return condition


def running_pod_status(pod: Mapping, *, pod_ip: str, host_ip: str, now: float) -> dict:
    """The status a kubelet reports once all of the pod's containers run."""
    spec = pod.get("spec") or {}
    current = pod.get("status") or {}
    previous_conditions = {c.get("type"): c for c in current.get("conditions") or []}
    previous_containers = {c.get("name"): c for c in current.get("containerStatuses") or []}
    start_time = current.get("startTime") or timestamp(now)

    container_statuses = []
    unready = []
    for container in spec.get("containers") or []:
        name = container.get("name")
        image = container.get("image") or ""
        ready = not probe_always_fails(container.get("readinessProbe"))
        if not ready:
            unready.append(name)
        old = previous_containers.get(name) or {}
        same_container = old.get("image") == image and "running" in (old.get("state") or {})
        started_at = old["state"]["running"].get("startedAt") if same_container else None
        restarts = old.get("restartCount", 0) + (0 if same_container or not old else 1)
        uid = (pod.get("metadata") or {}).get("uid") or ""
        container_statuses.append({
            "name": name,
            "state": {"running": {"startedAt": started_at or timestamp(now)}},
            "lastState": {},
            "ready": ready,
            "restartCount": restarts,
            "image": image,
            "imageID": f"sim://{image}@sha256:{_fake_id('image', image)}",
            "containerID": f"sim://{_fake_id('container', uid, name, str(restarts))}",
            "started": True,
        })
    containers_ready = not unready
    not_ready_message = f"containers with unready status: [{' '.join(unready)}]"
    conditions = [
        _condition("PodReadyToStartContainers", True, previous_conditions, now),
        _condition("Initialized", True, previous_conditions, now),
        _condition("Ready", containers_ready, previous_conditions, now,
                   reason="ContainersNotReady", message=not_ready_message),
        _condition("ContainersReady", containers_ready, previous_conditions, now,
                   reason="ContainersNotReady", message=not_ready_message),
        # The kubelet asserts this one too: a pod created with spec.nodeName never met a scheduler.
        _condition("PodScheduled", True, previous_conditions, now),
    ]
    # Conditions the kubelet does not own (readiness gates, DisruptionTarget, ...) are kept.
    owned = {condition["type"] for condition in conditions}
    conditions += [c for c in current.get("conditions") or [] if c.get("type") not in owned]

    status = {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start_time,
        "containerStatuses": container_statuses,
    }
    init_containers = spec.get("initContainers") or []
    if init_containers:
        previous_init = {c.get("name"): c for c in current.get("initContainerStatuses") or []}
        status["initContainerStatuses"] = [
            previous_init.get(container.get("name")) or {
                "name": container.get("name"),
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                         "startedAt": start_time, "finishedAt": start_time}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": container.get("image") or "",
                "imageID": f"sim://{container.get('image') or ''}",
                "started": False,
            }
            for container in init_containers
        ]
    if current.get("qosClass"):
        status["qosClass"] = current["qosClass"]
    return status


def status_summary(status: Mapping) -> tuple:
    """What a kubelet would change in a pod status; equal summaries mean nothing to write
    (so that the server's own spelling of the rest cannot make us write forever)."""
    return (
        status.get("phase"),
        status.get("podIP"),
        status.get("hostIP"),
        tuple(sorted((c.get("type"), c.get("status")) for c in status.get("conditions") or [])),
        tuple((c.get("name"), c.get("image"), c.get("ready"), tuple(c.get("state") or ()))
              for c in status.get("containerStatuses") or []),
    )


class IpPool:
    """Fake pod IPs, unique among live pods, from one CIDR (10.244.0.0/16 by default)."""

    def __init__(self, cidr: str = "10.244.0.0/16"):
        network = ipaddress.ip_network(cidr)
        self._first = int(network.network_address) + 1
        self._size = network.num_addresses - 2  # neither the network nor the broadcast address
        self._cursor = 0
        self._owners: dict[str, int] = {}  # pod uid -> address
        self._used: set[int] = set()

    def __len__(self) -> int:
        return len(self._owners)

    def get(self, owner: str) -> str | None:
        address = self._owners.get(owner)
        return str(ipaddress.ip_address(address)) if address is not None else None

    def allocate(self, owner: str) -> str:
        if owner in self._owners:
            return self.get(owner)
        if len(self._used) >= self._size:
            raise RuntimeError("the simulated pod network is out of addresses")
        while self._first + self._cursor in self._used:
            self._cursor = (self._cursor + 1) % self._size
        address = self._first + self._cursor
        self._cursor = (self._cursor + 1) % self._size
        self._owners[owner] = address
        self._used.add(address)
        return str(ipaddress.ip_address(address))

    def reserve(self, owner: str, ip: str) -> None:
        """Adopts an address already in use (a pod that ran before a restart)."""
        address = int(ipaddress.ip_address(ip))
        if owner not in self._owners and address not in self._used:
            self._owners[owner] = address
            self._used.add(address)

    def release(self, owner: str) -> None:
        address = self._owners.pop(owner, None)
        if address is not None:
            self._used.discard(address)

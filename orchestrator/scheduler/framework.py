"""The scheduling framework: what a plugin is, and the per-pod and per-node facts plugins read.

As in kube-scheduler (`pkg/scheduler/framework/`), a filter plugin is a small class with a
`NAME` and `filter(pod, node) -> Status`, a score plugin has `score(pod, node) -> int`
(0..100 after normalisation) and a `WEIGHT`. Those scalar methods are the specification:
they read one `NodeInfo` and are what the unit tests pin down.

Because a Python loop over 5,000 nodes per pod is far too slow, every plugin also has a
vectorised twin over the `NodeTable` (numpy arrays with one slot per node):
`filter_nodes(pod, table) -> bool mask | None` and `score_nodes(pod, table, slots) -> int64
array`. The tests check that both forms agree. `reason_counts` turns the nodes a plugin
rejected into the per-reason counts of the FailedScheduling message.

Objects are plain dicts in Kubernetes wire form; `PodInfo.from_pod` and `NodeInfo` extract
once what the plugins need (requests in millicores and bytes, tolerations, host ports, ...).
Used by orchestrator/scheduler/plugins/*, algorithm.py, cache.py and the scheduler loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

from orchestrator.api.quantity import cpu_millis, memory_bytes

if TYPE_CHECKING:
    from orchestrator.scheduler.nodetable import NodeTable

MAX_NODE_SCORE = 100
# Requests assumed, for scoring only, for containers that state none (schedutil.DefaultMilliCPURequest...).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
DEFAULT_SCHEDULER_NAME = "default-scheduler"


class Code(IntEnum):
    """framework.Code: why a node was rejected decides whether preemption could help."""

    SUCCESS = 0
    UNSCHEDULABLE = 2  # resources or ports: evicting pods could make room
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3  # taints, selectors, cordon: no eviction helps


@dataclass(frozen=True, slots=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()

    @property
    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    @classmethod
    def unschedulable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE, reasons)

    @classmethod
    def unresolvable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons)


SUCCESS = Status()


@dataclass(frozen=True, slots=True)
class HostPort:
    """One port a pod takes on its node's network: (hostIP, protocol, hostPort)."""

    ip: str
    protocol: str
    port: int

    def conflicts_with(self, other: HostPort) -> bool:
        """The same protocol and port on the same address, where 0.0.0.0 (or unset) is every address."""
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return self.ip == other.ip or self.ip == "0.0.0.0" or other.ip == "0.0.0.0"


@lru_cache(maxsize=4096)
def _milli_cpu(value: str | int | float) -> int:
    return cpu_millis(value)


@lru_cache(maxsize=4096)
def _memory(value: str | int | float) -> int:
    return memory_bytes(value)


def _container_requests(container: Mapping) -> tuple[int, int, int, int]:
    """(cpu, memory, non-zero cpu, non-zero memory) of one container; the non-zero pair uses the
    scoring defaults where a request is absent (not where it is explicitly 0), as Kubernetes."""
    requests = (container.get("resources") or {}).get("requests") or {}
    cpu = requests.get("cpu")
    memory = requests.get("memory")
    milli_cpu = _milli_cpu(cpu) if cpu is not None else 0
    memory_amount = _memory(memory) if memory is not None else 0
    return (
        milli_cpu,
        memory_amount,
        milli_cpu if cpu is not None else DEFAULT_MILLI_CPU_REQUEST,
        memory_amount if memory is not None else DEFAULT_MEMORY_REQUEST,
    )


def pod_requests(spec: Mapping) -> tuple[int, int, int, int]:
    """resource.PodRequests: the sum over containers, at least each init container's own request
    (restartable "sidecar" init containers run alongside and add up), plus the pod overhead."""
    totals = [0, 0, 0, 0]
    for container in spec.get("containers") or []:
        for index, amount in enumerate(_container_requests(container)):
            totals[index] += amount
    sidecars = [0, 0, 0, 0]
    init_peak = [0, 0, 0, 0]
    for container in spec.get("initContainers") or []:
        amounts = _container_requests(container)
        if container.get("restartPolicy") == "Always":
            for index, amount in enumerate(amounts):
                sidecars[index] += amount
                init_peak[index] = max(init_peak[index], sidecars[index])
        else:
            for index, amount in enumerate(amounts):
                init_peak[index] = max(init_peak[index], sidecars[index] + amount)
    totals = [max(total + sidecar, peak) for total, sidecar, peak in zip(totals, sidecars, init_peak, strict=True)]
    overhead = spec.get("overhead") or {}
    if "cpu" in overhead:
        totals[0] += _milli_cpu(overhead["cpu"])
        totals[2] += _milli_cpu(overhead["cpu"])
    if "memory" in overhead:
        totals[1] += _memory(overhead["memory"])
        totals[3] += _memory(overhead["memory"])
    return totals[0], totals[1], totals[2], totals[3]


def pod_host_ports(spec: Mapping) -> tuple[HostPort, ...]:
    ports = []
    for container in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        for port in container.get("ports") or []:
            host_port = port.get("hostPort") or 0
            if host_port > 0:
                ports.append(HostPort(port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))
    return tuple(ports)


def controller_uid(metadata: Mapping) -> str | None:
    for reference in metadata.get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid") or None
    return None


def is_responsible(pod: Mapping, scheduler_name: str = DEFAULT_SCHEDULER_NAME) -> bool:
    """Whether this scheduler (profile) schedules the pod: spec.schedulerName, defaulted."""
    return ((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME) == scheduler_name


@dataclass(slots=True)
class PodInfo:
    """What the plugins need of one pod, extracted once per scheduling attempt."""

    key: str
    pod: dict
    milli_cpu: int = 0
    memory: int = 0
    nonzero_milli_cpu: int = 0
    nonzero_memory: int = 0
    host_ports: tuple[HostPort, ...] = ()
    tolerations: tuple[dict, ...] = ()
    node_selector: dict = field(default_factory=dict)
    required_node_affinity: dict | None = None  # requiredDuringSchedulingIgnoredDuringExecution
    preferred_node_affinity: tuple[dict, ...] = ()
    owner_uid: str | None = None
    priority: int = 0
    node_name: str = ""
    terminating: bool = False

    @classmethod
    def from_pod(cls, pod: dict) -> PodInfo:
        metadata = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        milli_cpu, memory, nonzero_milli_cpu, nonzero_memory = pod_requests(spec)
        node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
        namespace = metadata.get("namespace")
        return cls(
            key=f"{namespace}/{metadata.get('name')}" if namespace else str(metadata.get("name")),
            pod=pod,
            milli_cpu=milli_cpu,
            memory=memory,
            nonzero_milli_cpu=nonzero_milli_cpu,
            nonzero_memory=nonzero_memory,
            host_ports=pod_host_ports(spec),
            tolerations=tuple(spec.get("tolerations") or ()),
            node_selector=dict(spec.get("nodeSelector") or {}),
            required_node_affinity=node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution"),
            preferred_node_affinity=tuple(node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()),
            owner_uid=controller_uid(metadata),
            priority=spec.get("priority") or 0,
            node_name=spec.get("nodeName") or "",
            terminating=bool(metadata.get("deletionTimestamp")),
        )


def _node_allocatable(node: Mapping) -> tuple[int, int, int]:
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}
    cpu = allocatable.get("cpu")
    memory = allocatable.get("memory")
    pods = allocatable.get("pods")
    return (
        _milli_cpu(cpu) if cpu is not None else 0,
        _memory(memory) if memory is not None else 0,
        int(_memory(pods)) if pods is not None else 0,
    )


@dataclass(slots=True)
class NodeInfo:
    """One node and what is bound to it (framework.NodeInfo). `node` is None while pods name a node
    the cache has not seen yet (they still count once it arrives)."""

    name: str
    node: dict | None = None
    slot: int | None = None  # the node's position in the NodeTable
    allocatable_milli_cpu: int = 0
    allocatable_memory: int = 0
    allowed_pods: int = 0
    requested_milli_cpu: int = 0
    requested_memory: int = 0
    nonzero_milli_cpu: int = 0
    nonzero_memory: int = 0
    pods: dict[str, PodInfo] = field(default_factory=dict)
    used_ports: Counter = field(default_factory=Counter)

    def set_node(self, node: dict | None) -> None:
        self.node = node
        if node is None:
            self.allocatable_milli_cpu = self.allocatable_memory = self.allowed_pods = 0
        else:
            self.allocatable_milli_cpu, self.allocatable_memory, self.allowed_pods = _node_allocatable(node)

    @property
    def labels(self) -> dict:
        return ((self.node or {}).get("metadata") or {}).get("labels") or {}

    @property
    def taints(self) -> list[dict]:
        return ((self.node or {}).get("spec") or {}).get("taints") or []

    @property
    def unschedulable(self) -> bool:
        return bool(((self.node or {}).get("spec") or {}).get("unschedulable"))

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.key] = pod
        self.requested_milli_cpu += pod.milli_cpu
        self.requested_memory += pod.memory
        self.nonzero_milli_cpu += pod.nonzero_milli_cpu
        self.nonzero_memory += pod.nonzero_memory
        self.used_ports.update(pod.host_ports)

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self.requested_milli_cpu -= pod.milli_cpu
            self.requested_memory -= pod.memory
            self.nonzero_milli_cpu -= pod.nonzero_milli_cpu
            self.nonzero_memory -= pod.nonzero_memory
            self.used_ports.subtract(pod.host_ports)
            self.used_ports += Counter()  # drops the ports that reached zero
        return pod


BoolMask = np.ndarray  # dtype bool, one entry per NodeTable slot


class FilterPlugin(Protocol):
    NAME: str
    # The code of every rejection this plugin makes (Unschedulable or UnschedulableAndUnresolvable).
    CODE: Code

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status: ...

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> BoolMask | None:
        """Which slots pass (None: all of them); must agree with `filter` on every node."""
        ...

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        """How many of the rejected nodes fail for each reason (a node may have several)."""
        ...


class ScorePlugin(Protocol):
    NAME: str
    WEIGHT: int

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        """The raw score of one node (before normalisation over the feasible nodes)."""
        ...

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        """Raw scores of the given slots (int64), or None when the plugin has nothing to say
        about this pod (it then adds nothing to any node, as a skipped PreScore)."""
        ...

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        """Scores mapped onto 0..MAX_NODE_SCORE across the feasible nodes."""
        ...


def default_normalize(scores: np.ndarray, *, reverse: bool = False) -> np.ndarray:
    """helper.DefaultNormalizeScore: scale to 0..100 by the maximum, optionally reversed."""
    if scores.size == 0:
        return scores
    highest = int(scores.max())
    if highest == 0:
        return np.full_like(scores, MAX_NODE_SCORE if reverse else 0)
    scaled = MAX_NODE_SCORE * scores // highest
    return MAX_NODE_SCORE - scaled if reverse else scaled


def tolerates(toleration: Mapping, taint: Mapping) -> bool:
    """v1.Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_tolerate(tolerations: Iterable[Mapping], taint: Mapping) -> bool:
    return any(tolerates(toleration, taint) for toleration in tolerations)

"""NodeResourcesFit and NodeResourcesBalancedAllocation: requests against allocatable.

NodeResourcesFit filters out nodes where the pod's cpu/memory requests exceed what is
allocatable minus what the pods already bound there request, or that hold their maximum number
of pods; as a score (strategy LeastAllocated, weight 1) it prefers the emptiest nodes, counting
containers without requests as 100m / 200Mi. BalancedAllocation (weight 1) prefers nodes whose
cpu and memory would be used in equal proportion. Integer arithmetic as in kube-scheduler
(plugins/noderesources: fit.go, least_allocated.go, balanced_allocation.go).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from orchestrator.scheduler.framework import MAX_NODE_SCORE, SUCCESS, Code, NodeInfo, PodInfo, Status
from orchestrator.scheduler.nodetable import NodeTable

REASON_TOO_MANY_PODS = "Too many pods"
REASON_INSUFFICIENT_CPU = "Insufficient cpu"
REASON_INSUFFICIENT_MEMORY = "Insufficient memory"


def insufficient_resources(pod: PodInfo, node: NodeInfo) -> list[str]:
    """fitsRequest: every reason the node cannot take the pod, in Kubernetes' order."""
    reasons = []
    if len(node.pods) + 1 > node.allowed_pods:
        reasons.append(REASON_TOO_MANY_PODS)
    if pod.milli_cpu > 0 and pod.milli_cpu > node.allocatable_milli_cpu - node.requested_milli_cpu:
        reasons.append(REASON_INSUFFICIENT_CPU)
    if pod.memory > 0 and pod.memory > node.allocatable_memory - node.requested_memory:
        reasons.append(REASON_INSUFFICIENT_MEMORY)
    return reasons


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def _least_requested_scores(requested: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    safe_capacity = np.where(capacity == 0, 1, capacity)
    scores = (capacity - requested) * MAX_NODE_SCORE // safe_capacity
    return np.where((capacity == 0) | (requested > capacity), 0, scores)


class NodeResourcesFit:
    NAME = "NodeResourcesFit"
    CODE = Code.UNSCHEDULABLE
    WEIGHT = 1

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        reasons = insufficient_resources(pod, node)
        return Status.unschedulable(*reasons) if reasons else SUCCESS

    def _masks(self, pod: PodInfo, table: NodeTable, slots=slice(None)) -> tuple[np.ndarray, ...]:
        too_many = table.pod_count[slots] + 1 > table.allowed_pods[slots]
        no_cpu = no_memory = None
        if pod.milli_cpu > 0:
            no_cpu = pod.milli_cpu > table.allocatable_milli_cpu[slots] - table.requested_milli_cpu[slots]
        if pod.memory > 0:
            no_memory = pod.memory > table.allocatable_memory[slots] - table.requested_memory[slots]
        return too_many, no_cpu, no_memory

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        too_many, no_cpu, no_memory = self._masks(pod, table)
        rejected = too_many
        if no_cpu is not None:
            rejected = rejected | no_cpu
        if no_memory is not None:
            rejected = rejected | no_memory
        return ~rejected

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        counts: Counter = Counter()
        for reason, mask in zip((REASON_TOO_MANY_PODS, REASON_INSUFFICIENT_CPU, REASON_INSUFFICIENT_MEMORY),
                                self._masks(pod, table, rejected_slots), strict=True):
            if mask is not None and mask.any():
                counts[reason] = int(mask.sum())
        return counts

    # Score: LeastAllocated over cpu and memory, weight 1 each, on the non-zero requests.
    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        total = weights = 0
        for requested, capacity in ((node.nonzero_milli_cpu + pod.nonzero_milli_cpu, node.allocatable_milli_cpu),
                                    (node.nonzero_memory + pod.nonzero_memory, node.allocatable_memory)):
            if capacity == 0:
                continue
            total += least_requested_score(requested, capacity)
            weights += 1
        return total // weights if weights else 0

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        cpu_capacity = table.allocatable_milli_cpu[slots]
        memory_capacity = table.allocatable_memory[slots]
        cpu = _least_requested_scores(table.nonzero_milli_cpu[slots] + pod.nonzero_milli_cpu, cpu_capacity)
        memory = _least_requested_scores(table.nonzero_memory[slots] + pod.nonzero_memory, memory_capacity)
        weights = (cpu_capacity > 0).astype(np.int64) + (memory_capacity > 0)
        return (cpu + memory) // np.where(weights == 0, 1, weights)

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        return scores


class NodeResourcesBalancedAllocation:
    NAME = "NodeResourcesBalancedAllocation"
    WEIGHT = 1

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        fractions = []
        for requested, capacity in ((node.requested_milli_cpu + pod.milli_cpu, node.allocatable_milli_cpu),
                                    (node.requested_memory + pod.memory, node.allocatable_memory)):
            if capacity:
                fractions.append(min(requested / capacity, 1.0))
        deviation = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
        return int((1 - deviation) * MAX_NODE_SCORE)

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        cpu_capacity = table.allocatable_milli_cpu[slots]
        memory_capacity = table.allocatable_memory[slots]
        with np.errstate(divide="ignore", invalid="ignore"):
            cpu = np.minimum((table.requested_milli_cpu[slots] + pod.milli_cpu) / cpu_capacity, 1.0)
            memory = np.minimum((table.requested_memory[slots] + pod.memory) / memory_capacity, 1.0)
        deviation = np.where((cpu_capacity > 0) & (memory_capacity > 0), np.abs(cpu - memory) / 2, 0.0)
        return ((1 - deviation) * MAX_NODE_SCORE).astype(np.int64)

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        return scores

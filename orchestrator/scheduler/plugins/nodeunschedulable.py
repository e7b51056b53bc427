"""NodeUnschedulable: a cordoned node (`spec.unschedulable`, `kubectl cordon`) takes no new pods,
unless the pod tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint.

Filter plugin of the default profile (plugins/nodeunschedulable in kube-scheduler).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from orchestrator.scheduler.framework import SUCCESS, Code, NodeInfo, PodInfo, Status, tolerations_tolerate
from orchestrator.scheduler.nodetable import NodeTable

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    NAME = "NodeUnschedulable"
    CODE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.unschedulable or tolerations_tolerate(pod.tolerations, UNSCHEDULABLE_TAINT):
            return SUCCESS
        return Status.unresolvable(REASON_UNSCHEDULABLE)

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        if tolerations_tolerate(pod.tolerations, UNSCHEDULABLE_TAINT):
            return None
        return ~table.unschedulable

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        return Counter({REASON_UNSCHEDULABLE: len(rejected_slots)})

"""NodeName: a pod that names its node (`spec.nodeName`) fits only that node.

Filter plugin of the default profile (plugins/nodename in kube-scheduler). Pods the scheduler
picks up have no nodeName, so this rejects nothing in practice; it is kept for fidelity.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from orchestrator.scheduler.framework import SUCCESS, Code, NodeInfo, PodInfo, Status
from orchestrator.scheduler.nodetable import NodeTable

REASON_NODE_NAME = "node(s) didn't match the requested node name"


class NodeName:
    NAME = "NodeName"
    CODE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not pod.node_name or pod.node_name == node.name:
            return SUCCESS
        return Status.unresolvable(REASON_NODE_NAME)

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        if not pod.node_name:
            return None
        return table.name_equals(pod.node_name)

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        return Counter({REASON_NODE_NAME: len(rejected_slots)})

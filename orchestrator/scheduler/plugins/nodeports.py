"""NodePorts: two pods cannot take the same hostPort (and protocol) on one node, unless they
bind distinct host IPs (0.0.0.0 takes every address).

Filter plugin of the default profile (plugins/nodeports). Its rejections are Unschedulable
(evicting the holder would free the port), not UnschedulableAndUnresolvable.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from orchestrator.scheduler.framework import SUCCESS, Code, HostPort, NodeInfo, PodInfo, Status
from orchestrator.scheduler.nodetable import NodeTable

REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"


def ports_conflict(wanted: tuple[HostPort, ...], used: Counter) -> bool:
    return any(port.conflicts_with(taken) for port in wanted for taken in used)


class NodePorts:
    NAME = "NodePorts"
    CODE = Code.UNSCHEDULABLE

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if pod.host_ports and ports_conflict(pod.host_ports, node.used_ports):
            return Status.unschedulable(REASON_PORTS)
        return SUCCESS

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        if not pod.host_ports:
            return None
        mask = np.ones(table.capacity, dtype=bool)
        # Only nodes where some pod holds one of these (protocol, port) pairs can conflict.
        candidates = set()
        for port in pod.host_ports:
            candidates |= table.port_users.get((port.protocol, port.port), set())
        for slot in candidates:
            if ports_conflict(pod.host_ports, table.node_infos[slot].used_ports):
                mask[slot] = False
        return mask

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        return Counter({REASON_PORTS: len(rejected_slots)})

"""The scheduler's cache: nodes and the pods bound to them, including pods it has *assumed*.

As kube-scheduler's internal cache: once a node is chosen the pod is assumed there at once
(its requests count against the node) so the next pod is scheduled against that, while the
binding is still in flight; the informer's event for the bound pod later confirms it, and a
failed binding forgets it. Pods that name a node the cache has not seen yet are kept under a
placeholder and count once the node arrives.

The cache keeps the NodeTable's arrays equal to its NodeInfos. Fed by the scheduler's informer
handlers (scheduler.py); read by algorithm.schedule_pod through `table`.
"""

from __future__ import annotations

import logging

from orchestrator.scheduler.framework import NodeInfo, PodInfo
from orchestrator.scheduler.nodetable import NodeTable

log = logging.getLogger(__name__)


def _counts_for_spreading(pod: PodInfo) -> bool:
    return pod.owner_uid is not None and not pod.terminating


class SchedulerCache:
    def __init__(self) -> None:
        self.table = NodeTable()
        self._nodes: dict[str, NodeInfo] = {}  # known nodes, and placeholders for pods' unknown nodes
        self._pod_nodes: dict[str, str] = {}  # pod key -> node it is bound or assumed to
        self._assumed: set[str] = set()

    # --- reading ---------------------------------------------------------------------------

    def node_info(self, name: str) -> NodeInfo | None:
        return self._nodes.get(name)

    def node_of(self, pod_key: str) -> str | None:
        return self._pod_nodes.get(pod_key)

    def is_assumed(self, pod_key: str) -> bool:
        return pod_key in self._assumed

    @property
    def node_count(self) -> int:
        return len(self.table)

    # --- nodes -----------------------------------------------------------------------------

    def add_or_update_node(self, node: dict) -> None:
        name = node["metadata"]["name"]
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo(name)
        info.set_node(node)
        if info.slot is None:
            self.table.add(info)
        else:
            self.table.refresh_node(info)

    def remove_node(self, name: str) -> None:
        info = self._nodes.get(name)
        if info is None:
            return
        self.table.remove(info)
        info.set_node(None)
        if not info.pods:
            del self._nodes[name]
        # else: the pods are still bound there (their deletion follows); keep counting them.

    # --- pods ------------------------------------------------------------------------------

    def _place(self, pod: PodInfo, node_name: str) -> None:
        info = self._nodes.get(node_name)
        if info is None:
            info = self._nodes[node_name] = NodeInfo(node_name)
        info.add_pod(pod)
        self._pod_nodes[pod.key] = node_name
        if _counts_for_spreading(pod):
            self.table.count_owner_pod(pod.owner_uid, node_name, +1)
        self.table.refresh_usage(info)

    def _unplace(self, key: str) -> PodInfo | None:
        node_name = self._pod_nodes.pop(key, None)
        if node_name is None:
            return None
        info = self._nodes[node_name]
        pod = info.remove_pod(key)
        if pod is not None and _counts_for_spreading(pod):
            self.table.count_owner_pod(pod.owner_uid, node_name, -1)
        self.table.refresh_usage(info)
        if info.node is None and not info.pods:
            del self._nodes[node_name]
        return pod

    def assume_pod(self, pod: PodInfo, node_name: str) -> None:
        """Counts the pod on the node it is being bound to, before the binding is done."""
        self._unplace(pod.key)
        self._place(pod, node_name)
        self._assumed.add(pod.key)

    def forget_pod(self, key: str) -> None:
        """The binding failed: the assumed pod no longer counts anywhere."""
        if key in self._assumed:
            self._assumed.discard(key)
            self._unplace(key)

    def add_or_update_pod(self, pod: PodInfo) -> None:
        """A bound, non-terminal pod as the informer sees it (confirms an assumed pod)."""
        self._assumed.discard(pod.key)
        self._unplace(pod.key)
        self._place(pod, pod.node_name)

    def remove_pod(self, key: str) -> None:
        """A bound pod was deleted or finished (Succeeded/Failed): its requests are free again."""
        self._assumed.discard(key)
        self._unplace(key)

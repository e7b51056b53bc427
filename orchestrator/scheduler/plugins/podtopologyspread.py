"""PodTopologySpread's default spreading: replicas of one controller go to different nodes.

kube-scheduler scores every pod owned by a controller against the system default constraint
`kubernetes.io/hostname, maxSkew 3, ScheduleAnyway` (plus a zone constraint this cluster has no
use for), matching the pods the owner's selector selects. Here the pods that count are those
with the same controller ownerReference (for a ReplicaSet, exactly the pods its selector
picks). Score plugin of the default profile (plugins/podtopologyspread/scoring.go, weight 2):
the raw score is the node's count of such pods; normalisation applies the topology weight
log(n + 2) for n feasible nodes and maps fewer pods to higher scores.
"""

from __future__ import annotations

import math

import numpy as np

from orchestrator.scheduler.framework import MAX_NODE_SCORE, NodeInfo, PodInfo
from orchestrator.scheduler.nodetable import NodeTable

DEFAULT_HOSTNAME_MAX_SKEW = 3


class PodTopologySpread:
    NAME = "PodTopologySpread"
    WEIGHT = 2

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        if pod.owner_uid is None:
            return 0
        return sum(1 for other in node.pods.values() if other.owner_uid == pod.owner_uid and not other.terminating)

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        if pod.owner_uid is None:
            return None  # no default constraint applies: PreScore skips
        return table.owner_pod_counts(pod.owner_uid)[slots]

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        if scores.size == 0:
            return scores
        topology_weight = math.log(len(scores) + 2)
        # scoreForCount, rounded half away from zero as Go's math.Round.
        weighted = np.floor(scores * topology_weight + (DEFAULT_HOSTNAME_MAX_SKEW - 1) + 0.5).astype(np.int64)
        highest, lowest = int(weighted.max()), int(weighted.min())
        if highest == 0:
            return np.full_like(weighted, MAX_NODE_SCORE)
        return MAX_NODE_SCORE * (highest + lowest - weighted) // highest

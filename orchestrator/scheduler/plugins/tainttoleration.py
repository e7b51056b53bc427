"""TaintToleration: a node's NoSchedule/NoExecute taints keep off every pod that does not
tolerate them (this is also how not-ready and unreachable nodes are avoided: the node
lifecycle controller taints them `node.kubernetes.io/not-ready` / `unreachable`); as a score,
PreferNoSchedule taints the pod does not tolerate make a node less attractive.

Filter and score plugin of the default profile (plugins/tainttoleration, weight 3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

from orchestrator.scheduler.framework import (
    SUCCESS,
    Code,
    NodeInfo,
    PodInfo,
    Status,
    default_normalize,
    tolerations_tolerate,
)
from orchestrator.scheduler.nodetable import NodeTable

FILTERED_EFFECTS = ("NoSchedule", "NoExecute")


def untolerated_taint_reason(taint: Mapping) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key') or ''}: {taint.get('value') or ''}}}"


def first_untolerated_taint(taints: Iterable[Mapping], tolerations: tuple[dict, ...]) -> Mapping | None:
    """v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc."""
    for taint in taints:
        if taint.get("effect") in FILTERED_EFFECTS and not tolerations_tolerate(tolerations, taint):
            return taint
    return None


def intolerable_preferences(taints: Iterable[Mapping], tolerations: tuple[dict, ...]) -> int:
    """countIntolerableTaintsPreferNoSchedule: only tolerations for PreferNoSchedule (or any effect) count."""
    preferring = [t for t in tolerations if (t.get("effect") or "") in ("", "PreferNoSchedule")]
    return sum(1 for taint in taints
               if taint.get("effect") == "PreferNoSchedule" and not tolerations_tolerate(preferring, taint))


class TaintToleration:
    NAME = "TaintToleration"
    CODE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    WEIGHT = 3

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        taint = first_untolerated_taint(node.taints, pod.tolerations)
        if taint is None:
            return SUCCESS
        return Status.unresolvable(untolerated_taint_reason(taint))

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        if len(table.taint_sets) == 1:  # no node has any taint
            return None
        # Nodes share a few distinct taint lists: decide once per list, then look it up per node.
        passes = np.array([first_untolerated_taint(taints, pod.tolerations) is None for taints in table.taint_sets])
        return passes[table.taint_set]

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        counts: Counter = Counter()
        set_ids, node_counts = np.unique(table.taint_set[rejected_slots], return_counts=True)
        for set_id, node_count in zip(set_ids.tolist(), node_counts.tolist(), strict=True):
            taint = first_untolerated_taint(table.taint_sets[set_id], pod.tolerations)
            if taint is not None:
                counts[untolerated_taint_reason(taint)] += node_count
        return counts

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        return intolerable_preferences(node.taints, pod.tolerations)

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        per_set = [intolerable_preferences(taints, pod.tolerations) for taints in table.taint_sets]
        if not any(per_set):
            return None  # every node scores the same
        return np.array(per_set, dtype=np.int64)[table.taint_set[slots]]

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        return default_normalize(scores, reverse=True)

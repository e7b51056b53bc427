"""Choosing a node for one pod, as a pure function of the pod and the node table.

`schedule_pod` is kube-scheduler's SchedulePod: run the filter plugins over the nodes
(vectorised), stop looking once `num_feasible_nodes_to_find` nodes fit (examining nodes from
a rotating start so that every node gets its turn), score those with the weighted score
plugins, and pick the best (ties broken at random, as selectHost). A pod that fits nowhere
gets a `Diagnosis`: per node, the first filter that rejected it and why; `failure_message`
turns it into the text of the FailedScheduling event and of the PodScheduled condition, word
for word as Kubernetes writes it (counts per reason, sorted, then the preemption summary).

No I/O: the scheduler loop (scheduler.py) calls it with the cache's table; unit tests call it
with small tables.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from orchestrator.scheduler.framework import Code, FilterPlugin, PodInfo, ScorePlugin, Status
from orchestrator.scheduler.nodetable import NodeTable
from orchestrator.scheduler.plugins.nodeaffinity import NodeAffinity
from orchestrator.scheduler.plugins.nodename import NodeName
from orchestrator.scheduler.plugins.nodeports import NodePorts
from orchestrator.scheduler.plugins.noderesources import NodeResourcesBalancedAllocation, NodeResourcesFit
from orchestrator.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from orchestrator.scheduler.plugins.podtopologyspread import PodTopologySpread
from orchestrator.scheduler.plugins.tainttoleration import TaintToleration

# kube-scheduler's numFeasibleNodesToFind constants.
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
NO_VICTIMS = "No preemption victims found for incoming pod"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
PREEMPTION_POLICY_NEVER = "not eligible due to preemptionPolicy=Never."


@dataclass
class Profile:
    """The plugins a scheduler profile runs: filters in order, scores with their weights."""

    filters: list[FilterPlugin]
    scores: list[ScorePlugin]

    def run_filters(self, pod: PodInfo, node) -> Status:
        """The scalar path for one node: the first rejection, as the framework's RunFilterPlugins."""
        for plugin in self.filters:
            status = plugin.filter(pod, node)
            if not status.is_success:
                return status
        return Status()


def default_profile() -> Profile:
    """kube-scheduler's default plugins (the ones this cluster has a use for), in its order."""
    taints, affinity, fit = TaintToleration(), NodeAffinity(), NodeResourcesFit()
    return Profile(
        filters=[NodeUnschedulable(), NodeName(), taints, affinity, NodePorts(), fit],
        scores=[taints, affinity, fit, PodTopologySpread(), NodeResourcesBalancedAllocation()],
    )


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int = 0) -> int:
    """How many fitting nodes are enough: all in small clusters, an adaptive share in big ones
    (50% at 100 nodes, 10% at 5,000, at least 5%), never fewer than 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND or percentage_of_nodes_to_score >= 100:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score
    if percentage <= 0:
        percentage = max(BASE_PERCENTAGE_OF_NODES_TO_SCORE - num_all_nodes // 125,
                         MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass
class Diagnosis:
    """Why a pod fits nowhere: per reason how many nodes gave it, and per status code how many
    nodes were rejected with it (which decides the preemption summary)."""

    reason_counts: Counter = field(default_factory=Counter)
    nodes_by_code: Counter = field(default_factory=Counter)


@dataclass
class ScheduleResult:
    node_name: str | None
    num_all_nodes: int
    evaluated_nodes: int = 0
    feasible_nodes: int = 0
    next_start_index: int = 0
    diagnosis: Diagnosis | None = None


def feasible_mask(pod: PodInfo, table: NodeTable, profile: Profile) -> np.ndarray:
    mask = table.present.copy()
    for plugin in profile.filters:
        passes = plugin.filter_nodes(pod, table)
        if passes is not None:
            mask &= passes
    return mask


def diagnose(pod: PodInfo, table: NodeTable, profile: Profile) -> Diagnosis:
    """Every node rejected; attribute each to the first filter that rejects it (as the framework
    stops at the first failing plugin) and count that plugin's reasons."""
    diagnosis = Diagnosis()
    undecided = table.present.copy()
    for plugin in profile.filters:
        passes = plugin.filter_nodes(pod, table)
        if passes is None:
            continue
        rejected = undecided & ~passes
        if not rejected.any():
            continue
        rejected_slots = np.flatnonzero(rejected)
        diagnosis.reason_counts.update(plugin.reason_counts(pod, table, rejected_slots))
        diagnosis.nodes_by_code[plugin.CODE] += len(rejected_slots)
        undecided &= passes
    return diagnosis


def prioritize(pod: PodInfo, table: NodeTable, slots: np.ndarray, profile: Profile) -> np.ndarray:
    """The weighted sum of the normalised scores of each slot."""
    totals = np.zeros(len(slots), dtype=np.int64)
    for plugin in profile.scores:
        raw = plugin.score_nodes(pod, table, slots)
        if raw is not None:
            totals += plugin.normalize(raw) * plugin.WEIGHT
    return totals


def select_host(slots: np.ndarray, totals: np.ndarray, rng: random.Random) -> int:
    """The best-scoring slot; among equals, one at random (selectHost's reservoir sampling)."""
    best = np.flatnonzero(totals == totals.max())
    return int(slots[best[rng.randrange(len(best))]])


def schedule_pod(
    pod: PodInfo,
    table: NodeTable,
    profile: Profile,
    *,
    start_index: int = 0,
    percentage_of_nodes_to_score: int = 0,
    rng: random.Random | None = None,
) -> ScheduleResult:
    order = table.order
    num_all_nodes = len(order)
    if num_all_nodes == 0:
        return ScheduleResult(node_name=None, num_all_nodes=0)
    start_index %= num_all_nodes
    fits = feasible_mask(pod, table, profile)[order]
    feasible_positions = np.flatnonzero(fits)
    if feasible_positions.size == 0:
        return ScheduleResult(node_name=None, num_all_nodes=num_all_nodes, evaluated_nodes=num_all_nodes,
                              next_start_index=start_index, diagnosis=diagnose(pod, table, profile))
    # Examine nodes from start_index on, wrapping around, until enough fit.
    wrap = np.searchsorted(feasible_positions, start_index)
    rotated = np.concatenate((feasible_positions[wrap:], feasible_positions[:wrap]))
    wanted = num_feasible_nodes_to_find(num_all_nodes, percentage_of_nodes_to_score)
    chosen_positions = rotated[:wanted]
    if len(rotated) > wanted:
        evaluated = (int(chosen_positions[-1]) - start_index) % num_all_nodes + 1
    else:
        evaluated = num_all_nodes
    slots = order[chosen_positions]
    if len(slots) == 1:
        chosen_slot = int(slots[0])  # nothing to compare: kube-scheduler skips scoring too
    else:
        chosen_slot = select_host(slots, prioritize(pod, table, slots, profile), rng or random.Random())
    return ScheduleResult(
        node_name=table.node_infos[chosen_slot].name,
        num_all_nodes=num_all_nodes,
        evaluated_nodes=evaluated,
        feasible_nodes=len(feasible_positions),
        next_start_index=(start_index + evaluated) % num_all_nodes,
    )


# --- the FailedScheduling message ------------------------------------------------------------

def fit_error_message(num_all_nodes: int, reason_counts: Mapping[str, int], post_filter_message: str = "") -> str:
    """framework.FitError.Error(): "0/N nodes are available: <count> <reason>, ... .", the
    "<count> <reason>" strings sorted as strings (so "10 ..." sorts before "2 ...")."""
    message = f"0/{num_all_nodes} nodes are available:"
    histogram = sorted(f"{count} {reason}" for reason, count in reason_counts.items())
    if histogram:
        message += f" {', '.join(histogram)}."
    if post_filter_message:
        message += f" {post_filter_message}."
    return message


def preemption_message(pod: PodInfo, num_all_nodes: int, diagnosis: Diagnosis) -> str:
    """What the DefaultPreemption PostFilter reports when it cannot help. This cluster has no
    preemption (all pods share one priority), so nodes rejected for resources or ports have no
    victims, and the others are nodes where preemption is not helpful."""
    if (pod.pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return f"preemption: {PREEMPTION_POLICY_NEVER}"
    counts = Counter()
    no_victims = diagnosis.nodes_by_code.get(Code.UNSCHEDULABLE, 0)
    if no_victims:
        counts[NO_VICTIMS] = no_victims
    if num_all_nodes - no_victims:
        counts[PREEMPTION_NOT_HELPFUL] = num_all_nodes - no_victims
    return "preemption: " + fit_error_message(num_all_nodes, counts)


def failure_message(pod: PodInfo, result: ScheduleResult) -> str:
    """The FailedScheduling event's message and the PodScheduled=False condition's message."""
    if result.num_all_nodes == 0 or result.diagnosis is None:
        return NO_NODES_AVAILABLE
    return fit_error_message(result.num_all_nodes, result.diagnosis.reason_counts,
                             preemption_message(pod, result.num_all_nodes, result.diagnosis))

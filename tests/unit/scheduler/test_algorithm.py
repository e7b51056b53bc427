"""Unit tests of orchestrator.scheduler.algorithm: choosing a node, sampling, FailedScheduling text."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from orchestrator.scheduler.algorithm import (
    NO_NODES_AVAILABLE,
    default_profile,
    failure_message,
    fit_error_message,
    num_feasible_nodes_to_find,
    schedule_pod,
)
from orchestrator.scheduler.framework import PodInfo
from tests.unit.scheduler.builders import cache_with, new_node, new_pod, pod_info, taint

UNREACHABLE = taint("node.kubernetes.io/unreachable", effect="NoExecute")


@pytest.mark.parametrize(
    ("nodes", "percentage", "expected"),
    [
        pytest.param(3, 0, 3, id="small-cluster-all"),
        pytest.param(99, 0, 99, id="below-minimum-all"),
        pytest.param(100, 0, 100, id="hundred-nodes-min-100"),
        pytest.param(1000, 0, 420, id="thousand-nodes-42-percent"),
        pytest.param(5000, 0, 500, id="five-thousand-10-percent"),
        pytest.param(6000, 0, 300, id="floor-5-percent"),
        pytest.param(1500, 0, 570, id="1500-nodes-38-percent"),
        pytest.param(5000, 100, 5000, id="explicit-100-percent"),
        pytest.param(5000, 1, 100, id="explicit-percentage-min-100"),
    ],
)
def test_num_feasible_nodes_to_find(nodes, percentage, expected):
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


@pytest.mark.parametrize(
    ("reasons", "post_filter", "expected"),
    [
        pytest.param({"Insufficient cpu": 3}, "", "0/3 nodes are available: 3 Insufficient cpu.", id="one-reason"),
        pytest.param({"Insufficient cpu": 3, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }": 2},
                     "",
                     "0/5 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
                     "3 Insufficient cpu.", id="sorted-as-strings"),
        pytest.param({"Insufficient cpu": 10, "Too many pods": 2}, "",
                     "0/12 nodes are available: 10 Insufficient cpu, 2 Too many pods.", id="ten-sorts-before-two"),
        pytest.param({}, "preemption: x.", "0/0 nodes are available: preemption: x..", id="post-filter-only"),
    ],
)
def test_fit_error_message(reasons, post_filter, expected):
    assert fit_error_message(sum(reasons.values()), Counter(reasons), post_filter) == expected


def schedule(pod, cache, **options):
    return schedule_pod(pod, cache.table, default_profile(), rng=random.Random(1), **options)


@pytest.mark.parametrize(
    ("nodes", "pod", "expected"),
    [
        pytest.param(
            [new_node(f"big-{i}", cpu="2") for i in range(3)]
            + [new_node(f"dead-{i}", taints=[UNREACHABLE]) for i in range(2)],
            pod_info(cpu="3"),
            "0/5 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
            "3 Insufficient cpu. preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, "
            "3 No preemption victims found for incoming pod..",
            id="cpu-and-unreachable",
        ),
        pytest.param(
            [new_node("a"), new_node("b", unschedulable=True), new_node("c", labels={"disk": "hdd"})],
            pod_info(node_selector={"disk": "ssd"}),
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node "
            "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
            id="cordon-checked-before-selector",
        ),
        pytest.param(
            [new_node("a", cpu="1", memory="1Gi")],
            pod_info(cpu="2", memory="2Gi"),
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. "
            "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..",
            id="one-node-two-reasons",
        ),
        pytest.param([], pod_info(), NO_NODES_AVAILABLE, id="no-nodes"),
    ],
)
def test_failure_messages(nodes, pod, expected):
    result = schedule(pod, cache_with(nodes))
    assert result.node_name is None
    assert failure_message(pod, result) == expected


def test_preemption_policy_never_is_reported():
    pod_dict = new_pod(cpu="64")
    pod_dict["spec"]["preemptionPolicy"] = "Never"
    pod = PodInfo.from_pod(pod_dict)
    result = schedule(pod, cache_with([new_node("a")]))
    assert failure_message(pod, result) == ("0/1 nodes are available: 1 Insufficient cpu. "
                                            "preemption: not eligible due to preemptionPolicy=Never..")


def test_least_allocated_node_wins():
    cache = cache_with([new_node("busy"), new_node("idle"), new_node("half")],
                       [new_pod("a", node_name="busy", cpu="3", memory="12Gi"),
                        new_pod("b", node_name="half", cpu="2", memory="8Gi")])
    assert schedule(pod_info(cpu="100m", memory="128Mi"), cache).node_name == "idle"


def test_replicas_spread_over_nodes():
    cache = cache_with([new_node("a"), new_node("b"), new_node("c")])
    placed = []
    for index in range(6):
        pod = pod_info(name=f"web-{index}", owner_uid="rs", cpu="100m", memory="128Mi")
        node = schedule(pod, cache).node_name
        cache.assume_pod(pod, node)
        placed.append(node)
    assert Counter(placed) == {"a": 2, "b": 2, "c": 2}


def test_only_fitting_nodes_are_chosen():
    cache = cache_with([new_node("tainted", taints=[taint("x")]), new_node("free", cpu="1")])
    assert schedule(pod_info(cpu="500m"), cache).node_name == "free"


def test_big_clusters_examine_a_rotating_share():
    cache = cache_with([new_node(f"n{i:04}") for i in range(1000)])
    first = schedule(pod_info(), cache, start_index=0)
    assert first.feasible_nodes == 1000 and first.evaluated_nodes == 420
    assert first.next_start_index == 420
    second = schedule(pod_info(), cache, start_index=first.next_start_index)
    assert second.next_start_index == 840
    chosen_slot = cache.table.slot_of[second.node_name]
    assert 420 <= list(cache.table.order).index(chosen_slot) < 840


def test_ties_are_broken_at_random():
    cache = cache_with([new_node("a"), new_node("b"), new_node("c")])
    chosen = {schedule_pod(pod_info(), cache.table, default_profile(), rng=random.Random(seed)).node_name
              for seed in range(30)}
    assert chosen == {"a", "b", "c"}


def test_diagnosis_blames_the_first_failing_filter_as_the_scalar_framework_does():
    cache = cache_with(
        [new_node("cordoned-and-tainted", unschedulable=True, taints=[taint("x")]),
         new_node("tainted-and-small", cpu="1", taints=[taint("x")]),
         new_node("small", cpu="1", memory="1Gi", pods=1), new_node("wrong-label", labels={"disk": "hdd"}),
         new_node("port-taken")],
        [new_pod("holder", node_name="port-taken", host_ports=[80]), new_pod("filler", node_name="small")],
    )
    not_hdd = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["hdd"]}]}]}}}
    pod = pod_info(cpu="2", memory="2Gi", affinity=not_hdd, host_ports=[80])
    profile = default_profile()
    expected = Counter()
    for slot in cache.table.order.tolist():
        expected.update(profile.run_filters(pod, cache.table.node_infos[slot]).reasons)
    result = schedule(pod, cache)
    assert result.diagnosis.reason_counts == expected
    assert expected == Counter({
        "node(s) were unschedulable": 1, "node(s) had untolerated taint {x: }": 1,
        "node(s) didn't match Pod's node affinity/selector": 1,
        "node(s) didn't have free ports for the requested pod ports": 1,
        "Too many pods": 1, "Insufficient cpu": 1, "Insufficient memory": 1,
    })

"""Unit tests of NodeResourcesFit (filter, LeastAllocated score) and BalancedAllocation."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.plugins.noderesources import (
    REASON_INSUFFICIENT_CPU,
    REASON_INSUFFICIENT_MEMORY,
    REASON_TOO_MANY_PODS,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
)
from tests.unit.scheduler.builders import (
    assert_filter_forms_agree,
    assert_score_forms_agree,
    cache_with,
    new_node,
    new_pod,
    node_info,
    pod_info,
)


@pytest.mark.parametrize(
    ("request_cpu", "request_memory", "bound", "node_pods", "reasons"),
    [
        pytest.param("1", "1Gi", [], 110, (), id="fits"),
        pytest.param("5", "1Gi", [], 110, (REASON_INSUFFICIENT_CPU,), id="more-cpu-than-node"),
        pytest.param("3", "1Gi", [("2", "1Gi")], 110, (REASON_INSUFFICIENT_CPU,), id="cpu-taken-by-bound-pods"),
        pytest.param("2", "1Gi", [("2", "1Gi")], 110, (), id="exactly-fills-the-node"),
        pytest.param("1", "20Gi", [], 110, (REASON_INSUFFICIENT_MEMORY,), id="memory"),
        pytest.param("5", "20Gi", [("1", "1Gi")], 1,
                     (REASON_TOO_MANY_PODS, REASON_INSUFFICIENT_CPU, REASON_INSUFFICIENT_MEMORY), id="every-reason"),
        pytest.param(None, None, [("4", "16Gi")], 110, (), id="no-requests-fit-a-full-node"),
    ],
)
def test_filter(request_cpu, request_memory, bound, node_pods, reasons):
    bound_pods = [new_pod(f"bound-{i}", cpu=cpu, memory=memory) for i, (cpu, memory) in enumerate(bound)]
    node = node_info(new_node(cpu="4", memory="16Gi", pods=node_pods), bound_pods)
    status = NodeResourcesFit().filter(pod_info(cpu=request_cpu, memory=request_memory), node)
    assert status.reasons == reasons


def mixed_cache():
    return cache_with(
        [new_node("empty"), new_node("half", cpu="4"), new_node("small", cpu="1", memory="1Gi", pods=2),
         new_node("no-memory-reported", cpu="8", memory="0")],
        [new_pod("a", node_name="half", cpu="2", memory="4Gi"), new_pod("b", node_name="small", cpu="500m"),
         new_pod("c", node_name="small"), new_pod("d", node_name="no-memory-reported", cpu="1")],
    )


@pytest.mark.parametrize(("cpu", "memory"), [("100m", "128Mi"), ("3", None), (None, "2Gi"), (None, None)])
def test_vectorised_forms_agree(cpu, memory):
    cache = mixed_cache()
    pod = pod_info(cpu=cpu, memory=memory)
    assert_filter_forms_agree(NodeResourcesFit(), pod, cache)
    assert_score_forms_agree(NodeResourcesFit(), pod, cache)
    assert_score_forms_agree(NodeResourcesBalancedAllocation(), pod, cache)


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        # Incoming 1 cpu / 4Gi on 4 cpu / 16Gi: cpu (4-1)*100/4 = 75, memory 75: (75+75)/2.
        pytest.param(None, 75, id="empty-node"),
        # Bound 2 cpu / 8Gi, then 3 and 12 of 4 and 16: 25 and 25.
        pytest.param({"cpu": "2", "memory": "8Gi"}, 25, id="half-used"),
        # A bound pod without requests counts as 100m / 200Mi: cpu (4000-1100)*100//4000 = 72,
        # memory (16384-4296)*100//16384 = 73 (in MiB), (72+73)//2 = 72.
        pytest.param({}, 72, id="default-requests-counted"),
    ],
)
def test_least_allocated_score(bound, expected):
    bound_pods = [new_pod("bound", **bound)] if bound is not None else []
    node = node_info(new_node(cpu="4", memory="16Gi"), bound_pods)
    assert NodeResourcesFit().score(pod_info(cpu="1", memory="4Gi"), node) == expected


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        pytest.param("2", "8Gi", 100, id="balanced"),
        pytest.param("4", "0", 50, id="all-cpu-no-memory"),
        pytest.param("1", "12Gi", 75, id="quarter-vs-three-quarters"),
    ],
)
def test_balanced_allocation_score(cpu, memory, expected):
    node = node_info(new_node(cpu="4", memory="16Gi"))
    assert NodeResourcesBalancedAllocation().score(pod_info(cpu=cpu, memory=memory), node) == expected

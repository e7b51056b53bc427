"""Unit tests of orchestrator.scheduler.cache: assumed pods, confirmations, unknown nodes."""

from __future__ import annotations

from orchestrator.scheduler.framework import PodInfo
from tests.unit.scheduler.builders import cache_with, new_node, new_pod


def cpu_requested(cache, node_name: str) -> int:
    return int(cache.table.requested_milli_cpu[cache.table.slot_of[node_name]])


def test_assumed_pod_counts_until_forgotten():
    cache = cache_with([new_node("a")])
    pod = PodInfo.from_pod(new_pod("web", cpu="1"))
    cache.assume_pod(pod, "a")
    assert cache.is_assumed("default/web") and cpu_requested(cache, "a") == 1000
    cache.forget_pod("default/web")
    assert not cache.is_assumed("default/web") and cpu_requested(cache, "a") == 0


def test_informer_event_confirms_an_assumed_pod_once():
    cache = cache_with([new_node("a")])
    cache.assume_pod(PodInfo.from_pod(new_pod("web", cpu="1")), "a")
    cache.add_or_update_pod(PodInfo.from_pod(new_pod("web", cpu="1", node_name="a")))
    assert not cache.is_assumed("default/web")
    assert cpu_requested(cache, "a") == 1000
    assert int(cache.table.pod_count[cache.table.slot_of["a"]]) == 1
    cache.forget_pod("default/web")  # a late binding failure cannot undo a confirmed pod
    assert cpu_requested(cache, "a") == 1000


def test_pods_of_an_unknown_node_count_once_it_registers():
    cache = cache_with([], [new_pod("early", cpu="500m", node_name="late")])
    assert cache.node_count == 0
    cache.add_or_update_node(new_node("late"))
    assert cpu_requested(cache, "late") == 500


def test_removed_node_keeps_its_pods_until_they_go():
    cache = cache_with([new_node("a")], [new_pod("web", cpu="1", node_name="a")])
    cache.remove_node("a")
    assert cache.node_count == 0 and cache.node_of("default/web") == "a"
    cache.remove_pod("default/web")
    assert cache.node_info("a") is None


def test_spreading_counts_follow_pods():
    cache = cache_with([new_node("a")], [new_pod("r1", node_name="a", owner_uid="rs")])
    assert cache.table.owner_pod_counts("rs")[cache.table.slot_of["a"]] == 1
    cache.add_or_update_pod(PodInfo.from_pod(new_pod("r1", node_name="a", owner_uid="rs", deleting=True)))
    assert cache.table.owner_pod_counts("rs")[cache.table.slot_of["a"]] == 0

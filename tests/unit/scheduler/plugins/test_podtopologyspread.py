"""Unit tests of PodTopologySpread's default spreading of a controller's pods over nodes."""

from __future__ import annotations

import numpy as np

from orchestrator.scheduler.plugins.podtopologyspread import PodTopologySpread
from tests.unit.scheduler.builders import assert_score_forms_agree, cache_with, new_node, new_pod, pod_info


def test_counts_only_live_pods_of_the_same_owner():
    cache = cache_with(
        [new_node("a"), new_node("b"), new_node("c")],
        [new_pod("r1", node_name="a", owner_uid="rs"), new_pod("r2", node_name="a", owner_uid="rs"),
         new_pod("r3", node_name="b", owner_uid="rs"), new_pod("other", node_name="c", owner_uid="other"),
         new_pod("leaving", node_name="c", owner_uid="rs", deleting=True)],
    )
    pod = pod_info(name="new", owner_uid="rs")
    assert_score_forms_agree(PodTopologySpread(), pod, cache)
    assert PodTopologySpread().score_nodes(pod, cache.table, cache.table.order).tolist() == [2, 1, 0]


def test_pod_without_owner_is_skipped():
    cache = cache_with([new_node("a")])
    assert PodTopologySpread().score_nodes(pod_info(), cache.table, cache.table.order) is None


def test_normalize_prefers_the_emptiest_node():
    # weight log(3 + 2) = 1.609: counts 0, 1, 2 -> 2, 4, 5 -> 100*(5+2-s)/5.
    assert PodTopologySpread().normalize(np.array([0, 1, 2])).tolist() == [100, 60, 40]
    assert PodTopologySpread().normalize(np.array([0, 0])).tolist() == [100, 100]

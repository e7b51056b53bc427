"""Unit tests of the NodeUnschedulable filter (cordoned nodes)."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.plugins.nodeunschedulable import REASON_UNSCHEDULABLE, NodeUnschedulable
from tests.unit.scheduler.builders import assert_filter_forms_agree, cache_with, new_node, node_info, pod_info

TOLERATE_CORDON = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("unschedulable", "tolerations", "reasons"),
    [
        pytest.param(False, None, (), id="schedulable"),
        pytest.param(True, None, (REASON_UNSCHEDULABLE,), id="cordoned"),
        pytest.param(True, TOLERATE_CORDON, (), id="cordoned-but-tolerated"),
        pytest.param(True, [{"operator": "Exists"}], (), id="tolerate-everything"),
    ],
)
def test_filter(unschedulable, tolerations, reasons):
    pod = pod_info(tolerations=tolerations)
    status = NodeUnschedulable().filter(pod, node_info(new_node(unschedulable=unschedulable)))
    assert status.reasons == reasons


@pytest.mark.parametrize("tolerations", [None, TOLERATE_CORDON], ids=["plain", "tolerating"])
def test_vectorised_filter_agrees(tolerations):
    cache = cache_with([new_node("a"), new_node("b", unschedulable=True), new_node("c")])
    assert_filter_forms_agree(NodeUnschedulable(), pod_info(tolerations=tolerations), cache)

"""Unit tests of the NodeName filter."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.plugins.nodename import REASON_NODE_NAME, NodeName
from tests.unit.scheduler.builders import assert_filter_forms_agree, cache_with, new_node, node_info, pod_info


@pytest.mark.parametrize(
    ("wanted", "reasons"),
    [
        pytest.param(None, (), id="no-node-name"),
        pytest.param("node-0", (), id="this-node"),
        pytest.param("node-9", (REASON_NODE_NAME,), id="another-node"),
    ],
)
def test_filter(wanted, reasons):
    assert NodeName().filter(pod_info(node_name=wanted), node_info(new_node("node-0"))).reasons == reasons


@pytest.mark.parametrize("wanted", [None, "b", "missing"])
def test_vectorised_filter_agrees(wanted):
    cache = cache_with([new_node("a"), new_node("b")])
    assert_filter_forms_agree(NodeName(), pod_info(node_name=wanted), cache)

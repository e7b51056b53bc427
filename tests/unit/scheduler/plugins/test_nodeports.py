"""Unit tests of the NodePorts filter."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.plugins.nodeports import REASON_PORTS, NodePorts
from tests.unit.scheduler.builders import (
    assert_filter_forms_agree,
    cache_with,
    new_node,
    new_pod,
    node_info,
    pod_info,
)


@pytest.mark.parametrize(
    ("wanted", "taken", "reasons"),
    [
        pytest.param(None, [80], (), id="no-host-ports"),
        pytest.param([80], [], (), id="free-node"),
        pytest.param([80], [80], (REASON_PORTS,), id="taken"),
        pytest.param([8080], [80], (), id="other-port"),
    ],
)
def test_filter(wanted, taken, reasons):
    node = node_info(new_node(), [new_pod("holder", host_ports=taken)] if taken else [])
    assert NodePorts().filter(pod_info(host_ports=wanted), node).reasons == reasons


@pytest.mark.parametrize("wanted", [None, [80], [443], [80, 443]])
def test_vectorised_filter_agrees(wanted):
    cache = cache_with([new_node("a"), new_node("b"), new_node("c")],
                       [new_pod("p1", node_name="a", host_ports=[80]), new_pod("p2", node_name="c", host_ports=[443])])
    assert_filter_forms_agree(NodePorts(), pod_info(host_ports=wanted), cache)


def test_freed_port_is_usable_again():
    cache = cache_with([new_node("a")], [new_pod("holder", node_name="a", host_ports=[80])])
    cache.remove_pod("default/holder")
    assert NodePorts().filter_nodes(pod_info(host_ports=[80]), cache.table)[cache.table.slot_of["a"]]

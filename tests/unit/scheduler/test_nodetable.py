"""Unit tests of orchestrator.scheduler.nodetable: slots, growth, label masks, port users."""

from __future__ import annotations

from orchestrator.scheduler.framework import NodeInfo
from orchestrator.scheduler.nodetable import NodeTable
from tests.unit.scheduler.builders import new_node, taint


def info_of(node: dict) -> NodeInfo:
    info = NodeInfo(node["metadata"]["name"])
    info.set_node(node)
    return info


def test_slots_are_reused_and_the_table_grows():
    table = NodeTable(capacity=2)
    infos = [info_of(new_node(f"n{i}")) for i in range(3)]
    for info in infos:
        table.add(info)
    assert table.capacity == 4 and table.order.tolist() == [0, 1, 2]
    table.remove(infos[1])
    assert table.order.tolist() == [0, 2] and len(table) == 2
    replacement = info_of(new_node("n9", cpu="8"))
    assert table.add(replacement) == 1
    assert table.allocatable_milli_cpu[1] == 8000 and table.node_infos[1] is replacement


def test_label_masks_follow_label_changes():
    table = NodeTable()
    node = info_of(new_node("a", labels={"disk": "ssd"}))
    table.add(node)
    table.add(info_of(new_node("b")))
    assert table.label_equals("disk", "ssd")[table.order].tolist() == [True, False]
    node.set_node(new_node("a", labels={"disk": "hdd"}))
    table.refresh_node(node)
    assert table.label_equals("disk", "ssd")[table.order].tolist() == [False, False]
    assert table.label_exists("disk")[table.order].tolist() == [True, False]


def test_nodes_with_the_same_taints_share_a_taint_set():
    table = NodeTable()
    for name, taints in (("a", []), ("b", [taint("x")]), ("c", [taint("x")])):
        table.add(info_of(new_node(name, taints=taints)))
    assert table.taint_set[table.order].tolist() == [0, 1, 1]
    assert len(table.taint_sets) == 2

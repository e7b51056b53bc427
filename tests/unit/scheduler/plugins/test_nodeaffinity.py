"""Unit tests of the NodeAffinity filter (nodeSelector, required affinity) and score (preferred)."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.plugins.nodeaffinity import REASON_NODE_AFFINITY, NodeAffinity
from tests.unit.scheduler.builders import (
    assert_filter_forms_agree,
    assert_score_forms_agree,
    cache_with,
    new_node,
    node_info,
    pod_info,
)


def required(*terms: dict) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expression(key: str, operator: str, *values: str) -> dict:
    body = {"key": key, "operator": operator}
    if values:
        body["values"] = list(values)
    return body


def term(*expressions: dict, fields: list[dict] | None = None) -> dict:
    body: dict = {"matchExpressions": list(expressions)}
    if fields:
        body["matchFields"] = fields
    return body


LABELS = {"disk": "ssd", "zone": "a", "cores": "8"}
CASES = [
    pytest.param({}, None, True, id="nothing-asked"),
    pytest.param({"disk": "ssd"}, None, True, id="selector-matches"),
    pytest.param({"disk": "hdd"}, None, False, id="selector-other-value"),
    pytest.param({"gpu": "yes"}, None, False, id="selector-missing-label"),
    pytest.param({}, required(term(expression("zone", "In", "a", "b"))), True, id="in"),
    pytest.param({}, required(term(expression("zone", "NotIn", "a"))), False, id="not-in"),
    pytest.param({}, required(term(expression("gpu", "NotIn", "yes"))), True, id="not-in-missing-label-matches"),
    pytest.param({}, required(term(expression("disk", "Exists"))), True, id="exists"),
    pytest.param({}, required(term(expression("disk", "DoesNotExist"))), False, id="does-not-exist"),
    pytest.param({}, required(term(expression("cores", "Gt", "4"))), True, id="gt"),
    pytest.param({}, required(term(expression("cores", "Lt", "4"))), False, id="lt"),
    pytest.param({}, required(term(expression("disk", "Gt", "4"))), False, id="gt-on-non-integer"),
    pytest.param({}, required(term(expression("zone", "In", "b")), term(expression("disk", "In", "ssd"))), True,
                 id="terms-are-ored"),
    pytest.param({}, required(term(expression("zone", "In", "a"), expression("disk", "In", "hdd"))), False,
                 id="expressions-are-anded"),
    pytest.param({}, required(term()), False, id="empty-term-matches-nothing"),
    pytest.param({}, required(term(fields=[expression("metadata.name", "In", "node-0")])), True, id="match-fields"),
    pytest.param({}, required(term(fields=[expression("metadata.name", "NotIn", "node-0")])), False,
                 id="match-fields-not-in"),
    pytest.param({"disk": "ssd"}, required(term(expression("zone", "In", "b"))), False, id="selector-and-affinity"),
]


@pytest.mark.parametrize(("selector", "affinity", "fits"), CASES)
def test_filter(selector, affinity, fits):
    status = NodeAffinity().filter(pod_info(node_selector=selector, affinity=affinity),
                                   node_info(new_node("node-0", labels=LABELS)))
    assert status.reasons == (() if fits else (REASON_NODE_AFFINITY,))


@pytest.mark.parametrize(("selector", "affinity", "fits"), CASES)
def test_vectorised_filter_agrees(selector, affinity, fits):
    cache = cache_with([
        new_node("node-0", labels=LABELS), new_node("node-1", labels={"disk": "hdd", "zone": "b", "cores": "2"}),
        new_node("node-2"), new_node("node-3", labels={"zone": "a", "cores": "16"}),
    ])
    assert_filter_forms_agree(NodeAffinity(), pod_info(node_selector=selector, affinity=affinity), cache)


def test_preferred_terms_score_their_weights():
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": term(expression("disk", "In", "ssd"))},
        {"weight": 5, "preference": term(expression("zone", "In", "a"))},
    ]}}
    cache = cache_with([new_node("both", labels={"disk": "ssd", "zone": "a"}), new_node("ssd", labels={"disk": "ssd"}),
                        new_node("none")])
    pod = pod_info(affinity=affinity)
    assert_score_forms_agree(NodeAffinity(), pod, cache)
    raw = NodeAffinity().score_nodes(pod, cache.table, cache.table.order)
    assert raw.tolist() == [15, 10, 0]
    assert NodeAffinity().normalize(raw).tolist() == [100, 66, 0]

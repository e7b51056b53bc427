"""The last-applied configuration and apply's pieces (cli/client/apply.py)."""

from __future__ import annotations

import json

import pytest

from cli.client.apply import LAST_APPLIED_ANNOTATION, _label_filter, last_applied, with_last_applied


def config_map(**metadata) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default", **metadata},
            "data": {"b": "2", "a": "<1>"}}


def test_annotation_is_gos_compact_json_with_a_newline():
    modified = with_last_applied(config_map())
    recorded = modified["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    assert recorded == ('{"apiVersion":"v1","data":{"a":"\\u003c1\\u003e","b":"2"},"kind":"ConfigMap",'
                        '"metadata":{"annotations":{},"name":"c","namespace":"default"}}\n')


def test_other_annotations_stay_and_an_old_record_is_replaced():
    document = config_map(annotations={"team": "a", LAST_APPLIED_ANNOTATION: "stale"})
    modified = with_last_applied(document)
    annotations = modified["metadata"]["annotations"]
    assert annotations["team"] == "a"
    assert json.loads(annotations[LAST_APPLIED_ANNOTATION])["metadata"]["annotations"] == {"team": "a"}
    assert document["metadata"]["annotations"][LAST_APPLIED_ANNOTATION] == "stale"  # the input is not changed


@pytest.mark.parametrize("annotations, expected", [
    pytest.param(None, None, id="none"),
    pytest.param({LAST_APPLIED_ANNOTATION: '{"a":1}\n'}, {"a": 1}, id="recorded"),
    pytest.param({LAST_APPLIED_ANNOTATION: "not json"}, None, id="garbage"),
])
def test_last_applied(annotations, expected):
    assert last_applied({"metadata": {"annotations": annotations}}) == expected


@pytest.mark.parametrize("selector, labels, matches", [
    pytest.param("app=web", {"app": "web"}, True, id="equal"),
    pytest.param("app!=web", {"app": "web"}, False, id="not-equal"),
    pytest.param("tier in (a,b)", {"tier": "b"}, True, id="in"),
    pytest.param("tier notin (a,b)", {}, True, id="notin-missing"),
    pytest.param("app,!canary", {"app": "x"}, True, id="exists-and-not"),
    pytest.param("app=web,tier=front", {"app": "web"}, False, id="all-terms"),
])
def test_label_filter_for_files(selector, labels, matches):
    assert _label_filter(selector)(labels) is matches

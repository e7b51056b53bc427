"""Tables, Scale and unknown fields of custom resources: customtables.py, customscale.py, crdschema.unknown_fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.apiserver import crdschema, customscale, customtables
from orchestrator.apiserver.tables import format_age

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NAME_COLUMN = {"name": "Name", "type": "string", "format": "name", "description": "name", "priority": 0}
WIDGET = {"metadata": {"name": "w", "creationTimestamp": "2026-01-01T11:00:00Z"},
          "spec": {"size": 3, "ratio": 1.5, "on": True, "tags": ["a", "b"], "color": "red"},
          "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.mark.parametrize("column, expected", [
    pytest.param({"type": "integer", "jsonPath": ".spec.size"}, 3, id="integer"),
    pytest.param({"type": "number", "jsonPath": ".spec.size"}, 3.0, id="integer-as-number"),
    pytest.param({"type": "boolean", "jsonPath": ".spec.on"}, True, id="boolean"),
    pytest.param({"type": "string", "jsonPath": ".spec.tags"}, '["a","b"]', id="list-as-json-text"),
    pytest.param({"type": "string", "jsonPath": ".spec.missing"}, None, id="missing-is-null"),
    pytest.param({"type": "integer", "jsonPath": ".spec.color"}, None, id="wrong-type-is-null"),
    pytest.param({"type": "date", "jsonPath": ".metadata.creationTimestamp"}, "60m", id="date-is-an-age"),
    pytest.param({"type": "date", "jsonPath": ".spec.color"}, "<invalid>", id="bad-date"),
    pytest.param({"type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'}, "True",
                 id="filter"),
])
def test_cells_are_typed_as_the_column_says(column, expected):
    assert customtables.cell({"name": "X", **column}, WIDGET, NOW, format_age) == expected


def test_columns_default_descriptions_and_age():
    definitions = customtables.column_definitions([{"name": "Size", "type": "integer", "jsonPath": ".spec.size",
                                                    "priority": 1}], NAME_COLUMN)
    assert [d["name"] for d in definitions] == ["Name", "Size"]
    assert definitions[1] == {"name": "Size", "type": "integer", "format": "", "priority": 1,
                              "description": "Custom resource definition column (in JSONPath format): .spec.size"}
    assert [d["name"] for d in customtables.column_definitions([], NAME_COLUMN)] == ["Name", "Age"]
    assert customtables.cells([], WIDGET, NOW, format_age) == ["w", "60m"]


def test_scale_reads_and_writes_the_crd_paths():
    scale = {"specReplicasPath": ".spec.count", "statusReplicasPath": ".status.count",
             "labelSelectorPath": ".status.selector"}
    obj = {"metadata": {"name": "w", "resourceVersion": "5"}, "spec": {}, "status": {"count": 2, "selector": "a=b"}}
    assert customscale.to_scale(obj, scale)["spec"] == {"replicas": 0}
    assert customscale.to_scale(obj, scale)["status"] == {"replicas": 2, "selector": "a=b"}
    customscale.set_replicas(obj, scale, 4)
    assert obj["spec"] == {"count": 4}


def test_unknown_fields_are_what_pruning_drops():
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"},
                                                  "items": {"type": "array", "items": {"type": "object", "properties": {
                                                      "name": {"type": "string"}}}},
                                                  "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}
    obj = {"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "w"}, "extra": 1,
           "spec": {"size": 1, "bogus": 2, "items": [{"name": "a", "age": 3}], "free": {"anything": True}}}
    assert crdschema.unknown_fields(schema, obj) == ["extra", "spec.bogus", "spec.items[0].age"]
    crdschema.prune(schema, obj)
    assert crdschema.unknown_fields(schema, obj) == []

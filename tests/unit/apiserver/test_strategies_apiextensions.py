"""Validation and defaulting of CustomResourceDefinitions themselves (strategies/apiextensions.py)."""

from __future__ import annotations

import copy

import pytest

from orchestrator.apiserver.strategies.apiextensions import CustomResourceDefinitionStrategy

STRATEGY = CustomResourceDefinitionStrategy()


def new_crd(**changes) -> dict:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
    }
    for path, value in changes.items():
        target = crd
        *parents, last = path.split("__")
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        target[last] = value
    return crd


def messages(crd: dict) -> list[str]:
    STRATEGY.default(crd)
    return [error.message() for error in STRATEGY.validate(crd)]


def test_a_good_crd_is_valid_and_defaulted():
    crd = new_crd()
    assert messages(crd) == []
    assert crd["spec"]["names"]["singular"] == "widget" and crd["spec"]["names"]["listKind"] == "WidgetList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}


@pytest.mark.parametrize("changes, expected", [
    pytest.param({"metadata__name": "gadgets.example.com"},
                 'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
                 id="name-not-plural-dot-group"),
    pytest.param({"metadata__name": "widgets.example", "spec__group": "example"},
                 'spec.group: Invalid value: "example": should be a domain with at least one dot', id="group-no-dot"),
    pytest.param({"spec__scope": "Global"},
                 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"', id="scope"),
    pytest.param({"spec__versions__0__storage": False},
                 'spec.versions: Invalid value: []string{"v1"}: must have exactly one version marked as storage version',
                 id="no-storage-version"),
    pytest.param({"spec__versions__0__schema": {}},
                 "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required", id="no-schema"),
    pytest.param({"spec__versions__0__schema": {"openAPIV3Schema": {"type": "object", "properties": {
                     "spec": {"properties": {"size": {"type": "integer"}}}}}}},
                 "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: "
                 "must not be empty for specified object fields", id="not-structural"),
    pytest.param({"spec__versions__0__schema": {"openAPIV3Schema": {"type": "object", "properties": {
                     "spec": {"type": "string", "pattern": "("}}}}},
                 'spec.versions[0].schema.openAPIV3Schema.properties[spec].pattern: Invalid value: "(": '
                 "must be a valid regular expression", id="bad-pattern"),
    pytest.param({"spec__versions__0__selectableFields": [{"jsonPath": f".spec.f{i}"} for i in range(9)]},
                 "spec.versions[0].selectableFields: Invalid value: 9: must have at most 8 items", id="selectable"),
    pytest.param({"spec__versions__0__additionalPrinterColumns": [{"name": "Size", "type": "int",
                                                                  "jsonPath": ".spec.size"}]},
                 'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "int": supported values: '
                 '"boolean", "date", "integer", "number", "string"', id="column-type"),
    pytest.param({"spec__versions__0__subresources": {"scale": {"specReplicasPath": ".replicas",
                                                                "statusReplicasPath": ".status.replicas"}}},
                 'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".replicas": '
                 "should be a json path under .spec", id="scale-path"),
])
def test_invalid_crds_name_the_field(changes, expected):
    assert any(message.startswith(expected) for message in messages(new_crd(**changes)))


def test_duplicate_versions_are_refused():
    crd = new_crd()
    crd["spec"]["versions"].append({**copy.deepcopy(crd["spec"]["versions"][0]), "storage": False})
    assert 'spec.versions[1].name: Duplicate value: "v1"' in messages(crd)


def test_group_and_scope_are_immutable():
    old = new_crd()
    new = new_crd(spec__scope="Cluster")
    assert "spec.scope: Invalid value: \"Cluster\": field is immutable" in [
        error.message() for error in STRATEGY.validate_update(new, old)]

"""Unit tests of the namespace controller's pure part (orchestrator.controllers.namespace)."""

from __future__ import annotations

from collections import Counter

from orchestrator.client.resources import DEPLOYMENTS, PODS
from orchestrator.controllers.namespace import ContentTotals, finalize_body, namespace_conditions
from tests.unit.controllers.builders import NOW, ts


def by_type(conditions: list[dict]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in conditions}


def test_remaining_content_is_reported_as_kubernetes_words_it():
    totals = ContentTotals(remaining={PODS: 2, DEPLOYMENTS: 0}, finalizers=Counter({"example.com/hold": 1}))
    conditions = by_type(namespace_conditions([], totals, now=NOW))
    assert conditions["NamespaceContentRemaining"] == (
        "True", "SomeResourcesRemain", "Some resources are remaining: pods. has 2 resource instances")
    assert conditions["NamespaceFinalizersRemaining"] == (
        "True", "SomeFinalizersRemain",
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances")
    assert conditions["NamespaceDeletionContentFailure"][0] == "False"


def test_an_empty_namespace_has_only_okay_conditions():
    conditions = by_type(namespace_conditions([], ContentTotals(), now=NOW))
    assert {status for status, _, _ in conditions.values()} == {"False"}
    assert conditions["NamespaceContentRemaining"] == ("False", "ContentRemoved", "All content successfully removed")


def test_unchanged_conditions_keep_their_transition_time():
    first = namespace_conditions([], ContentTotals(), now=NOW - 100)
    again = namespace_conditions(first, ContentTotals(), now=NOW)
    assert again == first
    assert {c["lastTransitionTime"] for c in again} == {ts(-100)}


def test_finalize_body_drops_only_the_kubernetes_finalizer():
    namespace = {"metadata": {"name": "x"}, "spec": {"finalizers": ["kubernetes", "example.com/other"]}}
    assert finalize_body(namespace)["spec"]["finalizers"] == ["example.com/other"]
    assert namespace["spec"]["finalizers"] == ["kubernetes", "example.com/other"]

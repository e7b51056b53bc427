"""NodeAffinity: `spec.nodeSelector` and required node affinity decide which nodes a pod may
use; preferred node affinity terms add their weights to the nodes they match.

Filter and score plugin of the default profile (plugins/nodeaffinity, weight 2), with the
matching rules of component-helpers' NodeSelector: terms are ORed, the requirements of one
term ANDed, a term without requirements matches nothing; `NotIn` and `DoesNotExist` match
nodes that lack the label; `Gt`/`Lt` compare integers; matchFields knows `metadata.name`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from orchestrator.scheduler.framework import SUCCESS, Code, NodeInfo, PodInfo, Status, default_normalize
from orchestrator.scheduler.nodetable import NodeTable

REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _compare(operator: str, label_value: str, values: list[str]) -> bool:
    """Gt/Lt: the label and the single value are integers, else no match."""
    if len(values) != 1:
        return False
    node_number, wanted = _integer(label_value), _integer(values[0])
    if node_number is None or wanted is None:
        return False
    return node_number > wanted if operator == "Gt" else node_number < wanted


def requirement_matches(requirement: Mapping, labels: Mapping[str, str]) -> bool:
    key = requirement.get("key") or ""
    operator = requirement.get("operator")
    values = list(requirement.get("values") or [])
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):
        return key in labels and _compare(operator, labels[key], values)
    return False


def field_requirement_matches(requirement: Mapping, node_name: str) -> bool:
    if requirement.get("key") != "metadata.name":
        return False
    values = list(requirement.get("values") or [])
    if requirement.get("operator") == "In":
        return node_name in values
    if requirement.get("operator") == "NotIn":
        return node_name not in values
    return False


def term_matches(term: Mapping, labels: Mapping[str, str], node_name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    return (all(requirement_matches(requirement, labels) for requirement in expressions)
            and all(field_requirement_matches(requirement, node_name) for requirement in fields))


def required_matches(pod: PodInfo, labels: Mapping[str, str], node_name: str) -> bool:
    """nodeSelector and required node affinity (both must hold)."""
    for key, value in pod.node_selector.items():
        if labels.get(key) != value:
            return False
    if pod.required_node_affinity is not None:
        terms = pod.required_node_affinity.get("nodeSelectorTerms") or []
        return any(term_matches(term, labels, node_name) for term in terms)
    return True


# --- the same rules over every node at once -----------------------------------------------

def _any_value(table: NodeTable, key: str, values: list[str]) -> np.ndarray:
    mask = np.zeros(table.capacity, dtype=bool)
    for value in values:
        mask |= table.label_equals(key, value)
    return mask


def requirement_mask(requirement: Mapping, table: NodeTable) -> np.ndarray:
    key = requirement.get("key") or ""
    operator = requirement.get("operator")
    values = list(requirement.get("values") or [])
    if operator == "In":
        return _any_value(table, key, values)
    if operator == "NotIn":
        return ~_any_value(table, key, values)
    if operator == "Exists":
        return table.label_exists(key)
    if operator == "DoesNotExist":
        return ~table.label_exists(key)
    if operator in ("Gt", "Lt"):
        mask = np.zeros(table.capacity, dtype=bool)
        for label_value, slots in table.label_values(key).items():
            if _compare(operator, label_value, values):
                mask[slots] = True
        return mask
    return np.zeros(table.capacity, dtype=bool)


def field_requirement_mask(requirement: Mapping, table: NodeTable) -> np.ndarray:
    if requirement.get("key") != "metadata.name" or requirement.get("operator") not in ("In", "NotIn"):
        return np.zeros(table.capacity, dtype=bool)
    mask = np.zeros(table.capacity, dtype=bool)
    for name in requirement.get("values") or []:
        mask |= table.name_equals(name)
    return mask if requirement.get("operator") == "In" else ~mask


def term_mask(term: Mapping, table: NodeTable) -> np.ndarray:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    mask = np.full(table.capacity, bool(expressions or fields))
    for requirement in expressions:
        mask &= requirement_mask(requirement, table)
    for requirement in fields:
        mask &= field_requirement_mask(requirement, table)
    return mask


class NodeAffinity:
    NAME = "NodeAffinity"
    CODE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    WEIGHT = 2

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if required_matches(pod, node.labels, node.name):
            return SUCCESS
        return Status.unresolvable(REASON_NODE_AFFINITY)

    def filter_nodes(self, pod: PodInfo, table: NodeTable) -> np.ndarray | None:
        if not pod.node_selector and pod.required_node_affinity is None:
            return None
        mask = np.ones(table.capacity, dtype=bool)
        for key, value in pod.node_selector.items():
            mask &= table.label_equals(key, value)
        if pod.required_node_affinity is not None:
            any_term = np.zeros(table.capacity, dtype=bool)
            for term in pod.required_node_affinity.get("nodeSelectorTerms") or []:
                any_term |= term_mask(term, table)
            mask &= any_term
        return mask

    def reason_counts(self, pod: PodInfo, table: NodeTable, rejected_slots: np.ndarray) -> Counter:
        return Counter({REASON_NODE_AFFINITY: len(rejected_slots)})

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        return sum(term.get("weight") or 0 for term in pod.preferred_node_affinity
                   if term.get("weight") and term_matches(term.get("preference") or {}, node.labels, node.name))

    def score_nodes(self, pod: PodInfo, table: NodeTable, slots: np.ndarray) -> np.ndarray | None:
        if not pod.preferred_node_affinity:
            return None
        scores = np.zeros(len(slots), dtype=np.int64)
        for term in pod.preferred_node_affinity:
            if term.get("weight"):
                scores += term_mask(term.get("preference") or {}, table)[slots] * int(term["weight"])
        return scores

    def normalize(self, scores: np.ndarray) -> np.ndarray:
        return default_normalize(scores)

"""Unit tests of orchestrator.controllers.deployment.util: fenceposts, hash, ReplicaSet look-ups."""

from __future__ import annotations

import pytest

from orchestrator.controllers.deployment.util import (
    by_size_newer_first,
    by_size_older_first,
    compute_hash,
    equal_ignore_hash,
    find_new_replica_set,
    find_old_replica_sets,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    resolve_fenceposts,
    scaled_value,
    set_condition,
)
from tests.unit.controllers.builders import new_deployment, new_replica_set, pod_template


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        pytest.param(2, 10, True, 2, id="int"),
        pytest.param("25%", 10, True, 3, id="percent-up"),
        pytest.param("25%", 10, False, 2, id="percent-down"),
        pytest.param("100%", 7, False, 7, id="all"),
        pytest.param("0%", 7, True, 0, id="none"),
        pytest.param("5", 10, True, 5, id="digits-in-a-string"),
    ],
)
def test_scaled_value(value, total, round_up, expected):
    assert scaled_value(value, total, round_up=round_up) == expected


def test_scaled_value_rejects_garbage():
    with pytest.raises(ValueError):
        scaled_value("lots", 10, round_up=True)


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        pytest.param("25%", "25%", 4, (1, 1), id="defaults-of-4"),
        pytest.param("25%", "25%", 1, (1, 0), id="defaults-of-1"),
        pytest.param(0, "10%", 3, (0, 1), id="both-zero-becomes-one-unavailable"),
        pytest.param(2, 0, 5, (2, 0), id="ints"),
    ],
)
def test_resolve_fenceposts(surge, unavailable, desired, expected):
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(
    ("deployment", "surge", "unavailable"),
    [
        pytest.param(new_deployment(replicas=10), 3, 2, id="rolling-defaults"),
        pytest.param(new_deployment(replicas=2, max_unavailable=5), 1, 2, id="unavailable-capped-at-replicas"),
        pytest.param(new_deployment(replicas=0), 0, 0, id="zero-replicas"),
        pytest.param(new_deployment(replicas=5, strategy="Recreate"), 0, 0, id="recreate"),
    ],
)
def test_max_surge_and_unavailable(deployment, surge, unavailable):
    assert (max_surge(deployment), max_unavailable(deployment)) == (surge, unavailable)


def test_compute_hash_is_stable_short_and_safe():
    template = pod_template("app:1")
    first = compute_hash(template)
    assert first == compute_hash(pod_template("app:1"))
    assert first != compute_hash(pod_template("app:2"))
    assert first != compute_hash(template, 1)
    assert 1 <= len(first) <= 10
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_equal_ignore_hash():
    with_hash = pod_template("app:1")
    with_hash["metadata"]["labels"]["pod-template-hash"] = "abc"
    assert equal_ignore_hash(with_hash, pod_template("app:1"))
    assert not equal_ignore_hash(with_hash, pod_template("app:2"))
    from_kubectl_undo = pod_template("app:1")
    from_kubectl_undo["metadata"]["creationTimestamp"] = None
    assert equal_ignore_hash(with_hash, from_kubectl_undo)
    assert compute_hash(from_kubectl_undo) == compute_hash(pod_template("app:1"))


def test_find_new_and_old_replica_sets():
    deployment = new_deployment(image="app:2")
    old = new_replica_set("web-old", image="app:1", created=-20)
    newest_copy = new_replica_set("web-new-later", image="app:2", created=-5)
    new = new_replica_set("web-new", image="app:2", created=-10, template_hash="h")
    assert find_new_replica_set(deployment, [old, newest_copy, new])["metadata"]["name"] == "web-new"
    with_pods, all_old = find_old_replica_sets(deployment, [old, new])
    assert [rs["metadata"]["name"] for rs in all_old] == ["web-old"]
    assert [rs["metadata"]["name"] for rs in with_pods] == ["web-old"]


def test_size_orderings_break_ties_by_age():
    older = new_replica_set("older", replicas=2, created=-20)
    newer = new_replica_set("newer", replicas=2, created=-10)
    bigger = new_replica_set("bigger", replicas=5, created=-5)
    assert [rs["metadata"]["name"] for rs in by_size_newer_first([older, newer, bigger])] == ["bigger", "newer", "older"]
    assert [rs["metadata"]["name"] for rs in by_size_older_first([newer, older, bigger])] == ["bigger", "older", "newer"]


@pytest.mark.parametrize(
    ("old_replicas", "new_replicas", "expected"),
    [
        pytest.param(10, 0, 3, id="surge-room"),
        pytest.param(10, 3, 3, id="no-room-left"),
        pytest.param(8, 3, 5, id="old-shrunk"),
        pytest.param(0, 9, 10, id="never-beyond-replicas"),
    ],
)
def test_new_rs_new_replicas(old_replicas, new_replicas, expected):
    deployment = new_deployment(replicas=10, max_surge=3, max_unavailable=0)
    old = new_replica_set("old", replicas=old_replicas)
    new = new_replica_set("new", replicas=new_replicas)
    assert new_rs_new_replicas(deployment, [old, new], new) == expected


def test_new_rs_new_replicas_counts_pods_not_yet_deleted():
    deployment = new_deployment(replicas=10, max_surge=3, max_unavailable=0)
    old = new_replica_set("old", replicas=8, status_replicas=10)  # just scaled down, its pods still there
    new = new_replica_set("new", replicas=3)
    assert new_rs_new_replicas(deployment, [old, new], new) == 3
    old["status"]["replicas"] = 8
    assert new_rs_new_replicas(deployment, [old, new], new) == 5


def test_set_condition_keeps_transition_time_when_only_reason_changes():
    status = {"conditions": [{"type": "Progressing", "status": "True", "reason": "A", "lastTransitionTime": "t0",
                              "lastUpdateTime": "t0"}]}
    set_condition(status, {"type": "Progressing", "status": "True", "reason": "B", "lastTransitionTime": "t1",
                           "lastUpdateTime": "t1"})
    assert status["conditions"] == [{"type": "Progressing", "status": "True", "reason": "B",
                                     "lastTransitionTime": "t0", "lastUpdateTime": "t1"}]
    set_condition(status, {"type": "Progressing", "status": "True", "reason": "B", "lastTransitionTime": "t2",
                           "lastUpdateTime": "t2"})
    assert status["conditions"][0]["lastUpdateTime"] == "t1"  # same status and reason: left alone

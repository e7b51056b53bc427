"""Unit tests of VolumeBinding: its PreFilter over claims and classes, and its node-affinity filter."""

from __future__ import annotations

import pytest

from orchestrator.scheduler.framework import PodInfo
from orchestrator.scheduler.plugins.volumebinding import (
    REASON_NODE_CONFLICT,
    REASON_PV_NOT_EXIST,
    UNBOUND_IMMEDIATE,
    VolumeBinding,
    check_pod_volumes,
)
from tests.unit.scheduler.builders import assert_filter_forms_agree, cache_with, new_node, new_pod, node_info

CLASSES = {"wait": {"volumeBindingMode": "WaitForFirstConsumer"}, "now": {"volumeBindingMode": "Immediate"}}


def pod_with_claim(claim_name: str = "data") -> dict:
    pod = new_pod("db")
    pod["spec"]["volumes"] = [{"name": "v", "persistentVolumeClaim": {"claimName": claim_name}}]
    return pod


def claim(*, storage_class="wait", volume_name=None, deleting=False) -> dict:
    metadata = {"name": "data", "namespace": "default"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec = {"storageClassName": storage_class}
    if volume_name:
        spec["volumeName"] = volume_name
    return {"metadata": metadata, "spec": spec}


def pinned_volume(node: str) -> dict:
    return {"metadata": {"name": "pv"}, "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}


def check(pod, claims, volumes=()):
    claims_by_key = {f"default/{c['metadata']['name']}": c for c in claims}
    volumes_by_name = {v["metadata"]["name"]: v for v in volumes}
    return check_pod_volumes(pod, get_claim=claims_by_key.get, get_volume=volumes_by_name.get, get_class=CLASSES.get)


@pytest.mark.parametrize(("claims", "reason"), [
    pytest.param([], 'persistentvolumeclaim "data" not found', id="missing"),
    pytest.param([claim(deleting=True)], 'persistentvolumeclaim "data" is being deleted', id="deleting"),
    pytest.param([claim(storage_class="now")], UNBOUND_IMMEDIATE, id="unbound-immediate"),
    pytest.param([claim()], None, id="unbound-wait-for-first-consumer"),
])
def test_prefilter(claims, reason):
    assert check(pod_with_claim(), claims).unschedulable == reason


def test_unbound_wait_for_first_consumer_claims_get_a_node_selected():
    assert [c["metadata"]["name"] for c in check(pod_with_claim(), [claim()]).claims_to_select] == ["data"]


def test_filter_rejects_nodes_a_bound_volume_excludes():
    volumes = check(pod_with_claim(), [claim(volume_name="pv")], [pinned_volume("a")])
    plugin = VolumeBinding(lambda pod: volumes)
    pod = PodInfo.from_pod(pod_with_claim())

    assert plugin.filter(pod, node_info(new_node("a"))).is_success
    assert plugin.filter(pod, node_info(new_node("b"))).reasons == (REASON_NODE_CONFLICT,)
    assert_filter_forms_agree(plugin, pod, cache_with([new_node("a"), new_node("b")]))


def test_filter_rejects_every_node_when_the_bound_volume_is_missing():
    volumes = check(pod_with_claim(), [claim(volume_name="gone")])
    plugin = VolumeBinding(lambda pod: volumes)

    assert plugin.filter(PodInfo.from_pod(pod_with_claim()), node_info(new_node("a"))).reasons == \
        (REASON_PV_NOT_EXIST,)

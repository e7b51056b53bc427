"""Unit tests of the Endpoints controller's pure part (orchestrator.controllers.endpoints)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.endpoints import find_port, plan_endpoints, services_selecting
from tests.unit.controllers.builders import new_pod


def new_service(*, ports: list[dict] | None = None, selector: dict | None = None, cluster_ip: str = "10.96.0.10",
                labels: dict | None = None, publish_not_ready: bool = False) -> dict:
    spec = {"selector": {"app": "web"} if selector is None else selector, "clusterIP": cluster_ip,
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}] if ports is None else ports}
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    metadata = {"name": "web", "namespace": "default", "uid": "svc-1", "resourceVersion": "1"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def address(pod: dict) -> dict:
    return {"ip": pod["status"]["podIP"], "nodeName": pod["spec"]["nodeName"],
            "targetRef": {"kind": "Pod", "namespace": "default", "name": pod["metadata"]["name"],
                          "uid": pod["metadata"]["uid"]}}


HTTP_8080 = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_ready_and_not_ready_pods():
    ready = new_pod("a", ip="10.0.0.2")
    starting = new_pod("b", ip="10.0.0.1", ready=False)
    endpoints = plan_endpoints(new_service(labels={"team": "x"}), [ready, starting], None)
    assert endpoints == {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default", "labels": {"team": "x"}},
        "subsets": [{"addresses": [address(ready)], "notReadyAddresses": [address(starting)], "ports": HTTP_8080}],
    }


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(new_pod("no-ip", ip=None), id="no-ip"),
        pytest.param(new_pod("done", phase="Succeeded"), id="finished"),
        pytest.param(new_pod("going", deleting=True), id="terminating"),
        pytest.param(new_pod("other", labels={"app": "db"}), id="not-selected"),
    ],
)
def test_pods_left_out(pod):
    endpoints = plan_endpoints(new_service(), [pod], None)
    assert "subsets" not in endpoints


def test_publish_not_ready_addresses_makes_every_address_ready():
    starting = new_pod("b", ready=False)
    endpoints = plan_endpoints(new_service(publish_not_ready=True), [starting], None)
    assert endpoints["subsets"] == [{"addresses": [address(starting)], "ports": HTTP_8080}]


def test_named_target_ports_resolve_per_pod_into_separate_subsets():
    service = new_service(ports=[{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}])
    on_8080 = new_pod("a", ip="10.0.0.1", containers=[{"name": "c", "ports": [{"name": "web", "containerPort": 8080}]}])
    on_9090 = new_pod("b", ip="10.0.0.2", containers=[{"name": "c", "ports": [{"name": "web", "containerPort": 9090}]}])
    nameless = new_pod("c", ip="10.0.0.3")
    endpoints = plan_endpoints(service, [on_8080, on_9090, nameless], None)
    assert endpoints["subsets"] == [
        {"addresses": [address(on_8080)], "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
        {"addresses": [address(on_9090)], "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]},
    ]


def test_ports_offered_by_the_same_pods_share_a_subset():
    service = new_service(ports=[{"name": "a", "port": 1, "targetPort": 1001}, {"name": "b", "port": 2, "targetPort": 1002}])
    pod = new_pod("p")
    (subset,) = plan_endpoints(service, [pod], None)["subsets"]
    assert subset["ports"] == [{"name": "a", "port": 1001, "protocol": "TCP"}, {"name": "b", "port": 1002, "protocol": "TCP"}]


def test_headless_service_without_ports_lists_addresses_and_is_labelled():
    pod = new_pod("p")
    endpoints = plan_endpoints(new_service(ports=[], cluster_ip="None"), [pod], None)
    assert endpoints["subsets"] == [{"addresses": [address(pod)]}]
    assert endpoints["metadata"]["labels"] == {"service.kubernetes.io/headless": ""}


def test_up_to_date_endpoints_are_not_rewritten_and_changes_keep_the_resource_version():
    pod = new_pod("p")
    current = plan_endpoints(new_service(), [pod], None)
    current["metadata"]["resourceVersion"] = "42"
    assert plan_endpoints(new_service(), [pod], current) is None
    not_ready = new_pod("p", ready=False)
    not_ready["metadata"]["uid"] = pod["metadata"]["uid"]
    updated = plan_endpoints(new_service(), [not_ready], current)
    assert updated["metadata"]["resourceVersion"] == "42"
    assert "addresses" not in updated["subsets"][0]


@pytest.mark.parametrize(
    ("service_port", "expected"),
    [
        pytest.param({"port": 80}, 80, id="no-target-port-means-port"),
        pytest.param({"port": 80, "targetPort": 8080}, 8080, id="number"),
        pytest.param({"port": 80, "targetPort": "http"}, 8000, id="name"),
        pytest.param({"port": 80, "targetPort": "http", "protocol": "UDP"}, None, id="name-other-protocol"),
        pytest.param({"port": 80, "targetPort": "missing"}, None, id="unknown-name"),
    ],
)
def test_find_port(service_port, expected):
    pod = new_pod("p", containers=[{"name": "c", "ports": [{"name": "http", "containerPort": 8000}]}])
    assert find_port(pod, service_port) == expected


def test_services_selecting():
    selecting = new_service()
    other = new_service(selector={"app": "db"})
    manual = new_service(selector={})
    assert services_selecting(new_pod("p"), [selecting, other, manual]) == [selecting]

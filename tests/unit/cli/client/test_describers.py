"""The pure pieces of kubectl's describers (cli/client/describers.py)."""

from __future__ import annotations

import pytest

from cli.client.describers import (
    describe_namespace,
    describe_probe,
    format_label_selector,
    format_service_endpoints,
    pod_qos_class,
    smart_label,
)


def container(*, requests: dict | None = None, limits: dict | None = None) -> dict:
    return {"name": "c", "resources": {"requests": requests or {}, "limits": limits or {}}}


@pytest.mark.parametrize("containers, qos", [
    pytest.param([container()], "BestEffort", id="best-effort"),
    pytest.param([container(requests={"cpu": "1"})], "Burstable", id="burstable"),
    pytest.param([container(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"})],
                 "Guaranteed", id="guaranteed"),
    pytest.param([container(limits={"cpu": "1", "memory": "1Gi"})], "Guaranteed", id="limits-only"),
])
def test_qos_class(containers, qos):
    assert pod_qos_class({"spec": {"containers": containers}}) == qos


@pytest.mark.parametrize("selector, text", [
    pytest.param({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2", id="labels"),
    pytest.param({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]},
                                       {"key": "x", "operator": "DoesNotExist"}]}, "tier in (a,b),!x",
                 id="expressions"),
    pytest.param({}, "<none>", id="empty"),
])
def test_label_selector(selector, text):
    assert format_label_selector(selector) == text


@pytest.mark.parametrize("field, label", [
    pytest.param("containerPort", "Container Port", id="camel"),
    pytest.param("apiVersion", "API Version", id="acronym"),
    pytest.param("holderIdentity", "Holder Identity", id="two-words"),
    pytest.param("some_field", "some_field", id="not-a-word"),
])
def test_smart_label(field, label):
    assert smart_label(field) == label


@pytest.mark.parametrize("probe, text", [
    pytest.param({"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5},
                 "http-get http://:8080/healthz delay=0s timeout=0s period=5s #success=0 #failure=0", id="http"),
    pytest.param({"exec": {"command": ["cat", "/tmp/ok"]}}, "exec [cat /tmp/ok] delay=0s timeout=0s period=0s "
                 "#success=0 #failure=0", id="exec"),
])
def test_probe(probe, text):
    assert describe_probe(probe) == text


def test_service_endpoints_by_port_name():
    endpoints = {"subsets": [{"addresses": [{"ip": f"10.0.0.{index}"} for index in range(5)],
                              "ports": [{"name": "http", "port": 80}, {"name": "admin", "port": 81}]}]}
    assert format_service_endpoints(endpoints, "admin") == "10.0.0.0:81,10.0.0.1:81,10.0.0.2:81 + 2 more..."
    assert format_service_endpoints(None, "http") == "<none>"


def test_namespace_text_aligns_like_kubectl():
    namespace = {"metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}},
                 "status": {"phase": "Active"}}
    assert describe_namespace(namespace, None, {}) == (
        "Name:         default\nLabels:       kubernetes.io/metadata.name=default\nAnnotations:  <none>\n"
        "Status:       Active\n")

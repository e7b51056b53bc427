"""Unit tests of orchestrator/kubelet/env.py: environment resolution and $(VAR) expansion."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from orchestrator.kubelet.env import EnvError, expand, expand_command, referenced_objects, resolve_env


def new_pod(**metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"app": "web", "tier": "front"},
                     **metadata},
        "spec": {"nodeName": "n1", "serviceAccountName": "default"},
    }


def config_map(**data: str) -> dict[str, Any]:
    return {"metadata": {"name": "settings"}, "data": data}


def secret(**data: str) -> dict[str, Any]:
    return {"metadata": {"name": "creds"}, "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def resolve(container: dict[str, Any], *, config_maps: dict | None = None, secrets: dict | None = None) -> dict:
    return resolve_env(container=container, pod=new_pod(), config_maps=config_maps or {}, secrets=secrets or {},
                       pod_ip="10.1.0.7", host_ip="192.168.1.10", node_allocatable={"cpu": "4", "memory": "8Gi"})


@pytest.mark.parametrize(
    ("text", "environment", "expected"),
    [
        pytest.param("plain", {}, "plain", id="no-reference"),
        pytest.param("$(A)-$(B)", {"A": "1", "B": "2"}, "1-2", id="two-references"),
        pytest.param("$(MISSING)", {}, "$(MISSING)", id="undefined-stays"),
        pytest.param("$$(A)", {"A": "1"}, "$(A)", id="escaped"),
        pytest.param("$(A", {"A": "1"}, "$(A", id="unclosed"),
        pytest.param("cost $5", {}, "cost $5", id="lone-dollar"),
        pytest.param("end$", {}, "end$", id="trailing-dollar"),
    ],
)
def test_expand(text: str, environment: dict[str, str], expected: str) -> None:
    assert expand(text, environment) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        pytest.param({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "$(A)2"}]},
                     {"A": "1", "B": "12"}, id="literal-and-reference"),
        pytest.param({"env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                              {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                              {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                              {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                              {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                              {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]},
                     {"N": "web", "NS": "shop", "IP": "10.1.0.7", "HOST": "192.168.1.10", "NODE": "n1", "APP": "web"},
                     id="downward-api"),
        pytest.param({"env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
                              {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}]},
                     {"MODE": "fast", "PASS": "s3cret"}, id="key-refs"),
        pytest.param({"envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"},
                                  {"secretRef": {"name": "creds"}}],
                      "env": [{"name": "CFG_mode", "value": "override"}]},
                     {"CFG_mode": "override", "password": "s3cret"}, id="env-from-then-env-overrides"),
        pytest.param({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k",
                                                                             "optional": True}}}]},
                     {}, id="optional-missing"),
        pytest.param({"env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                                "divisor": "1Mi"}}}],
                      "resources": {"limits": {"memory": "64Mi"}}},
                     {"MEM": "64"}, id="resource-field"),
        pytest.param({"env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]},
                     {"CPU": "4"}, id="resource-field-defaults-to-node"),
    ],
)
def test_resolve_env(container: dict[str, Any], expected: dict[str, str]) -> None:
    environment = resolve(container, config_maps={"settings": config_map(mode="fast")},
                          secrets={"creds": secret(password="s3cret")})
    assert environment == expected


@pytest.mark.parametrize(
    ("container", "message"),
    [
        pytest.param({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]},
                     'configmap "absent" not found', id="missing-config-map"),
        pytest.param({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "nope"}}}]},
                     "couldn't find key nope in ConfigMap shop/settings", id="missing-key"),
        pytest.param({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope"}}}]},
                     "couldn't find key nope in Secret shop/creds", id="missing-secret-key"),
        pytest.param({"envFrom": [{"secretRef": {"name": "absent"}}]}, 'secret "absent" not found',
                     id="missing-secret"),
    ],
)
def test_unresolvable_references(container: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvError) as raised:
        resolve(container, config_maps={"settings": config_map(mode="fast")}, secrets={"creds": secret(a="b")})
    assert raised.value.message == message


def test_service_variables_come_first_and_can_be_referenced_or_overridden() -> None:
    container = {"env": [{"name": "URL", "value": "http://$(API_SERVICE_HOST):$(API_SERVICE_PORT)"},
                         {"name": "API_SERVICE_PORT", "value": "9999"}]}
    environment = resolve_env(container=container, pod=new_pod(), config_maps={}, secrets={}, pod_ip=None,
                              host_ip=None, service_environment={"API_SERVICE_HOST": "10.96.0.7",
                                                                 "API_SERVICE_PORT": "5000"})
    assert environment == {"API_SERVICE_HOST": "10.96.0.7", "API_SERVICE_PORT": "9999",
                           "URL": "http://10.96.0.7:5000"}


def test_referenced_objects_and_command_expansion() -> None:
    container = {"envFrom": [{"configMapRef": {"name": "a"}}],
                 "env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "b", "key": "k"}}}],
                 "command": ["echo", "$(GREETING)"], "args": ["$(NAME)", "$$(NAME)"]}
    wanted = referenced_objects(container)
    assert wanted.config_maps == {"a"} and wanted.secrets == {"b"}
    assert expand_command(container, {"GREETING": "hi", "NAME": "x"}) == (["echo", "hi"], ["x", "$(NAME)"])
    assert expand_command({"name": "c"}, {}) == (None, None)

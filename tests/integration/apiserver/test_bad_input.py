"""Bad input gets a Kubernetes Status naming the field, and nothing is half-written (issue 2, acceptance 6)."""

from __future__ import annotations

import copy
import json
import uuid

import httpx
import pytest


@pytest.fixture(scope="module")
def http(apiserver):
    import ssl

    context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    with httpx.Client(base_url=apiserver.url, verify=context,
                      headers={"Authorization": f"Bearer {apiserver.tokens['admin']}"}) as client:
        yield client


@pytest.fixture(scope="module")
def namespace(http):
    name = f"bad-{uuid.uuid4().hex[:6]}"
    assert http.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    return name


DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "echo:v1"}]}}},
}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}


def changed(base: dict, path: str, value) -> dict:
    """A copy of `base` with `path` (dots, [i] for list items) set to `value` (None removes it)."""
    obj = copy.deepcopy(base)
    parts = path.replace("[", ".").replace("]", "").split(".")
    node = obj
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is None:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return obj


CASES = [
    pytest.param("deployments", changed(DEPLOYMENT, "spec.replicas", -1), 422, "spec.replicas", id="negative-replicas"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.replicas", "3"), 400, "spec.replicas", id="replicas-string"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.template.metadata.labels", {"app": "other"}), 422,
                 "spec.template.metadata.labels", id="selector-mismatch"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.selector", None), 422, "spec.selector", id="no-selector"),
    pytest.param("deployments", changed(DEPLOYMENT, "metadata.name", "Web_App"), 422, "metadata.name", id="bad-name"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.template.spec.containers",
                                        [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]), 422,
                 "spec.template.spec.containers[1].name", id="duplicate-container"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.template.spec.containers[0].resources",
                                        {"requests": {"cpu": "10x"}}), 422, "resources.requests", id="bad-quantity"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.template.spec.containers[0].ports",
                                        [{"containerPort": 70000}]), 422, "containerPort", id="bad-port"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.strategy", {"type": "Sideways"}), 422, "spec.strategy",
                 id="bad-strategy"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.template.spec.restartPolicy", "Never"), 422,
                 "spec.template.spec.restartPolicy", id="deployment-restart-never"),
    pytest.param("pods", changed(POD, "spec.containers", []), 422, "spec.containers", id="no-containers"),
    pytest.param("pods", changed(POD, "spec.containers[0].image", None), 422, "spec.containers[0].image",
                 id="no-image"),
    pytest.param("pods", changed(POD, "spec.containers[0].name", None), 422, "spec.containers[0].name",
                 id="no-container-name"),
    pytest.param("pods", changed(POD, "spec.restartPolicy", "Sometimes"), 422, "spec.restartPolicy",
                 id="bad-restart-policy"),
    pytest.param("pods", changed(POD, "metadata.labels", {"bad key!": "v"}), 422, "metadata.labels",
                 id="bad-label-key"),
    pytest.param("pods", changed(POD, "spec.containers[0].env", [{"name": "", "value": "x"}]), 422,
                 "spec.containers[0].env[0].name", id="empty-env-name"),
    pytest.param("services", changed(SERVICE, "spec.ports[0].port", 0), 422, "spec.ports[0].port", id="port-zero"),
    pytest.param("services", changed(SERVICE, "spec.type", "Magic"), 422, "spec.type", id="bad-service-type"),
    pytest.param("services", changed(SERVICE, "spec.ports[0].nodePort", 80), 422, "spec.ports[0].nodePort",
                 id="nodeport-out-of-range"),
    pytest.param("services", changed(SERVICE, "metadata.name", "1abc"), 422, "metadata.name",
                 id="service-name-dns1035"),
    pytest.param("configmaps", {"metadata": {"name": "c"}, "data": {"bad key!": "v"}}, 422, "data",
                 id="bad-configmap-key"),
    pytest.param("deployments", changed(DEPLOYMENT, "spec.unknownField", 1), 400, "spec.unknownField",
                 id="unknown-field-strict"),
]


def collection(resource: str, namespace: str) -> str:
    group = "/apis/apps/v1" if resource == "deployments" else "/api/v1"
    return f"{group}/namespaces/{namespace}/{resource}"


@pytest.mark.parametrize(("resource", "body", "code", "field"), CASES)
def test_bad_input_is_refused_with_the_field(http, namespace, resource, body, code, field):
    response = http.post(collection(resource, namespace), params={"fieldValidation": "Strict"}, json=body)
    status = response.json()
    assert response.status_code == code, status
    assert status["kind"] == "Status" and status["code"] == code
    assert field in status["message"] or any(field in (c.get("field") or "") for c in
                                             (status.get("details") or {}).get("causes", [])), status
    listed = http.get(collection(resource, namespace)).json()
    assert listed["items"] == [], "a refused object must not be stored"


@pytest.mark.parametrize(("content", "code"), [
    pytest.param(b"{not json", 400, id="malformed-json"),
    pytest.param(b"[1, 2]", 400, id="not-an-object"),
    pytest.param(json.dumps({**POD, "metadata": {"name": "x" * 10, "annotations": {"a": "b" * (2 * 1024 * 1024)}}}).encode(),
                 413, id="too-large"),
])
def test_malformed_bodies(http, namespace, content, code):
    response = http.post(collection("pods", namespace), content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == code
    assert response.json()["kind"] == "Status"
    assert http.get(collection("pods", namespace)).json()["items"] == []


def test_missing_namespace_is_404(http):
    response = http.post(collection("pods", "does-not-exist"), json=POD)
    assert response.status_code == 404
    assert response.json()["details"]["kind"] == "namespaces"


def test_selector_is_immutable(http, namespace):
    assert http.post(collection("deployments", namespace), json=DEPLOYMENT).status_code == 201
    response = http.patch(f"{collection('deployments', namespace)}/web",
                          json={"spec": {"selector": {"matchLabels": {"app": "web", "x": "y"}},
                                         "template": {"metadata": {"labels": {"app": "web", "x": "y"}}}}},
                          headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert response.status_code == 422
    assert "spec.selector" in response.json()["message"]
    assert http.delete(f"{collection('deployments', namespace)}/web").status_code == 200


def test_unauthenticated_requests_get_401(apiserver):
    import ssl

    context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    with httpx.Client(base_url=apiserver.url, verify=context) as anonymous:
        assert anonymous.get("/api/v1/pods").status_code == 401
        assert anonymous.get("/version").status_code == 200
        bad = anonymous.get("/api/v1/pods", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["reason"] == "Unauthorized"

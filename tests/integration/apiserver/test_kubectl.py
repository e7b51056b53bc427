"""Acceptance for the apiserver through real kubectl (issue 2, acceptance 1).

Every command is what a Kubernetes user types; the kubeconfig is the one the project
writes (TLS with the cluster's CA, bearer token), with no extra flags.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
import uuid

import pytest


@pytest.fixture
def namespace(kubectl):
    name = f"t-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name


def manifest(namespace: str, *, replicas: int, env: dict[str, str]) -> str:
    env_lines = "\n".join(f"        - {{name: {k}, value: \"{v}\"}}" for k, v in env.items())
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {namespace}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: settings, namespace: {namespace}}}
        data: {{mode: fast}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: creds, namespace: {namespace}}}
        stringData: {{password: s3cret}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web, namespace: {namespace}, labels: {{app: web}}}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              containers:
              - name: web
                image: echo:v1
                ports: [{{containerPort: 8080}}]
                env:
        """) + env_lines + textwrap.dedent(f"""
        ---
        apiVersion: v1
        kind: Service
        metadata: {{name: web, namespace: {namespace}}}
        spec:
          selector: {{app: web}}
          ports: [{{port: 80, targetPort: 8080}}]
        """)


def test_apply_create_unchanged_configured(kubectl, tmp_path):
    namespace = f"apply-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "app.yaml"
    path.write_text(manifest(namespace, replicas=2, env={"A": "1", "B": "2"}))
    first = kubectl("apply", "-f", str(path)).stdout
    assert f"namespace/{namespace} created" in first
    assert "deployment.apps/web created" in first
    assert "service/web created" in first
    assert "secret/creds created" in first

    second = kubectl("apply", "-f", str(path)).stdout
    assert "deployment.apps/web unchanged" in second
    assert "configmap/settings unchanged" in second

    path.write_text(manifest(namespace, replicas=3, env={"A": "1"}))
    third = kubectl("apply", "-f", str(path)).stdout
    assert "deployment.apps/web configured" in third
    deployment = json.loads(kubectl("get", "deployment", "web", "-n", namespace, "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]

    deleted = kubectl("delete", "--wait=false", "-f", str(path)).stdout
    assert "deployment.apps \"web\" deleted" in deleted


@pytest.mark.parametrize("kind", ["pods", "deployments", "replicasets", "services", "endpoints", "nodes", "namespaces",
                                  "configmaps", "secrets", "events", "leases"])
@pytest.mark.parametrize("output", ["wide", "yaml", "json", "name", "jsonpath={.items[*].metadata.name}"])
def test_get_every_kind_in_every_format(kubectl, kind, output):
    result = kubectl("get", kind, "-A", "-o", output)
    assert result.returncode == 0


def test_get_selectors_and_wide_columns(kubectl, namespace):
    kubectl("create", "configmap", "one", "-n", namespace, "--from-literal=a=b")
    kubectl("create", "configmap", "two", "-n", namespace, "--from-literal=a=b")
    kubectl("label", "configmap", "one", "-n", namespace, "tier=front")
    assert kubectl("get", "cm", "-n", namespace, "-l", "tier=front", "-o", "name").stdout.split() == ["configmap/one"]
    others = kubectl("get", "cm", "-n", namespace, "-l", "tier notin (front)", "-o", "name").stdout.split()
    assert "configmap/two" in others and "configmap/one" not in others
    names = kubectl("get", "cm", "-n", namespace, "--field-selector", "metadata.name=two", "-o", "name").stdout.split()
    assert names == ["configmap/two"]
    listing = kubectl("get", "cm", "-A").stdout
    assert listing.splitlines()[0].split() == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert namespace in listing


def test_imperative_verbs(kubectl, namespace):
    created = kubectl("create", "deployment", "hello", "--image=echo:v1", "--port=8080", "-n", namespace).stdout
    assert "deployment.apps/hello created" in created
    assert "scaled" in kubectl("scale", "deployment", "hello", "--replicas=5", "-n", namespace).stdout
    assert "labeled" in kubectl("label", "deployment", "hello", "tier=web", "-n", namespace).stdout
    assert "annotated" in kubectl("annotate", "deployment", "hello", "owner=me", "-n", namespace).stdout
    assert "image updated" in kubectl("set", "image", "deployment/hello", "echo=echo:v2", "-n", namespace).stdout
    assert "exposed" in kubectl("expose", "deployment", "hello", "--port=8080", "-n", namespace).stdout
    deployment = json.loads(kubectl("get", "deploy", "hello", "-n", namespace, "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 5
    assert deployment["metadata"]["labels"]["tier"] == "web"
    assert deployment["metadata"]["annotations"]["owner"] == "me"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "echo:v2"
    assert deployment["metadata"]["generation"] >= 2
    service = json.loads(kubectl("get", "svc", "hello", "-n", namespace, "-o", "json").stdout)
    assert service["spec"]["selector"] == {"app": "hello"}
    assert service["spec"]["ports"][0]["port"] == 8080
    described = kubectl("describe", "deployment", "hello", "-n", namespace).stdout
    assert "Name:" in described and "hello" in described
    kubectl("delete", "deployment", "hello", "-n", namespace)
    assert "NotFound" in kubectl("get", "deploy", "hello", "-n", namespace, check=False).stderr


def test_describe_shows_events(kubectl, namespace):
    kubectl("create", "configmap", "c", "-n", namespace, "--from-literal=a=b")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    kubectl("create", "-f", "-", input=json.dumps(pod))
    uid = json.loads(kubectl("get", "pod", "p", "-n", namespace, "-o", "json").stdout)["metadata"]["uid"]
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "p.1", "namespace": namespace},
             "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace, "uid": uid, "apiVersion": "v1"},
             "reason": "Testing", "message": "hello from the test", "type": "Normal", "count": 1,
             "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
             "source": {"component": "test"}}
    kubectl("create", "-f", "-", input=json.dumps(event))
    described = kubectl("describe", "pod", "p", "-n", namespace).stdout
    assert "Testing" in described and "hello from the test" in described


def test_get_watch_prints_a_change_made_by_another_client(kubectl, apiserver, namespace):
    import threading

    watcher = subprocess.Popen(["kubectl", "--kubeconfig", str(apiserver.kubeconfig), "get", "configmaps", "-n",
                                namespace, "-w", "--request-timeout=20s"], stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True)
    reader.start()
    try:
        time.sleep(1.5)
        kubectl("create", "configmap", "watched", "-n", namespace, "--from-literal=a=b")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("watched" in line for line in lines):
            time.sleep(0.2)
        assert any(line.split()[:2] == ["watched", "1"] for line in lines), lines
    finally:
        watcher.kill()
        watcher.wait()


def test_api_resources_and_version(kubectl):
    resources = kubectl("api-resources").stdout
    for name in ("pods", "deployments", "replicasets", "services", "leases", "namespaces"):
        assert name in resources
    assert "Server Version" in kubectl("version").stdout

"""Server-side apply, managedFields and server dry-run through real kubectl 1.32 and the kubernetes client."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException


def manifest(name: str, replicas: int, image: str = "nginx:1.25") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: web, image: "{image}"}}]
"""


def get(kubectl, name: str, *extra: str) -> dict:
    return json.loads(kubectl("get", "deployment", name, "-o", "json", *extra).stdout)


def test_apply_server_side_creates_updates_and_records_the_manager(kubectl):
    kubectl("apply", "--server-side", "-f", "-", input=manifest("ssa-one", 1))
    kubectl("apply", "--server-side", "-f", "-", input=manifest("ssa-one", 2, "nginx:1.26"))

    shown = get(kubectl, "ssa-one", "--show-managed-fields")
    hidden = get(kubectl, "ssa-one")

    assert shown["spec"]["replicas"] == 2
    assert shown["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    apply_entry = next(e for e in shown["metadata"]["managedFields"] if e["operation"] == "Apply")
    assert apply_entry["manager"] == "kubectl"
    assert apply_entry["fieldsV1"]["f:spec"]["f:replicas"] == {}
    assert 'k:{"name":"web"}' in apply_entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert "managedFields" not in hidden["metadata"]


def test_a_conflict_with_kubectl_scale_is_reported_and_force_resolves_it(kubectl):
    kubectl("apply", "--server-side", "-f", "-", input=manifest("ssa-two", 1))
    kubectl("scale", "deployment", "ssa-two", "--replicas=4")

    refused = kubectl("apply", "--server-side", "-f", "-", input=manifest("ssa-two", 2), check=False)
    other_manager = kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                            input=manifest("ssa-two", 3), check=False)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest("ssa-two", 2))

    assert refused.returncode != 0
    assert "Apply failed with 1 conflict: conflict with" in refused.stderr
    assert "using apps/v1: .spec.replicas" in refused.stderr
    assert other_manager.returncode != 0
    assert 'conflict with "kubectl"' in other_manager.stderr
    assert get(kubectl, "ssa-two")["spec"]["replicas"] == 2


def test_dry_run_server_and_diff_store_nothing(kubectl):
    kubectl("apply", "-f", "-", input=manifest("ssa-three", 1))
    before = get(kubectl, "ssa-three")

    dry = kubectl("apply", "--dry-run=server", "-o", "json", "-f", "-", input=manifest("ssa-three", 5))
    dry_ssa = kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=manifest("ssa-three", 6))
    dry_create = kubectl("create", "--dry-run=server", "-f", "-", input=manifest("ssa-never", 1))
    diff = kubectl("diff", "-f", "-", input=manifest("ssa-three", 7), check=False)
    same = kubectl("diff", "-f", "-", input=manifest("ssa-three", 1), check=False)

    assert json.loads(dry.stdout)["spec"]["replicas"] == 5
    assert "serverside-applied (server dry run)" in dry_ssa.stdout
    assert "created (server dry run)" in dry_create.stdout
    assert diff.returncode == 1, diff.stderr
    assert "+  replicas: 7" in diff.stdout
    assert same.returncode == 0, same.stdout + same.stderr
    after = get(kubectl, "ssa-three")
    assert after["spec"]["replicas"] == 1
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert kubectl("get", "deployment", "ssa-never", check=False).returncode != 0


def test_bad_write_options_are_refused_as_kubernetes(kubectl):
    bad_dry_run = kubectl("create", "--raw", "/api/v1/namespaces/default/configmaps?dryRun=Maybe", "-f", "-",
                          input='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}', check=False)

    assert bad_dry_run.returncode != 0
    assert 'dryRun: Unsupported value: "Maybe": supported values: "All"' in bad_dry_run.stderr


@pytest.fixture
def apps(apiserver):
    api_client = config.new_client_from_config(str(apiserver.kubeconfig))
    yield client.AppsV1Api(api_client)
    api_client.close()


def test_python_client_server_side_apply(apps):
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa-py"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "py"}},
                     "template": {"metadata": {"labels": {"app": "py"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}

    created = apps.patch_namespaced_deployment("ssa-py", "default", body, field_manager="py-applier",
                                               _content_type="application/apply-patch+yaml")
    with pytest.raises(ApiException) as missing_manager:
        apps.patch_namespaced_deployment("ssa-py", "default", body, _content_type="application/apply-patch+yaml")
    body["spec"]["replicas"] = 3
    updated = apps.patch_namespaced_deployment("ssa-py", "default", body, field_manager="py-applier",
                                               _content_type="application/apply-patch+yaml")

    assert created.metadata.managed_fields[0].manager == "py-applier"
    assert created.metadata.managed_fields[0].operation == "Apply"
    assert updated.spec.replicas == 3
    assert missing_manager.value.status == 422
    assert "fieldManager: Required value: is required for apply patch" in missing_manager.value.body

"""Real install manifests (../shared/conformance) apply, list and delete with real kubectl.

ingress-nginx's kind manifest (RBAC, IngressClass, ValidatingWebhookConfiguration, Jobs, ...) and
metrics-server's kustomization (APIService) must be accepted as Kubernetes accepts them, with
kubectl's client-side validation on; their images cannot be pulled here, so only the API is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance"
INGRESS_NGINX = CONFORMANCE / "ingress-nginx-kind.yaml"
METRICS_SERVER = CONFORMANCE / "metrics-server"

pytestmark = pytest.mark.skipif(not INGRESS_NGINX.exists(), reason="../shared/conformance is not present")


def _applied_names(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines() if line.strip() and not line.startswith("#")]


def test_ingress_nginx_install_manifest_applies_lists_and_deletes(kubectl):
    applied = kubectl("apply", "-f", str(INGRESS_NGINX))

    names = _applied_names(applied.stdout)
    assert "ingressclass.networking.k8s.io/nginx" in names
    assert "validatingwebhookconfiguration.admissionregistration.k8s.io/ingress-nginx-admission" in names
    assert len(names) == 19
    listed = json.loads(kubectl("get", "-f", str(INGRESS_NGINX), "-o", "json").stdout)["items"]
    assert len(listed) == 19
    webhooks = kubectl("get", "validatingwebhookconfiguration", "ingress-nginx-admission").stdout.split("\n")
    assert webhooks[0].split() == ["NAME", "WEBHOOKS", "AGE"]
    assert webhooks[1].split()[:2] == ["ingress-nginx-admission", "1"]
    webhook = json.loads(kubectl("get", "validatingwebhookconfiguration", "ingress-nginx-admission", "-o",
                                 "json").stdout)["webhooks"][0]
    assert (webhook["failurePolicy"], webhook["timeoutSeconds"], webhook["clientConfig"]["service"]["port"]) == \
        ("Fail", 10, 443)  # Kubernetes' defaults

    kubectl("delete", "-f", str(INGRESS_NGINX), "--wait=false")  # the namespace stays Terminating here

    left = kubectl("get", "-f", str(INGRESS_NGINX), "-o", "name", check=False)
    # Only the namespace may still be there, Terminating (no namespace controller runs in this module).
    assert [line for line in left.stdout.splitlines() if line] in ([], ["namespace/ingress-nginx"])


def test_metrics_server_kustomization_applies_lists_and_deletes(kubectl):
    applied = kubectl("apply", "-k", str(METRICS_SERVER))

    assert "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io created" in applied.stdout
    services = kubectl("get", "apiservice", "v1beta1.metrics.k8s.io").stdout.split("\n")
    assert services[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    assert services[1].split()[:3] == ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False"]

    kubectl("delete", "-k", str(METRICS_SERVER))

    assert kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", check=False).returncode != 0


def test_an_invalid_webhook_configuration_is_refused_naming_the_field(kubectl):
    refused = kubectl("apply", "-f", "-", check=False, input="""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: broken}
webhooks:
- name: short.name
  clientConfig: {url: "http://example.com/validate"}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  admissionReviewVersions: [v1]
""")

    assert refused.returncode != 0
    assert 'webhooks[0].name: Invalid value: "short.name": should be a domain with at least three segments' \
        in refused.stderr
    assert "webhooks[0].sideEffects: Required value" in refused.stderr
    assert "webhooks[0].clientConfig.url: Invalid value" in refused.stderr
    assert kubectl("get", "validatingwebhookconfiguration", "broken", check=False).returncode != 0

"""The default IngressClass made at start-up and the DefaultIngressClass admission, through kubectl."""

from __future__ import annotations

import json


def test_default_class_exists_and_fills_in_a_missing_class_name(kubectl):
    ingress_class = json.loads(kubectl("get", "ingressclass", "orc-nginx", "-o", "json").stdout)
    assert ingress_class["spec"]["controller"] == "orchestrator.io/ingress-nginx"
    assert ingress_class["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"

    kubectl("create", "ingress", "classless", "--rule=foo.com/=svc1:80")
    kubectl("create", "ingress", "chosen", "--class=other", "--rule=foo.com/=svc1:80")

    classless = json.loads(kubectl("get", "ingress", "classless", "-o", "json").stdout)
    chosen = json.loads(kubectl("get", "ingress", "chosen", "-o", "json").stdout)
    assert classless["spec"]["ingressClassName"] == "orc-nginx"
    assert chosen["spec"]["ingressClassName"] == "other"


def test_extensions_v1beta1_ingress_is_not_served_as_in_kubernetes_1_32(kubectl):
    old = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\nspec: {backend: {serviceName: a, servicePort: 80}}\n"
    applied = kubectl("apply", "-f", "-", input=old, check=False)
    raw = kubectl("get", "--raw", "/apis/extensions/v1beta1/namespaces/default/ingresses", check=False)

    assert applied.returncode != 0
    assert 'no matches for kind "Ingress" in version "extensions/v1beta1"' in applied.stderr
    assert raw.returncode != 0 and "NotFound" in raw.stderr

"""networking.k8s.io/v1 through real kubectl: Ingress, IngressClass and NetworkPolicy are stored,
printed with kubectl 1.32's columns, created by `kubectl create ingress` (a protobuf body), and
refused with Kubernetes' messages when invalid. The ingress controller has its own tests.
"""

from __future__ import annotations

import json

MANIFEST = """
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: by-hand}
spec: {controller: example.com/by-hand}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: by-hand
  tls: [{hosts: [a.example.com], secretName: web-tls}]
  rules:
  - host: a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-web}
spec: {podSelector: {matchLabels: {app: web}}}
"""


def test_networking_kinds_apply_and_print_as_kubectl_does(kubectl):
    kubectl("apply", "-f", "-", input=MANIFEST)

    ingresses = kubectl("get", "ingress", "web").stdout.split("\n")
    classes = kubectl("get", "ingressclass", "by-hand").stdout.split("\n")
    policies = kubectl("get", "netpol", "only-web").stdout.split("\n")

    assert ingresses[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert ingresses[1].split()[:4] == ["web", "by-hand", "a.example.com", "80,"]
    assert classes[0].split() == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
    assert classes[1].split()[:3] == ["by-hand", "example.com/by-hand", "<none>"]
    assert policies[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert policies[1].split()[:2] == ["only-web", "app=web"]
    stored = json.loads(kubectl("get", "netpol", "only-web", "-o", "json").stdout)
    assert stored["spec"]["policyTypes"] == ["Ingress"]  # defaulted as Kubernetes does


def test_kubectl_create_ingress_sends_protobuf_and_is_stored(kubectl):
    kubectl("create", "ingress", "simple", "--class=by-hand", "--rule=foo.com/bar=svc1:8080",
            "--rule=bar.com/*=svc2:http,tls=my-cert", "--default-backend=fallback:80")

    spec = json.loads(kubectl("get", "ingress", "simple", "-o", "json").stdout)["spec"]

    assert spec["defaultBackend"] == {"service": {"name": "fallback", "port": {"number": 80}}}
    assert spec["rules"][0]["http"]["paths"][0] == {
        "path": "/bar", "pathType": "Exact", "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}}
    assert spec["rules"][1]["http"]["paths"][0]["pathType"] == "Prefix"
    assert spec["tls"] == [{"hosts": ["bar.com"], "secretName": "my-cert"}]


def test_an_invalid_ingress_is_refused_naming_the_field(kubectl):
    by_ip = kubectl("create", "ingress", "by-ip", "--rule=1.2.3.4/bar=svc1:80", check=False)
    no_path_type = kubectl("apply", "-f", "-", check=False, input="""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: no-path-type}
spec:
  rules:
  - http:
      paths:
      - {path: /, backend: {service: {name: web, port: {number: 80}}}}
""")

    assert by_ip.returncode != 0
    assert 'spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address' in by_ip.stderr
    assert no_path_type.returncode != 0
    assert "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified" in no_path_type.stderr
    assert kubectl("get", "ingress", "by-ip", "no-path-type", check=False).returncode != 0

"""The nginx configuration rendered from Ingress objects (orchestrator/ingress/render.py), table-tested."""

from __future__ import annotations

import base64
import re

import pytest

from orchestrator.ingress.render import Objects, Settings, locations_for, ready_endpoints, render, server_name

SETTINGS = Settings(prefix="/data/ingress", http_port=8080, https_port=8443)
OURS = {"metadata": {"name": "nginx"}, "spec": {"controller": "orchestrator.io/ingress-nginx"}}
THEIRS = {"metadata": {"name": "other"}, "spec": {"controller": "example.com/other"}}


def service(name, port=80, port_name=""):
    return {"metadata": {"namespace": "default", "name": name},
            "spec": {"ports": [{"name": port_name, "port": port, "targetPort": 8000}] if port_name else
                     [{"port": port, "targetPort": 8000}]}}


def endpoint_slice(service_name, *addresses, ready=True, port_name=""):
    return {"metadata": {"namespace": "default", "name": f"{service_name}-x",
                         "labels": {"kubernetes.io/service-name": service_name}},
            "addressType": "IPv4", "ports": [{"name": port_name, "port": 8000}],
            "endpoints": [{"addresses": [a], "conditions": {"ready": ready}} for a in addresses]}


def ingress(name, rules=(), *, cls="nginx", default_backend=None, tls=(), created="2026-01-01T00:00:00Z"):
    spec = {"ingressClassName": cls, "rules": list(rules)}
    if default_backend:
        spec["defaultBackend"] = {"service": {"name": default_backend, "port": {"number": 80}}}
    if tls:
        spec["tls"] = list(tls)
    return {"metadata": {"namespace": "default", "name": name, "creationTimestamp": created}, "spec": spec}


def rule(host, *paths):
    return {"host": host, "http": {"paths": [
        {"path": p, "pathType": t, "backend": {"service": {"name": s, "port": {"number": 80}}}} for p, t, s in paths]}}


def server_block(text: str, host: str) -> str:
    for block in text.split("    server {")[1:]:
        if f"server_name {host};" in block:
            return block
    raise AssertionError(f"no server {host}")


@pytest.mark.parametrize(("path", "path_type", "expected"), [
    ("/", "Prefix", ["/"]),
    ("/foo", "Prefix", ["= /foo", "/foo/"]),
    ("/foo/", "Prefix", ["= /foo", "/foo/"]),  # a trailing slash is ignored by Prefix
    ("/foo", "ImplementationSpecific", ["= /foo", "/foo/"]),
    ("/foo", "Exact", ["= /foo"]),
    ("/foo/", "Exact", ["= /foo/"]),
])
def test_path_types_become_element_wise_locations(path, path_type, expected):
    assert locations_for(path, path_type) == expected


@pytest.mark.parametrize(("host", "expected"), [
    ("a.example.com", "a.example.com"),
    ("*.example.com", r"~^[^.]+\.example\.com$"),
])
def test_wildcard_hosts_match_one_label(host, expected):
    assert server_name(host) == expected
    if host.startswith("*"):
        pattern = re.compile(expected[1:])
        assert pattern.match("a.example.com") and not pattern.match("a.b.example.com")


def test_only_ready_endpoints_of_the_named_port_are_upstreams():
    objects = Objects(services=[service("web", 80, "http")],
                      endpoint_slices=[endpoint_slice("web", "10.0.0.2", "10.0.0.1", port_name="http"),
                                       endpoint_slice("web", "10.0.0.3", ready=False, port_name="http")])
    assert ready_endpoints(objects, "default", "web", {"number": 80}) == ["10.0.0.1:8000", "10.0.0.2:8000"]
    assert ready_endpoints(objects, "default", "web", {"name": "http"}) == ["10.0.0.1:8000", "10.0.0.2:8000"]
    assert ready_endpoints(objects, "default", "web", {"number": 81}) == []
    assert ready_endpoints(objects, "default", "gone", {"number": 80}) == []


def test_hosts_paths_and_upstreams_are_rendered():
    objects = Objects(
        ingresses=[ingress("web", [rule("a.test", ("/", "Prefix", "web")), rule("b.test", ("/api", "Prefix", "api"))])],
        ingress_classes=[OURS], services=[service("web"), service("api")],
        endpoint_slices=[endpoint_slice("web", "10.0.0.1"), endpoint_slice("api", "10.0.0.9")])

    text = render(objects, SETTINGS).text

    assert "upstream default-web-80 {\n        server 10.0.0.1:8000;" in text
    assert "location / {\n            proxy_pass http://default-web-80;" in server_block(text, "a.test")
    b = server_block(text, "b.test")
    assert "location = /api {\n            proxy_pass http://default-api-80;" in b
    assert "location /api/ {\n            proxy_pass http://default-api-80;" in b
    assert "location / {\n            return 404;" in b
    assert "listen 8080 default_server;" in text and "ssl_reject_handshake on;" in text


def test_a_backend_without_ready_endpoints_answers_503():
    objects = Objects(ingresses=[ingress("web", [rule("a.test", ("/", "Prefix", "web"))])], ingress_classes=[OURS],
                      services=[service("web")], endpoint_slices=[endpoint_slice("web", "10.0.0.1", ready=False)])
    assert "location / {\n            return 503;" in server_block(render(objects, SETTINGS).text, "a.test")


def test_other_controllers_ingresses_are_ignored():
    objects = Objects(ingresses=[ingress("theirs", [rule("t.test", ("/", "Prefix", "web"))], cls="other"),
                                 ingress("unknown", [rule("u.test", ("/", "Prefix", "web"))], cls="nope")],
                      ingress_classes=[OURS, THEIRS], services=[service("web")])
    text = render(objects, SETTINGS).text
    assert "t.test" not in text and "u.test" not in text


def test_the_oldest_ingress_wins_a_conflict_and_exact_beats_prefix():
    objects = Objects(
        ingresses=[ingress("new", [rule("a.test", ("/", "Prefix", "new"))], created="2026-02-01T00:00:00Z"),
                   ingress("old", [rule("a.test", ("/", "Prefix", "old"), ("/x", "Prefix", "old"),
                                        ("/x", "Exact", "exact"))], created="2026-01-01T00:00:00Z")],
        ingress_classes=[OURS], services=[service("new"), service("old"), service("exact")],
        endpoint_slices=[endpoint_slice("new", "10.0.0.1"), endpoint_slice("old", "10.0.0.2"),
                         endpoint_slice("exact", "10.0.0.3")])
    block = server_block(render(objects, SETTINGS).text, "a.test")
    assert "location / {\n            proxy_pass http://default-old-80;" in block
    assert "location = /x {\n            proxy_pass http://default-exact-80;" in block
    assert "location /x/ {\n            proxy_pass http://default-old-80;" in block


def test_default_backend_answers_what_no_rule_matches():
    objects = Objects(ingresses=[ingress("web", [rule("a.test", ("/api", "Prefix", "api"))], default_backend="web")],
                      ingress_classes=[OURS], services=[service("web"), service("api")],
                      endpoint_slices=[endpoint_slice("web", "10.0.0.1"), endpoint_slice("api", "10.0.0.2")])
    text = render(objects, SETTINGS).text
    assert "location / {\n            proxy_pass http://default-web-80;" in server_block(text, "a.test")
    assert "location / {\n            proxy_pass http://default-web-80;" in server_block(text, "_")


def test_tls_secrets_become_files_and_sni_servers():
    secret = {"metadata": {"namespace": "default", "name": "a-tls"}, "type": "kubernetes.io/tls",
              "data": {"tls.crt": base64.b64encode(b"CERT").decode(), "tls.key": base64.b64encode(b"KEY").decode()}}
    objects = Objects(ingresses=[ingress("web", [rule("a.test", ("/", "Prefix", "web"))],
                                         tls=[{"hosts": ["a.test"], "secretName": "a-tls"},
                                              {"hosts": ["b.test"], "secretName": "missing"}])],
                      ingress_classes=[OURS], services=[service("web")], endpoint_slices=[endpoint_slice("web", "10.0.0.1")],
                      secrets=[secret])
    rendered = render(objects, SETTINGS)
    assert rendered.files == {"tls/default-a-tls.crt": "CERT", "tls/default-a-tls.key": "KEY"}
    block = server_block(rendered.text, "a.test")
    assert "listen 8443 ssl;" in block and "ssl_certificate /data/ingress/tls/default-a-tls.crt;" in block
    assert "b.test" not in rendered.text


def test_rendering_is_deterministic():
    objects = Objects(ingresses=[ingress("web", [rule("a.test", ("/", "Prefix", "web"))])], ingress_classes=[OURS],
                      services=[service("web")], endpoint_slices=[endpoint_slice("web", "10.0.0.2", "10.0.0.1")])
    assert render(objects, SETTINGS).text == render(Objects(**vars(objects)), SETTINGS).text

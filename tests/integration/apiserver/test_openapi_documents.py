"""Every OpenAPI document the apiserver advertises builds and parses, and kubectl validates with them.

`/openapi/v2` once answered 500 (two models named EndpointPort); kubectl reads it as protobuf
for client-side validation (`kind: List` manifests, kinds of unknown group-versions).
"""

from __future__ import annotations

import ssl
import textwrap

import httpx
import pytest


@pytest.fixture(scope="module")
def http(apiserver):
    context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    with httpx.Client(base_url=apiserver.url, verify=context, timeout=30,
                      headers={"Authorization": f"Bearer {apiserver.tokens['admin']}"}) as client:
        yield client


def test_every_openapi_document_builds(http):
    v2 = http.get("/openapi/v2")
    assert v2.status_code == 200, v2.text
    assert "io.k8s.api.discovery.v1.EndpointPort" in v2.json()["definitions"]
    protobuf = http.get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert protobuf.status_code == 200
    assert protobuf.headers["content-type"].startswith("application/com.github.proto-openapi.spec.v2")
    assert protobuf.content[:1] == b"\x0a"  # field 1 (swagger), length-delimited
    index = http.get("/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/discovery.k8s.io/v1"} <= set(index)
    for path, entry in index.items():
        document = http.get(entry["serverRelativeURL"])
        assert document.status_code == 200, (path, document.text)
        assert document.json()["paths"], path


def test_kubectl_client_side_validation_of_a_list(kubectl):
    """A `kind: List` is validated on the client against the protobuf v2 document."""
    good = textwrap.dedent("""\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: listed, namespace: default}
          data: {x: "1"}
        """)
    assert "configmap/listed created" in kubectl("apply", "-f", "-", input=good).stdout
    bad = good.replace('data: {x: "1"}', "bogus: 1")
    result = kubectl("apply", "-f", "-", input=bad, check=False)
    assert result.returncode != 0
    assert 'unknown field "bogus" in io.k8s.api.core.v1.ConfigMap' in result.stderr

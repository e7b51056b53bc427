"""The EndpointSlice mirrored from an Endpoints object (pure plan)."""

from __future__ import annotations

import pytest

from orchestrator.controllers.endpointslice import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, plan_endpoint_slice


def new_endpoints(*, ready: list[str], not_ready: list[str] = (), port: int = 8080) -> dict:
    subset = {"ports": [{"port": port, "protocol": "TCP"}]}
    if ready:
        subset["addresses"] = [{"ip": ip, "nodeName": "n1", "targetRef": {"kind": "Pod", "name": f"p-{ip}"}}
                               for ip in ready]
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
            "subsets": [subset]}


@pytest.mark.parametrize(("ready", "not_ready", "expected"), [
    pytest.param(["10.0.0.1", "10.0.0.2"], [], [("10.0.0.1", True), ("10.0.0.2", True)], id="all-ready"),
    pytest.param(["10.0.0.1"], ["10.0.0.9"], [("10.0.0.1", True), ("10.0.0.9", False)], id="one-not-ready"),
    pytest.param([], [], [], id="no-endpoints"),
])
def test_slice_mirrors_addresses_and_readiness(ready, not_ready, expected):
    endpoint_slice = plan_endpoint_slice(new_endpoints(ready=ready, not_ready=not_ready))
    assert [(e["addresses"][0], e["conditions"]["ready"]) for e in endpoint_slice["endpoints"]] == expected
    assert endpoint_slice["metadata"]["labels"][SERVICE_NAME_LABEL] == "web"
    assert MANAGED_BY_LABEL in endpoint_slice["metadata"]["labels"]
    assert endpoint_slice["addressType"] == "IPv4"


def test_ports_are_merged_once():
    endpoints = new_endpoints(ready=["10.0.0.1"])
    endpoints["subsets"].append({"addresses": [{"ip": "10.0.0.2"}], "ports": [{"port": 8080, "protocol": "TCP"}]})
    assert plan_endpoint_slice(endpoints)["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]

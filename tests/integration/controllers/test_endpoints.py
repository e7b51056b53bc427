"""The Endpoints controller end to end: Endpoints follow pod readiness, IPs and named ports."""

from __future__ import annotations

from orchestrator.api.errors import NotFound
from orchestrator.client.resources import ENDPOINTS, PODS, SERVICES
from tests.integration.controllers.helpers import eventually, set_pod_ready


def pod_manifest(name: str, *, port_number: int = 8080) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "api"}},
            "spec": {"containers": [{"name": "app", "image": "app:1",
                                     "ports": [{"name": "http", "containerPort": port_number}]}]}}


async def endpoints_of(client, namespace: str) -> dict:
    try:
        endpoints = await client.get(ENDPOINTS, "api", namespace=namespace)
    except NotFound:
        return {}
    ready, not_ready = set(), set()
    for subset in endpoints.get("subsets") or []:
        ports = tuple(sorted(port["port"] for port in subset.get("ports") or []))
        ready |= {(address["targetRef"]["name"], address["ip"], ports) for address in subset.get("addresses") or []}
        not_ready |= {(address["targetRef"]["name"], address["ip"], ports)
                      for address in subset.get("notReadyAddresses") or []}
    return {"ready": ready, "not_ready": not_ready}


async def test_endpoints_follow_readiness(client, namespace, controller_manager):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "labels": {"tier": "backend"}},
               "spec": {"selector": {"app": "api"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    await client.create(SERVICES, service, namespace=namespace)
    first = await client.create(PODS, pod_manifest("api-1"), namespace=namespace)
    second = await client.create(PODS, pod_manifest("api-2", port_number=9090), namespace=namespace)
    await eventually(lambda: endpoints_of(client, namespace), what="endpoints created")

    first = await set_pod_ready(client, first)
    second = await set_pod_ready(client, second, ready=False)
    ip1, ip2 = first["status"]["podIP"], second["status"]["podIP"]
    expected = {"ready": {("api-1", ip1, (8080,))}, "not_ready": {("api-2", ip2, (9090,))}}
    await eventually(lambda: _equals(endpoints_of(client, namespace), expected), what="one ready, one not")

    second = await set_pod_ready(client, second, ready=True)
    expected = {"ready": {("api-1", ip1, (8080,)), ("api-2", ip2, (9090,))}, "not_ready": set()}
    await eventually(lambda: _equals(endpoints_of(client, namespace), expected), what="both ready")
    endpoints = await client.get(ENDPOINTS, "api", namespace=namespace)
    assert endpoints["metadata"]["labels"] == {"tier": "backend"}
    address = endpoints["subsets"][0]["addresses"][0]
    assert address["targetRef"]["kind"] == "Pod" and address["targetRef"]["uid"]

    await client.delete(PODS, "api-1", namespace=namespace)
    expected = {"ready": {("api-2", ip2, (9090,))}, "not_ready": set()}
    await eventually(lambda: _equals(endpoints_of(client, namespace), expected), what="deleted pod dropped")

    await client.delete(SERVICES, "api", namespace=namespace)
    await eventually(lambda: _equals(endpoints_of(client, namespace), {}), what="endpoints deleted with the service")


async def test_services_without_selector_are_left_alone(client, namespace, controller_manager):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "external"},
               "spec": {"ports": [{"port": 5432}]}}
    await client.create(SERVICES, service, namespace=namespace)
    manual = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "external"},
              "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]}
    created = await client.create(ENDPOINTS, manual, namespace=namespace)
    await client.create(SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "marker"},
                                   "spec": {"selector": {"app": "x"}, "ports": [{"port": 1}]}}, namespace=namespace)

    async def marker_written() -> bool:
        try:
            return bool(await client.get(ENDPOINTS, "marker", namespace=namespace))
        except NotFound:
            return False

    await eventually(marker_written, what="controller is active")
    kept = await client.get(ENDPOINTS, "external", namespace=namespace)
    assert kept["subsets"] == created["subsets"]
    assert kept["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def _equals(awaitable, expected) -> bool:
    actual = await awaitable
    assert actual == expected
    return True

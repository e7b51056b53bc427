"""Tests for orchestrator.proxy.loadbalancer: which addresses a LoadBalancer gets, and the status writes."""

import asyncio

import pytest

from orchestrator.client.informer import Informer
from orchestrator.client.resources import NODES, SERVICES
from orchestrator.proxy.loadbalancer import LoadBalancerStatusController, desired_ingress, status_update
from tests.unit.client.fakes import FakeApiClient


def new_node(name: str, address: str, *, ready: bool = True) -> dict:
    return {"metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": address}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def new_service(name: str = "web", *, type_: str = "LoadBalancer", ingress: list[str] | None = None,
                **spec_fields) -> dict:
    service = {"metadata": {"name": name, "namespace": "default"},
               "spec": {"type": type_, "clusterIP": "10.96.1.1", "ports": [{"port": 80}], **spec_fields},
               "status": {"loadBalancer": {}}}
    if ingress is not None:
        service["status"]["loadBalancer"]["ingress"] = [{"ip": ip, "ipMode": "VIP"} for ip in ingress]
    return service


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        pytest.param([new_node("laptop", "192.0.2.2")], ["127.0.0.1"], id="one-node-is-localhost"),
        pytest.param([new_node("b", "192.0.2.12"), new_node("a", "192.0.2.11"), new_node("c", "192.0.2.13", ready=False)],
                     ["192.0.2.11", "192.0.2.12"], id="ready-nodes-internal-ips"),
        pytest.param([], [], id="no-nodes"),
    ],
)
def test_desired_ingress(nodes, expected):
    assert [entry["ip"] for entry in desired_ingress(nodes)] == expected


@pytest.mark.parametrize(
    ("service", "expected_ingress"),
    [
        pytest.param(new_service(), ["127.0.0.1"], id="new-load-balancer"),
        pytest.param(new_service(ingress=["127.0.0.1"]), None, id="already-right"),
        pytest.param(new_service(type_="ClusterIP", ingress=["127.0.0.1"]), [], id="no-longer-a-load-balancer"),
        pytest.param(new_service(type_="ClusterIP"), None, id="cluster-ip-untouched"),
        pytest.param(new_service(loadBalancerClass="example.com/lb"), None, id="someone-elses-class"),
    ],
)
def test_status_update(service, expected_ingress):
    updated = status_update(service, [new_node("laptop", "192.0.2.2")])
    if expected_ingress is None:
        assert updated is None
    else:
        assert [entry["ip"] for entry in updated["status"]["loadBalancer"].get("ingress", [])] == expected_ingress
        assert "ingress" not in service["status"]["loadBalancer"] or service["status"]["loadBalancer"]["ingress"]


async def test_the_controller_writes_the_status_once():
    client = FakeApiClient()
    await client.create(NODES, new_node("laptop", "192.0.2.2"))
    await client.create(SERVICES, new_service())
    services, nodes = Informer(client, SERVICES), Informer(client, NODES)
    controller = LoadBalancerStatusController(client, services=services, nodes=nodes)
    tasks = [asyncio.create_task(coroutine) for coroutine in (services.run(), nodes.run(), controller.run())]
    try:
        for _ in range(200):
            stored = client.objects[("services", "default/web")]
            if stored["status"]["loadBalancer"].get("ingress"):
                break
            await asyncio.sleep(0.01)
        assert stored["status"]["loadBalancer"]["ingress"] == [{"ip": "127.0.0.1", "ipMode": "VIP"}]
        revision = stored["metadata"]["resourceVersion"]
        await asyncio.sleep(0.05)  # its own write comes back through the informer and changes nothing
        assert client.objects[("services", "default/web")]["metadata"]["resourceVersion"] == revision
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

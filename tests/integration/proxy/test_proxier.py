"""The whole proxy (main.Proxier) against real iptables and containers, fed by an in-memory API.

The Services, Endpoints and Nodes live in the unit tests' FakeApiClient (same
list/watch contract as the apiserver), so these tests show what the proxy does with
what it watches: routes, listeners and DNS follow every change, a deleted Service
stops answering and frees its node port, a restarted proxy rebuilds everything from
the API alone, and LoadBalancer Services get their address.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import time
from collections.abc import Awaitable, Callable

import pytest

from orchestrator.client.resources import ENDPOINTS, NODES, SERVICES
from orchestrator.proxy.iptables import read_state_blocking
from orchestrator.proxy.main import Proxier
from orchestrator.proxy.rules import chain_prefix
from tests.integration.proxy.conftest import TEST_DNS_IP, TEST_SERVICE_CIDR
from tests.integration.proxy.test_dataplane import fetch_from_host, new_endpoints, new_service
from tests.unit.client.fakes import FakeApiClient

pytestmark = pytest.mark.docker

WEB_IP = "10.250.2.1"
NODE_PORT = 31811


async def eventually(predicate: Callable[[], Awaitable[bool] | bool], *, timeout: float = 15.0) -> None:
    """Wait until `predicate()` holds (bounded: a broken proxy fails the test, it does not hang it)."""
    deadline = time.monotonic() + timeout
    while not await _value_of(predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def new_node(name: str = "node-1") -> dict:
    return {"metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.2"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}


class RunningProxier:
    """A Proxier running in the test's event loop, restartable."""

    def __init__(self, client: FakeApiClient, cluster_name: str):
        self.client = client
        self.cluster_name = cluster_name
        self.proxier: Proxier | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> Proxier:
        self.proxier = Proxier(self.client, cluster_name=self.cluster_name, node_name="node-1",
                               service_cidr=TEST_SERVICE_CIDR, cluster_dns=TEST_DNS_IP, upstream_dns=[],
                               sync_period=1.0)
        self.task = asyncio.create_task(self.proxier.run())
        proxier = self.proxier
        await eventually(lambda: proxier.sync_count > 0)
        return proxier

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None


async def _value_of(result: Awaitable[bool] | bool) -> bool:
    return await result if inspect.isawaitable(result) else result


@pytest.fixture
async def api():
    client = FakeApiClient()
    await client.create(NODES, new_node())
    return client


@pytest.fixture
async def running(api, echo_network):
    runner = RunningProxier(api, echo_network.cluster_name)
    await runner.start()
    yield runner
    await runner.stop()  # the next test's proxier starts from an empty API and removes these rules


def hosts_from_host(url: str, count: int) -> Callable[[], Awaitable[set[str]]]:
    async def fetch() -> set[str]:
        return set(await asyncio.to_thread(fetch_from_host, url, count))

    return fetch


async def test_services_follow_the_api(api, running, echo_network):
    ips = echo_network.echo_ips
    await api.create(SERVICES, new_service(cluster_ip=WEB_IP, type_="NodePort", node_port=NODE_PORT))
    await api.create(ENDPOINTS, new_endpoints(list(ips.values())))

    async def all_three() -> bool:
        return set(await asyncio.to_thread(fetch_from_host, f"http://127.0.0.1:{NODE_PORT}/", 6)) == set(ips)

    await eventually(all_three)
    from_pod = await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 30)
    assert set(from_pod) == set(ips)
    # Scale to one: the others stop getting connections.
    endpoints = copy.deepcopy(api.objects[("endpoints", "default/web")])
    endpoints["subsets"][0]["addresses"] = [{"ip": ips["echo-1"]}]
    await api.update(ENDPOINTS, endpoints)
    await eventually(lambda: _only(f"http://{WEB_IP}/", {"echo-1"}))
    assert set(await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 20)) == {"echo-1"}
    assert set(await asyncio.to_thread(fetch_from_host, f"http://127.0.0.1:{NODE_PORT}/", 6)) == {"echo-1"}


async def _only(url: str, expected: set[str]) -> bool:
    return set(await asyncio.to_thread(fetch_from_host, url, 6)) == expected


async def test_a_deleted_service_stops_answering_and_frees_its_node_port(api, running, echo_network):
    ips = list(echo_network.echo_ips.values())
    await api.create(SERVICES, new_service(cluster_ip=WEB_IP, type_="NodePort", node_port=NODE_PORT))
    await api.create(ENDPOINTS, new_endpoints(ips))
    await eventually(lambda: _answers(f"http://127.0.0.1:{NODE_PORT}/"))
    await api.delete(SERVICES, "web", namespace="default")
    await api.delete(ENDPOINTS, "web", namespace="default")
    await eventually(lambda: _refused(f"http://127.0.0.1:{NODE_PORT}/"))
    await eventually(lambda: _refused(f"http://{WEB_IP}/"))
    assert ("127.0.0.1", NODE_PORT) not in running.proxier.userspace.addresses
    # Another Service takes the node port.
    await api.create(SERVICES, new_service("other", cluster_ip="10.250.2.2", type_="NodePort", node_port=NODE_PORT))
    await api.create(ENDPOINTS, new_endpoints([echo_network.echo_ips["echo-2"]], name="other"))
    await eventually(lambda: _only(f"http://127.0.0.1:{NODE_PORT}/", {"echo-2"}))


async def _answers(url: str) -> bool:
    return "" not in await asyncio.to_thread(fetch_from_host, url, 3)


async def _refused(url: str) -> bool:
    return await asyncio.to_thread(fetch_from_host, url, 1) == [""]


async def test_a_restarted_proxy_rebuilds_from_the_api(api, running, echo_network):
    ips = echo_network.echo_ips
    await api.create(SERVICES, new_service(cluster_ip=WEB_IP))
    await api.create(ENDPOINTS, new_endpoints(list(ips.values())))
    await eventually(lambda: _answers(f"http://{WEB_IP}/"))
    old_dns_port = running.proxier.dns.port
    await running.stop()
    # Stopped: the kernel keeps routing, as with kube-proxy.
    assert set(await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 60)) == set(ips)
    # The Endpoints change while no proxy runs; the new one learns it from the API alone.
    endpoints = copy.deepcopy(api.objects[("endpoints", "default/web")])
    endpoints["subsets"][0]["addresses"] = [{"ip": ips["echo-0"]}]
    await api.update(ENDPOINTS, endpoints)
    proxier = await running.start()
    await eventually(lambda: _only(f"http://{WEB_IP}/", {"echo-0"}))
    # The new DNS server listens where the old redirect points, so pods' lookups never missed.
    prefix = chain_prefix(echo_network.cluster_name)
    nat_rules = (await asyncio.to_thread(read_state_blocking)).rules["nat"]
    redirects = [rule for rule in nat_rules if rule.startswith(f"-A {prefix}-SERVICES") and "REDIRECT" in rule]
    assert redirects and all(f"--to-ports {proxier.dns.port}" in rule for rule in redirects)
    assert proxier.dns.port == old_dns_port
    output = await asyncio.to_thread(echo_network.run_in, echo_network.client, "nslookup web")
    assert f"Address: {WEB_IP}" in output


async def test_a_load_balancer_gets_localhost_on_a_one_node_cluster(api, running, echo_network):
    await api.create(SERVICES, new_service(cluster_ip=WEB_IP, type_="LoadBalancer", port=18081, node_port=NODE_PORT))
    await api.create(ENDPOINTS, new_endpoints(list(echo_network.echo_ips.values())))

    async def has_ingress() -> bool:
        status = api.objects[("services", "default/web")].get("status") or {}
        return (status.get("loadBalancer") or {}).get("ingress") == [{"ip": "127.0.0.1", "ipMode": "VIP"}]

    await eventually(has_ingress)
    await eventually(lambda: _answers("http://127.0.0.1:18081/"))

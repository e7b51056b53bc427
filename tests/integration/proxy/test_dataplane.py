"""The proxy's data plane for real: rules.plan applied with iptables, the userspace proxy and the DNS server.

Services are dicts pointing at the echo containers of the module's network (see
conftest.py); requests come from the host and from a busybox container on the
same network, the way pods and node users reach a Service.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter

import pytest

from orchestrator.proxy.dns import ClusterRecords, DnsServer, Forwarder
from orchestrator.proxy.hairpin import HairpinKeeper
from orchestrator.proxy.iptables import IptablesApplier, read_state_blocking
from orchestrator.proxy.rules import ProxySettings, chain_prefix, plan, service_ports
from orchestrator.proxy.userspace import UserspaceProxy
from tests.integration.proxy.conftest import TEST_DNS_IP, TEST_SERVICE_CIDR

pytestmark = pytest.mark.docker

WEB_IP = "10.250.1.1"
WEB_NODE_PORT = 31801


def new_service(name: str = "web", *, cluster_ip: str = WEB_IP, type_: str = "ClusterIP", port: int = 80,
                node_port: int | None = None, **spec_fields) -> dict:
    service_port = {"port": port, "targetPort": 8080, "protocol": "TCP"}
    if node_port:
        service_port["nodePort"] = node_port
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"type": type_, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ports": [service_port],
                     **spec_fields}}


def new_endpoints(ips: list[str], name: str = "web") -> dict:
    return {"metadata": {"name": name, "namespace": "default"},
            "subsets": [{"addresses": [{"ip": ip} for ip in ips], "ports": [{"port": 8080, "protocol": "TCP"}]}]}


class DataPlane:
    """The pieces main.Proxier drives, driven by hand."""

    def __init__(self, cluster_name: str):
        self.cluster_name = cluster_name
        self.iptables = IptablesApplier(cluster_name)
        self.userspace = UserspaceProxy()
        self.dns = DnsServer(records=ClusterRecords([], []), forwarder=Forwarder([]))  # never asks the host's resolvers
        self.hairpin = HairpinKeeper(cluster_name)

    async def start(self) -> None:
        await self.dns.start("0.0.0.0", 0)

    async def apply(self, services: list[dict], endpoints: list[dict]) -> None:
        settings = ProxySettings(cluster_name=self.cluster_name, service_cidr=TEST_SERVICE_CIDR, dns_ip=TEST_DNS_IP,
                                 dns_port=self.dns.port)
        desired = plan(service_ports(services, endpoints), settings)
        await self.iptables.apply(desired.ruleset)
        await self.userspace.sync(desired.listeners)
        self.dns.update(ClusterRecords(services, endpoints))
        await asyncio.to_thread(self.hairpin.ensure)

    async def close(self) -> None:
        await self.userspace.close()
        await self.dns.close()
        self.hairpin.close()


@pytest.fixture
async def dataplane(echo_network):
    plane = DataPlane(echo_network.cluster_name)
    await plane.start()
    yield plane
    await plane.apply([], [])  # the module's chains stay until the network fixture removes them
    await plane.close()


def fetch_from_host(url: str, count: int) -> list[str]:
    """GETs from this machine (no HTTP proxy, whatever the environment says); '' for a failed request."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    hosts = []
    for _ in range(count):
        try:
            with opener.open(url, timeout=5) as response:
                hosts.append(json.loads(response.read())["host"])
        except OSError:
            hosts.append("")
    return hosts


async def test_cluster_ip_balances_over_every_endpoint_from_a_pod_and_from_the_node(echo_network, dataplane):
    await dataplane.apply([new_service()], [new_endpoints(list(echo_network.echo_ips.values()))])
    from_pod = await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 30)
    assert set(from_pod) == {"echo-0", "echo-1", "echo-2"}
    from_node = await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 30)
    assert set(from_node) == {"echo-0", "echo-1", "echo-2"}


async def test_an_endpoint_that_leaves_gets_no_new_connections(echo_network, dataplane):
    ips = echo_network.echo_ips
    await dataplane.apply([new_service()], [new_endpoints(list(ips.values()))])
    await dataplane.apply([new_service()], [new_endpoints([ips["echo-0"], ips["echo-1"]])])
    hosts = await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 30)
    assert set(hosts) == {"echo-0", "echo-1"}
    await dataplane.apply([new_service()], [new_endpoints([ips["echo-2"]])])
    assert set(await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 10)) == {"echo-2"}


async def test_node_port_answers_on_loopback_and_on_the_node_addresses(echo_network, dataplane):
    service = new_service(type_="NodePort", node_port=WEB_NODE_PORT)
    await dataplane.apply([service], [new_endpoints(list(echo_network.echo_ips.values()))])
    loopback = await asyncio.to_thread(fetch_from_host, f"http://127.0.0.1:{WEB_NODE_PORT}/", 15)
    assert set(loopback) == {"echo-0", "echo-1", "echo-2"}  # the userspace proxy, round-robin
    # The bridge's gateway is one of this machine's addresses: the kernel path, from the node and from a pod.
    node_address = f"http://{echo_network.gateway}:{WEB_NODE_PORT}/"
    assert "" not in await asyncio.to_thread(fetch_from_host, node_address, 10)
    from_pod = await asyncio.to_thread(echo_network.fetch_many, node_address, 20)
    assert set(from_pod) <= {"echo-0", "echo-1", "echo-2"} and "" not in from_pod


async def test_a_loopback_load_balancer_answers_on_its_service_port(echo_network, dataplane):
    service = new_service(type_="LoadBalancer", port=18080, node_port=WEB_NODE_PORT + 1)
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1", "ipMode": "VIP"}]}}
    await dataplane.apply([service], [new_endpoints(list(echo_network.echo_ips.values()))])
    hosts = await asyncio.to_thread(fetch_from_host, "http://127.0.0.1:18080/", 10)
    assert "" not in hosts and len(set(hosts)) >= 2


async def test_client_ip_affinity_keeps_a_pod_on_one_endpoint(echo_network, dataplane):
    service = new_service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    await dataplane.apply([service], [new_endpoints(list(echo_network.echo_ips.values()))])
    hosts = await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 12)
    assert len(set(hosts)) == 1 and hosts[0] != ""


async def test_a_pod_reaches_itself_through_its_service(echo_network, dataplane):
    only_echo_0 = new_endpoints([echo_network.echo_ips["echo-0"]])
    await dataplane.apply([new_service()], [only_echo_0])
    hosts = await asyncio.to_thread(echo_network.fetch_many, f"http://{WEB_IP}/", 3,
                                    container=echo_network.echoes["echo-0"])
    assert hosts == ["echo-0"] * 3


async def test_without_endpoints_and_after_deletion_the_address_refuses_at_once(echo_network, dataplane):
    await dataplane.apply([new_service()], [new_endpoints([])])
    assert await asyncio.to_thread(echo_network.run_in, echo_network.client,
                                   f"timeout 5 wget -qO- http://{WEB_IP}/ 2>&1; echo rc=$?") != ""
    assert await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 1) == [""]
    await dataplane.apply([], [])
    assert await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 1) == [""]
    prefix = chain_prefix(echo_network.cluster_name)
    state = await asyncio.to_thread(read_state_blocking)
    assert not [chain for chain in state.chains["nat"] if chain.startswith(f"{prefix}-SVC-")]


async def test_pods_resolve_service_names_through_the_cluster_dns(echo_network, dataplane):
    headless = new_service("db", cluster_ip="None")
    await dataplane.apply([new_service(), headless],
                          [new_endpoints(list(echo_network.echo_ips.values())),
                           new_endpoints([echo_network.echo_ips["echo-1"]], name="db")])
    # Short name and full name through nslookup; the namespace form through libc's search path (ndots:5),
    # which busybox's nslookup does not walk for a name with a dot.
    output = await asyncio.to_thread(echo_network.run_in, echo_network.client,
                                     "nslookup web; nslookup db.default.svc.cluster.local")
    assert f"Address: {WEB_IP}" in output, output
    assert f"Address: {echo_network.echo_ips['echo-1']}" in output, output
    for url in ("http://web/", "http://web.default/", "http://web.default.svc.cluster.local/"):
        assert (await asyncio.to_thread(echo_network.fetch_many, url, 1))[0].startswith("echo-"), url


async def test_the_cluster_dns_answers_on_the_node_too(echo_network, dataplane):
    await dataplane.apply([new_service()], [new_endpoints(list(echo_network.echo_ips.values()))])
    from orchestrator.proxy.dns import Message, Question, encode_message, parse_message

    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    class Receiver(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple) -> None:
            answer.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Receiver, remote_addr=(TEST_DNS_IP, 53))
    try:
        transport.sendto(encode_message(Message(id=1, questions=[Question("web.default.svc.cluster.local", 1)])))
        response = parse_message(await asyncio.wait_for(answer, 5))
    finally:
        transport.close()
    assert [record.data for record in response.answers] == [WEB_IP]


async def test_rules_survive_a_dataplane_restart_until_rewritten(echo_network, dataplane):
    endpoints = [new_endpoints(list(echo_network.echo_ips.values()))]
    await dataplane.apply([new_service()], endpoints)
    restarted = IptablesApplier(echo_network.cluster_name)  # a fresh process knows nothing of the old one
    assert Counter(await asyncio.to_thread(fetch_from_host, f"http://{WEB_IP}/", 6)).get("", 0) == 0
    settings = ProxySettings(cluster_name=echo_network.cluster_name, service_cidr=TEST_SERVICE_CIDR,
                             dns_ip=TEST_DNS_IP, dns_port=dataplane.dns.port)
    assert await restarted.apply(plan(service_ports([new_service()], endpoints), settings).ruleset) is True
    assert await restarted.apply(plan(service_ports([new_service()], endpoints), settings).ruleset) is False

"""`orc proxy --node-name N`: the per-node service proxy, with the cluster DNS and load-balancer status.

The `Proxier` watches Services, Endpoints and Nodes (informers) and, whenever one
changes, recomputes the whole desired state from the caches (rules.plan, pure) and
applies it: the iptables chains (iptables.py), the loopback listeners of the
userspace proxy (userspace.py), the DNS zone (dns.py) and hairpin mode on the
cluster's bridge ports (hairpin.py). Changes arriving during a sync are folded into
the next one, so a burst costs two syncs, not one per event; a full resync also runs
every `sync_period` seconds to repair anything changed behind its back. The rules are
rebuilt from the API alone, so a restarted proxy converges without any local state.

The kernel does the balancing (iptables DNAT, kube-proxy's iptables mode): measured in
bench/proxy.py, it costs next to nothing next to direct pod access. Loopback
destinations (127.0.0.1:nodePort, 127.0.0.1 load balancers) go through the userspace
proxy, because DNAT from 127.0.0.1 needs the machine-wide `route_localnet` switch.

The DNS server listens on a port of this machine (a restarted proxy takes the port
its predecessor's rules redirect to) and the cluster DNS address (`--cluster-dns`,
default 10.96.0.10, what the kubelet writes into pods) is redirected to it. The
proxy also writes `status.loadBalancer` (loadbalancer.py).

Started by `orc proxy` (cli/components.py) and by `orc up`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.apiserver.allocators import CLUSTER_DOMAIN, DEFAULT_SERVICE_CIDR, ServiceNetwork
from orchestrator.client.config import load_client_config
from orchestrator.client.informer import Informer
from orchestrator.client.resources import ENDPOINTS, NODES, SERVICES
from orchestrator.client.rest import ApiClient
from orchestrator.proxy import dns
from orchestrator.proxy.hairpin import HairpinKeeper
from orchestrator.proxy.iptables import IptablesApplier, IptablesError, installed_dns_port, read_state_blocking
from orchestrator.proxy.loadbalancer import LoadBalancerStatusController
from orchestrator.proxy.rules import ProxySettings, plan, service_ports
from orchestrator.proxy.userspace import UserspaceProxy

log = logging.getLogger(__name__)

SYNC_PERIOD = 30.0
RETRY_DELAY = 1.0
DNS_LISTEN_ADDRESS = "0.0.0.0"  # reached only through the redirect (a filter rule drops the rest)


@dataclass
class SyncResult:
    """What one sync did, for logs and the benchmark."""

    service_ports: int
    endpoints: int
    rules_changed: bool
    seconds: float


class Proxier:
    """Keeps the kernel, the loopback listeners and the DNS zone equal to what the informers hold."""

    def __init__(
        self,
        client,
        *,
        cluster_name: str,
        node_name: str,
        service_cidr: str = DEFAULT_SERVICE_CIDR,
        cluster_dns: str | None = None,
        cluster_domain: str = CLUSTER_DOMAIN,
        dns_port: int = 0,
        upstream_dns: list[tuple[str, int]] | None = None,
        sync_period: float = SYNC_PERIOD,
        write_load_balancer_status: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.cluster_name = cluster_name
        self.node_name = node_name
        self.service_cidr = service_cidr
        self.cluster_dns = cluster_dns or ServiceNetwork(service_cidr=service_cidr).dns_service_ip()
        self.cluster_domain = cluster_domain
        self.requested_dns_port = dns_port
        self.sync_period = sync_period
        self.clock = clock
        self.services = Informer(client, SERVICES)
        self.endpoints = Informer(client, ENDPOINTS)
        self.nodes = Informer(client, NODES)
        self.iptables = IptablesApplier(cluster_name)
        self.userspace = UserspaceProxy()
        self.hairpin = HairpinKeeper(cluster_name)
        if upstream_dns is None:
            upstream_dns = [(server, dns.DNS_PORT) for server in dns.host_nameservers()]
        self.dns = dns.DnsServer(records=dns.ClusterRecords([], [], domain=cluster_domain),
                                 forwarder=dns.Forwarder(upstream_dns))
        self.load_balancers = (LoadBalancerStatusController(client, services=self.services, nodes=self.nodes)
                               if write_load_balancer_status else None)
        self.sync_count = 0  # successful syncs so far (tests and the benchmark watch it)
        self.last_sync: SyncResult | None = None
        self._changed = asyncio.Event()
        for informer in (self.services, self.endpoints):
            informer.add_handler(on_add=self._mark_changed, on_update=self._on_update, on_delete=self._mark_changed)
        # A node's podCIDR scopes the rules (ProxySettings.pod_cidrs); nothing else of a Node routes here.
        self.nodes.add_handler(on_add=self._mark_changed, on_update=self._on_node_update, on_delete=self._mark_changed)

    def _on_node_update(self, old: dict, new: dict) -> None:
        if node_pod_cidrs(old) != node_pod_cidrs(new):
            self._changed.set()

    def _mark_changed(self, _obj: dict | None = None) -> None:
        self._changed.set()

    def _on_update(self, old: dict, new: dict) -> None:
        # Resyncs and metadata-only writes (labels, annotations) change nothing that routes: skip them.
        if old is new or (old.get("spec"), old.get("subsets"), old.get("status")) == (
                new.get("spec"), new.get("subsets"), new.get("status")):
            return
        self._changed.set()

    @property
    def settings(self) -> ProxySettings:
        pod_cidrs = sorted({cidr for node in self.nodes.list() for cidr in node_pod_cidrs(node)})
        return ProxySettings(cluster_name=self.cluster_name, service_cidr=self.service_cidr,
                             dns_ip=self.cluster_dns, dns_port=self.dns.port, pod_cidrs=tuple(pod_cidrs))

    async def run(self) -> None:
        """Run until cancelled; the kernel rules stay in place afterwards (see iptables.cleanup_rules)."""
        await self._start_dns()
        tasks = [asyncio.create_task(informer.run(), name=f"informer-{informer.resource.plural}")
                 for informer in (self.services, self.endpoints, self.nodes)]
        if self.load_balancers is not None:
            tasks.append(asyncio.create_task(self.load_balancers.run(), name="load-balancer-status"))
        try:
            await self.services.wait_synced()
            await self.endpoints.wait_synced()
            log.info("proxy for node %s of cluster %s: caches synced, cluster DNS %s -> port %d",
                     self.node_name, self.cluster_name, self.cluster_dns, self.dns.port)
            await self._sync_loop()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.userspace.close()
            await self.dns.close()
            await asyncio.to_thread(self.hairpin.close)

    async def _start_dns(self) -> None:
        """Listen where the redirect already points if possible, so pods' lookups never miss during a restart."""
        port = self.requested_dns_port
        if not port:
            try:
                state = await asyncio.to_thread(read_state_blocking)
                port = installed_dns_port(self.iptables.prefix, state) or 0
            except IptablesError:
                port = 0
        try:
            await self.dns.start(DNS_LISTEN_ADDRESS, port)
        except OSError:
            if not port or self.requested_dns_port:
                raise
            await self.dns.start(DNS_LISTEN_ADDRESS, 0)  # taken meanwhile: the first sync moves the redirect

    async def _sync_loop(self) -> None:
        self._changed.set()
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), self.sync_period)
            except TimeoutError:
                pass  # the periodic full resync
            self._changed.clear()
            try:
                await self.sync()
            except IptablesError as error:
                log.error("applying the rules failed, retrying in %.0fs: %s", RETRY_DELAY, error)
                await asyncio.sleep(RETRY_DELAY)
                self._changed.set()

    async def sync(self) -> SyncResult:
        """Make everything match the caches now."""
        started = self.clock()
        services = self.services.list()
        endpoints = self.endpoints.list()
        ports = service_ports(services, endpoints)
        desired = plan(ports, self.settings)
        rules_changed = await self.iptables.apply(desired.ruleset)
        await self.userspace.sync(desired.listeners)
        self.dns.update(dns.ClusterRecords(services, endpoints, domain=self.cluster_domain))
        await asyncio.to_thread(self.hairpin.ensure)
        result = SyncResult(service_ports=len(ports), endpoints=sum(len(port.endpoints) for port in ports),
                            rules_changed=rules_changed, seconds=self.clock() - started)
        self.last_sync = result
        if rules_changed:
            log.info("synced %d service ports, %d endpoints in %.0f ms", result.service_ports, result.endpoints,
                     result.seconds * 1000)
        self.sync_count += 1
        return result


async def main(
    *,
    kubeconfig: str | None,
    server: str | None,
    node_name: str,
    cluster_name: str,
    service_cidr: str = DEFAULT_SERVICE_CIDR,
    cluster_dns: str | None = None,
    cluster_domain: str = CLUSTER_DOMAIN,
    dns_port: int = 0,
) -> None:
    """The `orc proxy` command: run the proxy of `node_name` until cancelled."""
    config = load_client_config(kubeconfig=kubeconfig, server=server)
    async with ApiClient(config) as client:
        proxier = Proxier(client, cluster_name=cluster_name, node_name=node_name, service_cidr=service_cidr,
                          cluster_dns=cluster_dns, cluster_domain=cluster_domain, dns_port=dns_port)
        await proxier.run()


def node_pod_cidrs(node: dict) -> tuple[str, ...]:
    """The IPv4 podCIDRs a Node's spec names (podCIDRs, else podCIDR)."""
    spec = node.get("spec") or {}
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    return tuple(cidr for cidr in cidrs if ":" not in cidr)

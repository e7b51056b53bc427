"""Pod-to-pod networking across the worker nodes of the docker-compose cluster (kindnet's job in kind).

Each worker container runs its own Docker engine, whose pod bridge has the node's
`spec.podCIDR` as subnet (the kubelet creates it so). For a pod on one node to reach a
pod on another by its IP, without NAT, every worker needs:

- a route to each other node's podCIDR via that node's InternalIP (its address on the
  compose network), kept in step with the Node objects: `ip route replace ... proto 201`,
  the protocol number marking the routes this agent owns, so it removes only its own;
- a nat POSTROUTING rule, first in the chain, that RETURNs traffic between pod
  addresses: Docker masquerades everything leaving a bridge for another interface and
  inserts its MASQUERADE rule at the top whenever it creates a network, so the agent
  puts its rule back on top at every sync. Packets the proxy marked for masquerade
  (a pod reaching itself through its Service) are left to the proxy's rules;
- a filter DOCKER-USER rule that ACCEPTs traffic to pod addresses: Docker's FORWARD
  chain drops new connections arriving from outside to a bridge, and pods are reached
  from other nodes directly or, for NodePorts and load balancers, from their proxies.

`ensure_pod_cidr` gives the node its podCIDR before the kubelet starts (the kubelet
adopts the Node it finds), so the pod bridge gets the right subnet from the first pod on.

The decisions (`desired_routes`, `route_changes`, `parse_routes`) are pure; commands run
through an injected runner. Run on each worker by deploy/entrypoint through
`python -m orchestrator.cluster.compose pod-network`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.api.errors import AlreadyExists, APIError, NotFound
from orchestrator.client.informer import Informer
from orchestrator.client.resources import NODES
from orchestrator.client.rest import ApiClient, ApiUnavailable
from orchestrator.proxy.rules import MASQUERADE_MARK

log = logging.getLogger(__name__)

DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
ROUTE_PROTOCOL = "201"  # a routing protocol number of our own: `ip route show proto 201` lists our routes
RESYNC_SECONDS = 5.0
NO_NAT_COMMENT = "orc: pod-to-pod traffic keeps its addresses"
FORWARD_COMMENT = "orc: traffic to pods from other nodes"
COMMAND_TIMEOUT_SECONDS = 10.0

Runner = Callable[[list[str]], str]


class NetworkCommandError(RuntimeError):
    """An `ip` or `iptables` command failed; the message carries its stderr."""


def node_internal_ip(node: Mapping[str, Any]) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP" and address.get("address"):
            return address["address"]
    return None


def node_pod_cidr(node: Mapping[str, Any]) -> str | None:
    spec = node.get("spec") or {}
    return spec.get("podCIDR") or next(iter(spec.get("podCIDRs") or []), None)


def desired_routes(nodes: Iterable[Mapping[str, Any]], *, own_node_name: str) -> dict[str, str]:
    """{podCIDR: gateway} for every other node that has both a podCIDR and an InternalIP."""
    routes: dict[str, str] = {}
    for node in nodes:
        name = (node.get("metadata") or {}).get("name")
        pod_cidr, internal_ip = node_pod_cidr(node), node_internal_ip(node)
        if name == own_node_name or not pod_cidr or not internal_ip:
            continue
        routes[str(ipaddress.ip_network(pod_cidr, strict=False))] = internal_ip
    return routes


@dataclass(frozen=True)
class RouteChanges:
    replace: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.replace or self.delete)


def route_changes(*, desired: Mapping[str, str], present: Mapping[str, str]) -> RouteChanges:
    """What to run so that our routes (`present`) become `desired`."""
    return RouteChanges(
        replace={destination: gateway for destination, gateway in sorted(desired.items())
                 if present.get(destination) != gateway},
        delete=sorted(destination for destination in present if destination not in desired),
    )


def parse_routes(ip_json: str) -> dict[str, str]:
    """{destination: gateway} from `ip -j route show proto N` (routes without a gateway are not ours)."""
    routes: dict[str, str] = {}
    for route in json.loads(ip_json or "[]"):
        destination, gateway = route.get("dst"), route.get("gateway")
        if destination and gateway:
            routes[str(ipaddress.ip_network(destination, strict=False))] = gateway
    return routes


def first_rule_is(rules_listing: str, *, chain: str, comment: str) -> bool:
    """Whether `iptables -S CHAIN` shows exactly one rule with `comment`, and it comes first."""
    rules = [line for line in rules_listing.splitlines() if line.startswith(f"-A {chain} ")]
    return bool(rules) and comment in rules[0] and sum(comment in rule for rule in rules) == 1


def run_command(argv: list[str]) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NetworkCommandError(f"{' '.join(argv)}: {error}") from error
    if completed.returncode != 0:
        raise NetworkCommandError(f"{' '.join(argv)}: {completed.stderr.strip() or completed.returncode}")
    return completed.stdout


class NodeNetwork:
    """The routes and iptables rules of this worker, through `ip` and `iptables` (the runner is injectable)."""

    def __init__(self, *, cluster_cidr: str = DEFAULT_CLUSTER_CIDR, runner: Runner = run_command):
        self.cluster_cidr = str(ipaddress.ip_network(cluster_cidr))
        self.run = runner

    def routes(self) -> dict[str, str]:
        return parse_routes(self.run(["ip", "-j", "route", "show", "proto", ROUTE_PROTOCOL]))

    def apply_routes(self, changes: RouteChanges) -> None:
        for destination, gateway in changes.replace.items():
            self.run(["ip", "route", "replace", destination, "via", gateway, "proto", ROUTE_PROTOCOL])
            log.info("route %s via %s", destination, gateway)
        for destination in changes.delete:
            self.run(["ip", "route", "del", destination, "proto", ROUTE_PROTOCOL])
            log.info("route %s removed (its node is gone)", destination)

    def no_nat_rule(self) -> list[str]:
        return ["-s", self.cluster_cidr, "-d", self.cluster_cidr, "-m", "mark", "!", "--mark",
                f"{MASQUERADE_MARK}/{MASQUERADE_MARK}", "-m", "comment", "--comment", NO_NAT_COMMENT, "-j", "RETURN"]

    def forward_rule(self) -> list[str]:
        return ["-d", self.cluster_cidr, "-m", "comment", "--comment", FORWARD_COMMENT, "-j", "ACCEPT"]

    def ensure_rules(self) -> None:
        self._ensure_first(table="nat", chain="POSTROUTING", rule=self.no_nat_rule(), comment=NO_NAT_COMMENT)
        self._ensure_first(table="filter", chain="DOCKER-USER", rule=self.forward_rule(), comment=FORWARD_COMMENT)

    def _ensure_first(self, *, table: str, chain: str, rule: list[str], comment: str) -> None:
        listing = self.run(["iptables", "-w", "5", "-t", table, "-S", chain])
        if first_rule_is(listing, chain=chain, comment=comment):
            return
        copies = sum(comment in line for line in listing.splitlines() if line.startswith(f"-A {chain} "))
        for _ in range(copies):
            self.run(["iptables", "-w", "5", "-t", table, "-D", chain, *rule])
        self.run(["iptables", "-w", "5", "-t", table, "-I", chain, "1", *rule])
        log.info("iptables -t %s %s: rule %r put first", table, chain, comment)

    def sync(self, nodes: Iterable[Mapping[str, Any]], *, own_node_name: str) -> RouteChanges:
        changes = route_changes(desired=desired_routes(nodes, own_node_name=own_node_name), present=self.routes())
        self.apply_routes(changes)
        self.ensure_rules()
        return changes


async def ensure_pod_cidr(client: ApiClient, *, node_name: str, pod_cidr: str) -> dict[str, Any]:
    """Make sure the Node `node_name` exists with `pod_cidr`; retries until the apiserver answers.

    A Node created here has only its name and podCIDR: the kubelet adopts it when it registers.
    A podCIDR already set is immutable (as in Kubernetes): a different one is kept and logged.
    """
    pod_cidr = str(ipaddress.ip_network(pod_cidr))
    delay = 0.5
    while True:
        try:
            return await _ensure_pod_cidr_once(client, node_name=node_name, pod_cidr=pod_cidr)
        except (ApiUnavailable, APIError) as error:
            log.warning("node %s: cannot set its podCIDR yet (%s); retrying in %.1fs", node_name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _ensure_pod_cidr_once(client: ApiClient, *, node_name: str, pod_cidr: str) -> dict[str, Any]:
    try:
        node = await client.get(NODES, node_name)
    except NotFound:
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name},
                "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}}
        try:
            node = await client.create(NODES, body)
            log.info("node %s: created with podCIDR %s", node_name, pod_cidr)
            return node
        except AlreadyExists:
            node = await client.get(NODES, node_name)
    present = node_pod_cidr(node)
    if present is None:
        node = await client.patch(NODES, node_name, {"spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}},
                                  patch_type="merge")
        log.info("node %s: podCIDR set to %s", node_name, pod_cidr)
    elif present != pod_cidr:
        log.error("node %s already has podCIDR %s (wanted %s); keeping it", node_name, present, pod_cidr)
    return node


class PodNetworkAgent:
    """Watches the Nodes and keeps this worker's routes and rules in step, every change and every few seconds."""

    def __init__(self, *, client: ApiClient, node_name: str, network: NodeNetwork,
                 resync_seconds: float = RESYNC_SECONDS):
        self.client = client
        self.node_name = node_name
        self.network = network
        self.resync_seconds = resync_seconds
        self._nodes = Informer(client, NODES)
        self._changed = asyncio.Event()

    async def run(self) -> None:
        self._nodes.add_handler(on_add=lambda _node: self._changed.set(),
                                on_update=lambda _old, _new: self._changed.set(),
                                on_delete=lambda _node: self._changed.set())
        informer = asyncio.create_task(self._nodes.run(), name="node-informer")
        try:
            await self._nodes.wait_synced()
            while True:
                self._changed.clear()
                try:
                    await asyncio.to_thread(self.network.sync, self._nodes.list(), own_node_name=self.node_name)
                except NetworkCommandError as error:
                    log.warning("pod network sync failed, retrying: %s", error)
                try:
                    await asyncio.wait_for(self._changed.wait(), self.resync_seconds)
                except TimeoutError:
                    pass
        finally:
            informer.cancel()
            await asyncio.gather(informer, return_exceptions=True)

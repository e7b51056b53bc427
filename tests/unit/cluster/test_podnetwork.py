"""Tests for orchestrator.cluster.podnetwork: routes between the nodes' podCIDRs and the no-NAT rules."""

from __future__ import annotations

import json

import pytest

from orchestrator.cluster.podnetwork import (
    FORWARD_COMMENT,
    NO_NAT_COMMENT,
    ROUTE_PROTOCOL,
    NodeNetwork,
    RouteChanges,
    desired_routes,
    first_rule_is,
    parse_routes,
    route_changes,
)


def new_node(name: str, *, pod_cidr: str | None = None, internal_ip: str | None = None,
             pod_cidrs: list[str] | None = None) -> dict:
    spec: dict = {}
    if pod_cidr:
        spec["podCIDR"] = pod_cidr
    if pod_cidrs:
        spec["podCIDRs"] = pod_cidrs
    addresses = [{"type": "Hostname", "address": name}]
    if internal_ip:
        addresses.insert(0, {"type": "InternalIP", "address": internal_ip})
    return {"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}


class FakeCommands:
    """Records the commands; answers `ip -j route show` and `iptables -S` from canned text."""

    def __init__(self, *, routes: list[dict] | None = None, listings: dict[tuple[str, str], str] | None = None):
        self.routes = routes or []
        self.listings = listings or {}
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str]) -> str:
        self.commands.append(argv)
        if argv[:3] == ["ip", "-j", "route"]:
            return json.dumps(self.routes)
        if "-S" in argv:
            table = argv[argv.index("-t") + 1]
            return self.listings.get((table, argv[argv.index("-S") + 1]), "")
        return ""

    def changing(self) -> list[list[str]]:
        return [argv for argv in self.commands if argv[:3] != ["ip", "-j", "route"] and "-S" not in argv]


@pytest.mark.parametrize(("nodes", "expected"), [
    pytest.param([new_node("worker-1", pod_cidr="10.244.1.0/24", internal_ip="172.18.0.5"),
                  new_node("worker-2", pod_cidr="10.244.2.0/24", internal_ip="172.18.0.6")],
                 {"10.244.2.0/24": "172.18.0.6"}, id="every-other-node"),
    pytest.param([new_node("worker-2", pod_cidr="10.244.2.0/24")], {}, id="no-internal-ip-yet"),
    pytest.param([new_node("worker-2", internal_ip="172.18.0.6")], {}, id="no-pod-cidr-yet"),
    pytest.param([new_node("worker-2", pod_cidrs=["10.244.2.0/24"], internal_ip="172.18.0.6")],
                 {"10.244.2.0/24": "172.18.0.6"}, id="pod-cidrs-list"),
    pytest.param([new_node("worker-2", pod_cidr="10.244.2.7/24", internal_ip="172.18.0.6")],
                 {"10.244.2.0/24": "172.18.0.6"}, id="host-bits-normalised"),
])
def test_desired_routes(nodes, expected):
    assert desired_routes(nodes, own_node_name="worker-1") == expected


@pytest.mark.parametrize(("desired", "present", "expected"), [
    pytest.param({"10.244.2.0/24": "172.18.0.6"}, {}, RouteChanges(replace={"10.244.2.0/24": "172.18.0.6"}),
                 id="new-node"),
    pytest.param({"10.244.2.0/24": "172.18.0.9"}, {"10.244.2.0/24": "172.18.0.6"},
                 RouteChanges(replace={"10.244.2.0/24": "172.18.0.9"}), id="node-came-back-with-a-new-address"),
    pytest.param({}, {"10.244.2.0/24": "172.18.0.6"}, RouteChanges(delete=["10.244.2.0/24"]), id="node-deleted"),
    pytest.param({"10.244.2.0/24": "172.18.0.6"}, {"10.244.2.0/24": "172.18.0.6"}, RouteChanges(),
                 id="in-step"),
])
def test_route_changes(desired, present, expected):
    assert route_changes(desired=desired, present=present) == expected


def test_parse_routes_keeps_routes_with_a_gateway():
    output = json.dumps([{"dst": "10.244.2.0/24", "gateway": "172.18.0.6", "dev": "eth0"},
                         {"dst": "10.244.9.0/24", "dev": "eth0"}])

    assert parse_routes(output) == {"10.244.2.0/24": "172.18.0.6"}


@pytest.mark.parametrize(("listing", "expected"), [
    pytest.param(f'-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.244.0.0/16 -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n'
                 "-A POSTROUTING -s 10.244.1.0/24 ! -o br-1 -j MASQUERADE\n", True, id="first"),
    pytest.param("-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.244.1.0/24 ! -o br-1 -j MASQUERADE\n"
                 f'-A POSTROUTING -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n', False,
                 id="docker-inserted-above-it"),
    pytest.param("-P POSTROUTING ACCEPT\n", False, id="missing"),
    pytest.param(f'-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n'
                 f'-A POSTROUTING -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n', False, id="duplicated"),
])
def test_first_rule_is(listing, expected):
    assert first_rule_is(listing, chain="POSTROUTING", comment=NO_NAT_COMMENT) is expected


def test_sync_adds_routes_and_puts_both_rules_first():
    commands = FakeCommands(listings={
        ("nat", "POSTROUTING"): "-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.244.1.0/24 ! -o br-1 -j MASQUERADE\n"
                                f'-A POSTROUTING -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n',
        ("filter", "DOCKER-USER"): "-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n",
    })
    network = NodeNetwork(runner=commands)

    network.sync([new_node("worker-2", pod_cidr="10.244.2.0/24", internal_ip="172.18.0.6")], own_node_name="worker-1")

    assert commands.changing() == [
        ["ip", "route", "replace", "10.244.2.0/24", "via", "172.18.0.6", "proto", ROUTE_PROTOCOL],
        ["iptables", "-w", "5", "-t", "nat", "-D", "POSTROUTING", *network.no_nat_rule()],
        ["iptables", "-w", "5", "-t", "nat", "-I", "POSTROUTING", "1", *network.no_nat_rule()],
        ["iptables", "-w", "5", "-t", "filter", "-I", "DOCKER-USER", "1", *network.forward_rule()],
    ]


def test_sync_in_step_changes_nothing():
    network = NodeNetwork(runner=lambda argv: "")
    commands = FakeCommands(
        routes=[{"dst": "10.244.2.0/24", "gateway": "172.18.0.6"}],
        listings={("nat", "POSTROUTING"): f'-A POSTROUTING -m comment --comment "{NO_NAT_COMMENT}" -j RETURN\n',
                  ("filter", "DOCKER-USER"): f'-A DOCKER-USER -m comment --comment "{FORWARD_COMMENT}" -j ACCEPT\n'})
    network.run = commands

    network.sync([new_node("worker-2", pod_cidr="10.244.2.0/24", internal_ip="172.18.0.6")], own_node_name="worker-1")

    assert commands.changing() == []


def test_the_no_nat_rule_leaves_packets_marked_for_masquerade_to_the_proxy():
    from orchestrator.proxy.rules import MASQUERADE_MARK

    rule = NodeNetwork(cluster_cidr="10.244.0.0/16").no_nat_rule()

    assert rule[rule.index("--mark") - 1:rule.index("--mark") + 2] == ["!", "--mark", f"{MASQUERADE_MARK}/{MASQUERADE_MARK}"]

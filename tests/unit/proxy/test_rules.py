"""Tests for orchestrator.proxy.rules: Services + Endpoints -> service ports -> chains, jumps and listeners."""

import re

import pytest

from orchestrator.proxy.rules import (
    FILTER,
    MASQUERADE_MARK,
    NAT,
    Endpoint,
    Jump,
    ProxySettings,
    ServicePort,
    chain_prefix,
    endpoint_chain,
    plan,
    service_chain,
    service_ports,
)

SETTINGS = ProxySettings(cluster_name="test", dns_ip="10.96.0.10", dns_port=45000)


def new_service(name: str = "web", namespace: str = "default", *, type_: str = "ClusterIP",
                cluster_ip: str = "10.96.1.1", ports: list[dict] | None = None, status: dict | None = None,
                **spec_fields) -> dict:
    spec = {"type": type_, "clusterIP": cluster_ip,
            "ports": ports if ports is not None else [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            **spec_fields}
    service = {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    if status is not None:
        service["status"] = status
    return service


def new_endpoints(name: str = "web", namespace: str = "default", *, ready: list[str] = (),
                  not_ready: list[str] = (), ports: list[dict] | None = None) -> dict:
    subset = {"addresses": [{"ip": ip} for ip in ready], "ports": ports or [{"port": 8080, "protocol": "TCP"}]}
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    return {"metadata": {"name": name, "namespace": namespace}, "subsets": [subset]}


def new_port(*, endpoints: tuple[Endpoint, ...] = (Endpoint("172.18.0.2", 8080),), **fields) -> ServicePort:
    defaults = {"namespace": "default", "name": "web", "port_name": "", "protocol": "TCP", "port": 80,
                "cluster_ip": "10.96.1.1"}
    return ServicePort(**{**defaults, **fields}, endpoints=endpoints)


# ------------------------------------------------------------------ service_ports


@pytest.mark.parametrize(
    ("services", "endpoints", "expected"),
    [
        pytest.param([new_service()], [new_endpoints(ready=["172.18.0.3", "172.18.0.2"], not_ready=["172.18.0.9"])],
                     [new_port(endpoints=(Endpoint("172.18.0.2", 8080), Endpoint("172.18.0.3", 8080)))],
                     id="ready-endpoints-only-sorted"),
        pytest.param([new_service()], [], [new_port(endpoints=())], id="no-endpoints-object"),
        pytest.param([new_service(cluster_ip="None")], [new_endpoints(ready=["172.18.0.2"])], [], id="headless"),
        pytest.param([{"metadata": {"name": "x", "namespace": "default"},
                       "spec": {"type": "ExternalName", "externalName": "example.com"}}], [], [], id="external-name"),
        pytest.param([new_service(ports=[{"name": "sctp", "port": 9, "protocol": "SCTP"}])], [], [],
                     id="unsupported-protocol"),
        pytest.param(
            [new_service(ports=[{"name": "http", "port": 80, "protocol": "TCP"},
                                {"name": "metrics", "port": 9090, "protocol": "TCP"}])],
            [new_endpoints(ready=["172.18.0.2"], ports=[{"name": "metrics", "port": 9100, "protocol": "TCP"},
                                                        {"name": "http", "port": 8080, "protocol": "TCP"}])],
            [new_port(port_name="http"),
             new_port(port_name="metrics", port=9090, endpoints=(Endpoint("172.18.0.2", 9100),))],
            id="ports-matched-by-name",
        ),
        pytest.param(
            [new_service(type_="LoadBalancer", ports=[{"port": 80, "protocol": "TCP", "nodePort": 31000}],
                         status={"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}},
                         sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})],
            [new_endpoints(ready=["172.18.0.2"])],
            [new_port(node_port=31000, load_balancer_ips=("127.0.0.1",), affinity_seconds=60)],
            id="load-balancer-with-affinity",
        ),
        pytest.param([new_service(ports=[{"port": 80, "protocol": "TCP", "nodePort": 31000}])],
                     [new_endpoints(ready=["172.18.0.2"])], [new_port()], id="node-port-ignored-for-cluster-ip"),
    ],
)
def test_service_ports(services, endpoints, expected):
    assert service_ports(services, endpoints) == expected


# ------------------------------------------------------------------ naming


@pytest.mark.parametrize(
    ("cluster_name", "expected"),
    [
        pytest.param("orc", "ORC-ORC", id="short"),
        pytest.param("orc-test-61f43f9219", "ORC-C", id="long-hashed"),
    ],
)
def test_chain_prefix(cluster_name, expected):
    assert chain_prefix(cluster_name).startswith(expected)


def test_every_chain_name_fits_iptables_limit():
    ports = [new_port(namespace="a-very-long-namespace-name", name="a-very-long-service-name-" + "x" * 30,
                      port_name="metrics-endpoint", node_port=32000)]
    ruleset = plan(ports, ProxySettings(cluster_name="orc-test-61f43f9219")).ruleset
    for chains in ruleset.chains.values():
        assert all(len(name) <= 28 for name in chains)


def test_two_clusters_never_share_a_chain():
    first = plan([new_port()], ProxySettings(cluster_name="one")).ruleset
    second = plan([new_port()], ProxySettings(cluster_name="two")).ruleset
    for table in (NAT, FILTER):
        assert not set(first.chains[table]) & set(second.chains[table])


# ------------------------------------------------------------------ plan


def chain_rules(ruleset, table: str, name: str) -> list[str]:
    return ruleset.chains[table][name]


def test_cluster_ip_balances_evenly_over_endpoints():
    port = new_port(endpoints=(Endpoint("172.18.0.2", 8080), Endpoint("172.18.0.3", 8080),
                               Endpoint("172.18.0.4", 8080)))
    ruleset = plan([port], SETTINGS).ruleset
    prefix = ruleset.prefix
    svc = service_chain(prefix, port)
    services = chain_rules(ruleset, NAT, f"{prefix}-SERVICES")
    assert f'-d 10.96.1.1/32 -p tcp -m tcp --dport 80 -m comment --comment "default/web" -j {svc}' in services
    probabilities = [re.search(r"--probability (\S+)", rule) for rule in chain_rules(ruleset, NAT, svc)]
    assert [float(match.group(1)) if match else 1.0 for match in probabilities] == pytest.approx([1 / 3, 1 / 2, 1.0])
    for endpoint in port.endpoints:
        sep = chain_rules(ruleset, NAT, endpoint_chain(prefix, port, endpoint))
        assert sep[0].startswith(f"-s {endpoint.ip}/32")  # hairpin: a pod reaching itself is masqueraded
        assert sep[-1].endswith(f"-j DNAT --to-destination {endpoint.ip}:8080")


def test_session_affinity_checks_recent_clients_before_the_random_pick():
    port = new_port(affinity_seconds=10800, endpoints=(Endpoint("172.18.0.2", 8080), Endpoint("172.18.0.3", 8080)))
    ruleset = plan([port], SETTINGS).ruleset
    svc_rules = chain_rules(ruleset, NAT, service_chain(ruleset.prefix, port))
    assert [("--rcheck --seconds 10800" in rule) for rule in svc_rules] == [True, True, False, False]
    for endpoint in port.endpoints:
        chain = endpoint_chain(ruleset.prefix, port, endpoint)
        assert f"-m recent --name {chain} --mask 255.255.255.255 --rsource --set" in chain_rules(ruleset, NAT, chain)[-1]


def test_node_port_goes_through_the_masquerading_external_chain():
    port = new_port(node_port=31000)
    ruleset = plan([port], SETTINGS).ruleset
    prefix = ruleset.prefix
    node_ports = chain_rules(ruleset, NAT, f"{prefix}-NODEPORTS")
    assert len(node_ports) == 1 and "--dport 31000" in node_ports[0]
    external = node_ports[0].rsplit("-j ", 1)[1]
    assert chain_rules(ruleset, NAT, external) == [f"-j {prefix}-MARK-MASQ", f"-j {service_chain(prefix, port)}"]
    # Node addresses are matched last and never loopback, which the userspace proxy serves.
    assert chain_rules(ruleset, NAT, f"{prefix}-SERVICES")[-1] == (
        f"-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j {prefix}-NODEPORTS")


@pytest.mark.parametrize(
    ("port", "expected_listeners"),
    [
        pytest.param(new_port(node_port=31000), [("127.0.0.1", 31000)], id="node-port-on-loopback"),
        pytest.param(new_port(node_port=31000, load_balancer_ips=("127.0.0.1",)),
                     [("127.0.0.1", 80), ("127.0.0.1", 31000)], id="loopback-load-balancer"),
        pytest.param(new_port(load_balancer_ips=("192.0.2.7",)), [], id="routed-load-balancer-in-the-kernel"),
        pytest.param(new_port(protocol="UDP", node_port=31000), [], id="udp-only-in-the-kernel"),
        pytest.param(new_port(), [], id="cluster-ip-only"),
    ],
)
def test_loopback_listeners(port, expected_listeners):
    listeners = plan([port], SETTINGS).listeners
    assert sorted((listener.address, listener.port) for listener in listeners) == expected_listeners


def test_routed_load_balancer_address_is_dnatted_in_the_kernel():
    port = new_port(load_balancer_ips=("192.0.2.7",))
    ruleset = plan([port], SETTINGS).ruleset
    services = chain_rules(ruleset, NAT, f"{ruleset.prefix}-SERVICES")
    assert any(rule.startswith("-d 192.0.2.7/32 -p tcp -m tcp --dport 80") for rule in services)


def test_a_port_without_endpoints_is_rejected_not_routed():
    port = new_port(endpoints=(), node_port=31000)
    ruleset = plan([port], SETTINGS).ruleset
    prefix = ruleset.prefix
    assert not any("10.96.1.1" in rule for rule in chain_rules(ruleset, NAT, f"{prefix}-SERVICES"))
    assert chain_rules(ruleset, NAT, f"{prefix}-NODEPORTS") == []
    rejects = chain_rules(ruleset, FILTER, f"{prefix}-SERVICES")
    assert rejects[0].startswith("-d 10.96.1.1/32 -p tcp -m tcp --dport 80")
    assert rejects[0].endswith("-j REJECT --reject-with icmp-port-unreachable")


def test_anything_else_sent_to_the_service_range_is_rejected_last():
    ruleset = plan([new_port()], SETTINGS).ruleset
    assert chain_rules(ruleset, FILTER, f"{ruleset.prefix}-SERVICES")[-1].startswith("-d 10.96.0.0/16 ")


def test_cluster_dns_is_redirected_to_the_local_server_first():
    ruleset = plan([new_port()], SETTINGS).ruleset
    services = chain_rules(ruleset, NAT, f"{ruleset.prefix}-SERVICES")
    assert services[0].startswith("-d 10.96.0.10/32 -p udp -m udp --dport 53")
    assert services[0].endswith("-j REDIRECT --to-ports 45000")
    assert services[1].startswith("-d 10.96.0.10/32 -p tcp -m tcp --dport 53")
    assert all("--dport 45000" in rule and rule.endswith("-j DROP")
               for rule in chain_rules(ruleset, FILTER, f"{ruleset.prefix}-INPUT"))


def test_no_dns_rules_without_a_dns_server():
    ruleset = plan([new_port()], ProxySettings(cluster_name="test")).ruleset
    assert not any("REDIRECT" in rule for rule in chain_rules(ruleset, NAT, f"{ruleset.prefix}-SERVICES"))
    assert chain_rules(ruleset, FILTER, f"{ruleset.prefix}-INPUT") == []


def test_masquerade_marks_are_cleared_after_use():
    ruleset = plan([], SETTINGS).ruleset
    assert chain_rules(ruleset, NAT, f"{ruleset.prefix}-POSTROUTING") == [
        f"-m mark ! --mark {MASQUERADE_MARK}/{MASQUERADE_MARK} -j RETURN",
        f"-j MARK --xor-mark {MASQUERADE_MARK}",
        "-j MASQUERADE",
    ]


def test_jumps_hook_every_path_a_packet_can_take():
    ruleset = plan([], SETTINGS).ruleset
    hooks = {(jump.table, jump.chain) for jump in ruleset.jumps}
    assert hooks == {(NAT, "PREROUTING"), (NAT, "OUTPUT"), (NAT, "POSTROUTING"), (FILTER, "OUTPUT"),
                     (FILTER, "FORWARD"), (FILTER, "INPUT")}


def test_the_plan_is_stable_for_the_same_input():
    services = [new_service("b"), new_service("a", cluster_ip="10.96.1.2")]
    endpoints = [new_endpoints("a", ready=["172.18.0.5", "172.18.0.4"]), new_endpoints("b", ready=["172.18.0.6"])]
    first = plan(service_ports(services, endpoints), SETTINGS)
    second = plan(service_ports(list(reversed(services)), list(reversed(endpoints))), SETTINGS)
    assert first.ruleset.chains == second.ruleset.chains


def test_a_kube_dns_service_on_the_dns_address_is_left_to_the_local_server():
    dns_port = new_port(name="kube-dns", namespace="kube-system", cluster_ip="10.96.0.10", port=53, protocol="UDP",
                        endpoints=())
    ruleset = plan([dns_port], SETTINGS).ruleset
    assert not any("10.96.0.10/32" in rule for rule in chain_rules(ruleset, FILTER, f"{ruleset.prefix}-SERVICES"))


def test_known_pod_cidrs_scope_the_prerouting_jump_to_the_clusters_pods():
    """Two clusters on one machine share 10.96.0.0/16 and 10.96.0.10: each catches only its own pods'
    packets (and node ports); the machine's own traffic (OUTPUT) stays unscoped."""
    settings = ProxySettings(cluster_name="test", pod_cidrs=("10.244.1.0/24", "172.18.0.0/16"))
    ruleset = plan([new_port()], settings).ruleset
    prefix = ruleset.prefix
    prerouting = [jump.rule for jump in ruleset.jumps if (jump.table, jump.chain) == (NAT, "PREROUTING")]
    assert prerouting == [f"-s 10.244.1.0/24 -j {prefix}-SERVICES", f"-s 172.18.0.0/16 -j {prefix}-SERVICES",
                          f"! -d 10.96.0.0/16 -j {prefix}-SERVICES"]
    assert Jump(NAT, "OUTPUT", f"-j {prefix}-SERVICES") in ruleset.jumps
    unscoped = plan([new_port()], ProxySettings(cluster_name="test")).ruleset
    assert [jump.rule for jump in unscoped.jumps if jump.chain == "PREROUTING"] == [f"-j {prefix}-SERVICES"]

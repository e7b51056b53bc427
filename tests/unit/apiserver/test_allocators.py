"""Tests for orchestrator.apiserver.allocators: cluster IPs and node ports as Kubernetes allocates them."""

import ipaddress
import random

import pytest

from orchestrator.api.errors import FieldError, Invalid
from orchestrator.apiserver.allocators import AllocationFull, ServiceNetwork, allocate_service


def new_service(name: str = "web", namespace: str = "default", *, type_: str = "ClusterIP", cluster_ip: str | None = None,
                ports: list[dict] | None = None, **spec_fields) -> dict:
    spec = {"type": type_, "ports": ports if ports is not None else [{"port": 80, "protocol": "TCP"}], **spec_fields}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def allocate(service: dict, existing: list[dict] = (), **options) -> dict | list[FieldError]:
    return allocate_service(service, list(existing), rng=random.Random(7), **options)


def message_of(errors: list[FieldError], name: str = "web") -> str:
    return Invalid(kind="Service", group="", name=name, errors=errors).message


# ------------------------------------------------------------------ cluster IPs


def test_a_dynamic_cluster_ip_comes_from_the_high_band_of_the_range():
    allocated = allocate(new_service())
    address = ipaddress.ip_address(allocated["spec"]["clusterIP"])
    assert address in ipaddress.ip_network("10.96.0.0/16")
    assert address >= ipaddress.ip_address("10.96.1.0")  # the low 256 addresses are kept for static requests
    assert allocated["spec"]["clusterIPs"] == [str(address)]
    assert allocated["spec"]["ipFamilies"] == ["IPv4"]
    assert allocated["spec"]["ipFamilyPolicy"] == "SingleStack"


def test_the_input_is_not_modified():
    service = new_service()
    allocate(service)
    assert "clusterIP" not in service["spec"]


def test_dynamic_allocation_never_repeats_an_address_in_use():
    existing = []
    for index in range(300):
        allocated = allocate_service(new_service(f"s{index}"), existing, rng=random.Random(1),
                                     network=ServiceNetwork(service_cidr="10.0.0.0/23"))
        existing.append(allocated)
    addresses = [service["spec"]["clusterIP"] for service in existing]
    assert len(set(addresses)) == 300


def test_the_low_band_is_used_once_the_high_band_is_full():
    network = ServiceNetwork(service_cidr="10.0.0.0/27")  # 30 usable, 16 kept for static requests
    existing = []
    for index in range(28):  # 30 minus the two reserved addresses (.1 kubernetes, .10 DNS)
        existing.append(allocate_service(new_service(f"s{index}"), existing, network=network, rng=random.Random(3)))
    with pytest.raises(AllocationFull):
        allocate_service(new_service("one-too-many"), existing, network=network)


@pytest.mark.parametrize(
    ("service", "expected_ip"),
    [
        pytest.param(new_service(cluster_ip="10.96.0.50"), "10.96.0.50", id="requested-and-free"),
        pytest.param(new_service("kubernetes", cluster_ip="10.96.0.1"), "10.96.0.1", id="kubernetes-takes-its-own"),
        pytest.param(new_service("kube-dns", "kube-system", cluster_ip="10.96.0.10"), "10.96.0.10", id="dns-takes-its-own"),
        pytest.param(new_service(cluster_ip="None"), "None", id="headless-kept"),
    ],
)
def test_requested_cluster_ips(service, expected_ip):
    allocated = allocate(service)
    assert allocated["spec"]["clusterIP"] == expected_ip
    assert allocated["spec"]["clusterIPs"] == [expected_ip]


@pytest.mark.parametrize(
    ("service", "existing", "message"),
    [
        pytest.param(
            new_service(cluster_ip="10.96.0.50"), [new_service("other", cluster_ip="10.96.0.50")],
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: '
            "failed to allocate IP 10.96.0.50: provided IP is already allocated",
            id="taken-by-another-service",
        ),
        pytest.param(
            new_service(cluster_ip="10.96.0.10"), [],
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
            "failed to allocate IP 10.96.0.10: provided IP is already allocated",
            id="the-dns-address-is-reserved",
        ),
        pytest.param(
            new_service(cluster_ip="10.97.0.5"), [],
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.97.0.5"}: failed to allocate IP '
            "10.97.0.5: the provided IP (10.97.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/16",
            id="outside-the-range",
        ),
        pytest.param(
            new_service(cluster_ip="10.96.255.255"), [],
            'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.255.255"}: failed to allocate '
            "IP 10.96.255.255: the provided IP (10.96.255.255) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/16",
            id="the-broadcast-address",
        ),
        pytest.param(
            new_service(ipFamilyPolicy="RequireDualStack"), [],
            'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
            "this cluster is not configured for dual-stack services",
            id="dual-stack-on-a-single-stack-cluster",
        ),
        pytest.param(
            new_service(ipFamilies=["IPv6"]), [],
            'Service "web" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster',
            id="ipv6-family",
        ),
    ],
)
def test_refused_cluster_ips(service, existing, message):
    errors = allocate(service, existing)
    assert isinstance(errors, list)
    assert message_of(errors) == message


def test_an_update_keeps_the_addresses_it_holds():
    stored = allocate(new_service(type_="NodePort"))
    edited = new_service(type_="NodePort", cluster_ip=stored["spec"]["clusterIP"],
                         ports=[{"port": 80, "protocol": "TCP", "nodePort": stored["spec"]["ports"][0]["nodePort"]}])
    updated = allocate(edited, [stored], old=stored)
    assert updated["spec"]["clusterIP"] == stored["spec"]["clusterIP"]
    assert updated["spec"]["ports"] == stored["spec"]["ports"]


def test_an_update_from_external_name_allocates_a_cluster_ip():
    stored = {"metadata": {"name": "web", "namespace": "default"},
              "spec": {"type": "ExternalName", "externalName": "example.com"}}
    updated = allocate(new_service(), [stored], old=stored)
    assert updated["spec"]["clusterIP"].startswith("10.96.")


def test_headless_without_selector_names_both_families_as_kubernetes_does():
    allocated = allocate(new_service(cluster_ip="None"))
    assert allocated["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert allocated["spec"]["ipFamilies"] == ["IPv4", "IPv6"]


def test_external_name_gets_nothing():
    service = {"metadata": {"name": "db", "namespace": "default"},
               "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
    assert allocate(service) == service


# ------------------------------------------------------------------ node ports


@pytest.mark.parametrize(
    ("service", "expected_node_ports"),
    [
        pytest.param(new_service(type_="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 32767}]),
                     [32767], id="requested-and-free"),
        pytest.param(new_service(type_="NodePort", ports=[{"name": "dns", "port": 53, "protocol": "UDP"},
                                                          {"name": "dns-tcp", "port": 53, "protocol": "TCP",
                                                           "nodePort": 30053}]),
                     [30053, 30053], id="one-service-port-one-node-port"),
        pytest.param(new_service(type_="LoadBalancer", allocateLoadBalancerNodePorts=False), [None],
                     id="load-balancer-without-node-ports"),
        pytest.param(new_service(type_="ClusterIP"), [None], id="cluster-ip-has-none"),
    ],
)
def test_requested_node_ports(service, expected_node_ports):
    allocated = allocate(service)
    assert [port.get("nodePort") for port in allocated["spec"]["ports"]] == expected_node_ports


def test_dynamic_node_ports_come_from_the_high_band():
    allocated = allocate(new_service(type_="LoadBalancer", ports=[{"name": "a", "port": 80, "protocol": "TCP"},
                                                                 {"name": "b", "port": 81, "protocol": "TCP"}]))
    node_ports = [port["nodePort"] for port in allocated["spec"]["ports"]]
    assert len(set(node_ports)) == 2
    assert all(30086 <= port <= 32767 for port in node_ports)  # 30000-30085 are kept for static requests


@pytest.mark.parametrize(
    ("service", "existing", "message"),
    [
        pytest.param(
            new_service(type_="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 32767}]),
            [new_service("other", type_="NodePort", ports=[{"port": 81, "protocol": "TCP", "nodePort": 32767}])],
            'Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 32767: provided port is already allocated',
            id="taken-by-another-service",
        ),
        pytest.param(
            new_service(type_="NodePort", ports=[{"name": "a", "port": 80, "protocol": "TCP", "nodePort": 30001},
                                                 {"name": "b", "port": 81, "protocol": "TCP", "nodePort": 30001}]),
            [],
            'Service "web" is invalid: spec.ports[1].nodePort: Invalid value: 30001: provided port is already allocated',
            id="twice-in-one-service",
        ),
    ],
)
def test_refused_node_ports(service, existing, message):
    errors = allocate(service, existing)
    assert isinstance(errors, list)
    assert message_of(errors) == message


def test_a_deleted_service_frees_its_node_port():
    # The state is what is stored: once the other Service is gone, its port is free.
    wanted = new_service(type_="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 32767}])
    assert allocate(wanted, [])["spec"]["ports"][0]["nodePort"] == 32767


def test_an_update_may_take_a_new_free_node_port_but_not_a_taken_one():
    stored = allocate(new_service(type_="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 30100}]))
    other = new_service("other", type_="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 30200}])
    moved = new_service(type_="NodePort", cluster_ip=stored["spec"]["clusterIP"],
                        ports=[{"port": 80, "protocol": "TCP", "nodePort": 30300}])
    assert allocate(moved, [stored, other], old=stored)["spec"]["ports"][0]["nodePort"] == 30300
    stolen = new_service(type_="NodePort", cluster_ip=stored["spec"]["clusterIP"],
                         ports=[{"port": 80, "protocol": "TCP", "nodePort": 30200}])
    assert message_of(allocate(stolen, [stored, other], old=stored)).endswith(
        "spec.ports[0].nodePort: Invalid value: 30200: provided port is already allocated")


def test_a_type_change_to_node_port_allocates_ports():
    stored = allocate(new_service())
    changed = new_service(type_="NodePort", cluster_ip=stored["spec"]["clusterIP"])
    assert allocate(changed, [stored], old=stored)["spec"]["ports"][0]["nodePort"] >= 30000


def test_health_check_node_port_for_local_traffic_policy():
    allocated = allocate(new_service(type_="LoadBalancer", externalTrafficPolicy="Local"))
    assert 30000 <= allocated["spec"]["healthCheckNodePort"] <= 32767
    assert allocated["spec"]["healthCheckNodePort"] != allocated["spec"]["ports"][0]["nodePort"]

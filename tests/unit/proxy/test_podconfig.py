"""Tests for orchestrator.proxy.podconfig: a pod's resolv.conf settings and Service environment variables."""

import pytest

from orchestrator.proxy.podconfig import HostDNS, parse_resolv_conf, pod_dns_config, service_environment

HOST = HostDNS(nameservers=("192.0.2.53",), searches=("corp.example",), options=("edns0",))
CLUSTER_SEARCHES = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]


def new_pod(namespace: str = "shop", **spec_fields) -> dict:
    return {"metadata": {"name": "web", "namespace": namespace}, "spec": {"containers": [], **spec_fields}}


def new_service(name: str, namespace: str = "shop", *, cluster_ip: str | None = "10.96.1.1",
                ports: list[dict] | None = None) -> dict:
    spec = {"ports": ports if ports is not None else [{"port": 80, "protocol": "TCP"}]}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


# ------------------------------------------------------------------ DNS


@pytest.mark.parametrize(
    ("pod", "cluster_dns", "host", "expected"),
    [
        pytest.param(new_pod(), ["10.96.0.10"], None, (["10.96.0.10"], CLUSTER_SEARCHES, ["ndots:5"]),
                     id="cluster-first-by-default"),
        pytest.param(new_pod(dnsPolicy="ClusterFirst"), ["10.96.0.10"], HOST,
                     (["10.96.0.10"], [*CLUSTER_SEARCHES, "corp.example"], ["ndots:5"]),
                     id="cluster-first-adds-host-searches"),
        pytest.param(new_pod(dnsPolicy="Default"), ["10.96.0.10"], HOST,
                     (["192.0.2.53"], ["corp.example"], ["edns0"]), id="default-is-the-host"),
        pytest.param(new_pod(dnsPolicy="Default"), ["10.96.0.10"], None, ([], [], []),
                     id="default-without-host-config-leaves-it-to-docker"),
        pytest.param(new_pod(dnsPolicy="ClusterFirst", hostNetwork=True), ["10.96.0.10"], HOST,
                     (["192.0.2.53"], ["corp.example"], ["edns0"]), id="host-network-falls-back-to-default"),
        pytest.param(new_pod(dnsPolicy="ClusterFirstWithHostNet", hostNetwork=True), ["10.96.0.10"], None,
                     (["10.96.0.10"], CLUSTER_SEARCHES, ["ndots:5"]), id="cluster-first-with-host-net"),
        pytest.param(new_pod(), [], HOST, (["192.0.2.53"], ["corp.example"], ["edns0"]),
                     id="no-cluster-dns-falls-back-to-default"),
        pytest.param(new_pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.2.3.4"], "searches": ["a.example"],
                                                          "options": [{"name": "ndots", "value": "2"}]}),
                     ["10.96.0.10"], HOST, (["1.2.3.4"], ["a.example"], ["ndots:2"]), id="none-uses-dns-config-only"),
        pytest.param(new_pod(dnsConfig={"nameservers": ["1.2.3.4", "10.96.0.10"], "searches": ["svc.cluster.local",
                                                                                                "b.example"],
                                        "options": [{"name": "ndots", "value": "1"}, {"name": "single-request"}]}),
                     ["10.96.0.10"], None,
                     (["10.96.0.10", "1.2.3.4"], [*CLUSTER_SEARCHES, "b.example"], ["ndots:1", "single-request"]),
                     id="dns-config-merges-without-duplicates"),
        pytest.param(new_pod(dnsConfig={"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3"]}), ["10.96.0.10"], None,
                     (["10.96.0.10", "1.1.1.1", "2.2.2.2"], CLUSTER_SEARCHES, ["ndots:5"]),
                     id="at-most-three-nameservers"),
        pytest.param(new_pod(namespace=""), ["10.96.0.10"], None,
                     (["10.96.0.10"], ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], ["ndots:5"]),
                     id="namespace-defaults"),
    ],
)
def test_pod_dns_config(pod, cluster_dns, host, expected):
    assert pod_dns_config(pod, cluster_dns=cluster_dns, host_dns=host) == expected


def test_a_custom_cluster_domain():
    _, searches, _ = pod_dns_config(new_pod(), cluster_dns=["10.96.0.10"], cluster_domain="corp.internal")
    assert searches == ["shop.svc.corp.internal", "svc.corp.internal", "corp.internal"]


def test_search_paths_are_cut_to_the_limits():
    # At most 32 paths are kept, then any longer than a DNS name (253 characters) is dropped.
    long_searches = ["x" * 254] + [f"s{index}.example" for index in range(40)]
    _, searches, _ = pod_dns_config(new_pod(dnsPolicy="None", dnsConfig={"searches": long_searches}), cluster_dns=[])
    assert searches == long_searches[1:32]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.example b.example.\noptions ndots:2 rotate\n",
                     HostDNS(("10.0.0.2", "10.0.0.3"), ("a.example", "b.example"), ("ndots:2", "rotate")),
                     id="full"),
        pytest.param("# comment\nsearch old.example\nsearch new.example\n", HostDNS((), ("new.example",), ()),
                     id="last-search-wins"),
        pytest.param("", HostDNS(), id="empty"),
    ],
)
def test_parse_resolv_conf(text, expected):
    assert parse_resolv_conf(text) == expected


# ------------------------------------------------------------------ environment


def test_the_variables_of_one_service():
    service = new_service("redis-primary", ports=[{"name": "redis", "port": 6379, "protocol": "TCP"},
                                                  {"name": "metrics", "port": 9121}])
    assert service_environment([service], namespace="shop", enable_service_links=True) == {
        "REDIS_PRIMARY_SERVICE_HOST": "10.96.1.1",
        "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_REDIS": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_METRICS": "9121",
        "REDIS_PRIMARY_PORT": "tcp://10.96.1.1:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.96.1.1:6379",
        "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
        "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.96.1.1",
        "REDIS_PRIMARY_PORT_9121_TCP": "tcp://10.96.1.1:9121",
        "REDIS_PRIMARY_PORT_9121_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_9121_TCP_PORT": "9121",
        "REDIS_PRIMARY_PORT_9121_TCP_ADDR": "10.96.1.1",
    }


KUBERNETES = new_service("kubernetes", "default", cluster_ip="10.96.0.1", ports=[{"name": "https", "port": 443}])


@pytest.mark.parametrize(
    ("services", "enable_service_links", "expected_hosts"),
    [
        pytest.param([new_service("web"), new_service("other", "elsewhere")], True, {"WEB_SERVICE_HOST"},
                     id="only-the-pods-namespace"),
        pytest.param([new_service("web"), KUBERNETES], False, {"KUBERNETES_SERVICE_HOST"},
                     id="links-disabled-keeps-kubernetes"),
        pytest.param([new_service("web"), KUBERNETES], True, {"WEB_SERVICE_HOST", "KUBERNETES_SERVICE_HOST"},
                     id="links-enabled"),
        pytest.param([new_service("db", cluster_ip="None"), new_service("ext", cluster_ip=None)], True, set(),
                     id="headless-and-external-name-have-no-address"),
    ],
)
def test_which_services_a_pod_sees(services, enable_service_links, expected_hosts):
    environment = service_environment(services, namespace="shop", enable_service_links=enable_service_links)
    assert {name for name in environment if name.endswith("_SERVICE_HOST")} == expected_hosts

"""Fixtures for the proxy's integration tests: echo containers on a bridge network of their own, real iptables.

Each test module gets a labelled Docker network, three `echo:v1` containers (their
hostnames are what they answer, so a test sees which one served it) and a busybox
client whose resolv.conf is what the kubelet would write (podconfig.pod_dns_config).
Services are plain dicts pointing at those containers; no apiserver is needed. The
cluster's iptables chains, containers and network are removed afterwards.

Traffic only ever goes to loopback, to these containers, and to virtual service
addresses in TEST_SERVICE_CIDR, which the rules under test send to these containers
or reject (nothing in that range leaves the machine while the chains exist).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass

import pytest

from orchestrator.proxy.podconfig import pod_dns_config

TEST_SERVICE_CIDR = "10.250.0.0/16"
TEST_DNS_IP = "10.250.0.10"
ECHO_HOSTNAMES = ("echo-0", "echo-1", "echo-2")
LABEL_TEST = "orc.test"


@dataclass
class EchoNetwork:
    cluster_name: str
    network_name: str
    gateway: str
    echo_ips: dict[str, str]  # hostname -> IP
    client: object  # docker Container
    echoes: dict[str, object]  # hostname -> docker Container

    def run_in(self, container, script: str) -> str:
        """Run a shell script in a container (every network call in it bounded by `timeout`); its output."""
        _exit_code, output = container.exec_run(["sh", "-c", script])
        return output.decode(errors="replace")

    def fetch_many(self, url: str, count: int, *, container=None) -> list[str]:
        """`count` GETs from a container (the client by default); the answering hostnames, '' for a failure."""
        # busybox's own `wget -T` crashes (Debian's busybox-static 1.35): bound each request with `timeout`.
        script = f"for i in $(seq {count}); do timeout 5 wget -qO- {url} 2>/dev/null || echo FAILED; done"
        output = self.run_in(container or self.client, script)
        return [_hostname_of(line) for line in output.splitlines() if line.strip()]


def _hostname_of(line: str) -> str:
    import json

    try:
        return json.loads(line)["host"]
    except (ValueError, KeyError, TypeError):
        return ""


def _skip_unless_capable() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root for iptables")
    if shutil.which("iptables-restore") is None:
        pytest.skip("iptables is not installed")


@pytest.fixture(scope="module")
def docker_client():
    _skip_unless_capable()
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # no engine on this machine
        pytest.skip(f"no Docker engine: {error}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def echo_network(docker_client):
    from orchestrator.cluster.images import ensure_images
    from orchestrator.proxy.iptables import cleanup_rules

    ensure_images(["echo:v1", "busybox"], docker_client=docker_client)
    suffix = uuid.uuid4().hex[:6]
    cluster_name = f"pt{suffix}"
    labels = {LABEL_TEST: "proxy", "orc.cluster": cluster_name}
    network = docker_client.networks.create(f"orc-proxytest-{suffix}", driver="bridge", labels=labels)
    containers = []
    try:
        echoes = {}
        for hostname in ECHO_HOSTNAMES:
            echoes[hostname] = docker_client.containers.run(
                "echo:v1", detach=True, name=f"orc-proxytest-{suffix}-{hostname}", hostname=hostname,
                network=network.name, labels=labels)
            containers.append(echoes[hostname])
        nameservers, searches, options = pod_dns_config(
            {"metadata": {"namespace": "default"}, "spec": {}}, cluster_dns=[TEST_DNS_IP])
        client = docker_client.containers.run(
            "busybox", ["sleep", "3600"], detach=True, name=f"orc-proxytest-{suffix}-client", network=network.name,
            labels=labels, dns=nameservers, dns_search=searches, dns_opt=options)
        containers.append(client)
        network.reload()
        echo_ips = {}
        for hostname, container in echoes.items():
            container.reload()
            echo_ips[hostname] = container.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        yield EchoNetwork(cluster_name=cluster_name, network_name=network.name, gateway=gateway, echo_ips=echo_ips,
                          client=client, echoes=echoes)
    finally:
        for container in containers:
            container.remove(force=True)
        network.remove()
        cleanup_rules(cluster_name)

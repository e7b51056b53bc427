"""Tests for orchestrator.cluster.compose: what `init` writes for the docker-compose cluster."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import yaml
from cryptography import x509

from orchestrator.client.config import load_client_config
from orchestrator.cluster.compose import component_kubeconfig_path, init_cluster
from orchestrator.cluster.processes import COMPONENT_USERS

HOSTNAMES = ["apiserver-lb", "apiserver-1", "apiserver-2"]


def run_init(tmp_path: Path, *, host_port: int = 16443):
    return init_cluster(state_dir=tmp_path / "state", host_dir=tmp_path / "host",
                        server="https://apiserver-lb:6443", host_port=host_port, hostnames=HOSTNAMES)


def serving_names(tmp_path: Path) -> tuple[set[str], set]:
    certificate = x509.load_pem_x509_certificate((tmp_path / "state" / "pki" / "apiserver.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(names.get_values_for_type(x509.DNSName)), set(names.get_values_for_type(x509.IPAddress))


def test_the_serving_certificate_names_the_balancer_both_apiservers_and_loopback(tmp_path):
    (tmp_path / "host").mkdir()
    run_init(tmp_path)

    dns_names, ip_addresses = serving_names(tmp_path)

    assert set(HOSTNAMES) <= dns_names
    assert ipaddress.ip_address("127.0.0.1") in ip_addresses


def test_components_reach_the_balancer_and_the_host_reaches_the_published_port(tmp_path):
    (tmp_path / "host").mkdir()
    result = run_init(tmp_path, host_port=17443)

    host = load_client_config(kubeconfig=str(result.host_kubeconfig))
    scheduler = load_client_config(kubeconfig=str(component_kubeconfig_path(tmp_path / "state",
                                                                            "system:kube-scheduler")))

    assert host.server == "https://127.0.0.1:17443"
    assert scheduler.server == "https://apiserver-lb:6443"
    assert host.token and scheduler.token and host.token != scheduler.token
    assert sorted(result.component_kubeconfigs) == sorted(COMPONENT_USERS)
    assert stat.S_IMODE(result.host_kubeconfig.stat().st_mode) == 0o600


def test_running_init_again_keeps_the_ca_and_the_tokens(tmp_path):
    (tmp_path / "host").mkdir()
    first = yaml.safe_load(run_init(tmp_path).host_kubeconfig.read_text())
    second = yaml.safe_load(run_init(tmp_path).host_kubeconfig.read_text())

    assert first == second

"""The port arithmetic of `orc port-forward` (cli/client/portforward.py): specs, named ports, service ports."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError
from cli.client.portforward import PortMapping, parse_port_specs, resolve_named_pod_ports, translate_service_ports


def new_pod(*, ports: list[dict] | None = None) -> dict:
    return {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "web", "ports": ports or []}]}}


def new_service(*ports: dict) -> dict:
    return {"metadata": {"name": "web"}, "spec": {"ports": list(ports)}}


@pytest.mark.parametrize("specs, expected", [
    pytest.param(["8080"], [PortMapping(8080, "8080")], id="same-port"),
    pytest.param(["9000:8080"], [PortMapping(9000, "8080")], id="local-and-remote"),
    pytest.param([":8080"], [PortMapping(0, "8080")], id="random-local"),
    pytest.param(["http"], [PortMapping(-1, "http")], id="named-remote"),
    pytest.param(["9000:http", "53"], [PortMapping(9000, "http"), PortMapping(53, "53")], id="several"),
])
def test_parse_port_specs(specs, expected):
    assert parse_port_specs(specs) == expected


@pytest.mark.parametrize("specs", [
    pytest.param(["x:8080"], id="named-local"),
    pytest.param(["8080:"], id="no-remote"),
    pytest.param(["70000:80"], id="local-out-of-range"),
])
def test_parse_port_specs_refuses(specs):
    with pytest.raises(CliError):
        parse_port_specs(specs)


@pytest.mark.parametrize("specs, expected", [
    pytest.param(["8080"], [(8080, 8080)], id="number"),
    pytest.param(["http"], [(8080, 8080)], id="name-listens-on-its-number"),
    pytest.param(["9000:http"], [(9000, 8080)], id="name-with-local"),
])
def test_resolve_named_pod_ports(specs, expected):
    pod = new_pod(ports=[{"name": "http", "containerPort": 8080}])
    assert resolve_named_pod_ports(parse_port_specs(specs), pod) == expected


@pytest.mark.parametrize("specs, expected", [
    pytest.param(["80"], [(80, 8080)], id="service-port-to-number-target"),
    pytest.param(["9000:80"], [(9000, 8080)], id="explicit-local"),
    pytest.param(["web"], [(80, 8080)], id="service-port-name"),
    pytest.param(["81"], [(81, 8081)], id="named-target-port"),
    pytest.param(["82"], [(82, 82)], id="no-target-port"),
])
def test_translate_service_ports(specs, expected):
    service = new_service({"name": "web", "port": 80, "targetPort": 8080}, {"port": 81, "targetPort": "metrics"},
                          {"port": 82})
    pod = new_pod(ports=[{"name": "metrics", "containerPort": 8081}])
    assert translate_service_ports(parse_port_specs(specs), service, pod) == expected


@pytest.mark.parametrize("specs, service, message", [
    pytest.param(["90"], new_service({"port": 80}), "Service web does not have a service port 90", id="unknown-port"),
    pytest.param(["80"], new_service({"port": 80, "targetPort": "nope"}), "Pod 'web-1' does not have a named port "
                 "'nope'", id="unknown-target-name"),
])
def test_translate_service_ports_refuses(specs, service, message):
    with pytest.raises(CliError) as refused:
        translate_service_ports(parse_port_specs(specs), service, new_pod())
    assert refused.value.message == message

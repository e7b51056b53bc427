"""Tests for orchestrator.cluster.ports."""

from __future__ import annotations

import socket

import pytest

from orchestrator.cluster.ports import free_port


@pytest.mark.parametrize(
    ("host", "family"),
    [pytest.param("127.0.0.1", socket.AF_INET, id="ipv4"), pytest.param("::1", socket.AF_INET6, id="ipv6")],
)
def test_free_port_can_be_bound(host: str, family: socket.AddressFamily) -> None:
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    port = free_port(host)
    assert 0 < port < 65536
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((host, port))

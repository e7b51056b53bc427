"""Tests for orchestrator.cluster.pki: the CA, the serving certificate (checked with a real TLS handshake) and tokens."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from orchestrator.apiserver.auth import UserInfo, load_token_file
from orchestrator.cluster.pki import Pki, ensure_pki, ensure_tokens


def new_pki(directory: Path, *, hostnames: list[str] | None = None, ip_addresses: list[str] | None = None) -> Pki:
    return ensure_pki(directory, hostnames=hostnames or [], ip_addresses=ip_addresses or [])


def serving_certificate(pki: Pki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.apiserver_cert_path.read_bytes())


def handshake_with_serving_certificate(pki: Pki, *, server_hostname: str) -> None:
    """Serve TLS on loopback with the apiserver certificate; connect trusting only ca.crt, checking `server_hostname`."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.apiserver_cert_path, pki.apiserver_key_path)
    client_context = ssl.create_default_context(cafile=pki.ca_cert_path)
    server_errors: list[BaseException] = []

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve_one() -> None:
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls_connection:
                    tls_connection.sendall(tls_connection.recv(5))
            except (OSError, ssl.SSLError) as error:
                server_errors.append(error)

        server_thread = threading.Thread(target=serve_one, daemon=True)
        server_thread.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw_connection:
                with client_context.wrap_socket(raw_connection, server_hostname=server_hostname) as tls_connection:
                    tls_connection.sendall(b"hello")
                    assert tls_connection.recv(5) == b"hello"
        finally:
            server_thread.join(timeout=10)
    assert not server_errors


@pytest.mark.parametrize(
    "server_hostname",
    [
        pytest.param("127.0.0.1", id="ip"),
        pytest.param("localhost", id="localhost"),
        pytest.param("orc-master", id="extra-hostname"),
    ],
)
def test_serving_certificate_is_trusted_through_the_ca(tmp_path: Path, server_hostname: str) -> None:
    pki = new_pki(tmp_path / "pki", hostnames=["orc-master"])
    handshake_with_serving_certificate(pki, server_hostname=server_hostname)


def test_serving_certificate_rejects_a_name_it_does_not_carry(tmp_path: Path) -> None:
    pki = new_pki(tmp_path / "pki")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake_with_serving_certificate(pki, server_hostname="elsewhere.example")


def test_serving_certificate_names_every_requested_address(tmp_path: Path) -> None:
    pki = new_pki(tmp_path / "pki", hostnames=["node-1", "localhost"], ip_addresses=["10.0.0.5", "fd00::1"])
    names = serving_certificate(pki).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "node-1"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(text) for text in ("127.0.0.1", "::1", "10.0.0.5", "fd00::1")
    ]


def test_files_and_modes(tmp_path: Path) -> None:
    pki = new_pki(tmp_path / "pki")
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "pki").iterdir()}
    assert modes == {"ca.crt": 0o644, "ca.key": 0o600, "apiserver.crt": 0o644, "apiserver.key": 0o600}
    assert pki.ca_pem == pki.ca_cert_path.read_bytes()
    assert pki.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_second_run_keeps_everything(tmp_path: Path) -> None:
    first = new_pki(tmp_path / "pki", hostnames=["node-1"])
    files_before = {path.name: path.read_bytes() for path in (tmp_path / "pki").iterdir()}
    second = new_pki(tmp_path / "pki", hostnames=["node-1"])
    assert second == first
    assert {path.name: path.read_bytes() for path in (tmp_path / "pki").iterdir()} == files_before


def test_new_hostname_reissues_serving_certificate_from_the_same_ca(tmp_path: Path) -> None:
    first = new_pki(tmp_path / "pki")
    old_serving = first.apiserver_cert_path.read_bytes()
    second = new_pki(tmp_path / "pki", hostnames=["node-2"])
    assert second.ca_pem == first.ca_pem
    assert second.apiserver_cert_path.read_bytes() != old_serving
    handshake_with_serving_certificate(second, server_hostname="node-2")


def test_missing_serving_key_is_recreated(tmp_path: Path) -> None:
    first = new_pki(tmp_path / "pki")
    first.apiserver_key_path.unlink()
    second = new_pki(tmp_path / "pki")
    assert second.ca_pem == first.ca_pem
    handshake_with_serving_certificate(second, server_hostname="127.0.0.1")


def test_mismatched_serving_key_is_replaced(tmp_path: Path) -> None:
    # What a crash between writing the new key and the new certificate would leave behind.
    first = new_pki(tmp_path / "pki")
    stray_key = ec.generate_private_key(ec.SECP256R1())
    first.apiserver_key_path.write_bytes(
        stray_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    second = new_pki(tmp_path / "pki")
    assert second.ca_pem == first.ca_pem
    handshake_with_serving_certificate(second, server_hostname="127.0.0.1")


@pytest.mark.parametrize("kept", [pytest.param("ca.crt", id="key-lost"), pytest.param("ca.key", id="cert-lost")])
def test_half_a_ca_is_an_error(tmp_path: Path, kept: str) -> None:
    new_pki(tmp_path / "pki")
    for name in ("ca.crt", "ca.key"):
        if name != kept:
            (tmp_path / "pki" / name).unlink()
    with pytest.raises(ValueError, match="restore it or remove both"):
        new_pki(tmp_path / "pki")


def test_bad_ip_address_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        new_pki(tmp_path / "pki", ip_addresses=["not-an-ip"])


@pytest.mark.parametrize(
    ("user", "groups"),
    [
        pytest.param("admin", ("system:masters",), id="admin"),
        pytest.param("system:node:node-1", ("system:nodes",), id="node"),
        pytest.param("system:kube-scheduler", (), id="scheduler"),
        pytest.param("system:kube-proxy", (), id="proxy"),
    ],
)
def test_token_file_round_trip(tmp_path: Path, user: str, groups: tuple[str, ...]) -> None:
    token_file = tmp_path / "tokens.csv"
    tokens = ensure_tokens(token_file, users=[user])
    assert len(tokens[user]) == 32
    assert load_token_file(token_file) == {tokens[user]: UserInfo(name=user, uid=user, groups=groups)}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_token_file_line_format(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.csv"
    tokens = ensure_tokens(token_file, users=["admin", "system:kube-scheduler"])
    assert token_file.read_text() == (
        f'{tokens["admin"]},admin,admin,"system:masters"\n'
        f"{tokens['system:kube-scheduler']},system:kube-scheduler,system:kube-scheduler\n"
    )


def test_tokens_are_kept_and_missing_users_added(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.csv"
    token_file.write_text('# written by hand\nhand-made,admin,admin,"system:masters"')
    tokens = ensure_tokens(token_file, users=["admin", "system:node:n1"])
    assert tokens["admin"] == "hand-made"
    assert token_file.read_text().startswith('# written by hand\nhand-made,admin,admin,"system:masters"\n')
    again = ensure_tokens(token_file, users=["admin", "system:node:n1", "system:kube-proxy"])
    assert again["admin"] == "hand-made"
    assert again["system:node:n1"] == tokens["system:node:n1"]
    assert set(load_token_file(token_file)) == {"hand-made", tokens["system:node:n1"], again["system:kube-proxy"]}


def test_unchanged_token_file_is_not_rewritten(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.csv"
    ensure_tokens(token_file, users=["admin"])
    inode_before = token_file.stat().st_ino
    ensure_tokens(token_file, users=["admin"])
    assert token_file.stat().st_ino == inode_before


def test_user_name_that_would_break_the_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot go in a token file"):
        ensure_tokens(tmp_path / "tokens.csv", users=["a,b"])

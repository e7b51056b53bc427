"""The cluster's own certificate authority, the apiserver's serving certificate, and the static token file.

`orc up` (and the docker-compose entrypoint) call `ensure_pki` and `ensure_tokens` on every start.
Both create only what is missing, so a restarted cluster keeps its CA and its tokens, and the
kubeconfigs handed out earlier stay valid. The serving certificate is re-issued from the same CA
when it no longer fits (a new hostname or IP, close to expiry, or a replaced CA).

Keys are ECDSA P-256; private files (keys, tokens) are written with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestrator.apiserver.auth import load_token_file
from orchestrator.client.config import write_file_atomically

CA_VALIDITY = datetime.timedelta(days=3650)
SERVING_VALIDITY = datetime.timedelta(days=3650)
# Re-issue the serving certificate this long before it expires, so a running cluster never meets it.
RENEW_BEFORE_EXPIRY = datetime.timedelta(days=30)
# Backdating tolerates clocks that differ a little between the machines of a docker-compose cluster.
BACKDATE = datetime.timedelta(hours=1)

ALWAYS_DNS_NAMES = ("localhost",)
ALWAYS_IP_ADDRESSES = ("127.0.0.1", "::1")

# A CA made elsewhere (e.g. by kubeadm) may have an RSA key; ours are ECDSA.
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ADMIN_USER = "admin"
MASTERS_GROUP = "system:masters"
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"


@dataclass(frozen=True)
class Pki:
    """Where the cluster's certificates and keys are, and the CA certificate clients must trust."""

    directory: Path
    ca_cert_path: Path
    ca_key_path: Path
    apiserver_cert_path: Path
    apiserver_key_path: Path
    ca_pem: bytes


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _private_key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _new_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A unique name, as client-go's self-signed CAs have, so two clusters' CAs are never confused.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"orc-ca@{int(_now().timestamp())}")])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _new_serving_certificate(
    *,
    ca_certificate: x509.Certificate,
    ca_key: SigningKey,
    dns_names: list[str],
    ip_addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alternative_names += [x509.IPAddress(address) for address in ip_addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orc-apiserver")]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        # Never outlive the CA: a chain with a longer-lived leaf fails verification at the CA's end anyway.
        .not_valid_after(min(now + SERVING_VALIDITY, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def _serving_certificate_fits(
    *,
    certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    dns_names: list[str],
    ip_addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> bool:
    """Whether an existing serving certificate was issued by this CA, names every SAN wanted, and is not expiring."""
    try:
        certificate.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    if certificate.not_valid_after_utc - RENEW_BEFORE_EXPIRY < _now():
        return False
    try:
        alternative_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present_dns_names = set(alternative_names.get_values_for_type(x509.DNSName))
    present_ip_addresses = set(alternative_names.get_values_for_type(x509.IPAddress))
    return set(dns_names) <= present_dns_names and set(ip_addresses) <= present_ip_addresses


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _load_or_create_ca(*, cert_path: Path, key_path: Path) -> tuple[x509.Certificate, SigningKey]:
    files_present = (cert_path.exists(), key_path.exists())
    if files_present == (True, True):
        ca_certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        ca_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(ca_key, SigningKey):
            raise ValueError(f"{key_path} holds neither an ECDSA nor an RSA key")
        return ca_certificate, ca_key
    if files_present == (False, False):
        ca_certificate, ca_key = _new_ca()
        # The key first: a crash in between leaves a key without certificate, never the reverse.
        write_file_atomically(key_path, _private_key_pem(ca_key), mode=0o600)
        write_file_atomically(cert_path, ca_certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
        return ca_certificate, ca_key
    present, missing = (cert_path, key_path) if files_present[0] else (key_path, cert_path)
    raise ValueError(
        f"{present} exists but {missing} does not; restore it or remove both to create a new CA "
        "(clients of the old CA will then need new kubeconfigs)"
    )


def _public_key_der(key: SigningKey | x509.Certificate) -> bytes:
    return key.public_key().public_bytes(
        encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _existing_serving_pair_fits(
    *,
    cert_path: Path,
    key_path: Path,
    ca_certificate: x509.Certificate,
    dns_names: list[str],
    ip_addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> bool:
    """Whether the serving certificate and key on disk can be kept (a crash may have left a mismatched pair)."""
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError:
        return False
    if not isinstance(key, SigningKey) or _public_key_der(key) != _public_key_der(certificate):
        return False
    return _serving_certificate_fits(
        certificate=certificate, ca_certificate=ca_certificate, dns_names=dns_names, ip_addresses=ip_addresses
    )


def ensure_pki(directory: Path, *, hostnames: list[str], ip_addresses: list[str]) -> Pki:
    """Create, where missing, the CA and the apiserver's serving certificate in `directory`; return their paths.

    The serving certificate names localhost, 127.0.0.1, ::1, `hostnames` and `ip_addresses`.
    An existing CA is always kept; a CA certificate without its key (or the reverse) is an error,
    because replacing it would silently invalidate every kubeconfig already handed out.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = directory / "ca.crt", directory / "ca.key"
    serving_cert_path, serving_key_path = directory / "apiserver.crt", directory / "apiserver.key"
    dns_names = _unique([*ALWAYS_DNS_NAMES, *hostnames])
    try:
        wanted_ip_addresses = _unique([ipaddress.ip_address(text) for text in [*ALWAYS_IP_ADDRESSES, *ip_addresses]])
    except ValueError as error:
        raise ValueError(f"serving certificate: {error}") from error

    ca_certificate, ca_key = _load_or_create_ca(cert_path=ca_cert_path, key_path=ca_key_path)
    serving_pair_fits = _existing_serving_pair_fits(
        cert_path=serving_cert_path,
        key_path=serving_key_path,
        ca_certificate=ca_certificate,
        dns_names=dns_names,
        ip_addresses=wanted_ip_addresses,
    )
    if not serving_pair_fits:
        serving_certificate, serving_key = _new_serving_certificate(
            ca_certificate=ca_certificate,
            ca_key=ca_key,
            dns_names=dns_names,
            ip_addresses=wanted_ip_addresses,
        )
        write_file_atomically(serving_key_path, _private_key_pem(serving_key), mode=0o600)
        write_file_atomically(
            serving_cert_path, serving_certificate.public_bytes(serialization.Encoding.PEM), mode=0o644
        )

    return Pki(
        directory=directory,
        ca_cert_path=ca_cert_path,
        ca_key_path=ca_key_path,
        apiserver_cert_path=serving_cert_path,
        apiserver_key_path=serving_key_path,
        ca_pem=ca_cert_path.read_bytes(),
    )


# What pods reach the apiserver as: the `kubernetes` Service's ClusterIP and DNS names (the serving
# certificate names them, so in-cluster clients verify it; SecureApiServer passes them to ensure_pki).
IN_CLUSTER_DNS_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                        "kubernetes.default.svc.cluster.local")
IN_CLUSTER_IP_ADDRESSES = ("10.96.0.1",)


def ensure_service_account_key(path: Path) -> Path:
    """The key signing ServiceAccount tokens (ECDSA P-256, mode 0600), created once and kept: replacing
    it would invalidate every token handed out. Every apiserver of the cluster must use the same one."""
    path = Path(path)
    if not path.exists():
        write_file_atomically(path, _private_key_pem(ec.generate_private_key(ec.SECP256R1())), mode=0o600)
    return path


def default_groups(user: str) -> list[str]:
    """The groups a cluster user gets in the token file: admin is a master, a node's kubelet is a node."""
    if user == ADMIN_USER:
        return [MASTERS_GROUP]
    if user.startswith(NODE_USER_PREFIX):
        return [NODES_GROUP]
    return []


def _token_line(*, token: str, user: str) -> str:
    for character in ',"\r\n':
        if character in user:
            raise ValueError(f"user name {user!r} cannot go in a token file: it contains {character!r}")
    groups = default_groups(user)
    # The uid is the user name, so that audit lines and `kubectl auth whoami` stay readable.
    if groups:
        return f'{token},{user},{user},"{",".join(groups)}"'
    return f"{token},{user},{user}"


def ensure_tokens(path: Path, *, users: list[str]) -> dict[str, str]:
    """Give each of `users` a token in the kube-apiserver token file at `path`; return {user: token} for the file.

    Existing lines (and so existing tokens) are kept as they are; users without a token get a new
    random one appended. The file is mode 0600.
    """
    path = Path(path)
    existing_text = ""
    tokens_by_user: dict[str, str] = {}
    if path.exists():
        existing_text = path.read_text(encoding="utf-8")
        for token, user_info in load_token_file(path).items():
            tokens_by_user.setdefault(user_info.name, token)

    new_lines = []
    for user in _unique(users):
        if user not in tokens_by_user:
            tokens_by_user[user] = secrets.token_hex(16)
            new_lines.append(_token_line(token=tokens_by_user[user], user=user))
    if new_lines or not path.exists():
        if existing_text and not existing_text.endswith("\n"):
            existing_text += "\n"
        text = existing_text + "".join(line + "\n" for line in new_lines)
        write_file_atomically(path, text.encode("utf-8"), mode=0o600)
    return tokens_by_user

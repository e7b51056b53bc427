"""User story 6 (two Deployments behind one Ingress on a real nginx), written once and run against
any cluster: tests/e2e/test_story6_ingress.py on the one-machine `orc up` cluster (nginx on free
loopback ports) and tests/compose/test_cluster.py on every worker of the docker-compose cluster
(each worker runs its own ingress controller on its ports 80 and 443).

Routed by host and by path, balanced over the pods, TLS with SNI (a self-signed certificate made
here), 404 for an unknown host and 503 once the backend is scaled to zero. Traffic goes only to the
entry points handed in (loopback, or the cluster's own worker containers). Every wait is bounded.
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.helpers import running_pods, wait_for

# Each pod answers its own name, on / and on /api/.
HTTPD = "mkdir -p /www/api && hostname > /www/index.html && hostname > /www/api/index.html && exec httpd -f -p 80 -h /www"


@dataclass(frozen=True)
class IngressEntry:
    """Where a client reaches one ingress controller: an address with its http and https ports."""

    address: str
    http_port: int = 80
    https_port: int = 443


def deployment(name: str) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {{name: httpd, image: busybox, command: [sh, -c, "{HTTPD}"], ports: [{{containerPort: 80}}],
         readinessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: 1}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec: {{selector: {{app: {name}}}, ports: [{{port: 80, targetPort: 80}}]}}
"""


INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  tls: [{hosts: [web.test], secretName: web-tls}]
  rules:
  - host: web.test
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
  - host: shop.test
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def self_signed(host: str, directory: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def get(entry: IngressEntry, host: str, path: str = "/", *, tls_ca: str | None = None) -> tuple[int, str] | None:
    """One request to the ingress at `entry` naming `host` (Host header; SNI and the certificate check with TLS)."""
    try:
        with socket.create_connection((entry.address, entry.https_port if tls_ca else entry.http_port),
                                      timeout=3) as raw:
            stream = ssl.create_default_context(cafile=tls_ca).wrap_socket(raw, server_hostname=host) if tls_ca else raw
            stream.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while chunk := stream.recv(65536):
                data += chunk
                if len(data) > 1_000_000:
                    break
    except OSError:
        return None
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    status = head.split(" ", 2)
    return (int(status[1]), body.strip()) if len(status) > 1 and status[1].isdigit() else None


def answers(entry: IngressEntry, host: str, path: str, wanted: set[str], **kwargs) -> bool:
    """Every pod of `wanted` answers within a few requests (round-robin over the endpoints)."""
    seen = set()
    for _ in range(20):
        response = get(entry, host, path, **kwargs)
        if response and response[0] == 200:
            seen.add(response[1])
        if seen == wanted:
            return True
    return False


def story_6_ingress(kubectl, work_dir: Path, entries: list[IngressEntry], *, published_ip: str) -> None:
    """Apply the story's objects, check every entry point routes them, and clean up."""
    cert, key = self_signed("web.test", work_dir)
    kubectl("create", "secret", "tls", "web-tls", f"--cert={cert}", f"--key={key}")
    manifest = work_dir / "story6.yaml"
    manifest.write_text(deployment("web") + "---" + deployment("api") + "---" + INGRESS)
    kubectl("apply", "-f", str(manifest))
    try:
        web_pods = {p["metadata"]["name"] for p in wait_for(
            lambda: len(running_pods(kubectl, "app=web")) == 2 and running_pods(kubectl, "app=web"),
            timeout=120, message="web pods Running")}
        api_pods = {p["metadata"]["name"] for p in wait_for(
            lambda: len(running_pods(kubectl, "app=api")) == 2 and running_pods(kubectl, "app=api"),
            timeout=120, message="api pods Running")}

        # The default class was filled in, and the controller published its address.
        ingress = wait_for(lambda: (lambda i: i["status"].get("loadBalancer", {}).get("ingress") and i)(
            json.loads(kubectl("get", "ingress", "shop", "-o", "json").stdout)), timeout=60, message="ingress status")
        assert ingress["spec"]["ingressClassName"] == "orc-nginx"
        assert ingress["status"]["loadBalancer"]["ingress"] == [{"ip": published_ip}]

        for entry in entries:
            wait_for(lambda entry=entry: answers(entry, "web.test", "/", web_pods), timeout=60,
                     message=f"web.test balanced over the web pods at {entry.address}")
            wait_for(lambda entry=entry: answers(entry, "shop.test", "/api/", api_pods), timeout=30,
                     message=f"shop.test/api -> api pods at {entry.address}")
            assert answers(entry, "shop.test", "/", web_pods)
            # Element-wise prefix: /api does not match /apiary.
            assert (get(entry, "shop.test", "/apiary") or (0, ""))[1] not in api_pods
            assert answers(entry, "web.test", "/", web_pods, tls_ca=cert)
            assert (get(entry, "unknown.test", "/") or (0,))[0] == 404

        kubectl("scale", "deployment", "api", "--replicas=0")
        for entry in entries:
            wait_for(lambda entry=entry: (get(entry, "shop.test", "/api/") or (0,))[0] == 503, timeout=60,
                     message=f"503 without endpoints at {entry.address}")
    finally:
        kubectl("delete", "ingress", "shop", "--ignore-not-found", check=False)
        kubectl("delete", "deployment,service", "web", "api", "--ignore-not-found", check=False)
        kubectl("delete", "secret", "web-tls", "--ignore-not-found", check=False)

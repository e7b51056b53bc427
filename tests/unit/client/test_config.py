"""Tests for orchestrator.client.config: writing kubeconfigs, resolving them like kubectl, and kubectl reading ours."""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import ssl
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestrator.client.config import ClientConfig, load_client_config, write_kubeconfig
from orchestrator.cluster.pki import Pki, ensure_pki

CA_PEM = b"-----BEGIN CERTIFICATE-----\nnot-really\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may see the developer's own ~/.kube/config or $KUBECONFIG."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def new_kubeconfig(
    path: Path, *, server: str = "https://127.0.0.1:6443", token: str | None = "t0k3n", **options
) -> Path:
    write_kubeconfig(path, server=server, ca_pem=options.pop("ca_pem", CA_PEM), token=token, **options)
    return path


def write_yaml(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def two_context_document(**user_fields) -> dict:
    """A hand-written kubeconfig with contexts `one` (current) and `two`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c1", "cluster": {"server": "https://one.example:6443", "insecure-skip-tls-verify": True}},
            {"name": "c2", "cluster": {"server": "https://two.example:6443", "certificate-authority": "certs/ca.crt"}},
        ],
        "users": [{"name": "u1", "user": {"token": "token-one", **user_fields}}, {"name": "u2", "user": {}}],
        "contexts": [
            {"name": "one", "context": {"cluster": "c1", "user": "u1", "namespace": "team-a"}},
            {"name": "two", "context": {"cluster": "c2", "user": "u2"}},
        ],
        "current-context": "one",
    }


def test_written_kubeconfig_loads_back(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", namespace="apps")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_client_config(kubeconfig=str(path)) == ClientConfig(
        server="https://127.0.0.1:6443", token="t0k3n", ca_pem=CA_PEM, insecure=False, namespace="apps"
    )


def test_written_kubeconfig_is_standard(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", cluster_name="lab", user_name="system:kube-scheduler")
    assert yaml.safe_load(path.read_text()) == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "lab",
                "cluster": {
                    "server": "https://127.0.0.1:6443",
                    "certificate-authority-data": base64.b64encode(CA_PEM).decode(),
                },
            }
        ],
        "users": [{"name": "system:kube-scheduler", "user": {"token": "t0k3n"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "system:kube-scheduler"}}],
        "current-context": "lab",
        "preferences": {},
    }


def test_anonymous_http_kubeconfig(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", server="http://127.0.0.1:8080", ca_pem=None, token=None)
    config = load_client_config(kubeconfig=str(path))
    assert config == ClientConfig(server="http://127.0.0.1:8080")
    assert config.ssl_context() is None


@pytest.mark.parametrize(
    ("files", "kubeconfig_variable", "explicit", "expected_server"),
    [
        pytest.param(["explicit", "env", "home"], "env", "explicit", "https://explicit", id="flag-beats-env"),
        pytest.param(["env", "home"], "env", None, "https://env", id="env-beats-home"),
        pytest.param(["home"], None, None, "https://home", id="home-default"),
        pytest.param(["env2", "home"], "missing:env2", None, "https://env2", id="env-list-first-existing"),
        pytest.param(["env", "env2"], "env:env2", None, "https://env", id="env-list-first-wins"),
        pytest.param(["home"], "missing", None, "https://home", id="env-none-exist-falls-to-home"),
    ],
)
def test_kubeconfig_precedence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: list[str],
    kubeconfig_variable: str | None,
    explicit: str | None,
    expected_server: str,
) -> None:
    def location(name: str) -> Path:
        return tmp_path / "home" / ".kube" / "config" if name == "home" else tmp_path / name

    for name in files:
        new_kubeconfig(location(name), server=f"https://{name}")
    if kubeconfig_variable is not None:
        monkeypatch.setenv("KUBECONFIG", ":".join(str(location(name)) for name in kubeconfig_variable.split(":")))
    config = load_client_config(kubeconfig=str(location(explicit)) if explicit else None)
    assert config.server == expected_server


def test_server_alone_is_anonymous() -> None:
    assert load_client_config(server="http://127.0.0.1:8080") == ClientConfig(server="http://127.0.0.1:8080")


def test_server_and_token_override_the_file(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig")
    config = load_client_config(kubeconfig=str(path), server="https://10.0.0.1:6443/", token="other")
    assert (config.server, config.token, config.ca_pem) == ("https://10.0.0.1:6443", "other", CA_PEM)


def test_credentials_are_not_sent_to_http_servers(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", server="http://127.0.0.1:8080")
    assert load_client_config(kubeconfig=str(path)).token is None
    assert load_client_config(server="http://127.0.0.1:8080", token="x").token is None


def test_current_context_and_context_flag(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "config", two_context_document())
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(CA_PEM)

    current = load_client_config(kubeconfig=str(path))
    assert current == ClientConfig(
        server="https://one.example:6443", token="token-one", insecure=True, namespace="team-a"
    )
    chosen = load_client_config(kubeconfig=str(path), context="two")
    assert chosen == ClientConfig(server="https://two.example:6443", ca_pem=CA_PEM, namespace="default")


def test_token_file_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    document = two_context_document(tokenFile="secrets/token")
    del document["users"][0]["user"]["token"]
    path = write_yaml(tmp_path / "config", document)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("from-file\n")
    assert load_client_config(kubeconfig=str(path)).token == "from-file"


def test_inline_token_beats_token_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "config", two_context_document(tokenFile="does-not-matter"))
    assert load_client_config(kubeconfig=str(path)).token == "token-one"


def test_client_certificate_data_and_files(tmp_path: Path) -> None:
    document = two_context_document(
        **{"client-certificate-data": base64.b64encode(b"CERT").decode(), "client-key": "client.key"}
    )
    path = write_yaml(tmp_path / "config", document)
    (tmp_path / "client.key").write_text("KEY")
    config = load_client_config(kubeconfig=str(path))
    assert (config.client_cert_pem, config.client_key_pem) == (b"CERT", b"KEY")


@pytest.mark.parametrize(
    ("arguments", "document", "message"),
    [
        pytest.param({"kubeconfig": "nowhere"}, None, "kubeconfig file 'nowhere' does not exist", id="missing-file"),
        pytest.param({}, None, "no kubeconfig found", id="nothing-at-all"),
        pytest.param(
            {"context": "x", "server": "http://h"}, None, "no kubeconfig file was found", id="context-without-file"
        ),
        pytest.param({"context": "three"}, two_context_document(), "context 'three' not found", id="missing-context"),
        pytest.param(
            {},
            {**two_context_document(), "current-context": ""},
            "has no current-context",
            id="no-current-context",
        ),
        pytest.param(
            {},
            {**two_context_document(), "clusters": []},
            "cluster 'c1' not found",
            id="missing-cluster",
        ),
        pytest.param({"context": "two"}, two_context_document(), "certificate-authority", id="missing-ca-file"),
        pytest.param(
            {},
            two_context_document()
            | {
                "clusters": [
                    {
                        "name": "c1",
                        "cluster": {
                            "server": "https://h",
                            "insecure-skip-tls-verify": True,
                            "certificate-authority-data": base64.b64encode(CA_PEM).decode(),
                        },
                    }
                ]
            },
            "cannot both be set",
            id="ca-and-insecure",
        ),
        pytest.param({}, two_context_document(exec={"command": "x"}), "not supported", id="exec-plugin"),
    ],
)
def test_load_errors(tmp_path: Path, arguments: dict, document: dict | None, message: str) -> None:
    if document is not None:
        arguments = {"kubeconfig": str(write_yaml(tmp_path / "config", document)), **arguments}
    with pytest.raises(ValueError, match=message):
        load_client_config(**arguments)


def test_server_without_scheme(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", server="127.0.0.1:6443")
    assert load_client_config(kubeconfig=str(path)).server == "https://127.0.0.1:6443"
    assert load_client_config(server="127.0.0.1:8080").server == "http://127.0.0.1:8080"


def age(path: Path, seconds: float) -> None:
    os.utime(path, (time.time() - seconds, time.time() - seconds))


def test_parsed_kubeconfig_is_cached_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", namespace="apps")
    age(path, 60)
    cache = tmp_path / "cache"
    assert load_client_config(kubeconfig=str(path), cache_dir=str(cache)).namespace == "apps"
    [cached] = list(cache.iterdir())
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600 and stat.S_IMODE(cache.stat().st_mode) == 0o700
    # The copy is what is read from now on (proved by changing it behind the loader's back) ...
    copy = json.loads(cached.read_text())
    copy["document"]["contexts"][0]["context"]["namespace"] = "from-cache"
    cached.write_text(json.dumps(copy))
    assert load_client_config(kubeconfig=str(path), cache_dir=str(cache)).namespace == "from-cache"
    # ... until the file changes.
    new_kubeconfig(path, namespace="edited")
    age(path, 60)
    assert load_client_config(kubeconfig=str(path), cache_dir=str(cache)).namespace == "edited"


def test_a_file_changed_moments_ago_is_not_cached(tmp_path: Path) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig")
    cache = tmp_path / "cache"
    assert load_client_config(kubeconfig=str(path), cache_dir=str(cache)).token == "t0k3n"
    assert not cache.exists() or not list(cache.iterdir())


# --- TLS: the resolved config's ssl_context talks to a server using the cluster's certificates. ---


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return ensure_pki(tmp_path / "pki", hostnames=[], ip_addresses=[])


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET /version like an apiserver and remembers each request's Authorization header."""

    seen_authorization: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        type(self).seen_authorization.append(self.headers.get("Authorization"))
        body = json.dumps({"major": "1", "minor": "32", "gitVersion": "v1.32.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_server(pki: Pki) -> Iterator[tuple[str, type[RecordingHandler]]]:
    handler = type("Handler", (RecordingHandler,), {"seen_authorization": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.apiserver_cert_path, pki.apiserver_key_path)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_ssl_context_trusts_the_cluster_ca(
    tmp_path: Path, pki: Pki, https_server: tuple[str, type[RecordingHandler]]
) -> None:
    server_url, handler = https_server
    path = new_kubeconfig(tmp_path / "kubeconfig", server=server_url, ca_pem=pki.ca_pem)
    config = load_client_config(kubeconfig=str(path))
    request = urllib.request.Request(f"{config.server}/version", headers={"Authorization": f"Bearer {config.token}"})
    with urllib.request.urlopen(request, context=config.ssl_context(), timeout=10) as response:
        assert json.loads(response.read())["minor"] == "32"
    assert handler.seen_authorization == ["Bearer t0k3n"]


def test_ssl_context_without_the_ca_fails(https_server: tuple[str, type[RecordingHandler]]) -> None:
    server_url, _ = https_server
    config = ClientConfig(server=server_url)
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"{server_url}/version", context=config.ssl_context(), timeout=10)


def test_insecure_ssl_context_skips_verification() -> None:
    context = ClientConfig(server="https://h", insecure=True).ssl_context()
    assert context is not None
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)


# --- kubectl 1.32 reads what write_kubeconfig writes. ---

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def kubectl(*arguments: str) -> str:
    completed = subprocess.run(["kubectl", *arguments], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@needs_kubectl
def test_kubectl_reads_the_kubeconfig(tmp_path: Path, pki: Pki) -> None:
    path = new_kubeconfig(tmp_path / "kubeconfig", server="https://127.0.0.1:6443", ca_pem=pki.ca_pem, namespace="apps")
    jsonpath = "{.clusters[0].cluster.server} {.contexts[0].context.namespace} {.current-context}"
    assert kubectl("config", "view", "--kubeconfig", str(path), "--raw", "-o", f"jsonpath={jsonpath}") == (
        "https://127.0.0.1:6443 apps orc"
    )


@needs_kubectl
def test_kubectl_trusts_the_ca_and_sends_the_token(
    tmp_path: Path, pki: Pki, https_server: tuple[str, type[RecordingHandler]]
) -> None:
    server_url, handler = https_server
    path = new_kubeconfig(tmp_path / "kubeconfig", server=server_url, ca_pem=pki.ca_pem)
    assert json.loads(kubectl("--kubeconfig", str(path), "get", "--raw", "/version"))["gitVersion"] == "v1.32.0"
    # kubectl may make more than one request (discovery); every one carries the token.
    assert handler.seen_authorization
    assert set(handler.seen_authorization) == {"Bearer t0k3n"}

"""Running the project's components as child processes: `orc up` and the tests.

`ComponentProcess` starts one `orc <component> ...` (as `python -m cli.main`), logs
to a file, waits until it is ready and stops it with SIGTERM (SIGKILL after a
grace period). `SecureApiServer` is an apiserver with the cluster's own CA, TLS
and static tokens — how `orc up` runs it, and how tests run it so that real
kubectl (which sends tokens only over TLS) works against it.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cluster.ports import free_port

COMPONENT_USERS = ["admin", "system:kube-scheduler", "system:kube-controller-manager", "system:kube-proxy",
                   "system:kubelet", "system:ingress-controller"]


class ComponentProcess:
    """One `orc` component in a child process."""

    def __init__(self, name: str, args: list[str], *, log_path: Path, env: dict | None = None):
        self.name = name
        self.args = args
        self.log_path = Path(log_path)
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        environment = {**os.environ, **(self.env or {}), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *self.args],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment,
            start_new_session=True,
        )
        log_file.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, *, grace: float = 10.0) -> None:
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.running:
            self.process.kill()
            self.process.wait()


def wait_for_http(url: str, *, timeout: float, ssl_context: ssl.SSLContext | None = None,
                  process: ComponentProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=ssl_context) as response:
                if response.status == 200:
                    return
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.1)
    tail = process.log_tail() if process else ""
    raise RuntimeError(f"{url} did not answer within {timeout}s ({last_error})\n{tail}")


@dataclass
class SecureApiServer:
    """An apiserver with TLS and tokens, plus the kubeconfig that reaches it."""

    data_dir: Path
    etcd_url: str
    etcd_prefix: str = "/registry"
    port: int | None = None
    bind: str = "127.0.0.1"
    extra_hostnames: list[str] = field(default_factory=list)
    extra_ips: list[str] = field(default_factory=list)
    process: ComponentProcess | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)  # more `orc apiserver` flags (bench: --authorization-mode)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def component_kubeconfig(self, user: str) -> Path:
        return self.data_dir / "kubeconfigs" / f"{user.replace(':', '-')}.kubeconfig"

    def prepare(self) -> None:
        from orchestrator.client.config import write_kubeconfig
        from orchestrator.cluster.pki import ensure_pki, ensure_tokens

        self.data_dir.mkdir(parents=True, exist_ok=True)
        from orchestrator.cluster.pki import IN_CLUSTER_DNS_NAMES, IN_CLUSTER_IP_ADDRESSES, ensure_service_account_key

        self.pki = ensure_pki(self.data_dir / "pki", hostnames=[*self.extra_hostnames, *IN_CLUSTER_DNS_NAMES],
                              ip_addresses=[*self.extra_ips, *IN_CLUSTER_IP_ADDRESSES])
        self.service_account_key = ensure_service_account_key(self.data_dir / "pki" / "sa.key")
        self.tokens = ensure_tokens(self.data_dir / "pki" / "tokens.csv", users=COMPONENT_USERS)
        if self.port is None:
            self.port = free_port()
        write_kubeconfig(self.kubeconfig, server=self.url, ca_pem=self.pki.ca_pem, token=self.tokens["admin"])
        for user in COMPONENT_USERS[1:]:
            path = self.component_kubeconfig(user)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_kubeconfig(path, server=self.url, ca_pem=self.pki.ca_pem, token=self.tokens[user], user_name=user)

    def start(self, *, timeout: float = 30.0) -> None:
        if not self.tokens:
            self.prepare()
        args = [
            "apiserver",
            "--etcd-servers", self.etcd_url,
            "--etcd-prefix", self.etcd_prefix,
            "--bind", self.bind,
            "--port", str(self.port),
            "--token-auth-file", str(self.data_dir / "pki" / "tokens.csv"),
            "--tls-cert-file", str(self.pki.apiserver_cert_path),
            "--tls-private-key-file", str(self.pki.apiserver_key_path),
            "--service-account-key-file", str(self.data_dir / "pki" / "sa.key"),
            *self.extra_args,
        ]
        self.process = ComponentProcess("apiserver", args, log_path=self.data_dir / "logs" / "apiserver.log",
                                        env={"ORC_KUBELET_TOKEN": self.tokens["system:kubelet"]})
        self.process.start()
        context = ssl.create_default_context(cadata=self.pki.ca_pem.decode())
        wait_for_http(f"{self.url}/readyz", timeout=timeout, ssl_context=context, process=self.process)
        # /readyz answers before the lifespan finished only if uvicorn is up; make sure the API answers too.
        wait_for_http(f"{self.url}/version", timeout=timeout, ssl_context=context, process=self.process)

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def kill(self) -> None:
        if self.process:
            self.process.kill()

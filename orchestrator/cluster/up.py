"""`orc up`: a whole one-machine cluster in the foreground; `orc down`: its containers gone.

`orc up` runs etcd (data in DIR/etcd), the apiserver (TLS with the cluster's own CA,
static tokens), the scheduler, the controller-manager, a kubelet and a proxy for this
machine, each as a child process logging to DIR/logs/. It writes DIR/kubeconfig, says
how to use it, restarts a component that dies (with back-off, as k3s' supervisor does)
and stops everything on Ctrl-C or SIGTERM. Run again on the same DIR it resumes: same
CA, tokens and objects, and the kubelet adopts the containers still running.

Called by `orc up` / `orc down` (cli/components.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cluster.etcd import EtcdProcess
from orchestrator.cluster.ports import free_port
from orchestrator.cluster.processes import ComponentProcess, SecureApiServer

DEFAULT_DATA_DIR = Path.home() / ".orc"


def say(message: str) -> None:
    print(message, flush=True)


def host_addresses() -> list[str]:
    """This machine's IPv4 addresses (for the serving certificate and the node's InternalIP)."""
    addresses = []
    try:
        output = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        addresses = [a for a in output.split() if ":" not in a]
    except (OSError, subprocess.SubprocessError):
        pass
    return addresses


def cluster_name_for(data_dir: Path) -> str:
    """A stable name for the cluster of DIR: it scopes its Docker containers and proxy rules, so
    two clusters on one machine (say, a user's and the test suite's) never touch each other's."""
    import hashlib

    path = data_dir / "cluster-name"
    if path.exists():
        return path.read_text().strip()
    name = "orc-" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:6]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(name + "\n")
    return name


@dataclass
class Supervised:
    process: ComponentProcess
    restarts: int = 0
    next_start: float = 0.0


@dataclass
class Cluster:
    data_dir: Path
    port: int = 6443
    node_name: str = field(default_factory=socket.gethostname)
    ingress_http_port: int = 80
    ingress_https_port: int = 443
    components: list[Supervised] = field(default_factory=list)

    def start(self) -> None:
        data_dir = self.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        cluster_name = cluster_name_for(data_dir)
        self.node_name = self.node_name.lower()

        say("• preparing images (pause, busybox, echo)")
        try:
            from orchestrator.cluster.images import ensure_images

            ensure_images()
        except Exception as error:  # Docker missing: the control plane still runs
            say(f"  ! could not prepare images: {error}")

        say("• starting etcd")
        self.etcd = EtcdProcess(data_dir / "etcd", client_port=_saved_port(data_dir, "etcd-client"),
                                peer_port=_saved_port(data_dir, "etcd-peer"))
        self.etcd.start()
        say(f"  etcd ready at {self.etcd.client_url}")

        say("• starting the apiserver")
        self.apiserver = SecureApiServer(data_dir=data_dir, etcd_url=self.etcd.client_url, port=self.port,
                                         bind="0.0.0.0", extra_ips=host_addresses(),
                                         extra_hostnames=[socket.gethostname()])
        self.apiserver.prepare()
        self.apiserver.start()
        say(f"  apiserver ready at {self.apiserver.url}")

        kubelet_token = self.apiserver.tokens["system:kubelet"]
        logs = data_dir / "logs"

        def component(name: str, args: list[str], user: str, env: dict | None = None) -> None:
            kubeconfig = str(self.apiserver.component_kubeconfig(user))
            process = ComponentProcess(name, [*args, "--kubeconfig", kubeconfig], log_path=logs / f"{name}.log", env=env)
            process.start()
            self.components.append(Supervised(process))
            say(f"• started {name} (log: {process.log_path})")

        component("scheduler", ["scheduler"], "system:kube-scheduler")
        component("controller-manager", ["controller-manager"], "system:kube-controller-manager")
        component("kubelet", ["kubelet", "--node-name", self.node_name, "--cluster-name", cluster_name,
                              "--port", str(_saved_port(data_dir, "kubelet")), "--address", "0.0.0.0"],
                  "system:kubelet", env={"ORC_KUBELET_TOKEN": kubelet_token})
        if _module_exists("orchestrator.proxy.main"):
            component("proxy", ["proxy", "--node-name", self.node_name, "--cluster-name", cluster_name],
                      "system:kube-proxy")
        if _module_exists("orchestrator.ingress.main"):
            # Exits with a clear log line when nginx is missing; the supervisor's back-off keeps retrying.
            component("ingress-controller", ["ingress-controller", "--data-dir", str(data_dir / "ingress"),
                                             "--http-port", str(self.ingress_http_port),
                                             "--https-port", str(self.ingress_https_port)],
                      "system:ingress-controller")

        kubeconfig = self.apiserver.kubeconfig
        say("")
        say("Cluster is up. Use it with:")
        say(f"  export KUBECONFIG={kubeconfig}")
        say("  kubectl get nodes        # or: orc get nodes")
        say("Ctrl-C stops the cluster; `orc up` on the same --data-dir resumes it.")

    def supervise(self) -> None:
        """Restart components that exit, with back-off; return on SIGINT/SIGTERM."""
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            now = time.monotonic()
            if not self.apiserver.process.running:
                say("! apiserver exited; restarting it")
                self.apiserver.start()
            for supervised in self.components:
                if supervised.process.running:
                    continue
                if not supervised.next_start:
                    supervised.next_start = now + min(2 ** supervised.restarts, 60)
                    say(f"! {supervised.process.name} exited; restarting it soon (see {supervised.process.log_path})")
                elif now >= supervised.next_start:
                    supervised.process.start()
                    supervised.restarts += 1
                    supervised.next_start = 0.0
            time.sleep(0.5)

    def stop(self) -> None:
        say("• stopping")
        for supervised in reversed(self.components):
            supervised.process.stop()
        if getattr(self, "apiserver", None):
            self.apiserver.stop()
        if getattr(self, "etcd", None):
            self.etcd.stop()
        say("• stopped (containers keep running until `orc down`; `orc up` adopts them)")


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _saved_port(data_dir: Path, name: str) -> int:
    """A port picked once per cluster and kept, so a resumed cluster keeps its addresses."""
    path = data_dir / "ports" / name
    if path.exists():
        return int(path.read_text())
    port = free_port()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(port))
    return port


def up(*, data_dir: Path, port: int, ingress_http_port: int = 80, ingress_https_port: int = 443) -> None:
    cluster = Cluster(data_dir=data_dir, port=port, ingress_http_port=ingress_http_port,
                      ingress_https_port=ingress_https_port)
    try:
        cluster.start()
        cluster.supervise()
    except Exception as error:
        say(f"error: {error}")
        cluster.stop()
        sys.exit(1)
    cluster.stop()


def down(*, data_dir: Path) -> int:
    """Remove the cluster's containers and networks (its data stays; delete DIR to forget it)."""
    import docker

    if not (data_dir / "cluster-name").exists():
        say(f"no cluster in {data_dir}")
        return 0
    name = cluster_name_for(data_dir.resolve())
    client = docker.from_env()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"orc.cluster={name}"}):
        container.remove(force=True)
        removed += 1
    for network in client.networks.list(filters={"label": f"orc.cluster={name}"}):
        try:
            network.remove()
        except docker.errors.APIError:
            pass
    try:
        from orchestrator.proxy.iptables import cleanup_rules

        cleanup_rules(name)
    except Exception as error:  # no iptables here: nothing was installed either
        say(f"  (no proxy rules removed: {error})")
    say(f"removed {removed} containers of cluster {name!r}")
    return removed


if __name__ == "__main__":  # pragma: no cover
    up(data_dir=Path(os.environ.get("ORC_DATA_DIR", DEFAULT_DATA_DIR)), port=6443)

"""The docker-compose cluster's helpers: its one-shot init, the worker's node set-up, and image loading.

Inside the containers (docker-compose.yaml and deploy/entrypoint run these as
`python -m orchestrator.cluster.compose COMMAND`):

- `init`: creates, where missing, the cluster's CA, the apiservers' serving
  certificate (naming the load balancer, both apiservers, localhost and 127.0.0.1)
  and the static token file in the shared `pki` volume; writes one kubeconfig per
  component (server https://apiserver-lb:6443) and the host's kubeconfig
  (https://127.0.0.1:<published port>) into the bind-mounted host directory.
  Run again, it keeps the CA and the tokens, so kubeconfigs handed out stay valid.
- `node-prepare`: gives the worker's Node its podCIDR before the kubelet starts.
- `pod-network`: the worker's route and iptables agent (podnetwork.py).

On the host: `load_images` (`orc images load`, cli/cluster_commands.py) copies images
from the host's engine into every worker's engine (`docker save | docker load`), the
way `kind load docker-image` does; `ComposeCluster` brings a cluster up and down under
a project name of its own and looks into it (kubectl, the nodes' engines), for
tests/compose and bench/cluster.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from orchestrator.client.config import load_client_config, write_kubeconfig
from orchestrator.cluster.processes import COMPONENT_USERS

log = logging.getLogger(__name__)

# Labels docker-compose.yaml puts on the worker containers, and the one Compose puts on everything.
ROLE_LABEL = "orc.compose.role"
WORKER_ROLE = "worker"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPOSITORY_ROOT / "docker-compose.yaml"
BUILD_SCRIPT = REPOSITORY_ROOT / "deploy" / "build-images"
KUBECONFIG_CONTEXT = "orc-compose"
KUBELET_USER = "system:kubelet"
DOCKER_LOAD_TIMEOUT_SECONDS = 600


def component_kubeconfig_path(state_dir: Path, user: str) -> Path:
    """Where `init` writes the kubeconfig of `user` (e.g. kubeconfigs/system-kube-scheduler.kubeconfig)."""
    return Path(state_dir) / "kubeconfigs" / f"{user.replace(':', '-')}.kubeconfig"


@dataclass(frozen=True)
class InitResult:
    host_kubeconfig: Path
    component_kubeconfigs: dict[str, Path]


def init_cluster(
    *,
    state_dir: Path,
    host_dir: Path,
    server: str,
    host_port: int,
    hostnames: list[str],
) -> InitResult:
    """Create what is missing of the cluster's PKI and tokens; (re)write every kubeconfig."""
    from orchestrator.cluster.pki import ensure_pki, ensure_tokens

    state_dir, host_dir = Path(state_dir), Path(host_dir)
    pki = ensure_pki(state_dir / "pki", hostnames=hostnames, ip_addresses=[])
    tokens = ensure_tokens(state_dir / "pki" / "tokens.csv", users=COMPONENT_USERS)
    component_kubeconfigs = {}
    for user in COMPONENT_USERS:
        path = component_kubeconfig_path(state_dir, user)
        write_kubeconfig(path, server=server, ca_pem=pki.ca_pem, token=tokens[user], cluster_name=KUBECONFIG_CONTEXT,
                         user_name=user)
        component_kubeconfigs[user] = path
    host_kubeconfig = host_dir / "kubeconfig"
    write_kubeconfig(host_kubeconfig, server=f"https://127.0.0.1:{host_port}", ca_pem=pki.ca_pem,
                     token=tokens["admin"], cluster_name=KUBECONFIG_CONTEXT)
    _give_to_owner_of(host_kubeconfig, host_dir)
    return InitResult(host_kubeconfig=host_kubeconfig, component_kubeconfigs=component_kubeconfigs)


def _give_to_owner_of(path: Path, directory: Path) -> None:
    """Hand the host's kubeconfig to whoever owns the bind-mounted directory (the user, when they made it)."""
    owner = directory.stat()
    try:
        os.chown(path, owner.st_uid, owner.st_gid)
    except OSError as error:  # a rootless engine or a read-only mapping: the file stays root's
        log.warning("cannot hand %s to uid %d: %s", path, owner.st_uid, error)


# --- on the host: images into the workers' engines ------------------------------------------------


def worker_containers(*, project: str | None, docker_client=None) -> list:
    """The running worker containers of the compose cluster `project` (or of the only one running)."""
    import docker

    client = docker_client or docker.from_env()
    labels = [f"{ROLE_LABEL}={WORKER_ROLE}"] + ([f"{PROJECT_LABEL}={project}"] if project else [])
    containers = client.containers.list(filters={"label": labels, "status": "running"})
    projects = sorted({container.labels.get(PROJECT_LABEL, "") for container in containers})
    if project is None and len(projects) > 1:
        raise ValueError(f"several compose clusters are running ({', '.join(projects)}): pass --compose-project")
    if not containers:
        where = f"compose project {project!r}" if project else "any compose project"
        raise ValueError(f"no running worker node in {where} (is the cluster up? `docker compose ps`)")
    return sorted(containers, key=lambda container: container.labels.get(SERVICE_LABEL, container.name))


def load_images(images: list[str], *, project: str | None = None, docker_client=None) -> list[str]:
    """Copy `images` from this machine's engine into every worker's engine; return the workers' service names.

    Images the project knows how to build (busybox, echo:v1, ...) are built first if missing.
    """
    import docker

    from orchestrator.cluster.images import ensure_images, known_images
    from orchestrator.kubelet.images import normalize_image

    client = docker_client or docker.from_env()
    known = set(known_images())
    buildable = [image for image in images if normalize_image(image) in known]
    if buildable:
        ensure_images(buildable, docker_client=client)
    for image in images:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            raise ValueError(f"image {image!r} is not on this machine's Docker engine (docker build/pull it first)") \
                from None
    workers = worker_containers(project=project, docker_client=client)
    with tempfile.TemporaryFile(prefix="orc-images-") as archive:
        subprocess.run(["docker", "save", *images], stdout=archive, check=True, timeout=DOCKER_LOAD_TIMEOUT_SECONDS)
        for worker in workers:
            archive.seek(0)
            subprocess.run(["docker", "exec", "-i", worker.id, "docker", "load", "-q"], stdin=archive,
                           stdout=subprocess.DEVNULL, check=True, timeout=DOCKER_LOAD_TIMEOUT_SECONDS)
    return [worker.labels.get(SERVICE_LABEL, worker.name) for worker in workers]


# --- on the host: driving a whole cluster (tests/compose, bench/cluster.py) ------------------------

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float, interval: float = 1.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy, at most `timeout` seconds; TimeoutError says `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout:.0f}s: {what}")
        time.sleep(interval)


def compose_command() -> list[str] | None:
    """How to run Compose here: $ORC_COMPOSE_COMMAND, `docker compose` (v2), or a `docker-compose` binary."""
    override = os.environ.get("ORC_COMPOSE_COMMAND")
    if override:
        return shlex.split(override)
    try:
        if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20).returncode == 0:
            return ["docker", "compose"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    for candidate in (shutil.which("docker-compose"), str(Path(sys.executable).parent / "docker-compose")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    return None


@dataclass
class ComposeCluster:
    """One docker-compose cluster under its own project name, API port and kubeconfig directory."""

    project: str
    state_dir: Path
    api_port: int
    command: list[str]
    settings: dict[str, str] = field(default_factory=dict)  # extra variables: ORC_POD_EVICTION_TIMEOUT, ...
    compose_file: Path = COMPOSE_FILE

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "ORC_COMPOSE_DIR": str(self.state_dir), "ORC_API_PORT": str(self.api_port),
                **self.settings}

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        argv = [*self.command, "-f", str(self.compose_file), "-p", self.project, *args]
        result = subprocess.run(argv, env=self.environment(), capture_output=True, text=True, timeout=timeout,
                                cwd=self.compose_file.parent)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    def up(self, *, timeout: float = 300) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.compose("up", "-d", timeout=timeout)

    def down(self, *, timeout: float = 180) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "20", timeout=timeout)

    def stop(self, *services: str) -> None:
        self.compose("stop", *services)

    def start(self, *services: str) -> None:
        self.compose("start", *services)

    def kill(self, *services: str) -> None:
        self.compose("kill", *services)

    def container_id(self, service: str) -> str:
        """The id of the service's container, running or not."""
        ids = self._docker("ps", "-a", "-q", "--filter", f"label={PROJECT_LABEL}={self.project}",
                           "--filter", f"label={SERVICE_LABEL}={service}").split()
        if not ids:
            raise LookupError(f"service {service} of project {self.project} has no container")
        return ids[0]

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes still carrying this project's label (empty after `down -v`)."""
        label = f"label={PROJECT_LABEL}={self.project}"
        return {
            "containers": self._docker("ps", "-a", "-q", "--filter", label).split(),
            "networks": self._docker("network", "ls", "-q", "--filter", label).split(),
            "volumes": self._docker("volume", "ls", "-q", "--filter", label).split(),
        }

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *args], input=input,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def ready_nodes(self) -> list[str]:
        """Names of the Nodes whose Ready condition is True (empty while the API does not answer)."""
        try:
            nodes = self.get("nodes")["items"]
        except (RuntimeError, subprocess.TimeoutExpired, ValueError):
            return []
        return sorted(node["metadata"]["name"] for node in nodes
                      if any(condition.get("type") == "Ready" and condition.get("status") == "True"
                             for condition in (node.get("status") or {}).get("conditions") or []))

    def node_exec(self, service: str, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a command in a worker container (its shell, its Docker engine)."""
        return subprocess.run(["docker", "exec", self.container_id(service), *argv], capture_output=True, text=True,
                              timeout=timeout)

    def pod_exec(self, pod_name: str, *argv: str, namespace: str = "default",
                 timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a command in a pod's first container, through the engine of the node it runs on."""
        from orchestrator.kubelet.runtime import LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_ROLE

        node = self.get("pod", pod_name, "-n", namespace)["spec"]["nodeName"]
        found = self.node_exec(node, "docker", "ps", "-q", "--filter", f"label={LABEL_POD_NAME}={pod_name}",
                               "--filter", f"label={LABEL_POD_NAMESPACE}={namespace}",
                               "--filter", f"label={LABEL_ROLE}=container")
        container_ids = found.stdout.split()
        if not container_ids:
            raise LookupError(f"pod {namespace}/{pod_name} has no running container on {node}")
        return self.node_exec(node, "docker", "exec", container_ids[0], *argv, timeout=timeout)

    def _docker(self, *args: str) -> str:
        return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout


# --- inside the containers ------------------------------------------------------------------------


async def _prepare_node(*, kubeconfig: str, node_name: str, pod_cidr: str) -> None:
    from orchestrator.client.rest import ApiClient
    from orchestrator.cluster.podnetwork import ensure_pod_cidr

    async with ApiClient(load_client_config(kubeconfig=kubeconfig)) as client:
        await ensure_pod_cidr(client, node_name=node_name, pod_cidr=pod_cidr)


async def _run_pod_network(*, kubeconfig: str, node_name: str, cluster_cidr: str) -> None:
    from orchestrator.client.rest import ApiClient
    from orchestrator.cluster.podnetwork import NodeNetwork, PodNetworkAgent

    async with ApiClient(load_client_config(kubeconfig=kubeconfig)) as client:
        agent = PodNetworkAgent(client=client, node_name=node_name, network=NodeNetwork(cluster_cidr=cluster_cidr))
        await agent.run()


def _run_until_signal(coroutine) -> None:
    import signal

    async def supervised() -> None:
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(supervised())


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.cluster.compose",
                                     description="What the docker-compose cluster's containers run.")
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="PKI, tokens and kubeconfigs into the shared volume and the host dir.")
    init.add_argument("--state-dir", type=Path, default=Path("/etc/orc"))
    init.add_argument("--host-dir", type=Path, default=Path("/host"))
    init.add_argument("--server", default="https://apiserver-lb:6443", help="URL the components use.")
    init.add_argument("--host-port", type=int, required=True, help="Port published on the host's 127.0.0.1.")
    init.add_argument("--san", action="append", default=[], help="Extra DNS name of the serving certificate.")

    prepare = commands.add_parser("node-prepare", help="Give this worker's Node its podCIDR.")
    prepare.add_argument("--kubeconfig", required=True)
    prepare.add_argument("--node-name", required=True)
    prepare.add_argument("--pod-cidr", required=True)

    network = commands.add_parser("pod-network", help="Keep routes to the other nodes' podCIDRs.")
    network.add_argument("--kubeconfig", required=True)
    network.add_argument("--node-name", required=True)
    network.add_argument("--cluster-cidr", default="10.244.0.0/16")
    return parser


def main(argv: list[str] | None = None) -> None:
    options = _argument_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format=f"%(asctime)s {options.command} %(levelname).1s %(name)s: %(message)s")
    if options.command == "init":
        result = init_cluster(state_dir=options.state_dir, host_dir=options.host_dir, server=options.server,
                              host_port=options.host_port, hostnames=options.san)
        log.info("PKI and tokens ready in %s; host kubeconfig written (%s on the host side)",
                 options.state_dir, result.host_kubeconfig)
    elif options.command == "node-prepare":
        asyncio.run(_prepare_node(kubeconfig=options.kubeconfig, node_name=options.node_name,
                                  pod_cidr=options.pod_cidr))
    elif options.command == "pod-network":
        _run_until_signal(_run_pod_network(kubeconfig=options.kubeconfig, node_name=options.node_name,
                                           cluster_cidr=options.cluster_cidr))


if __name__ == "__main__":
    main()

"""The end-to-end cluster: one `orc up` (real etcd, apiserver, scheduler, controller-manager,
kubelet, proxy, real Docker) shared by every e2e test of the session, and helpers to drive it
with real kubectl (`kubectl`; `story_cluster` for the shared stories of tests/stories.py).
Tests use their own names, so they can share it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cluster.ports import free_port
from orchestrator.cluster.up import cluster_name_for
from orchestrator.kubelet.runtime import LABEL_CLUSTER
from tests.stories import POD_CONTAINER_FORMAT, StoryCluster, containers_by_pod
from tests.support import docker_available

REPO = Path(__file__).resolve().parents[2]
# The ingress controller's ports on 127.0.0.1 (not 80/443: parallel clusters on one machine).
INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT = free_port(), free_port()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    if not docker_available():
        pytest.skip("no Docker engine")
    data_dir = tmp_path_factory.mktemp("orc-up")
    log = open(data_dir / "up.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--data-dir", str(data_dir),
                                "--port", str(free_port()), "--ingress-http-port", str(INGRESS_HTTP_PORT),
                                "--ingress-https-port", str(INGRESS_HTTPS_PORT)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                               start_new_session=True)
    kubeconfig = data_dir / "kubeconfig"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((data_dir / "up.log").read_text())
            if kubeconfig.exists():
                result = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "json"],
                                        capture_output=True, text=True)
                nodes = json.loads(result.stdout or "{}").get("items", []) if result.returncode == 0 else []
                if nodes and all(c["status"] == "True" for n in nodes for c in n["status"]["conditions"]
                                 if c["type"] == "Ready"):
                    break
            time.sleep(1)
        else:
            raise RuntimeError("the cluster did not become Ready:\n" + (data_dir / "up.log").read_text())
        yield kubeconfig
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run([sys.executable, "-m", "cli.main", "down", "--data-dir", str(data_dir)], cwd=REPO,
                       capture_output=True)
        log.close()


@pytest.fixture
def kubectl(cluster):
    def run(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(["kubectl", "--kubeconfig", str(cluster), *args], capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}{result.stdout}")
        return result

    run.kubeconfig = cluster
    return run


@pytest.fixture
def story_cluster(kubectl) -> StoryCluster:
    """The `orc up` cluster as tests/stories.py sees it: one node, whose ports the host reaches on 127.0.0.1."""
    cluster_label = f"{LABEL_CLUSTER}={cluster_name_for(kubectl.kubeconfig.parent)}"

    def pod_containers() -> dict[str, list[str]]:
        return containers_by_pod(subprocess.run(
            ["docker", "ps", "-a", "--filter", f"label={cluster_label}", "--format", POD_CONTAINER_FORMAT],
            capture_output=True, text=True, check=True, timeout=60).stdout)

    return StoryCluster(kubectl=kubectl, node_port_addresses=lambda: ["127.0.0.1"], pod_containers=pod_containers)

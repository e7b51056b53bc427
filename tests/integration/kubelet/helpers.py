"""Helpers of the kubelet's integration tests: a real `orc kubelet` process, looked at through kubectl and Docker.

`KubeletUnderTest` runs the kubelet as a child process against a test apiserver,
under a cluster name of its own (a uuid), with its data directory in a temporary
folder and `--node-ip 127.0.0.1`, so that all test traffic stays on loopback or goes
to containers these tests started; `cleanup` removes every container and network
carrying that cluster label, and nothing else. Used by conftest.py and the tests.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import yaml

from orchestrator.cluster.ports import free_port
from orchestrator.cluster.processes import ComponentProcess, SecureApiServer
from orchestrator.kubelet.runtime import LABEL_CLUSTER, LABEL_POD_UID, LABEL_ROLE
from tests.support import docker_available  # noqa: F401 - re-exported for the kubelet tests

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.25, what: str = "") -> T:
    """Poll `check` until it returns something truthy (bounded; never a timing assertion)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or check}; last value: {last!r}")


class KubeletUnderTest:
    """One kubelet process, its node, and helpers to look at it through kubectl and Docker."""

    def __init__(self, *, apiserver: SecureApiServer, node_name: str, directory: Path) -> None:
        self.apiserver = apiserver
        self.node_name = node_name
        self.cluster = f"t{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.directory = directory
        self.docker = docker.from_env()
        self.process: ComponentProcess | None = None

    # -- the process ----------------------------------------------------------------------------

    def start(self) -> None:
        args = ["kubelet", "--kubeconfig", str(self.apiserver.kubeconfig), "--node-name", self.node_name,
                "--cluster-name", self.cluster, "--port", str(self.port), "--node-ip", "127.0.0.1"]
        self.process = ComponentProcess(
            "kubelet", args, log_path=self.directory / "kubelet.log",
            env={"ORC_KUBELET_TOKEN": self.apiserver.tokens["system:kubelet"],
                 "ORC_KUBELET_ROOT": str(self.directory / "root")},
        )
        self.process.start()

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process is not None and not self.process.running:
                raise AssertionError(f"the kubelet exited:\n{self.process.log_tail()}")
            node = self.get("node", self.node_name)
            conditions = {c["type"]: c["status"] for c in ((node or {}).get("status") or {}).get("conditions") or []}
            return conditions.get("Ready") == "True"

        wait_until(ready, timeout=60, what=f"node {self.node_name} Ready")

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing gets cleaned up."""
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def log_tail(self, lines: int = 60) -> str:
        return self.process.log_tail(lines) if self.process is not None else ""

    # -- the API --------------------------------------------------------------------------------

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["kubectl", "--kubeconfig", str(self.apiserver.kubeconfig), *args], input=input,
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr}{result.stdout}\n--- kubelet log ---\n{self.log_tail()}")
        return result

    def apply(self, *objects: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))

    def get(self, kind: str, name: str, namespace: str = "default") -> dict[str, Any] | None:
        result = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found", check=False)
        if result.returncode != 0 or not result.stdout.strip():
            return None
        return json.loads(result.stdout)

    def pod_status(self, name: str) -> dict[str, Any]:
        return (self.get("pod", name) or {}).get("status") or {}

    def container_status(self, pod_name: str, container_name: str) -> dict[str, Any]:
        status = self.pod_status(pod_name)
        for item in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
            if item["name"] == container_name:
                return item
        return {}

    def events(self, pod_name: str) -> list[dict[str, Any]]:
        result = self.kubectl("get", "events", "-o", "json", "--field-selector", f"involvedObject.name={pod_name}")
        return json.loads(result.stdout)["items"]

    # -- Docker ---------------------------------------------------------------------------------

    def containers(self, *, pod_uid: str | None = None, include_sandboxes: bool = True) -> list[Any]:
        labels = [f"{LABEL_CLUSTER}={self.cluster}"]
        if pod_uid:
            labels.append(f"{LABEL_POD_UID}={pod_uid}")
        found = self.docker.containers.list(all=True, filters={"label": labels})
        return [c for c in found if include_sandboxes or c.labels.get(LABEL_ROLE) != "sandbox"]

    def cleanup(self) -> None:
        def remove(container: Any) -> None:
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass

        doomed = self.docker.containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={self.cluster}"})
        with ThreadPoolExecutor(max_workers=8) as removers:
            list(removers.map(remove, doomed))
        for network in self.docker.networks.list(filters={"label": f"{LABEL_CLUSTER}={self.cluster}"}):
            try:
                network.remove()
            except docker.errors.APIError:
                pass
        self.docker.close()


def pod_manifest(name: str, containers: list[dict[str, Any]], *, node_name: str, **spec: Any) -> dict[str, Any]:
    """A bare pod bound to `node_name` (no scheduler in these tests), quick to delete."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"test": name}},
        "spec": {"nodeName": node_name, "terminationGracePeriodSeconds": 1, "containers": containers, **spec},
    }



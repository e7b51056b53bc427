"""Fixtures shared by the whole suite: real etcd, a real apiserver, kubeconfigs.

Integration tests get a real etcd (one per session, each cluster under its own key
prefix) and a real `orc apiserver` child process with TLS and tokens, exactly as
`orc up` runs it, so real kubectl and the official Python client can be pointed at it.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from orchestrator.cluster.etcd import EtcdProcess
from orchestrator.cluster.processes import SecureApiServer


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory):
    etcd = EtcdProcess(tmp_path_factory.mktemp("etcd"), fast=True)
    etcd.start()
    yield etcd
    etcd.stop()


def _start_apiserver(etcd_server, directory: Path) -> SecureApiServer:
    server = SecureApiServer(data_dir=directory, etcd_url=etcd_server.client_url,
                             etcd_prefix=f"/test-{uuid.uuid4().hex[:8]}")
    server.start()
    return server


@pytest.fixture(scope="module")
def apiserver(etcd_server, tmp_path_factory):
    """A secure apiserver of its own (own etcd prefix) for one test module."""
    server = _start_apiserver(etcd_server, tmp_path_factory.mktemp("apiserver"))
    yield server
    server.stop()


@pytest.fixture
def kubectl(apiserver):
    """Run real kubectl against the module's apiserver: kubectl("get", "pods", "-o", "json")."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")

    def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["kubectl", "--kubeconfig", str(apiserver.kubeconfig), *args], input=input,
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
        return result

    return run

"""Fixtures of the controller-manager's integration tests (real etcd and apiserver from tests/conftest.py).

`client`: an ApiClient with the admin kubeconfig. `kubectl_async`: real kubectl run without
blocking the event loop (the in-process controllers must keep running meanwhile). `namespace`: a fresh namespace per
test, so tests of one module can share its apiserver. `controller_manager`: the real
`orc controller-manager` entry point (`orchestrator.controllers.main.main`) running
in-process under leader election, with short node timers, stopped (and its lease
released) at the end of the test.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import uuid

import pytest

from orchestrator.client.config import load_client_config
from orchestrator.client.resources import NAMESPACES
from orchestrator.client.rest import ApiClient
from orchestrator.controllers.main import main as controller_manager_main

NODE_MONITOR_GRACE_PERIOD = 2.0
POD_EVICTION_TIMEOUT = 2.0


@pytest.fixture
async def client(apiserver):
    async with ApiClient(load_client_config(kubeconfig=str(apiserver.kubeconfig))) as api_client:
        yield api_client


@pytest.fixture
async def namespace(client):
    name = f"t-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
async def controller_manager(apiserver):
    task = asyncio.create_task(controller_manager_main(
        kubeconfig=str(apiserver.kubeconfig), server=None, leader_elect=True,
        identity=f"{socket.gethostname()}_test-{uuid.uuid4().hex[:6]}",
        node_monitor_grace_period=NODE_MONITOR_GRACE_PERIOD, pod_eviction_timeout=POD_EVICTION_TIMEOUT,
    ))
    yield task
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    if isinstance(results[0], Exception) and not isinstance(results[0], asyncio.CancelledError):
        raise results[0]


@pytest.fixture
def kubectl_async(apiserver):
    """`await kubectl_async("get", "pods")` -> CompletedProcess; raises on failure unless check=False."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")

    async def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        process = await asyncio.create_subprocess_exec(
            "kubectl", "--kubeconfig", str(apiserver.kubeconfig), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        result = subprocess.CompletedProcess(args, process.returncode, stdout.decode(), stderr.decode())
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
        return result

    return run

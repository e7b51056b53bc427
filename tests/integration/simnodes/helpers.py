"""Helpers for integration tests that run simulated nodes in-process against the real apiserver."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from orchestrator.api.errors import NotFound
from orchestrator.client.config import load_client_config
from orchestrator.client.resources import NAMESPACES, NODES
from orchestrator.client.rest import ApiClient
from orchestrator.simnodes import SimulatedNodes


@contextlib.asynccontextmanager
async def api_client(apiserver) -> AsyncIterator[ApiClient]:
    async with ApiClient(load_client_config(kubeconfig=str(apiserver.kubeconfig))) as client:
        yield client


@contextlib.asynccontextmanager
async def running_sim_nodes(client: ApiClient, *, count: int, prefix: str | None = None,
                            **options: Any) -> AsyncIterator[SimulatedNodes]:
    """SimulatedNodes running as a task; on exit it stops and its Node objects are deleted, so
    that the next test of the module does not find nodes without a kubelet."""
    simulator = SimulatedNodes(client, count=count, name_prefix=prefix or f"sim-{uuid.uuid4().hex[:5]}", **options)
    task = asyncio.create_task(simulator.run())
    try:
        await asyncio.wait_for(asyncio.shield(simulator.wait_registered()), 60)
        yield simulator
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for name in simulator.node_names:
            with contextlib.suppress(NotFound):
                await client.delete(NODES, name)


async def new_namespace(client: ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


async def eventually(check: Callable[[], Any] | Callable[[], Awaitable[Any]], *, timeout: float = 30.0,
                     interval: float = 0.2, message: str = "") -> Any:
    """Polls `check` until it returns something truthy (and returns that), or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"not true within {timeout}s: {message or check} (last: {last!r})")


def new_pod(name: str, *, cpu: str = "100m", memory: str = "64Mi", node_name: str | None = None,
            **spec_fields: Any) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": "app:v1",
                                  "resources": {"requests": {"cpu": cpu, "memory": memory}}}], **spec_fields}
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def condition(obj: dict, condition_type: str) -> dict:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition_type:
            return entry
    return {}

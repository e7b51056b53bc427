"""Concurrency, watch ordering and restart safety of the apiserver (issue 2, acceptance 3-5)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from orchestrator.api import errors
from orchestrator.client.config import load_client_config
from orchestrator.client.informer import Informer
from orchestrator.client.resources import CONFIGMAPS
from orchestrator.client.rest import ApiClient, ApiUnavailable


@pytest.fixture
async def api(apiserver):
    client = ApiClient(load_client_config(kubeconfig=str(apiserver.kubeconfig)))
    yield client
    await client.close()


async def test_no_lost_update_with_20_writers(api):
    name = f"counter-{uuid.uuid4().hex[:6]}"
    await api.create(CONFIGMAPS, {"metadata": {"name": name, "annotations": {"count": "0"}}}, namespace="default")
    conflicts = 0

    async def writer():
        nonlocal conflicts
        for _ in range(50):
            while True:
                current = await api.get(CONFIGMAPS, name, namespace="default")
                current["metadata"]["annotations"]["count"] = str(int(current["metadata"]["annotations"]["count"]) + 1)
                try:
                    await api.update(CONFIGMAPS, current, namespace="default")
                    break
                except errors.Conflict:
                    conflicts += 1

    await asyncio.gather(*(writer() for _ in range(20)))
    final = await api.get(CONFIGMAPS, name, namespace="default")
    assert final["metadata"]["annotations"]["count"] == "1000"
    assert conflicts > 0  # the test did exercise the optimistic concurrency


async def test_watch_from_the_middle_gets_exactly_the_later_events(api):
    name = f"w-{uuid.uuid4().hex[:6]}"
    created = await api.create(CONFIGMAPS, {"metadata": {"name": name}, "data": {"n": "0"}}, namespace="default")
    revisions = [created["metadata"]["resourceVersion"]]
    for i in range(1, 1000):
        updated = await api.patch(CONFIGMAPS, name, {"data": {"n": str(i)}}, namespace="default", patch_type="merge")
        revisions.append(updated["metadata"]["resourceVersion"])
    middle = revisions[499]
    received = []
    stream = api.watch(CONFIGMAPS, namespace="default", resource_version=middle,
                       field_selector=f"metadata.name={name}", timeout_seconds=10)
    async for event in stream:
        if event.type == "BOOKMARK":
            continue
        received.append((event.type, event.object["data"]["n"], event.object["metadata"]["resourceVersion"]))
        if len(received) == 500:
            break
    await stream.aclose()
    assert [n for _, n, _ in received] == [str(i) for i in range(500, 1000)]
    assert [rv for _, _, rv in received] == revisions[500:]
    assert {t for t, _, _ in received} == {"MODIFIED"}


async def test_too_old_resource_version_is_gone(api):
    with pytest.raises(errors.Expired):
        async for _ in api.watch(CONFIGMAPS, namespace="default", resource_version="1", timeout_seconds=5):
            pass


async def test_restart_loses_nothing_and_watches_resume(apiserver, api):
    prefix = f"r-{uuid.uuid4().hex[:6]}"
    informer = Informer(api, CONFIGMAPS, namespace="default")
    task = asyncio.create_task(informer.run())
    await informer.wait_synced()
    for i in range(10):
        await api.create(CONFIGMAPS, {"metadata": {"name": f"{prefix}-{i}"}}, namespace="default")
    apiserver.kill()
    apiserver.start()
    for i in range(10, 20):
        for _ in range(50):
            try:
                await api.create(CONFIGMAPS, {"metadata": {"name": f"{prefix}-{i}"}}, namespace="default")
                break
            except ApiUnavailable:
                await asyncio.sleep(0.2)
    for _ in range(100):
        names = {o["metadata"]["name"] for o in informer.list() if o["metadata"]["name"].startswith(prefix)}
        if len(names) == 20:
            break
        await asyncio.sleep(0.2)
    task.cancel()
    assert names == {f"{prefix}-{i}" for i in range(20)}
    listed = await api.list(CONFIGMAPS, namespace="default")
    assert len([o for o in listed["items"] if o["metadata"]["name"].startswith(prefix)]) == 20


async def test_a_corrupt_stored_object_breaks_nothing(apiserver, api, etcd_server):
    """Someone wrote garbage under the cluster's prefix: lists skip it, the server stays up."""
    import aetcd

    async with aetcd.Client(host=etcd_server.host, port=etcd_server.client_port) as etcd:
        await etcd.put(f"{apiserver.etcd_prefix}/configmaps/default/garbage".encode(), b"\xff not json")
    await api.create(CONFIGMAPS, {"metadata": {"name": f"after-{uuid.uuid4().hex[:6]}"}}, namespace="default")
    listed = await api.list(CONFIGMAPS, namespace="default")
    assert "garbage" not in {o["metadata"]["name"] for o in listed["items"]}
    cached = await api.list(CONFIGMAPS, namespace="default", resource_version="0")
    assert cached["items"]
    with pytest.raises(errors.InternalError):
        await api.get(CONFIGMAPS, "garbage", namespace="default")

"""Unit tests of orchestrator/kubelet/server.py: which instance `kubectl logs` reads, options, authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from orchestrator.kubelet.server import KubeletServer, LogLookupError, container_for_logs, since_seconds_of

RUNNING = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
TERMINATED = {"terminated": {"exitCode": 1, "containerID": "docker://old"}}


def status_with(state: dict, last_state: dict | None = None, container_id: str = "docker://current") -> dict:
    return {"containerStatuses": [{"name": "app", "state": state, "lastState": last_state or {},
                                   "containerID": container_id}]}


@pytest.mark.parametrize(
    ("status", "previous", "expected"),
    [
        pytest.param(status_with(RUNNING), False, "current", id="running"),
        pytest.param(status_with(RUNNING, TERMINATED), True, "old", id="previous"),
        pytest.param(status_with({"terminated": {"exitCode": 0, "containerID": "docker://done"}}), False, "done",
                     id="terminated"),
        pytest.param(status_with({"waiting": {"reason": "CrashLoopBackOff"}}, TERMINATED), False, "old",
                     id="crash-loop-shows-the-last-run"),
        pytest.param({"initContainerStatuses": [{"name": "app", "state": RUNNING, "containerID": "docker://i"}]},
                     False, "i", id="init-container"),
    ],
)
def test_container_for_logs(status: dict, previous: bool, expected: str) -> None:
    assert container_for_logs(pod_name="web", container_name="app", status=status, previous=previous) == expected


@pytest.mark.parametrize(
    ("status", "previous", "message"),
    [
        pytest.param(status_with(RUNNING), True, 'previous terminated container "app" in pod "web" not found',
                     id="no-previous"),
        pytest.param(status_with({"waiting": {"reason": "ContainerCreating"}}), False,
                     'container "app" in pod "web" is waiting to start: ContainerCreating', id="creating"),
        pytest.param(status_with({"waiting": {"reason": "ImagePullBackOff"}}), False,
                     'container "app" in pod "web" is waiting to start: trying and failing to pull image',
                     id="image-pull-back-off"),
        pytest.param({}, False, 'container "app" in pod "web" is not available', id="unknown"),
    ],
)
def test_container_for_logs_errors(status: dict, previous: bool, message: str) -> None:
    with pytest.raises(LogLookupError) as raised:
        container_for_logs(pod_name="web", container_name="app", status=status, previous=previous)
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, None, id="none"),
        pytest.param({"sinceSeconds": "30"}, 30, id="seconds"),
        pytest.param({"sinceTime": "2026-01-01T00:00:00Z"}, 60, id="time"),
    ],
)
def test_since_seconds(query: dict, expected: int | None) -> None:
    now = 1767225600.0 + 60  # 2026-01-01T00:01:00Z
    assert since_seconds_of(query, now=now) == expected


class FakeInformer:
    def __init__(self, pods: dict[str, dict]) -> None:
        self.pods = pods

    def get(self, key: str) -> dict | None:
        return self.pods.get(key)


class FakeRuntime:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def inspect(self, container_id: str) -> None:
        return None

    async def logs(self, container_id: str, **options: Any) -> AsyncIterator[bytes]:
        self.calls.append({"id": container_id, **options})
        for line in (b"one\n", b"two\n", b"three\n"):
            yield line


@pytest.fixture
async def kubelet_api() -> AsyncIterator[tuple[TestClient, FakeRuntime]]:
    pod = {"metadata": {"name": "web", "namespace": "default", "uid": "u"}, "status": status_with(RUNNING)}
    runtime = FakeRuntime()
    server = KubeletServer(runtime=runtime, pods=FakeInformer({"default/web": pod}),  # type: ignore[arg-type]
                           statuses=lambda uid: None, token="secret-token")
    client = TestClient(TestServer(server.build_app()))
    await client.start_server()
    yield client, runtime
    await client.close()


async def test_logs_need_the_token_and_honour_the_options(kubelet_api: tuple[TestClient, FakeRuntime]) -> None:
    client, runtime = kubelet_api
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/containerLogs/default/web/app")).status == 401
    wrong = await client.get("/containerLogs/default/web/app", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    headers = {"Authorization": "Bearer secret-token"}
    response = await client.get("/containerLogs/default/web/app?tailLines=2&timestamps=true&follow=true&limitBytes=6",
                                headers=headers)
    assert response.status == 200
    assert await response.text() == "one\ntw"
    assert runtime.calls[-1] == {"id": "current", "follow": True, "tail": 2, "since_seconds": None,
                                 "timestamps": True}
    missing = await client.get("/containerLogs/default/nope/app", headers=headers)
    assert missing.status == 404
    assert await missing.text() == 'pod "nope" cannot be found - no logs available'

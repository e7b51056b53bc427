"""Unit tests of orchestrator.client.informer against the in-memory FakeApiClient."""

from __future__ import annotations

import asyncio
import copy

import pytest

from orchestrator.client import informer as informer_module
from orchestrator.client.informer import Informer, key_of
from orchestrator.client.resources import NODES, PODS
from orchestrator.client.rest import ApiUnavailable
from tests.unit.client.fakes import FakeApiClient


def new_pod(name: str, *, namespace: str = "default", node: str = "") -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"nodeName": node}}


async def until(predicate, *, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


class Recorder:
    """Handlers that record what they were told, as (event, key) pairs."""

    def __init__(self, informer: Informer):
        self.events: list[tuple[str, str]] = []
        informer.add_handler(
            on_add=lambda obj: self.events.append(("add", key_of(obj))),
            on_update=lambda old, new: self.events.append(("update", key_of(new))),
            on_delete=lambda obj: self.events.append(("delete", key_of(obj))),
        )


@pytest.fixture
async def fake() -> FakeApiClient:
    return FakeApiClient()


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(informer_module, "BACKOFF_INITIAL", 0.0)


async def started(informer: Informer) -> asyncio.Task:
    task = asyncio.create_task(informer.run())
    await asyncio.wait_for(informer.wait_synced(), 5)
    return task


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(
    ("object_count", "page_size", "expected_list_calls"),
    [
        pytest.param(0, 2, 1, id="empty"),
        pytest.param(5, 2, 3, id="paged"),
        pytest.param(4, 500, 1, id="one-page"),
    ],
)
async def test_initial_list_fills_store_and_reports_adds(fake, monkeypatch, object_count, page_size,
                                                         expected_list_calls):
    monkeypatch.setattr(informer_module, "LIST_PAGE_SIZE", page_size)
    for index in range(object_count):
        await fake.create(PODS, new_pod(f"p{index}"))
    informer = Informer(fake, PODS)
    recorder = Recorder(informer)
    assert not informer.has_synced
    task = await started(informer)
    assert informer.has_synced
    assert fake.list_calls == expected_list_calls
    assert sorted(key_of(obj) for obj in informer.list()) == [f"default/p{i}" for i in range(object_count)]
    assert recorder.events == [("add", f"default/p{i}") for i in range(object_count)]
    if object_count:
        assert informer.get("default/p0")["kind"] == "Pod"  # filled in for list items
    await stop(task)


async def test_watch_events_update_store_and_handlers(fake):
    await fake.create(PODS, new_pod("web"))
    informer = Informer(fake, PODS)
    recorder = Recorder(informer)
    task = await started(informer)

    await fake.create(PODS, new_pod("db"))
    moved = copy.deepcopy(fake.objects[("pods", "default/web")])
    moved["spec"]["nodeName"] = "n1"
    await fake.update(PODS, moved)
    await fake.delete(PODS, "db", namespace="default")
    await until(lambda: len(recorder.events) == 4)

    assert recorder.events == [("add", "default/web"), ("add", "default/db"), ("update", "default/web"),
                               ("delete", "default/db")]
    assert informer.get("default/web")["spec"]["nodeName"] == "n1"
    assert informer.get("default/db") is None
    await stop(task)


async def test_update_handler_gets_old_and_new(fake):
    await fake.create(NODES, {"metadata": {"name": "n1", "labels": {"zone": "a"}}})
    informer = Informer(fake, NODES)
    seen = []
    informer.add_handler(on_update=lambda old, new: seen.append((old["metadata"]["labels"], new["metadata"]["labels"])))
    task = await started(informer)
    node = copy.deepcopy(fake.objects[("nodes", "n1")])
    node["metadata"]["labels"] = {"zone": "b"}
    await fake.update(NODES, node)
    await until(lambda: seen)
    assert seen == [({"zone": "a"}, {"zone": "b"})]
    assert informer.get("n1")["metadata"]["labels"] == {"zone": "b"}
    await stop(task)


@pytest.mark.parametrize(
    "end_watch",
    [
        pytest.param(lambda fake: fake.end_watches(), id="server-ended-watch"),
        pytest.param(lambda fake: fake.end_watches(ApiUnavailable("connection reset")), id="connection-broke"),
    ],
)
async def test_rewatch_resumes_from_last_seen_version(fake, no_backoff, end_watch):
    informer = Informer(fake, PODS)
    recorder = Recorder(informer)
    task = await started(informer)
    await fake.create(PODS, new_pod("a"))
    await until(lambda: recorder.events == [("add", "default/a")])
    last_seen = fake.objects[("pods", "default/a")]["metadata"]["resourceVersion"]

    end_watch(fake)
    await until(lambda: len(fake.watch_versions) == 2)
    await fake.create(PODS, new_pod("b"))
    await until(lambda: len(recorder.events) == 2)

    assert fake.watch_versions[-1] == last_seen
    assert fake.list_calls == 1  # no re-list
    assert recorder.events == [("add", "default/a"), ("add", "default/b")]
    await stop(task)


async def test_bookmark_moves_the_resume_point(fake):
    informer = Informer(fake, PODS)
    task = await started(informer)
    await fake.create(NODES, {"metadata": {"name": "elsewhere"}})  # bumps the revision, no pod event
    await until(lambda: fake.watchers)
    fake.bookmark(PODS)
    await until(lambda: informer._last_resource_version == str(fake.revision))
    fake.end_watches()
    await until(lambda: len(fake.watch_versions) == 2)
    assert fake.watch_versions[-1] == str(fake.revision)
    await stop(task)


async def test_expired_watch_relists_and_delivers_the_differences(fake):
    for name in ("gone", "changed", "same"):
        await fake.create(PODS, new_pod(name))
    informer = Informer(fake, PODS)
    recorder = Recorder(informer)
    task = await started(informer)
    recorder.events.clear()

    fake.muted = True  # the informer misses what happens now
    await fake.delete(PODS, "gone", namespace="default")
    changed = copy.deepcopy(fake.objects[("pods", "default/changed")])
    changed["spec"]["nodeName"] = "n1"
    await fake.update(PODS, changed)
    await fake.create(PODS, new_pod("new"))
    fake.muted = False
    fake.expire_watches()
    await until(lambda: fake.list_calls == 2 and len(recorder.events) == 3)

    assert sorted(recorder.events) == [("add", "default/new"), ("delete", "default/gone"),
                                       ("update", "default/changed")]
    assert sorted(key_of(obj) for obj in informer.list()) == ["default/changed", "default/new", "default/same"]
    assert informer.get("default/changed")["spec"]["nodeName"] == "n1"
    await stop(task)


async def test_list_failure_backs_off_and_retries(fake, no_backoff):
    await fake.create(PODS, new_pod("a"))
    fake.fail_next["list"] = [ApiUnavailable("refused"), ApiUnavailable("refused")]
    informer = Informer(fake, PODS)
    task = await started(informer)
    assert fake.list_calls == 3
    assert informer.get("default/a") is not None
    await stop(task)


async def test_indexes_follow_changes(fake):
    await fake.create(PODS, new_pod("a", node="n1"))
    await fake.create(PODS, new_pod("b", node="n1"))
    informer = Informer(fake, PODS)
    task = await started(informer)
    informer.add_index("node", lambda pod: [pod["spec"]["nodeName"]] if pod["spec"].get("nodeName") else [])
    assert [key_of(pod) for pod in informer.by_index("node", "n1")] == ["default/a", "default/b"]

    moved = copy.deepcopy(fake.objects[("pods", "default/b")])
    moved["spec"]["nodeName"] = "n2"
    await fake.update(PODS, moved)
    await fake.delete(PODS, "a", namespace="default")
    await until(lambda: informer.get("default/a") is None)

    assert informer.by_index("node", "n1") == []
    assert [key_of(pod) for pod in informer.by_index("node", "n2")] == ["default/b"]
    assert informer.by_index("node", "unknown") == []
    await stop(task)


async def test_handler_added_after_sync_hears_existing_objects(fake):
    await fake.create(PODS, new_pod("a"))
    informer = Informer(fake, PODS)
    task = await started(informer)
    recorder = Recorder(informer)
    assert recorder.events == [("add", "default/a")]
    await stop(task)


async def test_failing_handler_does_not_stop_the_others(fake):
    informer = Informer(fake, PODS)

    def broken(obj: dict) -> None:
        raise RuntimeError("handler bug")

    informer.add_handler(on_add=broken)
    recorder = Recorder(informer)
    task = await started(informer)
    await fake.create(PODS, new_pod("a"))
    await until(lambda: recorder.events == [("add", "default/a")])
    await stop(task)


async def test_resync_redelivers_updates(fake):
    await fake.create(PODS, new_pod("a"))
    informer = Informer(fake, PODS, resync_period=0.001)
    resynced = []
    informer.add_handler(on_update=lambda old, new: resynced.append(old is new))
    task = await started(informer)
    for _ in range(200):
        if resynced:
            break
        await asyncio.sleep(0.005)
    assert resynced and all(resynced)
    await stop(task)


async def test_namespace_scoped_informer_sees_only_its_namespace(fake):
    await fake.create(PODS, new_pod("a", namespace="team1"))
    await fake.create(PODS, new_pod("b", namespace="team2"))
    informer = Informer(fake, PODS, namespace="team1")
    task = await started(informer)
    await fake.create(PODS, new_pod("c", namespace="team2"))
    await fake.create(PODS, new_pod("d", namespace="team1"))
    await until(lambda: informer.get("team1/d") is not None)
    assert sorted(key_of(obj) for obj in informer.list()) == ["team1/a", "team1/d"]
    await stop(task)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param({"metadata": {"name": "web", "namespace": "prod"}}, "prod/web", id="namespaced"),
        pytest.param({"metadata": {"name": "node-1"}}, "node-1", id="cluster-scoped"),
    ],
)
def test_key_of(obj, expected):
    assert key_of(obj) == expected

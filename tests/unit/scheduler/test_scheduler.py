"""Unit tests of orchestrator.scheduler.scheduler: event handlers, binding, unschedulable pods.

The apiserver, the informers and the event recorder are small fakes; the tests call the
informer handlers themselves and run one scheduling attempt at a time.
"""

from __future__ import annotations

import asyncio
import copy

from orchestrator.api.errors import Conflict
from orchestrator.client.informer import key_of
from orchestrator.scheduler.scheduler import Scheduler, binding_for, scheduling_relevant_change
from tests.unit.scheduler.builders import new_node, new_pod


class FakeClient:
    def __init__(self) -> None:
        self.bindings: list[tuple[str, str]] = []
        self.status_patches: list[tuple[str, dict]] = []
        self.fail_bindings: list[Exception] = []

    async def create_subresource(self, resource, name, subresource, body, *, namespace=None):
        if self.fail_bindings:
            raise self.fail_bindings.pop(0)
        self.bindings.append((f"{namespace}/{name}", body["target"]["name"]))
        return {}

    async def patch(self, resource, name, patch, *, namespace=None, patch_type="strategic", subresource=None):
        self.status_patches.append((f"{namespace}/{name}", patch))
        return {}


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def record(self, obj, type_, reason, message):
        self.events.append((key_of(obj), type_, reason, message))


class FakeInformer:
    """The part of an Informer the scheduler uses: a store and handlers."""

    def __init__(self) -> None:
        self.store: dict[str, dict] = {}
        self.handlers: dict = {}

    def get(self, key):
        return self.store.get(key)

    def add_handler(self, on_add=None, on_update=None, on_delete=None):
        self.handlers = {"add": on_add, "update": on_update, "delete": on_delete}

    def add(self, obj):
        self.store[key_of(obj)] = obj
        self.handlers["add"](obj)

    def update(self, obj):
        old = self.store[key_of(obj)]
        self.store[key_of(obj)] = obj
        self.handlers["update"](old, obj)

    def delete(self, obj):
        self.store.pop(key_of(obj), None)
        self.handlers["delete"](obj)


class Harness:
    def __init__(self, nodes: list[dict]) -> None:
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        self.scheduler = Scheduler(self.client, recorder=self.recorder)
        self.pods, self.nodes = FakeInformer(), FakeInformer()
        self.scheduler.attach(self.pods, self.nodes)
        for node in nodes:
            self.nodes.add(node)

    async def attempt(self):
        """One scheduling attempt, and the binding it started."""
        queued = self.scheduler.queue.pop_nowait()
        assert queued is not None, "nothing to schedule"
        result = await self.scheduler.schedule_one(queued)
        await asyncio.gather(*self.scheduler._background)
        return result


async def test_pending_pod_is_bound_and_recorded():
    harness = Harness([new_node("a")])
    harness.pods.add(new_pod("web", cpu="100m"))
    await harness.attempt()
    assert harness.client.bindings == [("default/web", "a")]
    assert harness.recorder.events == [("default/web", "Normal", "Scheduled", "Successfully assigned default/web to a")]
    assert harness.scheduler.cache.is_assumed("default/web")


async def test_unschedulable_pod_gets_event_condition_and_waits():
    harness = Harness([new_node("a", cpu="1")])
    harness.pods.add(new_pod("big", cpu="2"))
    await harness.attempt()
    message = ("0/1 nodes are available: 1 Insufficient cpu. "
               "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..")
    assert harness.recorder.events == [("default/big", "Warning", "FailedScheduling", message)]
    (key, patch), = harness.client.status_patches
    condition = patch["status"]["conditions"][0]
    assert (key, condition["type"], condition["status"], condition["reason"], condition["message"]) == \
        ("default/big", "PodScheduled", "False", "Unschedulable", message)
    assert harness.scheduler.queue.where("default/big") == "unschedulable"
    # Its own status write does not requeue it...
    written = copy.deepcopy(harness.pods.get("default/big"))
    written["status"]["conditions"] = [condition]
    written["metadata"]["resourceVersion"] = "2"
    harness.pods.update(written)
    assert harness.scheduler.queue.where("default/big") == "unschedulable"
    # ...a big enough node does.
    harness.nodes.add(new_node("b", cpu="4"))
    assert harness.scheduler.queue.where("default/big") in ("active", "backoff")


async def test_same_condition_is_not_written_twice():
    harness = Harness([new_node("a", cpu="1")])
    harness.pods.add(new_pod("big", cpu="2"))
    await harness.attempt()
    _, patch = harness.client.status_patches[0]
    pod = copy.deepcopy(harness.pods.get("default/big"))
    pod["status"]["conditions"] = patch["status"]["conditions"]
    harness.pods.store["default/big"] = pod
    harness.scheduler.queue.move_all_to_active_or_backoff("test")
    harness.scheduler.queue._clock = lambda: 1e12  # past any backoff
    harness.scheduler.queue.flush()
    await harness.attempt()
    assert len(harness.client.status_patches) == 1 and len(harness.recorder.events) == 2


async def test_assumed_pods_count_for_the_next_pod():
    harness = Harness([new_node("a", cpu="1"), new_node("b", cpu="1")])
    harness.pods.add(new_pod("first", cpu="800m"))
    harness.pods.add(new_pod("second", cpu="800m"))
    await harness.attempt()
    await harness.attempt()
    assert sorted(node for _, node in harness.client.bindings) == ["a", "b"]


async def test_failed_binding_is_forgotten_and_retried():
    harness = Harness([new_node("a")])
    harness.client.fail_bindings.append(Conflict("the object has been modified"))
    harness.pods.add(new_pod("web", cpu="100m"))
    await harness.attempt()
    assert not harness.scheduler.cache.is_assumed("default/web")
    assert int(harness.scheduler.cache.table.requested_milli_cpu[0]) == 0
    assert harness.scheduler.queue.where("default/web") == "backoff"


async def test_bound_pod_deletion_frees_room_for_waiting_pods():
    harness = Harness([new_node("a", cpu="1")])
    harness.pods.add(new_pod("holder", cpu="1", node_name="a", phase="Running"))
    harness.pods.add(new_pod("waiting", cpu="1"))
    await harness.attempt()
    assert harness.scheduler.queue.where("default/waiting") == "unschedulable"
    harness.pods.delete(harness.pods.get("default/holder"))
    assert harness.scheduler.queue.where("default/waiting") in ("active", "backoff")
    assert int(harness.scheduler.cache.table.requested_milli_cpu[0]) == 0


async def test_pods_not_ours_are_ignored():
    harness = Harness([new_node("a")])
    other = new_pod("other")
    other["spec"]["schedulerName"] = "my-scheduler"
    gated = new_pod("gated")
    gated["spec"]["schedulingGates"] = [{"name": "wait"}]
    for pod in (other, gated, new_pod("leaving", deleting=True), new_pod("done", phase="Succeeded")):
        harness.pods.add(pod)
    assert harness.scheduler.queue.counts() == {"active": 0, "backoff": 0, "unschedulable": 0}


async def test_pod_bound_elsewhere_leaves_the_queue():
    harness = Harness([new_node("a")])
    harness.pods.add(new_pod("web"))
    harness.pods.update(new_pod("web", node_name="a"))
    assert "default/web" not in harness.scheduler.queue
    assert harness.scheduler.cache.node_of("default/web") == "a"


def test_binding_body():
    assert binding_for(new_pod("web"), "a") == {
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-web"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "a"},
    }


def test_status_and_resource_version_changes_are_not_relevant():
    old = new_pod("web")
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "9"
    new["status"]["conditions"] = [{"type": "PodScheduled", "status": "False"}]
    assert not scheduling_relevant_change(old, new)
    new["spec"]["tolerations"] = [{"operator": "Exists"}]
    assert scheduling_relevant_change(old, new)

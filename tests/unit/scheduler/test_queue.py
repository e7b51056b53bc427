"""Unit tests of orchestrator.scheduler.queue: order, backoff, unschedulable pods and their moves."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, SchedulingQueue
from tests.unit.client.fakes import FakeClock


def new_queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock, sleep=clock.sleep)


def pop_all(queue: SchedulingQueue) -> list[str]:
    keys = []
    while (pod := queue.pop_nowait()) is not None:
        keys.append(pod.key)
    return keys


def test_higher_priority_first_then_first_come():
    clock = FakeClock()
    queue = new_queue(clock)
    for key, priority in (("low-1", 0), ("high", 10), ("low-2", 0)):
        queue.add(key, priority=priority)
        clock.now += 1
    queue.add("high", priority=10)  # already queued: no second entry
    assert pop_all(queue) == ["high", "low-1", "low-2"]


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)])
def test_backoff_doubles_up_to_ten_seconds(attempts, seconds):
    assert new_queue(FakeClock()).backoff_seconds(attempts) == seconds


def test_unschedulable_pod_waits_for_a_cluster_change():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    pod = queue.pop_nowait()
    queue.add_unschedulable(pod)
    clock.now += 60
    assert queue.flush() is not None and queue.where("web") == UNSCHEDULABLE
    assert queue.move_all_to_active_or_backoff("NodeAdd") == 1
    assert queue.where("web") == ACTIVE


def test_moved_pod_still_in_backoff_goes_to_backoff():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    queue.add_unschedulable(queue.pop_nowait())
    clock.now += 0.5
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.where("web") == BACKOFF
    clock.now += 0.5
    queue.flush()
    assert queue.where("web") == ACTIVE


def test_unschedulable_pods_are_retried_after_five_minutes_anyway():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    queue.add_unschedulable(queue.pop_nowait())
    clock.now += 299
    queue.flush()
    assert queue.where("web") == UNSCHEDULABLE
    clock.now += 31
    queue.flush()
    assert queue.where("web") == ACTIVE


def test_update_of_an_unschedulable_pod_gives_it_another_try():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    queue.add_unschedulable(queue.pop_nowait())
    clock.now += 5
    queue.update("web")
    assert queue.where("web") == ACTIVE


def test_deleted_pods_are_never_handed_out():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("a")
    queue.add("b")
    queue.delete("a")
    assert pop_all(queue) == ["b"] and "a" not in queue


def test_attempts_are_counted_per_pop():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    pod = queue.pop_nowait()
    queue.add_backoff(pod)
    clock.now += 1
    queue.flush()
    assert queue.pop_nowait().attempts == 2


async def test_pop_waits_for_the_backoff_to_end():
    clock = FakeClock()
    queue = new_queue(clock)
    queue.add("web")
    queue.add_backoff(queue.pop_nowait())
    started = clock.now
    pod = await asyncio.wait_for(queue.pop(), 5)
    assert pod.key == "web" and clock.now - started == pytest.approx(1.0)


async def test_pop_wakes_up_when_a_pod_arrives():
    queue = new_queue(FakeClock())
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    queue.add("web")
    assert (await asyncio.wait_for(waiter, 5)).key == "web"

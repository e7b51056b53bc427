"""Unit tests of orchestrator.client.workqueue: de-duplication, exclusivity, backoff, the worker loop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from orchestrator.client.workqueue import QueueShutDown, WorkQueue, run_workers
from tests.unit.client.fakes import FakeClock


def new_queue(clock: FakeClock, **options) -> WorkQueue:
    return WorkQueue(clock=clock, sleep=clock.sleep, **options)


async def until(predicate, *, rounds: int = 1000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def drain(queue: WorkQueue) -> list[str]:
    keys = []
    while len(queue):
        key = await queue.get()
        keys.append(key)
        queue.done(key)
    return keys


@pytest.mark.parametrize(
    ("adds", "expected"),
    [
        pytest.param(["a", "b", "a"], ["a", "b"], id="duplicate-kept-once-in-first-position"),
        pytest.param(["a", "a", "a"], ["a"], id="many-adds-one-key"),
        pytest.param(["c", "b", "a"], ["c", "b", "a"], id="fifo"),
    ],
)
async def test_add_deduplicates(adds, expected):
    queue = new_queue(FakeClock())
    for key in adds:
        queue.add(key)
    assert len(queue) == len(expected)
    assert await drain(queue) == expected


async def test_key_being_processed_is_not_handed_out_again_until_done():
    queue = new_queue(FakeClock())
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0
    second_worker = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not second_worker.done()
    queue.done("a")
    assert await second_worker == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_done_without_readd_does_not_requeue():
    queue = new_queue(FakeClock())
    queue.add("a")
    queue.done(await queue.get())
    assert len(queue) == 0


@pytest.mark.parametrize(
    ("base_delay", "max_delay", "failures", "expected_delays"),
    [
        pytest.param(0.005, 1000.0, 5, [0.005, 0.01, 0.02, 0.04, 0.08], id="doubling-from-5ms"),
        pytest.param(1.0, 4.0, 5, [1, 2, 4, 4, 4], id="capped"),
    ],
)
async def test_rate_limited_backoff_grows_per_key(base_delay, max_delay, failures, expected_delays):
    clock = FakeClock()
    queue = new_queue(clock, base_delay=base_delay, max_delay=max_delay, bucket_qps=None)
    delays = []
    for _ in range(failures):
        started = clock.now
        queue.add_rate_limited("a")
        assert len(queue) == 0
        key = await queue.get()
        delays.append(clock.now - started)
        queue.done(key)
    assert delays == pytest.approx(expected_delays, abs=1e-6)
    assert queue.num_requeues("a") == failures


async def test_forget_resets_backoff():
    clock = FakeClock()
    queue = new_queue(clock, base_delay=1.0, bucket_qps=None)
    for _ in range(3):
        queue.add_rate_limited("a")
    queue.forget("a")
    assert queue.num_requeues("a") == 0
    queue.done(await queue.get())  # the three earlier adds collapse into one
    started = clock.now
    queue.add_rate_limited("a")
    await queue.get()
    assert clock.now - started == pytest.approx(1.0, abs=1e-6)


async def test_token_bucket_spreads_many_failing_keys():
    clock = FakeClock()
    queue = new_queue(clock, base_delay=0.005, bucket_qps=10.0, bucket_burst=2)
    started = clock.now
    for key in ("a", "b", "c"):
        queue.add_rate_limited(key)
    ready_after = []
    for _ in range(3):
        key = await queue.get()
        ready_after.append((key, clock.now - started))
        queue.done(key)
    assert [key for key, _ in ready_after] == ["a", "b", "c"]
    assert [after for _, after in ready_after] == pytest.approx([0.005, 0.005, 0.1], abs=1e-6)


async def test_add_after_keeps_the_earliest_time_and_delivers_once():
    clock = FakeClock()
    queue = new_queue(clock)
    started = clock.now
    queue.add_after("a", 10)
    queue.add_after("a", 2)
    queue.add_after("a", 5)
    assert await queue.get() == "a"
    assert clock.now - started == pytest.approx(2, abs=1e-6)
    queue.done("a")
    queue.add_after("b", 20)
    assert await queue.get() == "b"  # "a" was not delivered again at 5 or 10
    assert len(queue) == 0


async def test_delayed_add_wakes_a_waiting_getter():
    clock = FakeClock()
    queue = new_queue(clock)
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.add_after("a", 3)
    assert await getter == "a"


async def test_shutdown_drains_then_refuses():
    queue = new_queue(FakeClock())
    queue.add("a")
    queue.shutdown()
    queue.add("b")
    assert await queue.get() == "a"
    waiting_getter = asyncio.create_task(queue.get())
    with pytest.raises(QueueShutDown):
        await waiting_getter


@pytest.mark.parametrize(
    ("failures_before_success", "max_retries", "expected_calls", "expected_dropped"),
    [
        pytest.param(0, 15, 1, False, id="succeeds-at-once"),
        pytest.param(2, 15, 3, False, id="succeeds-after-retries"),
        pytest.param(100, 2, 3, True, id="dropped-after-max-retries"),
    ],
)
async def test_run_workers(failures_before_success, max_retries, expected_calls, expected_dropped, caplog):
    clock = FakeClock()
    queue = new_queue(clock)
    calls: list[str] = []

    async def sync(key: str) -> None:
        calls.append(key)
        if len(calls) <= failures_before_success:
            raise RuntimeError(f"boom {len(calls)}")

    queue.add("ns/web")
    workers = asyncio.create_task(
        run_workers(queue, sync, workers=2, max_retries=max_retries, logger=logging.getLogger("test"))
    )
    await until(lambda: len(calls) == expected_calls and not queue._processing)
    queue.shutdown()
    await workers
    assert calls == ["ns/web"] * expected_calls
    assert queue.num_requeues("ns/web") == 0  # forgotten on success and on drop
    assert ("dropping ns/web" in caplog.text) == expected_dropped


async def test_run_workers_never_syncs_one_key_concurrently():
    queue = new_queue(FakeClock())
    running: set[str] = set()
    overlaps = []
    synced = []

    async def sync(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0)
        if len(synced) < 3:
            queue.add(key)  # re-added while being processed
        await asyncio.sleep(0)
        running.discard(key)
        synced.append(key)

    queue.add("a")
    workers = asyncio.create_task(run_workers(queue, sync, workers=4, logger=logging.getLogger("test")))
    await until(lambda: len(synced) >= 4 and not queue._processing and len(queue) == 0)
    queue.shutdown()
    await workers
    assert overlaps == []
    assert synced == ["a"] * 4

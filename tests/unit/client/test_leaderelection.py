"""Unit tests of orchestrator.client.leaderelection against the in-memory FakeApiClient and a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.client.leaderelection import LeaderElector, format_micro_time, parse_micro_time
from orchestrator.client.resources import LEASES
from orchestrator.client.rest import ApiUnavailable
from tests.unit.client.fakes import FakeApiClient, FakeClock

LEASE = ("leases", "kube-system/controller-manager")


def new_elector(client: FakeApiClient, clock: FakeClock, identity: str) -> LeaderElector:
    return LeaderElector(client, lease_name="controller-manager", identity=identity, lease_duration=15,
                         renew_deadline=10, retry_period=2, clock=clock, sleep=clock.sleep)


def new_lease(*, holder: str, renewed: float, transitions: int = 3, acquired: float | None = None) -> dict:
    return {
        "metadata": {"name": "controller-manager", "namespace": "kube-system"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "leaseTransitions": transitions,
                 "acquireTime": format_micro_time(renewed if acquired is None else acquired),
                 "renewTime": format_micro_time(renewed)},
    }


async def until(predicate, *, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("existing", "expected_won", "expected_holder", "expected_transitions", "expected_acquire_time"),
    [
        pytest.param(None, True, "a", 0, NOW, id="absent-created"),
        pytest.param(new_lease(holder="b", renewed=NOW - 5), False, "b", 3, NOW - 5, id="held-by-other"),
        pytest.param(new_lease(holder="b", renewed=NOW - 15), False, "b", 3, NOW - 15, id="expires-exactly-now"),
        pytest.param(new_lease(holder="b", renewed=NOW - 16), True, "a", 4, NOW, id="expired-taken-over"),
        pytest.param(new_lease(holder="", renewed=NOW - 1), True, "a", 4, NOW, id="released-taken-at-once"),
        pytest.param(new_lease(holder="a", renewed=NOW - 2, acquired=NOW - 100), True, "a", 3, NOW - 100,
                     id="own-lease-renewed"),
    ],
)
async def test_try_acquire_or_renew(existing, expected_won, expected_holder, expected_transitions,
                                    expected_acquire_time):
    client = FakeApiClient()
    if existing is not None:
        await client.create(LEASES, existing)
    elector = new_elector(client, FakeClock(NOW), "a")

    assert await elector.try_acquire_or_renew() is expected_won

    spec = client.objects[LEASE]["spec"]
    assert spec["holderIdentity"] == expected_holder
    assert spec["leaseTransitions"] == expected_transitions
    assert parse_micro_time(spec["acquireTime"]) == pytest.approx(expected_acquire_time)
    if expected_won:
        assert parse_micro_time(spec["renewTime"]) == pytest.approx(NOW)
        assert elector.observed_holder == "a"


async def test_concurrent_takeover_conflicts_and_the_loser_rereads():
    client = FakeApiClient()
    clock = FakeClock(NOW)
    await client.create(LEASES, new_lease(holder="old", renewed=NOW - 60))
    a, b = new_elector(client, clock, "a"), new_elector(client, clock, "b")

    async def b_writes_first() -> None:
        client.after_get = None
        assert await b.try_acquire_or_renew()

    client.after_get = b_writes_first  # b writes between a's read and a's write
    assert await a.try_acquire_or_renew() is False
    assert client.objects[LEASE]["spec"]["holderIdentity"] == "b"
    assert await a.try_acquire_or_renew() is False  # re-read: b's lease is valid
    assert a.observed_holder == "b"
    assert client.objects[LEASE]["spec"]["leaseTransitions"] == 4


async def test_concurrent_creation_only_one_wins():
    client = FakeApiClient()
    clock = FakeClock(NOW)
    a, b = new_elector(client, clock, "a"), new_elector(client, clock, "b")
    results = await asyncio.gather(a.try_acquire_or_renew(), b.try_acquire_or_renew())
    assert sorted(results) == [False, True]


async def wait_forever() -> None:
    await asyncio.Event().wait()


async def test_clean_shutdown_releases_and_standby_takes_over_at_once():
    client = FakeApiClient()
    clock = FakeClock(NOW)
    a, b = new_elector(client, clock, "a"), new_elector(client, clock, "b")
    log: list[str] = []

    async def lead(name: str) -> None:
        log.append(f"{name} started")
        await wait_forever()

    a_run = asyncio.create_task(a.run(lambda: lead("a"), lambda: log.append("a stopped")))
    await until(lambda: a.is_leader)
    b_run = asyncio.create_task(b.run(lambda: lead("b"), lambda: log.append("b stopped")))
    await until(lambda: clock.now > NOW + 20)  # b keeps retrying; a keeps renewing
    assert not b.is_leader

    a_run.cancel()
    await asyncio.gather(a_run, return_exceptions=True)
    await until(lambda: "b started" in log)
    specs = [event.object["spec"] for _, _, event in client.history]
    assert [spec["holderIdentity"] for spec in specs[-3:]] == ["a", "", "b"]  # renewed, released, acquired
    a_last_renewed, b_acquired = parse_micro_time(specs[-3]["renewTime"]), parse_micro_time(specs[-1]["acquireTime"])
    assert b_acquired < a_last_renewed + a.lease_duration  # b did not wait for a's lease to expire
    assert log == ["a started", "a stopped", "b started"]
    assert client.objects[LEASE]["spec"]["leaseTransitions"] == 1
    b_run.cancel()
    await asyncio.gather(b_run, return_exceptions=True)


async def test_renewal_failing_past_deadline_stops_the_work():
    client = FakeApiClient()
    clock = FakeClock(NOW)
    elector = new_elector(client, clock, "a")
    stopped = []
    work_cancelled = asyncio.Event()

    async def lead() -> None:
        try:
            client.fail_next["get"] = [ApiUnavailable("apiserver down")] * 100
            await wait_forever()
        except asyncio.CancelledError:
            work_cancelled.set()
            raise

    await elector.run(lead, lambda: stopped.append(clock.now))
    assert work_cancelled.is_set()
    assert not elector.is_leader
    assert len(stopped) == 1 and stopped[0] - NOW >= elector.renew_deadline


async def test_lease_taken_by_another_stops_at_next_renewal():
    client = FakeApiClient()
    clock = FakeClock(NOW)
    elector = new_elector(client, clock, "a")

    async def lead() -> None:
        stolen = dict(client.objects[LEASE])
        stolen["spec"] = {**stolen["spec"], "holderIdentity": "intruder", "renewTime": format_micro_time(clock.now)}
        await client.update(LEASES, stolen)
        await wait_forever()

    stopped = []
    await elector.run(lead, lambda: stopped.append(clock.now))
    assert stopped == [pytest.approx(NOW + elector.retry_period)]
    assert client.objects[LEASE]["spec"]["holderIdentity"] == "intruder"  # not released: not ours


async def test_work_failure_propagates_and_releases():
    client = FakeApiClient()
    elector = new_elector(client, FakeClock(NOW), "a")

    async def lead() -> None:
        raise RuntimeError("controller crashed")

    with pytest.raises(RuntimeError, match="controller crashed"):
        await elector.run(lead, lambda: None)
    assert client.objects[LEASE]["spec"]["holderIdentity"] == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0.0, "1970-01-01T00:00:00.000000Z", id="epoch"),
        pytest.param(1_700_000_000.25, "2023-11-14T22:13:20.250000Z", id="micro"),
    ],
)
def test_micro_time(seconds, text):
    assert format_micro_time(seconds) == text
    assert parse_micro_time(text) == pytest.approx(seconds)

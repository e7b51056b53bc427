"""Unit tests of orchestrator/kubelet/backoff.py: the crash-loop back-off."""

from __future__ import annotations

import pytest

from orchestrator.kubelet.backoff import CrashLoopBackoff, crash_backoff_key, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_from_each_exit_up_to_the_maximum() -> None:
    clock = Clock()
    backoff = CrashLoopBackoff(clock=clock)
    delays = []
    for _ in range(7):
        backoff.next("k", clock.now)
        delays.append(backoff.get("k"))
        clock.now += backoff.get("k")  # the restart happens when the delay has run out
    assert delays == [10, 20, 40, 80, 160, 300, 300]


def test_in_backoff_until_the_delay_after_the_finish_has_passed() -> None:
    clock = Clock()
    backoff = CrashLoopBackoff(clock=clock)
    assert not backoff.is_in_backoff_since("k", clock.now)  # the first restart is immediate
    backoff.next("k", clock.now)
    finished = clock.now + 1
    clock.now += 5
    assert backoff.is_in_backoff_since("k", finished)
    assert backoff.remaining_seconds("k", finished) == pytest.approx(6)
    clock.now = finished + 10
    assert not backoff.is_in_backoff_since("k", finished)


def test_a_container_that_ran_ten_minutes_starts_over() -> None:
    clock = Clock()
    backoff = CrashLoopBackoff(clock=clock)
    backoff.next("k", clock.now)
    backoff.next("k", clock.now + 15)
    assert backoff.get("k") == 20
    clock.now += 15 + 601
    assert not backoff.is_in_backoff_since("k", clock.now)
    backoff.next("k", clock.now)
    assert backoff.get("k") == 10


def test_gc_and_forget() -> None:
    clock = Clock()
    backoff = CrashLoopBackoff(clock=clock)
    backoff.next("pod_ns_uid_a_h", clock.now)
    backoff.next("other", clock.now)
    backoff.forget_prefix("pod_ns_uid_")
    assert len(backoff) == 1
    clock.now += 601
    backoff.gc()
    assert len(backoff) == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [pytest.param(10, "10s", id="seconds"), pytest.param(80, "1m20s", id="minutes"),
     pytest.param(300, "5m0s", id="five-minutes")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_key_includes_the_spec_hash() -> None:
    key = crash_backoff_key(pod_name="p", pod_namespace="ns", pod_uid="u", container_name="c", spec_hash="h")
    assert key == "p_ns_u_c_h"

"""Unit tests of orchestrator.controllers.expectations: a controller waits for its own writes."""

from __future__ import annotations

from orchestrator.controllers.expectations import EXPECTATIONS_TIMEOUT, Expectations


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_unknown_key_is_satisfied():
    assert Expectations().satisfied("ns/rs")


def test_creations_must_all_be_observed():
    expectations = Expectations(clock=Clock())
    expectations.expect_creations("ns/rs", 2)
    assert not expectations.satisfied("ns/rs")
    expectations.creation_observed("ns/rs")
    assert not expectations.satisfied("ns/rs")
    expectations.creation_observed("ns/rs")
    assert expectations.satisfied("ns/rs")


def test_deletions_are_tracked_by_pod_key():
    expectations = Expectations(clock=Clock())
    expectations.expect_deletions("ns/rs", ["ns/a", "ns/b"])
    expectations.deletion_observed("ns/rs", "ns/other")  # someone else's deletion does not count
    expectations.deletion_observed("ns/rs", "ns/a")
    assert not expectations.satisfied("ns/rs")
    expectations.deletion_observed("ns/rs", "ns/a")  # the same pod twice counts once
    assert not expectations.satisfied("ns/rs")
    expectations.deletion_observed("ns/rs", "ns/b")
    assert expectations.satisfied("ns/rs")


def test_expectations_expire_so_a_lost_event_cannot_block_for_ever():
    clock = Clock()
    expectations = Expectations(clock=clock)
    expectations.expect_creations("ns/rs", 1)
    clock.now += EXPECTATIONS_TIMEOUT + 1
    assert expectations.satisfied("ns/rs")


def test_forget_drops_the_record():
    expectations = Expectations(clock=Clock())
    expectations.expect_creations("ns/rs", 3)
    expectations.forget("ns/rs")
    assert expectations.satisfied("ns/rs")

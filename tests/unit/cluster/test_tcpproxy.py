"""Tests for orchestrator.cluster.tcpproxy: which apiserver a new connection tries first, and the address parser."""

from __future__ import annotations

import pytest

from orchestrator.cluster.tcpproxy import Backend, BackendPicker, parse_address

FIRST, SECOND, THIRD = Backend("apiserver-1", 6443), Backend("apiserver-2", 6443), Backend("apiserver-3", 6443)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def new_picker(clock: FakeClock) -> BackendPicker:
    return BackendPicker(backends=[FIRST, SECOND, THIRD], down_seconds=3.0, clock=clock)


def test_connections_take_turns():
    picker = new_picker(FakeClock())

    firsts = [picker.attempt_order()[0] for _ in range(4)]

    assert firsts == [FIRST, SECOND, THIRD, FIRST]


def test_a_backend_marked_down_is_tried_last_until_its_time_is_up():
    clock = FakeClock()
    picker = new_picker(clock)
    picker.mark_down(FIRST)

    while_down = picker.attempt_order()
    clock.now += 3.5
    picker.attempt_order()
    picker.attempt_order()
    after = picker.attempt_order()

    assert while_down == [SECOND, THIRD, FIRST]
    assert after == [FIRST, SECOND, THIRD]


def test_mark_up_forgets_the_failure():
    picker = new_picker(FakeClock())
    picker.mark_down(SECOND)
    picker.mark_up(SECOND)

    assert not picker.is_down(SECOND)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("apiserver-1:6443", Backend("apiserver-1", 6443), id="name"),
    pytest.param("0.0.0.0:6443", Backend("0.0.0.0", 6443), id="address"),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", [
    pytest.param("apiserver-1", id="no-port"),
    pytest.param(":6443", id="no-host"),
    pytest.param("host:http", id="port-not-a-number"),
    pytest.param("host:70000", id="port-out-of-range"),
])
def test_parse_address_refuses(text):
    with pytest.raises(ValueError, match="host:port"):
        parse_address(text)

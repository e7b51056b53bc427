"""Unit tests of the cron parser (orchestrator.api.cron)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrator.api.cron import ScheduleError, parse_schedule


def at(text: str, zone=UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("spec", "field", "values"),
    [
        pytest.param("*/15 * * * *", "minutes", {0, 15, 30, 45}, id="step"),
        pytest.param("5/20 * * * *", "minutes", {5, 25, 45}, id="start-and-step"),
        pytest.param("0 8-18/2 * * *", "hours", {8, 10, 12, 14, 16, 18}, id="range-and-step"),
        pytest.param("0 1,5,9-10 * * *", "hours", {1, 5, 9, 10}, id="list"),
        pytest.param("0 0 * jan,Jun-aug *", "months", {1, 6, 7, 8}, id="month-names"),
        pytest.param("0 0 * * MON-fri", "days_of_week", {1, 2, 3, 4, 5}, id="day-names"),
        pytest.param("0 0 ? * *", "days_of_month", set(range(1, 32)), id="question-mark"),
    ],
)
def test_fields(spec, field, values):
    assert getattr(parse_schedule(spec), field) == values


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("", "empty spec string", id="empty"),
        pytest.param("* * * *", "expected exactly 5 fields, found 4: [* * * *]", id="four-fields"),
        pytest.param("@fortnightly", "unrecognized descriptor: @fortnightly", id="descriptor"),
        pytest.param("60 * * * *", "end of range (60) above maximum (59): 60", id="minute-too-big"),
        pytest.param("* * 0 * *", "beginning of range (0) below minimum (1): 0", id="day-zero"),
        pytest.param("* * * * 7", "end of range (7) above maximum (6): 7", id="sunday-is-zero"),
        pytest.param("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1", id="backwards"),
        pytest.param("*/0 * * * *", "step of range should be a positive number: */0", id="zero-step"),
        pytest.param("1-2-3 * * * *", "too many hyphens: 1-2-3", id="hyphens"),
        pytest.param("*/2/3 * * * *", "too many slashes: */2/3", id="slashes"),
        pytest.param("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax', id="word"),
    ],
)
def test_errors_read_like_robfig_cron(spec, message):
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(spec)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        pytest.param("*/5 * * * *", "2024-05-01T12:03:20", "2024-05-01T12:05:00", id="every-five-minutes"),
        pytest.param("*/5 * * * *", "2024-05-01T12:05:00", "2024-05-01T12:10:00", id="strictly-after"),
        pytest.param("0 0 * * *", "2024-12-31T23:59:00", "2025-01-01T00:00:00", id="new-year"),
        pytest.param("@hourly", "2024-05-01T12:00:01", "2024-05-01T13:00:00", id="hourly"),
        pytest.param("0 9 * * mon", "2024-05-01T12:00:00", "2024-05-06T09:00:00", id="next-monday"),
        pytest.param("0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00", id="leap-day"),
        pytest.param("0 0 13 * fri", "2024-05-01T00:00:00", "2024-05-03T00:00:00", id="day-fields-or"),
        pytest.param("0 0 */2 * fri", "2024-05-01T00:00:00", "2024-05-03T00:00:00", id="step-is-no-star"),
        pytest.param("0 0 * * fri", "2024-05-01T00:00:00", "2024-05-03T00:00:00", id="star-day-and"),
    ],
)
def test_next_after(spec, after, expected):
    assert parse_schedule(spec).next_after(at(after)) == at(expected)


def test_impossible_schedule_has_no_next_run():
    assert parse_schedule("0 0 30 2 *").next_after(at("2024-01-01T00:00:00")) is None


@pytest.mark.parametrize(
    ("spec", "moment", "expected"),
    [
        pytest.param("*/5 * * * *", "2024-05-01T12:03:20", "2024-05-01T12:00:00", id="earlier-minute"),
        pytest.param("*/5 * * * *", "2024-05-01T12:05:00", "2024-05-01T12:05:00", id="at-the-moment"),
        pytest.param("30 6 1 * *", "2024-05-01T06:00:00", "2024-04-01T06:30:00", id="previous-month"),
        pytest.param("0 0 1 1 *", "2024-05-01T00:00:00", "2024-01-01T00:00:00", id="yearly"),
    ],
)
def test_latest_at_or_before(spec, moment, expected):
    assert parse_schedule(spec).latest_at_or_before(at(moment)) == at(expected)


def test_schedules_run_in_wall_clock_time_of_their_zone():
    berlin = ZoneInfo("Europe/Berlin")
    next_run = parse_schedule("0 9 * * *").next_after(at("2024-05-01T08:30:00", UTC).astimezone(berlin))
    assert next_run == at("2024-05-02T09:00:00", berlin)
    assert next_run.astimezone(UTC) == at("2024-05-02T07:00:00", UTC)

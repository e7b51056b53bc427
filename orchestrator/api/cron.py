"""Cron schedules: parsing the five-field syntax CronJobs use, and finding the next and previous run.

Follows github.com/robfig/cron/v3's ParseStandard, which Kubernetes uses both to validate
`spec.schedule` (its error texts are what `kubectl apply` shows) and to run it:

    ┌ minute (0-59)  ┌ hour (0-23)  ┌ day of month (1-31)  ┌ month (1-12 or jan-dec)  ┌ day of week (0-6 or sun-sat)
    *                *              *                      *                          *

Each field is `*` (or `?`), a value, a range `a-b`, any of these with a step (`*/15`,
`8-18/2`, `5/10` meaning `5-max/10`), or a comma-separated list of them. `@yearly`
(`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` stand for their
five-field forms. As in cron, when both day fields are restricted a day matching either one
matches; when either is `*` both must match.

Times are minutes of wall-clock time in a time zone (`zoneinfo`); `next_after` and
`latest_at_or_before` walk month by month, day by day, hour by hour, so an impossible schedule
(`0 0 30 2 *`) ends after a bounded search instead of looping. Used by the CronJob controller
(controllers/cronjob/plan.py) and the apiserver's CronJob validation (strategies/batch.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

_MONTH_NAMES = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_NAMES = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# A schedule that matches nothing within this many years matches nothing at all (robfig gives up after 5).
SEARCH_YEARS = 5


class ScheduleError(ValueError):
    """A schedule that does not parse; the message is robfig/cron's."""


@dataclass(frozen=True)
class _Bounds:
    minimum: int
    maximum: int
    names: dict[str, int]


_FIELDS = (
    _Bounds(0, 59, {}),  # minute
    _Bounds(0, 23, {}),  # hour
    _Bounds(1, 31, {}),  # day of month
    _Bounds(1, 12, _MONTH_NAMES),  # month
    _Bounds(0, 6, _DAY_NAMES),  # day of week (robfig/cron, unlike some crons, refuses 7)
)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the allowed values of each field, and whether a day field was `*`."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_of_month_star: bool
    day_of_week_star: bool

    def matches_day(self, moment: datetime) -> bool:
        day_of_month = moment.day in self.days_of_month
        day_of_week = (moment.isoweekday() % 7) in self.days_of_week
        if self.day_of_month_star or self.day_of_week_star:
            return day_of_month and day_of_week
        return day_of_month or day_of_week

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after `moment` (aware; the answer is in its zone), or None."""
        zone = moment.tzinfo
        wall = moment.replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        limit = wall.year + SEARCH_YEARS
        while wall.year <= limit:
            if wall.month not in self.months:
                wall = _first_of_next_month(wall)
            elif not self.matches_day(wall):
                wall = wall.replace(hour=0, minute=0) + timedelta(days=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=0) + timedelta(hours=1)
            elif wall.minute not in self.minutes:
                wall += timedelta(minutes=1)
            else:
                return _localize(wall, zone)
        return None

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last matching minute at or before `moment` (aware; the answer is in its zone), or None."""
        zone = moment.tzinfo
        wall = moment.replace(tzinfo=None, second=0, microsecond=0)
        limit = wall.year - SEARCH_YEARS
        while wall.year >= limit:
            if wall.month not in self.months:
                wall = wall.replace(day=1, hour=0, minute=0) - timedelta(minutes=1)
            elif not self.matches_day(wall):
                wall = wall.replace(hour=0, minute=0) - timedelta(minutes=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=0) - timedelta(minutes=1)
            elif wall.minute not in self.minutes:
                wall -= timedelta(minutes=1)
            else:
                return _localize(wall, zone)
        return None


def _first_of_next_month(wall: datetime) -> datetime:
    if wall.month == 12:
        return wall.replace(year=wall.year + 1, month=1, day=1, hour=0, minute=0)
    return wall.replace(month=wall.month + 1, day=1, hour=0, minute=0)


def _localize(wall: datetime, zone: tzinfo | None) -> datetime:
    return wall.replace(tzinfo=zone)


def parse_schedule(text: str) -> Schedule:
    """ParseStandard: five fields or a descriptor; raises ScheduleError with robfig/cron's message."""
    spec = text.strip()
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_parse_field(field, bounds) for field, bounds in zip(fields, _FIELDS, strict=True)]
    (minutes, _), (hours, _), (days_of_month, dom_star), (months, _), (days_of_week, dow_star) = parsed
    return Schedule(minutes, hours, days_of_month, months, days_of_week, dom_star, dow_star)


def _parse_field(field: str, bounds: _Bounds) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expression in field.split(","):
        expression_values, expression_star = _parse_range(expression, bounds)
        values |= expression_values
        star = star or expression_star
    return frozenset(values), star


def _parse_range(expression: str, bounds: _Bounds) -> tuple[set[int], bool]:
    """getRange: `*`, `n`, `a-b`, each optionally `/step`."""
    range_and_step = expression.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = bounds.minimum, bounds.maximum, True
    else:
        start = _parse_value(low_and_high[0], bounds)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_value(low_and_high[1], bounds)
        else:
            raise ScheduleError(f"too many hyphens: {expression}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if single:
            end = bounds.maximum  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    else:
        raise ScheduleError(f"too many slashes: {expression}")
    if start < bounds.minimum:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({bounds.minimum}): {expression}")
    if end > bounds.maximum:
        raise ScheduleError(f"end of range ({end}) above maximum ({bounds.maximum}): {expression}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expression}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expression}")
    return set(range(start, end + 1, step)), star


def _parse_value(text: str, bounds: _Bounds) -> int:
    named = bounds.names.get(text.lower())
    return named if named is not None else _parse_int(text)


def _parse_int(text: str) -> int:
    """mustParseInt: a non-negative decimal, with strconv.Atoi's complaint otherwise."""
    try:
        number = int(text, 10)
    except ValueError:
        raise ScheduleError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax') from None
    if number < 0:
        raise ScheduleError(f"negative number ({number}) not allowed: {text}")
    return number

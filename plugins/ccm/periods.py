"""Periods: half-open UTC intervals at a control's frequency.

A run finalises every period whose end falls inside its data interval, so a daily run
closes one daily period (and a monthly one on the first of the month), and a long
backfill interval closes every period in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ccm.constants import Frequency
from ccm.errors import ConfigError


@dataclass(frozen=True, order=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("periods are timezone-aware UTC")
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start} .. {self.end}")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m-%d")

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def as_utc(value: datetime | date | str) -> datetime:
    """Normalise a date, datetime or ISO string (also pendulum) to an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
            moment.microsecond, tzinfo=UTC,
        )
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def period_start_for(moment: datetime, frequency: Frequency) -> datetime:
    """Start of the period of `frequency` containing `moment`."""
    moment = as_utc(moment)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    match frequency:
        case Frequency.DAILY:
            return day
        case Frequency.WEEKLY:  # ISO weeks start on Monday
            return day - timedelta(days=day.weekday())
        case Frequency.MONTHLY:
            return day.replace(day=1)
        case Frequency.QUARTERLY:
            return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        case Frequency.ANNUAL:
            return day.replace(month=1, day=1)
    raise ConfigError(f"unknown frequency {frequency!r}")


def next_period_start(start: datetime, frequency: Frequency) -> datetime:
    match frequency:
        case Frequency.DAILY:
            return start + timedelta(days=1)
        case Frequency.WEEKLY:
            return start + timedelta(days=7)
        case Frequency.MONTHLY:
            return _add_months(start, 1)
        case Frequency.QUARTERLY:
            return _add_months(start, 3)
        case Frequency.ANNUAL:
            return start.replace(year=start.year + 1)
    raise ConfigError(f"unknown frequency {frequency!r}")


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1, day=1)


def period_containing(moment: datetime, frequency: Frequency) -> Period:
    start = period_start_for(moment, frequency)
    return Period(start, next_period_start(start, frequency))


def periods_closing_in(interval_start: datetime, interval_end: datetime, frequency: Frequency) -> list[Period]:
    """Every period whose end lies in (interval_start, interval_end]."""
    interval_start, interval_end = as_utc(interval_start), as_utc(interval_end)
    if interval_end <= interval_start:
        return []
    periods: list[Period] = []
    # the first candidate is the period that contains the instant just after interval_start
    start = period_start_for(interval_start, frequency)
    while True:
        end = next_period_start(start, frequency)
        if end > interval_end:
            break
        if end > interval_start:
            periods.append(Period(start, end))
        start = end
    return periods


def iter_days(start: datetime, end: datetime) -> Iterator[datetime]:
    """Midnights of every UTC day that overlaps [start, end)."""
    day = period_start_for(start, Frequency.DAILY)
    while day < end:
        yield day
        day += timedelta(days=1)

"""The answer key's own rules for periods and exceptions, written apart from the engine's.

The key must not agree with the pipeline merely because both call the same code: a bug in
when an exception applies (a boundary, a control list) or in where a period ends would
then agree with itself. So the key reads `exceptions.yml` itself and counts calendars
itself, in a different formulation: an exception applies to a period when the period's
*last day* lies between the approval day and the expiry day, both included; periods are
enumerated by stepping whole calendar units from a fixed origin. `ccm.periods.Period` is
used only as the value the oracles take (start and end), none of its logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from ccm.periods import Period

# months per period for the calendar-month frequencies; days per period for the others
_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
_DAYS = {"daily": 1, "weekly": 7}
# a Monday long before any window: weekly periods are whole weeks counted from it
_WEEK_ORIGIN = date(2000, 1, 3)


@dataclass(frozen=True)
class KeyException:
    """The key's reading of one approved exception."""

    exception_id: str
    control_id: str
    entity_id: str
    first_day: date
    last_day: date

    def applies(self, control_id: str, entity_id: str, period: Period) -> bool:
        closing_day = (period.end - timedelta(microseconds=1)).date()  # the period's last day
        return (control_id == self.control_id and entity_id == self.entity_id
                and self.first_day <= closing_day <= self.last_day)


def read_key_exceptions(path: Path) -> list[KeyException]:
    """Every exception in `exceptions.yml` (one control and one entity each)."""
    document = yaml.safe_load(Path(path).read_text()) if Path(path).exists() else None
    exceptions = []
    for entry in (document or {}).get("exceptions") or []:
        exceptions.append(KeyException(
            exception_id=str(entry["exception_id"]),
            control_id=str(entry["control_id"]),
            entity_id=str(entry["entity_id"]),
            first_day=_day(entry["approved_on"]),
            last_day=_day(entry["expires_on"]),
        ))
    return exceptions


def covering_exception(exceptions: list[KeyException], control_id: str, entity_id: str,
                       period: Period) -> str | None:
    """The id of the first exception (in file order) that applies, else None."""
    return next((e.exception_id for e in exceptions if e.applies(control_id, entity_id, period)), None)


def key_periods(window_start: date, window_end: date, frequency: str) -> list[Period]:
    """Every period of `frequency` whose last day lies in [window_start, window_end)."""
    periods = []
    start = _first_start_on_or_before(window_start, frequency)
    while True:
        end = _step(start, frequency)
        last_day = end - timedelta(days=1)
        if last_day >= window_end:
            return periods
        if last_day >= window_start:
            periods.append(Period(_midnight(start), _midnight(end)))
        start = end


def _first_start_on_or_before(day: date, frequency: str) -> date:
    if frequency in _DAYS:
        whole = (day - _WEEK_ORIGIN).days // _DAYS[frequency]
        return _WEEK_ORIGIN + timedelta(days=whole * _DAYS[frequency])
    months = _MONTHS[frequency]
    month_index = (day.year * 12 + day.month - 1) // months * months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _step(start: date, frequency: str) -> date:
    if frequency in _DAYS:
        return start + timedelta(days=_DAYS[frequency])
    month_index = start.year * 12 + start.month - 1 + _MONTHS[frequency]
    return date(month_index // 12, month_index % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day(value: object) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))

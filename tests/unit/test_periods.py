from datetime import UTC, datetime

import pytest

from ccm.constants import Frequency
from ccm.periods import Period, period_containing, periods_closing_in


def d(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("frequency", "moment", "start", "end"), [
    (Frequency.DAILY, d(2025, 10, 1, 13), d(2025, 10, 1), d(2025, 10, 2)),
    (Frequency.WEEKLY, d(2025, 10, 1, 13), d(2025, 9, 29), d(2025, 10, 6)),  # ISO weeks start on Monday
    (Frequency.MONTHLY, d(2025, 12, 31, 23), d(2025, 12, 1), d(2026, 1, 1)),
    (Frequency.QUARTERLY, d(2025, 11, 15), d(2025, 10, 1), d(2026, 1, 1)),
    (Frequency.ANNUAL, d(2025, 2, 28), d(2025, 1, 1), d(2026, 1, 1)),
])
def test_period_containing(frequency, moment, start, end):
    assert period_containing(moment, frequency) == Period(start, end)


def test_a_daily_run_closes_one_day_and_the_month_on_the_first():
    assert periods_closing_in(d(2025, 10, 5), d(2025, 10, 6), Frequency.DAILY) == [Period(d(2025, 10, 5), d(2025, 10, 6))]
    assert periods_closing_in(d(2025, 10, 5), d(2025, 10, 6), Frequency.MONTHLY) == []
    assert periods_closing_in(d(2025, 10, 31), d(2025, 11, 1), Frequency.MONTHLY) == [Period(d(2025, 10, 1), d(2025, 11, 1))]


def test_a_long_interval_closes_every_period_in_it():
    months = periods_closing_in(d(2025, 10, 1), d(2026, 4, 1), Frequency.MONTHLY)
    assert [p.start.month for p in months] == [10, 11, 12, 1, 2, 3]
    quarters = periods_closing_in(d(2025, 10, 1), d(2026, 4, 1), Frequency.QUARTERLY)
    assert [(p.start, p.end) for p in quarters] == [(d(2025, 10, 1), d(2026, 1, 1)), (d(2026, 1, 1), d(2026, 4, 1))]
    assert len(periods_closing_in(d(2025, 10, 1), d(2026, 4, 1), Frequency.DAILY)) == 182


def test_a_period_that_closed_before_the_interval_is_not_closed_by_it():
    assert periods_closing_in(d(2025, 11, 1), d(2025, 11, 2), Frequency.MONTHLY) == []


def test_periods_are_half_open_and_utc():
    period = Period(d(2025, 10, 1), d(2025, 10, 2))
    assert period.contains(d(2025, 10, 1)) and not period.contains(d(2025, 10, 2))
    with pytest.raises(ValueError):
        Period(datetime(2025, 10, 1), datetime(2025, 10, 2))

"""The answer key is a strict judge with rules of its own.

The comparison must report every way a result can be wrong (status, failing entities,
which exception excepted which entity, a result the key does not expect, a missing one),
and the key's rules for exceptions and periods, written apart from the engine's, must
agree with the engine's at every edge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from ccm.constants import Frequency
from ccm.controls.exceptions import load_exceptions
from ccm.periods import Period, periods_closing_in
from ccm_demo.key_rules import covering_exception, key_periods, read_key_exceptions
from ccm_demo.verify import compare_results

OCT = Period(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
NOV = Period(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))
CLOSED_BY = datetime(2025, 12, 1, tzinfo=UTC)


def _key() -> dict:
    return {
        ("iam_okta_mfa", "2025-10-01"): {"status": "excepted", "failing": {"u1"}, "excepted": {"u1": "EXC-1"}},
        ("iam_okta_mfa", "2025-11-01"): {"status": "fail", "failing": {"u1", "u2"}, "excepted": {"u1": "EXC-1"}},
        ("hr_background_checks", "2025-10-01"): {"status": "pass", "failing": set(), "excepted": {}},
    }


def _row(control_id: str, period: Period, status: str, failing=(), excepted=(), exception_ids=()) -> dict:
    return {"control_id": control_id, "period": period.label, "period_end": period.end, "status": status,
            "failing_entity_ids": list(failing), "excepted_entity_ids": list(excepted),
            "exception_ids": list(exception_ids), "reason": None}


def _right_rows() -> list[dict]:
    return [_row("iam_okta_mfa", OCT, "excepted", ["u1"], ["u1"], ["EXC-1"]),
            _row("iam_okta_mfa", NOV, "fail", ["u1", "u2"], ["u1"], ["EXC-1"]),
            _row("hr_background_checks", OCT, "pass")]


CONTROLS = {"iam_okta_mfa", "hr_background_checks"}


def test_results_equal_to_the_key_match():
    assert compare_results(_key(), _right_rows(), CONTROLS, CLOSED_BY) == (3, [])


@pytest.mark.parametrize(("wrong", "expect_in_detail"), [
    (lambda rows: rows[2].update(status="fail"), "same entities"),  # a wrong status
    (lambda rows: rows[1]["failing_entity_ids"].append("u3"), "failing"),  # one extra failing entity
    (lambda rows: rows[1].update(excepted_entity_ids=["u2"]), "excepted"),  # exception on the wrong entity
    (lambda rows: rows[0].update(exception_ids=["EXC-9"]), "excepted"),  # excepted by the wrong exception
    (lambda rows: rows.pop(1), "no result"),  # a missing period
    (lambda rows: rows.append(_row("hr_background_checks", NOV, "pass")), "has no such"),  # a result not in the key
])
def test_each_kind_of_wrong_result_is_reported(wrong, expect_in_detail):
    rows = _right_rows()
    wrong(rows)
    _, mismatches = compare_results(_key(), rows, CONTROLS, CLOSED_BY)
    assert len(mismatches) == 1, mismatches
    assert expect_in_detail in mismatches[0].detail


def test_periods_closing_after_the_compared_days_are_not_compared():
    rows = [r for r in _right_rows() if r["period"] != NOV.label]
    compared, mismatches = compare_results(_key(), rows, CONTROLS, NOV.start)
    assert (compared, mismatches) == (2, [])


# the key's exception rules ----------------------------------------------------------------

def _exceptions(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "exceptions.yml"
    base = {"reason": "r", "approved_by": "CISO", "ticket": "SEC-1"}
    path.write_text(yaml.safe_dump({"exceptions": [{**base, **e} for e in entries]}))
    return path


EDGES = [
    # expires on the period's last day: still in force when it closes
    ({"expires_on": "2025-10-31", "approved_on": "2025-09-01"}, OCT, True),
    # expired the day before the period's last day
    ({"expires_on": "2025-10-30", "approved_on": "2025-09-01"}, OCT, False),
    # expires exactly at the boundary of the next period: does not reach November's close
    ({"expires_on": "2025-10-31", "approved_on": "2025-09-01"}, NOV, False),
    # approved mid-period: in force at the close, so it covers the period
    ({"expires_on": "2025-12-31", "approved_on": "2025-10-15"}, OCT, True),
    # approved on the period's last day
    ({"expires_on": "2025-12-31", "approved_on": "2025-10-31"}, OCT, True),
    # approved after the period closed: never covered it
    ({"expires_on": "2025-12-31", "approved_on": "2025-11-01"}, OCT, False),
    # long expired
    ({"expires_on": "2025-01-31", "approved_on": "2025-01-01"}, OCT, False),
]


@pytest.mark.parametrize(("dates", "period", "covers"), EDGES)
def test_the_key_and_the_engine_agree_at_every_exception_edge(tmp_path, dates, period, covers):
    path = _exceptions(tmp_path, {"exception_id": "EXC-1", "control_id": "iam_okta_mfa", "entity_id": "u1", **dates})
    key_says = covering_exception(read_key_exceptions(path), "iam_okta_mfa", "u1", period)
    engine_says = load_exceptions(path).covering("iam_okta_mfa", "u1", period)
    assert (key_says == "EXC-1") is covers
    assert (engine_says is not None) is covers


def test_an_exception_covers_only_its_own_control_and_entity(tmp_path):
    path = _exceptions(
        tmp_path,
        {"exception_id": "EXC-1", "control_id": "iam_okta_mfa", "entity_id": "u1",
         "approved_on": "2025-10-01", "expires_on": "2025-12-31"},
        {"exception_id": "EXC-2", "control_id": "iam_google_2sv", "entity_id": "u1",
         "approved_on": "2025-10-01", "expires_on": "2025-12-31"},
    )
    exceptions = read_key_exceptions(path)
    assert covering_exception(exceptions, "iam_okta_mfa", "u1", OCT) == "EXC-1"
    assert covering_exception(exceptions, "iam_google_2sv", "u1", OCT) == "EXC-2"
    assert covering_exception(exceptions, "iam_okta_mfa", "u2", OCT) is None
    assert covering_exception(exceptions, "hr_background_checks", "u1", OCT) is None


# the key's calendar -----------------------------------------------------------------------

@pytest.mark.parametrize("frequency", list(Frequency))
def test_the_key_and_the_engine_enumerate_the_same_periods(frequency):
    for offset in range(0, 800, 13):
        first = date(2024, 11, 20) + timedelta(days=offset)
        for length in (1, 6, 7, 30, 31, 92, 366):
            start = datetime(first.year, first.month, first.day, tzinfo=UTC)
            expected = periods_closing_in(start, start + timedelta(days=length), frequency)
            assert key_periods(first, first + timedelta(days=length), frequency.value) == expected, \
                (frequency, first, length)


def test_the_key_calendar_at_its_edges():
    # a quarter that began before the window but closes in it belongs to the window
    assert key_periods(date(2025, 12, 20), date(2026, 1, 2), "quarterly") == [
        Period(datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))]
    # weeks are ISO weeks (Monday to Sunday)
    (week,) = key_periods(date(2025, 10, 6), date(2025, 10, 13), "weekly")
    assert week.start.weekday() == 0 and (week.end - week.start).days == 7
    # a leap year's February
    (february,) = key_periods(date(2024, 2, 29), date(2024, 3, 1), "monthly")
    assert (february.end - february.start).days == 29

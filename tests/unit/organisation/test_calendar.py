"""The calendar measures the suites judge agree between the dbt macros and the oracles.

The populations compute business days and whole months in SQL (dbt/macros/calendar.sql);
the answer key computes them in Python. Rendering the macros and running them in DuckDB
over many date pairs shows both mean the same thing, edge cases included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import jinja2
import pytest

from ccm_demo.oracles.organisation import whole_months_between
from ccm_demo.world.grc import business_days_between
from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def macros():
    source = (PROJECT_DIR / "dbt" / "macros" / "calendar.sql").read_text()
    return jinja2.Environment().from_string(source).module


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


def test_business_days_are_weekdays_after_the_start_up_to_the_end():
    friday = date(2025, 11, 28)
    assert business_days_between(friday, friday) == 0
    assert business_days_between(friday, date(2025, 11, 30)) == 0  # the weekend
    assert business_days_between(friday, date(2025, 12, 5)) == 5  # Friday to Friday
    assert business_days_between(friday, date(2025, 11, 20)) == 0  # end before start


def test_whole_months_count_only_completed_months():
    close = datetime(2026, 1, 1, tzinfo=UTC)
    assert whole_months_between(date(2025, 1, 1), close) == 12
    assert whole_months_between(date(2025, 1, 2), close) == 11
    assert whole_months_between(datetime(2024, 12, 31, 23, 59, tzinfo=UTC), close) == 12
    assert whole_months_between(datetime(2025, 1, 1, 0, 1, tzinfo=UTC), close) == 11


def test_sql_business_days_match_the_oracle(macros, con):
    pairs = [(date(2025, 9, 1) + timedelta(days=a), date(2025, 9, 1) + timedelta(days=a + b))
             for a in range(0, 60, 3) for b in range(-3, 25)]
    expression = str(macros.business_days_between("s", "e"))
    got = con.execute(f"select s, e, {expression} from (select unnest(?) as s, unnest(?) as e)",
                      [[p[0] for p in pairs], [p[1] for p in pairs]]).fetchall()
    assert [(s, e, n) for s, e, n in got if n != business_days_between(s, e)] == []
    assert len(got) == len(pairs)


def test_sql_whole_months_match_the_oracle(macros, con):
    earlier = [datetime(2024, 1, 31, 12, tzinfo=UTC) + timedelta(days=d, hours=h) for d in range(0, 700, 11)
               for h in (0, 13)]
    later = [datetime(2025, m, 1, tzinfo=UTC) for m in range(1, 13)] + [datetime(2026, 1, 1, tzinfo=UTC),
                                                                         datetime(2025, 3, 31, 8, tzinfo=UTC)]
    pairs = [(a, b) for a in earlier for b in later]
    expression = str(macros.whole_months_between("a", "b"))
    got = con.execute(f"select a, b, {expression} from (select unnest(?::timestamptz[]) as a, "
                      f"unnest(?::timestamptz[]) as b)", [[p[0] for p in pairs], [p[1] for p in pairs]]).fetchall()
    assert [(a, b, n) for a, b, n in got if n != whole_months_between(a, b)] == []
    mixed = macros.whole_months_between("DATE '2024-11-05'", "TIMESTAMPTZ '2026-01-01 00:00:00+00'")
    assert con.execute(f"select {mixed}").fetchone()[0] == 13
    assert whole_months_between(date(2024, 11, 5), datetime(2026, 1, 1, tzinfo=UTC)) == 13

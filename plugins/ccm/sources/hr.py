"""HR: the employee roster, from the HRIS's daily export in the inbox.

`<inbox>/hr/employees/employees_YYYY-MM-DD.csv` is the roster as of the end of that day:
everyone employed, pre-boarding or terminated (with the termination moment in UTC).
It is the authoritative list of people for every control that asks "who works here",
"who joined" and "who left". A snapshot dataset: each day's export is one observation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.inbox import Inbox, export_day, export_for, read_records

SOURCE = "hr"
CONN_ID = None  # exports arrive in the inbox (Settings.inbox_uri); no credentials

EMPLOYEES = Dataset(
    source=SOURCE,
    name="employees",
    kind=DatasetKind.SNAPSHOT,
    description="The HRIS roster export: one row per person employed, joining or gone.",
    key_columns=("employee_id",),
    columns=(
        Column("employee_id", "employee_id", required=True),
        Column("first_name", "first_name"),
        Column("last_name", "last_name"),
        Column("email", "work_email", required=True),
        Column("department", "department"),
        Column("title", "job_title"),
        Column("manager_id", "manager_employee_id"),
        Column("employment_type", "employment_type", required=True),
        Column("status", "employment_status", required=True),
        Column("hire_date", "hire_date", ColumnType.DATE, required=True),
        Column("termination_at", "termination_datetime", ColumnType.TIMESTAMP),
    ),
)

DATASETS = (EMPLOYEES,)


def make_client(connection: Any, settings: Any, **_overrides: Any) -> Inbox:
    return Inbox(settings.inbox_uri, settings.s3_endpoint_url)


def fetch_employees(inbox: Inbox):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        export = export_for(inbox, SOURCE, "hr/employees", export_day(interval.end))
        yield from read_records(inbox, export, fetch_log, SOURCE)

    return fetch


FETCHERS = {EMPLOYEES.name: fetch_employees}

"""HR: the employee roster, from the HRIS's daily export in the inbox.

`<inbox>/hr/employees/employees_YYYY-MM-DD.csv` is the roster as of the end of that day:
everyone employed, pre-boarding or terminated (with the termination moment in UTC).
It is the authoritative list of people for every control that asks "who works here",
"who joined" and "who left". A snapshot dataset: each day's export is one observation.
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.sources.exports.daily import export_family

SOURCE = "hr"

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

FAMILY = export_family(SOURCE, DATASETS, {EMPLOYEES.name: "csv"})

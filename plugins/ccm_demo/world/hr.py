"""HR exports: the daily roster the HRIS drops in the inbox after each day closes.

The export for day D lists everyone hired by D + 14 days (pre-boarding included) and not
terminated more than 400 days before D; terminations appear once effective. It is
delivered at D+1 00:30 UTC, an hour before the demo's daily run. One export, for the
last day of November, is never delivered: HR-based controls cannot be tested for
November, and say why.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 5
EXPORT_DIR = "hr/employees"
DELIVERY_DELAY = timedelta(minutes=30)
COLUMNS = ["employee_id", "first_name", "last_name", "work_email", "department", "job_title",
           "manager_employee_id", "employment_type", "employment_status", "hire_date", "termination_datetime"]


def status_on(person: Person, day_end: datetime) -> str | None:
    """Employment status in the export describing the day that ends at `day_end`."""
    if person.termination_at is not None and person.termination_at < day_end:
        return "Terminated" if day_end - person.termination_at <= timedelta(days=400) else None
    if person.start_at < day_end:
        return "Active"
    if person.start_at < day_end + timedelta(days=14):
        return "Pending"
    return None


def roster_csv(people: list[Person], day_end: datetime) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in sorted(people, key=lambda p: p.employee_id):
        status = status_on(person, day_end)
        if status is None:
            continue
        terminated = person.termination_at if status == "Terminated" else None
        writer.writerow({
            "employee_id": person.employee_id, "first_name": person.first_name, "last_name": person.last_name,
            "work_email": person.email, "department": person.department, "job_title": person.title,
            "manager_employee_id": person.manager_id or "", "employment_type": person.employment_type,
            "employment_status": status, "hire_date": person.hire_date.isoformat(),
            "termination_datetime": terminated.strftime("%Y-%m-%dT%H:%M:%SZ") if terminated else "",
        })
    return out.getvalue().encode()


def missing_export_days(ctx_spec) -> set[datetime]:
    """Days whose export never arrives: the last day of November, if the window has it."""
    start = ctx_spec.window_start
    missing = set()
    for offset in range(ctx_spec.days):
        day = start + timedelta(days=offset)
        if day.month == 11 and (day + timedelta(days=1)).month == 12:
            missing.add(day)
    return missing


def generate(ctx: WorldContext) -> None:
    missing = missing_export_days(ctx.spec)
    for offset in range(ctx.spec.days):
        day = ctx.spec.window_start + timedelta(days=offset)
        if day in missing:
            continue
        day_end = day + timedelta(days=1)
        ctx.add_export(f"{EXPORT_DIR}/employees_{day:%Y-%m-%d}.csv", roster_csv(ctx.people, day_end),
                       day_end + DELIVERY_DELAY)

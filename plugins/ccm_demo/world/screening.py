"""Background checks: the screening vendor's reports, ordered by HR for every hire.

World form (`world/screening_checks.json`): one document per check (report) with when it
was ordered, completed, cancelled or adjudicated. `check_at` renders the vendor's report
row as of any moment. The vendor knows the HR employee id as the check's `custom_id`.

Baseline: HR orders the check 20-35 days before the start date and it completes 2-9
days later, always at least a day before the start; a few results are "consider" and
were adjudicated ("engaged") before the offer was confirmed; a few checks were
cancelled and re-ordered; a few candidates withdrew (their checks name employee ids HR
never used). Planted (monthly control org_background_checks), on hires in the window:

- an October hire whose check completed three days after the start date;
- a hire whose exception (start under supervision) expired before the check completed;
- two hires covered by exceptions until their checks completed;
- a hire whose check was still pending when the month closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm.constants import Frequency
from ccm.periods import Period, periods_closing_in
from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for
from ccm_demo.world.hr import missing_export_days
from ccm_demo.world.org_exports import (
    SCREENING_DELAY,
    at_work,
    publish_csv_register,
    work_minute,
)
from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext
    from ccm_demo.world.seeds import Seeds

ORDER = 30
CHECKS_FILE = "world/screening_checks.json"
EXPORT_DIR = "grc/background_checks"
CONTROL_ID = "org_background_checks"
COLUMNS = ["report_id", "candidate_id", "custom_id", "candidate_email", "package", "status", "result",
           "adjudication", "created_at", "completed_at"]


def _check(person_id: str, email: str, package: str, created: datetime, completed: datetime | None,
           result: str | None, adjudicated: datetime | None = None, canceled: datetime | None = None) -> dict[str, Any]:
    return {"custom_id": person_id, "email": email, "package": package, "created_at": iso(created, millis=False),
            "completed_at": iso(completed, millis=False) if completed else None, "result": result,
            "adjudication": "engaged" if adjudicated else None,
            "adjudicated_at": iso(adjudicated, millis=False) if adjudicated else None,
            "canceled_at": iso(canceled, millis=False) if canceled else None}


def _testable_months(spec: DemoSpec) -> list[Period]:
    """Months of the window whose close the HR roster was exported for (others are not_tested)."""
    missing = {d.date() for d in missing_export_days(spec)}
    return [p for p in periods_closing_in(spec.window_start, spec.window_end, Frequency.MONTHLY)
            if (p.end - timedelta(days=1)).date() not in missing]


def _seed_plan(spec: DemoSpec, people: list[Person], seeds: Seeds) -> dict[str, tuple[int, int]]:
    """{employee_id: (days check ordered before start, days completed after start)} for planted hires.

    Roles go to hires in the window's testable months (by preference: the first month gets
    the plain failure, the last stays clean when there are enough hires); exceptions need a
    start by the 25th so a short exception can expire before the month closes.
    """
    months = _testable_months(spec)
    hires = sorted((p for p in people if spec.window_start <= p.start_at < spec.window_end),
                   key=lambda p: (p.start_at, p.employee_id))
    used: set[str] = set()

    def pick(month_indexes: tuple[int, ...], latest_day: int = 31) -> Person | None:
        """The first unused hire in the first of the preferred months that has one."""
        for month_index in month_indexes:
            if month_index >= len(months):
                continue
            for person in hires:
                if (person.employee_id not in used and months[month_index].contains(person.start_at)
                        and person.start_at.day <= latest_day):
                    used.add(person.employee_id)
                    return person
        return None

    plan: dict[str, tuple[int, int]] = {}
    late = pick((0, 1, 2))
    if late:
        plan[late.employee_id] = (5, 3)
    expired = pick((1, 2, 0), latest_day=25)
    if expired:
        plan[expired.employee_id] = (4, 6)
        seeds.add_exception(CONTROL_ID, expired.employee_id, "Start approved under supervision while the "
                            "criminal-record search is delayed at the county court",
                            expired.start_at - timedelta(days=3), expired.start_at + timedelta(days=2))
    for preferred in ((1, 2, 0), (3, 4)):
        covered = pick(preferred, latest_day=25)
        if covered:
            plan[covered.employee_id] = (3, 10)
            seeds.add_exception(CONTROL_ID, covered.employee_id, "Start approved without production access "
                                "until the check completes (international education verification)",
                                covered.start_at - timedelta(days=2), covered.start_at + timedelta(days=45))
    pending = pick((2, 1))
    if pending:
        plan[pending.employee_id] = (2, 50)
    return plan


def generate_checks(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "screening")
    plan = _seed_plan(spec, people, seeds)
    horizon = spec.window_end + timedelta(days=60)
    docs = []
    for person in people:
        minute = work_minute(rng)
        package = "executive" if person.title.startswith(("Head of", "Chief")) else "standard"
        if person.employee_id in plan:
            before, after = plan[person.employee_id]
            created = at_work(person.start_at - timedelta(days=before), minute)
            completed = at_work(person.start_at + timedelta(days=after), minute)
            docs.append(_check(person.employee_id, person.email, package, created,
                               completed if completed < horizon else None, "clear"))
            continue
        created = at_work(person.start_at - timedelta(days=rng.randint(20, 35)), minute)
        if rng.random() < 0.04:  # ordered with a typo in the name, cancelled, re-ordered
            docs.append(_check(person.employee_id, person.email, package, created, None, None,
                               canceled=created + timedelta(hours=20)))
            created += timedelta(days=1)
        completed = at_work(created + timedelta(days=rng.randint(2, 9)), minute)
        latest = person.start_at.replace(hour=0, minute=0) - timedelta(days=1)
        completed = min(completed, latest.replace(hour=17))
        adjudicated = completed + timedelta(days=1) if rng.random() < 0.05 else None
        if adjudicated is not None and adjudicated >= person.start_at:
            adjudicated = None
        docs.append(_check(person.employee_id, person.email, package, created, completed,
                           "consider" if adjudicated else "clear", adjudicated))
    for number in range(max(2, len(people) // 40)):  # candidates who withdrew after the check
        created = at_work(spec.window_start + timedelta(days=rng.randint(-200, spec.days - 10)), 600)
        docs.append(_check(f"E9{number:03d}", f"candidate{number}@mail.example", "standard", created,
                           created + timedelta(days=4), "clear"))
    docs.sort(key=lambda d: (d["created_at"], d["custom_id"]))
    for number, doc in enumerate(docs, start=1):
        doc["report_id"] = f"rpt_{number:06d}"
        doc["candidate_id"] = f"cand_{(number * 7919) % 1000003:07d}"
    return docs


# state as of a moment ------------------------------------------------------------------

def check_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The vendor's report row as of `moment` (None: not ordered yet)."""
    if parse(doc["created_at"]) >= moment:
        return None
    completed = doc["completed_at"] and parse(doc["completed_at"]) < moment
    canceled = doc["canceled_at"] and parse(doc["canceled_at"]) < moment
    adjudicated = doc["adjudicated_at"] and parse(doc["adjudicated_at"]) < moment
    return {
        "report_id": doc["report_id"], "candidate_id": doc["candidate_id"], "custom_id": doc["custom_id"],
        "candidate_email": doc["email"], "package": doc["package"],
        "status": "canceled" if canceled else "complete" if completed else "pending",
        "result": doc["result"] if completed else None,
        "adjudication": doc["adjudication"] if adjudicated else None,
        "created_at": doc["created_at"], "completed_at": doc["completed_at"] if completed else None,
    }


def _changes(doc: dict[str, Any]) -> list[datetime]:
    return [parse(doc[k]) for k in ("created_at", "completed_at", "canceled_at", "adjudicated_at") if doc[k]]


def load_checks(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / CHECKS_FILE)


def generate(ctx: WorldContext) -> None:
    docs = generate_checks(ctx.spec, ctx.people, ctx.seeds)
    publish_csv_register(ctx, CHECKS_FILE, docs, "report_id", check_at, _changes, EXPORT_DIR, SCREENING_DELAY, COLUMNS)

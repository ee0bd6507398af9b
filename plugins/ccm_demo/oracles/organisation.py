"""Oracles for the organisational controls (CC1.1, CC1.4, CC2.2, CC3.2, CC7.4, CC9.2, A1.3).

Each judges the world documents of the HR, LMS and GRC modules directly, as of the
moment the export a period is tested on was cut (the period's end: exports describe the
state at the end of the day they are dated by). A period is untestable (None) when an
export the control needs for that day was never delivered.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import grc, hr, lms, people, policies, screening
from ccm_demo.world.common import parse
from ccm_demo.world.org_exports import export_missing

TRAINING_DAYS = 30  # new hires complete security-awareness training within 30 days
ACK_GRACE_DAYS = 30  # a new policy version is acknowledged within 30 days
TWELVE_MONTHS = 12
POSTMORTEM_BUSINESS_DAYS = 5


def whole_months_between(earlier: datetime | date, later: datetime | date) -> int:
    """Month boundaries crossed, less one if `later` is earlier in its month than `earlier` was."""
    earlier, later = _moment(earlier), _moment(later)
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - 1 if _in_month(later) < _in_month(earlier) else months


def _in_month(moment: datetime) -> tuple[int, ...]:
    return moment.day, moment.hour, moment.minute, moment.second, moment.microsecond


def _moment(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _roster(view: WorldView) -> list[people.Person]:
    return view.memo("org:people", lambda: people.load_people(view.demo_dir))


def _untestable(view: WorldView, period: Period, directories: tuple[str, ...], needs_hr: bool) -> bool:
    if needs_hr and period.end - timedelta(days=1) in hr.missing_export_days(view.spec):
        return True
    return any(export_missing(view.spec, directory, period.end) for directory in directories)


def background_checks(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, (screening.EXPORT_DIR,), needs_hr=True):
        return None
    moment = period.end
    checks: dict[str, list[dict[str, Any]]] = view.memo("org:checks", lambda: _by(
        screening.load_checks(view.demo_dir), "custom_id"))
    failing = []
    for person in _roster(view):
        if not period.start.date() <= person.hire_date < moment.date() or hr.status_on(person, moment) is None:
            continue
        completed = sorted((c for c in checks.get(person.employee_id, [])
                            if c["completed_at"] and parse(c["completed_at"]) < moment),
                           key=lambda c: (parse(c["completed_at"]), c["report_id"]))
        if not completed:
            failing.append(person.employee_id)
            continue
        first = completed[0]
        adjudicated = first["adjudicated_at"] and parse(first["adjudicated_at"]) < moment
        outcome = first["adjudication"] if adjudicated else first["result"]
        if (person.hire_date - parse(first["completed_at"]).date()).days < 1 or outcome not in {"clear", "engaged"}:
            failing.append(person.employee_id)
    return failing


def security_training(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, (lms.EXPORT_DIR,), needs_hr=True):
        return None
    moment = period.end
    completions: dict[str, list[datetime]] = view.memo("org:completions", lambda: _security_completions(view))
    failing = []
    for person in _roster(view):
        if hr.status_on(person, moment) != "Active":
            continue
        done = [c for c in completions.get(person.employee_id, []) if c < moment]
        first = done[0] if done else None
        if first is None or first >= period.start:
            onboarding_days = ((first.date() if first else moment.date()) - person.hire_date).days
            if onboarding_days > TRAINING_DAYS:
                failing.append(person.employee_id)
                continue
        if done and whole_months_between(done[-1], moment) >= TWELVE_MONTHS:
            failing.append(person.employee_id)
    return failing


def _security_completions(view: WorldView) -> dict[str, list[datetime]]:
    out: dict[str, list[datetime]] = defaultdict(list)
    for doc in lms.load_enrollments(view.demo_dir):
        if doc["employee_id"] and doc["curriculum"] == lms.SECURITY_AWARENESS and doc["completed_at"]:
            out[doc["employee_id"]].append(parse(doc["completed_at"]))
    return {k: sorted(v) for k, v in out.items()}


def policy_acknowledgement(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, (policies.POLICY_DIR, policies.ACK_DIR), needs_hr=True):
        return None
    moment = period.end
    versions = view.memo("org:policies", lambda: policies.load_policies(view.demo_dir))
    acks = view.memo("org:acks", lambda: policies.load_acknowledgements(view.demo_dir))
    required = [v for v in policies.current_versions(versions, moment) if v["requires_acknowledgement"]]
    done = policies.acknowledged_before(acks, moment)
    failing = []
    for person in _roster(view):
        if hr.status_on(person, moment) != "Active":
            continue
        owed = [(moment.date() - max(parse(v["published_at"]).date(), person.hire_date)).days
                for v in required if (person.employee_id, v["policy_id"], v["version"]) not in done]
        if owed and max(owed) > ACK_GRACE_DAYS:
            failing.append(person.employee_id)
    return failing


def risk_register_review(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, ("grc/risks",), needs_hr=False):
        return None
    moment = period.end
    failing = []
    for doc in view.memo("org:risks", lambda: grc.load(view.demo_dir, grc.RISKS_FILE)):
        if parse(doc["identified_at"]) >= moment or (doc["closed_at"] and parse(doc["closed_at"]) < moment):
            continue
        reviews = [parse(r) for r in doc["reviews"] if parse(r) < moment]
        reviewed = bool(reviews) and reviews[-1] >= period.start
        high = grc.severity(doc) in {"High", "Critical"}
        owner = _as_of(doc["owners"], moment)
        plan = _as_of(doc["plans"], moment)
        if not reviewed or (high and (owner is None or plan is None)):
            failing.append(doc["risk_id"])
    return failing


def _as_of(timeline: list[list[Any]], moment: datetime) -> Any:
    current = None
    for at, value in timeline:
        if parse(at) < moment:
            current = value
    return current


def vendor_reviews(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, ("grc/vendors",), needs_hr=False):
        return None
    moment = period.end
    failing = []
    for doc in view.memo("org:vendors", lambda: grc.load(view.demo_dir, grc.VENDORS_FILE)):
        if doc["criticality"] != "critical" or parse(doc["onboarded_at"]).date() >= moment.date():
            continue
        if doc["offboarded_at"] and parse(doc["offboarded_at"]) < moment:
            continue
        reviews = [parse(r).date() for r in doc["reviews"] if parse(r) < moment]
        if not reviews or whole_months_between(reviews[-1], moment) >= TWELVE_MONTHS:
            failing.append(doc["vendor_id"])
    return failing


def incident_postmortems(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, ("grc/incidents",), needs_hr=False):
        return None
    moment = period.end
    failing = []
    for doc in view.memo("org:incidents", lambda: grc.load(view.demo_dir, grc.INCIDENTS_FILE)):
        closed = parse(doc["closed_at"]) if doc["closed_at"] else None
        if closed is None or closed >= moment:
            continue
        written = parse(doc["postmortem_at"]) if doc["postmortem_at"] else None
        if closed < period.start and written is not None and written < period.start:
            continue  # judged in an earlier period
        if written is not None and written < moment:
            days = grc.business_days_between(closed.date(), written.date())
        else:  # not written by the close: at best on the next business day
            days = grc.business_days_between(closed.date(), moment.date() - timedelta(days=1)) + 1
        if days > POSTMORTEM_BUSINESS_DAYS:
            failing.append(doc["incident_id"])
    return failing


def tabletop_exercise(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, ("grc/tabletop_exercises",), needs_hr=False):
        return None
    moment = period.end
    held = sorted(parse(d["held_at"]).date() for d in view.memo(
        "org:tabletops", lambda: grc.load(view.demo_dir, grc.TABLETOPS_FILE))
        if d["held_at"] and parse(d["held_at"]) < moment)
    if not held or whole_months_between(held[-1], moment) >= TWELVE_MONTHS:
        return ["incident_response_plan"]
    return []


def restore_test(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, ("grc/restore_tests",), needs_hr=False):
        return None
    moment = period.end
    logged = [d for d in view.memo("org:restores", lambda: grc.load(view.demo_dir, grc.RESTORE_TESTS_FILE))
              if parse(d["completed_at"]) < moment]
    systems = {d["system_id"] for d in logged}
    succeeded = {d["system_id"] for d in logged if period.start <= parse(d["completed_at"])
                 and d["result"] == "success" and d["data_verified"]}
    return sorted(systems - succeeded)


def _by(docs: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        out[doc[key]].append(doc)
    return dict(out)


ORACLES = {
    "org_background_checks": Oracle(Frequency.MONTHLY, background_checks),
    "org_security_training": Oracle(Frequency.MONTHLY, security_training),
    "org_policy_acknowledgement": Oracle(Frequency.QUARTERLY, policy_acknowledgement),
    "org_risk_register_review": Oracle(Frequency.QUARTERLY, risk_register_review),
    "org_vendor_reviews": Oracle(Frequency.QUARTERLY, vendor_reviews),
    "mon_incident_postmortems": Oracle(Frequency.MONTHLY, incident_postmortems),
    "mon_tabletop_exercise": Oracle(Frequency.ANNUAL, tabletop_exercise),
    "avl_restore_test": Oracle(Frequency.QUARTERLY, restore_test),
}

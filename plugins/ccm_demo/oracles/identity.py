"""Oracles for the identity and access controls (CC6.1, CC6.2, CC6.3).

Each judges the simulated world directly (world modules' "state at time T" functions),
at the moment the demo's run observes it (`view.observed(period)`), never the API, lake
or warehouse. A control is untestable (None) when a source it needs was down at that
moment or an export it needs was never delivered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import google, hr, iga, okta
from ccm_demo.world.access import all_admin_grants
from ccm_demo.world.people import Person, load_people

DEPROVISION_DEADLINE = timedelta(hours=24)
DORMANT_AFTER_DAYS = 90
CURRENT_HR_STATUSES = {"Active", "Pending"}


def _people(view: WorldView) -> list[Person]:
    return view.memo("people", lambda: load_people(view.demo_dir))


def _okta_users(view: WorldView) -> list[dict]:
    return view.load(okta.USERS_FILE)


def _okta_users_signing_in(view: WorldView, observed: datetime) -> list[dict]:
    """The Okta users whose status at `observed` lets them sign in."""
    return [user for user in _okta_users(view) if okta.status_at(user, observed)[0] in okta.CAN_SIGN_IN]


def _hr_export_missing(view: WorldView, period: Period) -> bool:
    """The roster export describing the period's last day never arrived."""
    return period.end - timedelta(days=1) in hr.missing_export_days(view.spec)


def _roster(view: WorldView, period: Period) -> dict[str, tuple[Person, str]]:
    """The HR export for the period's last day: employee_id -> (person, status)."""
    out = {}
    for person in _people(view):
        status = hr.status_on(person, period.end)
        if status is not None:
            out[person.employee_id] = (person, status)
    return out


def _owner(user: dict, roster: dict[str, tuple[Person, str]]) -> tuple[Person, str] | None:
    """The identity graph's link: the employee number Okta carries, then email, then login."""
    if user["employee_id"] in roster:
        return roster[user["employee_id"]]
    for key in ("email", "login"):
        matches = [entry for entry in roster.values() if entry[0].email == user[key].lower()]
        if len(matches) == 1:
            return matches[0]
    return None


def okta_mfa(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down("okta", observed):
        return None
    failing = []
    for user in _okta_users_signing_in(view, observed):
        active = [f for f in okta.factors_at(user, observed)
                  if f["status"] == "ACTIVE" and f["factorType"] != "question"]
        if not active:
            failing.append(user["id"])
    return failing


def google_2sv(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down("google", observed):
        return None
    failing = []
    for user in view.load(google.USERS_FILE):
        if not google.exists_at(user, observed) or google.suspended_at(user, observed):
            continue
        if not (google.enrolled_at(user, observed) and google.enforced_at(user, observed)):
            failing.append(user["id"])
    return failing


def dormant_accounts(view: WorldView, period: Period) -> list[str] | None:
    """Unused for more than 90 days at the period's end: lastLogin, or creation if never used."""
    observed = view.observed(period)
    if view.source_down("okta", observed):
        return None
    failing = []
    for user in _okta_users_signing_in(view, observed):
        last_used = okta.last_login_at(user, observed) or datetime.fromisoformat(
            user["created"].replace("Z", "+00:00"))
        days_unused = round((period.end - last_used).total_seconds() / 86400, 3)
        if days_unused > DORMANT_AFTER_DAYS:
            failing.append(user["id"])
    return failing


def okta_orphan_accounts(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down("okta", observed) or _hr_export_missing(view, period):
        return None
    roster = _roster(view, period)
    failing = []
    for user in _okta_users(view):
        status, _ = okta.status_at(user, observed)
        if status is None or status == "DEPROVISIONED":
            continue
        owner = _owner(user, roster)
        if owner is None or owner[1] not in CURRENT_HR_STATUSES:
            failing.append(user["id"])
    return failing


def okta_deprovision_24h(view: WorldView, period: Period) -> list[str] | None:
    """Terminations whose deadline falls in the month; the slowest of their Okta accounts counts."""
    observed = view.observed(period)
    if view.source_down("okta", observed) or _hr_export_missing(view, period):
        return None
    roster = _roster(view, period)
    accounts: dict[str, list[dict]] = {}
    for user in _okta_users(view):
        if okta.status_at(user, observed)[0] is None:
            continue
        owner = _owner(user, roster)
        if owner is not None:
            accounts.setdefault(owner[0].employee_id, []).append(user)
    failing = []
    for person, _status in roster.values():
        terminated = person.termination_at
        if terminated is None or not period.start <= terminated + DEPROVISION_DEADLINE < period.end:
            continue
        lags = []
        for user in accounts.get(person.employee_id, []):
            status, since = okta.status_at(user, observed)
            lags.append((since if status == "DEPROVISIONED" else observed) - terminated)
        lag_hours = round(max(lags).total_seconds() / 3600, 3) if lags else None
        if lag_hours is None or lag_hours > DEPROVISION_DEADLINE.total_seconds() / 3600:
            failing.append(person.employee_id)
    return failing


def admins_approved(view: WorldView, period: Period) -> list[str] | None:
    """Every admin right held at the observation is approved on the day's register export."""
    observed = view.observed(period)
    grants = view.memo("admin_grants", lambda: all_admin_grants(view.demo_dir))
    systems = {g.system for g in grants}
    if any(view.source_down(system, observed) for system in systems):
        return None
    if period.start == iga.missing_approved_admins_day(view.spec):
        return None
    return [g.entity_id for g in grants if g.in_scope_at(observed) and not g.approved_at_moment(period.end)]


def access_review_quarterly(view: WorldView, period: Period) -> list[str] | None:
    """Each in-scope system's campaign for the quarter, as the register stands at its close."""
    register = iga.reviews_as_of(iga.load_reviews(view.demo_dir), period.end)
    campaign = iga.campaign_label(period.start)
    failing = []
    for system in iga.IN_SCOPE_SYSTEMS:
        reviews = sorted((r for r in register if r["system"] == system and r["campaign"] == campaign),
                         key=lambda r: (r["started_at"], r["review_id"]))
        review = reviews[-1] if reviews else None
        if review is None or review["completed_at"] is None or review["signed_off_at"] is None:
            failing.append(system)
    return failing


ORACLES = {
    "iam_okta_mfa": Oracle(Frequency.DAILY, okta_mfa),
    "iam_google_2sv": Oracle(Frequency.DAILY, google_2sv),
    "iam_dormant_accounts": Oracle(Frequency.DAILY, dormant_accounts),
    "iam_okta_orphan_accounts": Oracle(Frequency.MONTHLY, okta_orphan_accounts),
    "iam_okta_deprovision_24h": Oracle(Frequency.MONTHLY, okta_deprovision_24h),
    "iam_admins_approved": Oracle(Frequency.DAILY, admins_approved),
    "iam_access_review_quarterly": Oracle(Frequency.QUARTERLY, access_review_quarterly),
}

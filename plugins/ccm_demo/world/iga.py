"""Identity governance (IGA) exports: approved administrators and user-access reviews.

Two daily exports land in the inbox after each day closes (at D+1 00:30 UTC, like the HR
roster):
- `iga/approved_admins/approved_admins_YYYY-MM-DD.csv`: the approved-administrator
  register as of the end of day D, one row per approval (system, account, role, who
  approved it and when, ticket, expiry). It is built from every system's admin grants
  (`ccm_demo.world.access`): approved grants have approvals, unapproved ones do not, and
  a lapsed approval is missing until it is renewed. One day's export never arrives.
- `iga/access_reviews/access_reviews_YYYY-MM-DD.json`: the cumulative register of
  quarterly user-access review campaigns per in-scope system (okta, google, github, aws)
  as of the end of day D: reviewer, completion, sign-off.

Seeded on the quarters that close in the window: in the first, the GitHub review is
completed late (its exception lapsed before the quarter closed) and the AWS review is
completed but signed off only after the quarter (excepted); in the second, the Okta
review is postponed past the quarter under an approved exception.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm.constants import Frequency
from ccm.periods import Period, next_period_start, period_start_for, periods_closing_in
from ccm_demo.world.access import AdminGrant, all_admin_grants
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json

if TYPE_CHECKING:
    from ccm_demo.spec import DemoSpec
    from ccm_demo.world import WorldContext
    from ccm_demo.world.people import Person
    from ccm_demo.world.seeds import Seeds

ORDER = 90  # after every system that grants administrator rights

IN_SCOPE_SYSTEMS = ("okta", "google", "github", "aws")
APPROVED_ADMINS_DIR = "iga/approved_admins"
ACCESS_REVIEWS_DIR = "iga/access_reviews"
REVIEWS_FILE = "world/iga_access_reviews.json"
APPROVALS_FILE = "world/iga_approvals.json"
DELIVERY_DELAY = timedelta(minutes=30)
APPROVAL_COLUMNS = ["approval_id", "system", "account", "employee_id", "role", "approved_by", "approved_at",
                    "ticket", "expires_on"]
REVIEWERS = {"okta": "Head of IT", "google": "Head of IT", "github": "Head of Engineering",
             "aws": "Head of Engineering"}
SIGN_OFF = "Head of Security"


def campaign_label(quarter_start: datetime) -> str:
    """The register's name for a quarter's campaign, e.g. 2025-Q4."""
    return f"{quarter_start.year}-Q{(quarter_start.month - 1) // 3 + 1}"


def missing_approved_admins_day(spec: DemoSpec) -> datetime:
    """The day whose approved-administrator export never arrives."""
    return spec.window_start + timedelta(days=max(3, int(spec.days * 0.7)))


def _name(people: list[Person], title: str) -> str:
    person = next(p for p in people if p.title == title)
    return f"{person.first_name} {person.last_name}"


# approved administrators ---------------------------------------------------------------

def approvals(grants: list[AdminGrant], approver: Person, ceo: Person) -> list[dict[str, Any]]:
    """The register's approval records: one per approved span of each grant.

    The Head of Security approves administrators; their own rights are approved by the CEO.
    """
    records = []
    for grant in grants:
        by = ceo if grant.employee_id == approver.employee_id else approver
        pieces = grant.approval_pieces()
        for index, (start, end) in enumerate(pieces):
            lapses = index + 1 < len(pieces)  # the approval expired and was renewed later
            number = len(records) + 1
            records.append({
                "approval_id": f"APR-{number:05d}", "system": grant.system, "account": grant.account,
                "employee_id": grant.employee_id or "", "role": grant.role, "approved_by": f"{by.first_name} {by.last_name}",
                "approved_at": iso(start, millis=False), "ticket": f"IAM-{2300 + number}",
                "expires_on": (end - timedelta(days=1)).date().isoformat() if lapses and end else "",
                "valid_from": iso(start), "valid_to": iso(end),
            })
    return records


def approvals_in_force(records: list[dict[str, Any]], moment: datetime) -> list[dict[str, Any]]:
    return [r for r in records
            if parse(r["valid_from"]) <= moment and (r["valid_to"] is None or moment < parse(r["valid_to"]))]


def approved_admins_csv(records: list[dict[str, Any]], day_end: datetime) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=APPROVAL_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in sorted(approvals_in_force(records, day_end), key=lambda r: r["approval_id"]):
        writer.writerow(record)
    return out.getvalue().encode()


# access reviews --------------------------------------------------------------------------

def generate_reviews(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "iga:reviews")
    reviewer = {system: _name(people, title) for system, title in REVIEWERS.items()}
    signer = _name(people, SIGN_OFF)
    headcount = len(people)
    quarter = period_start_for(spec.window_start - timedelta(days=1), Frequency.QUARTERLY)
    reviews = []
    while quarter < spec.window_end:
        end = next_period_start(quarter, Frequency.QUARTERLY)
        for system in IN_SCOPE_SYSTEMS:
            completed = end - timedelta(days=12, hours=-rng.randint(8, 17))
            reviews.append({
                "review_id": f"UAR-{campaign_label(quarter)}-{system}", "system": system,
                "campaign": campaign_label(quarter), "reviewer": reviewer[system],
                "started_at": iso(end - timedelta(days=30, hours=-9)), "due_at": iso(end - timedelta(days=5)),
                "completed_at": iso(completed),
                "signed_off_by": signer, "signed_off_at": iso(completed + timedelta(days=2, hours=rng.randint(1, 6))),
                "items_reviewed": rng.randint(headcount // 2, headcount), "items_revoked": rng.randint(0, 4),
            })
        quarter = end
    by_id = {r["review_id"]: r for r in reviews}
    closing = periods_closing_in(spec.window_start, spec.window_end, Frequency.QUARTERLY)
    if closing:
        _seed_first_quarter(closing[0], by_id, seeds)
    if len(closing) > 1:
        _seed_second_quarter(closing[1], by_id, seeds)
    return reviews


def _seed_first_quarter(quarter: Period, by_id: dict[str, dict[str, Any]], seeds: Seeds) -> None:
    label = campaign_label(quarter.start)
    github = by_id[f"UAR-{label}-github"]
    github["completed_at"] = iso(quarter.end + timedelta(days=11, hours=15))
    github["signed_off_at"] = iso(quarter.end + timedelta(days=13, hours=10))
    seeds.add_exception("iam_access_review_quarterly", "github",
                        "GitHub review delayed by the SAML migration; due before the holidays",
                        quarter.end - timedelta(days=10), quarter.end - timedelta(days=2))
    aws = by_id[f"UAR-{label}-aws"]
    aws["completed_at"] = iso(quarter.end - timedelta(days=14, hours=-14))
    aws["signed_off_at"] = iso(quarter.end + timedelta(days=5, hours=11))
    seeds.add_exception("iam_access_review_quarterly", "aws",
                        "Review completed; CISO sign-off after the year-end freeze",
                        quarter.end - timedelta(days=5), quarter.end + timedelta(days=30))


def _seed_second_quarter(quarter: Period, by_id: dict[str, dict[str, Any]], seeds: Seeds) -> None:
    okta = by_id[f"UAR-{campaign_label(quarter.start)}-okta"]
    okta["started_at"] = iso(quarter.end + timedelta(days=10, hours=9))
    okta["completed_at"] = iso(quarter.end + timedelta(days=25, hours=16))
    okta["signed_off_at"] = iso(quarter.end + timedelta(days=27, hours=11))
    seeds.add_exception("iam_access_review_quarterly", "okta",
                        "Okta review postponed until the tenant consolidation completes",
                        quarter.end - timedelta(days=40), quarter.end + timedelta(days=45))


def reviews_as_of(reviews: list[dict[str, Any]], moment: datetime) -> list[dict[str, Any]]:
    """The register at `moment`: campaigns started by then, with what had happened by then."""
    out = []
    for review in reviews:
        if parse(review["started_at"]) > moment:
            continue
        completed = parse(review["completed_at"])
        signed = parse(review["signed_off_at"])
        done = completed is not None and completed <= moment
        signed_off = done and signed is not None and signed <= moment
        out.append({
            **review,
            "completed_at": review["completed_at"] if done else None,
            "signed_off_by": review["signed_off_by"] if signed_off else None,
            "signed_off_at": review["signed_off_at"] if signed_off else None,
            "items_reviewed": review["items_reviewed"] if done else None,
            "items_revoked": review["items_revoked"] if done else None,
            "status": "signed_off" if signed_off else "completed" if done else "in_progress",
        })
    return sorted(out, key=lambda r: r["review_id"])


def generate(ctx: WorldContext) -> None:
    grants = all_admin_grants(ctx.demo_dir)
    by_title = {p.title: p for p in ctx.people}
    records = approvals(grants, by_title[SIGN_OFF], by_title["Chief Executive Officer"])
    write_json(ctx.demo_dir / APPROVALS_FILE, records)
    reviews = generate_reviews(ctx.spec, ctx.people, ctx.seeds)
    write_json(ctx.demo_dir / REVIEWS_FILE, reviews)
    missing = missing_approved_admins_day(ctx.spec)
    for offset in range(ctx.spec.days):
        day = ctx.spec.window_start + timedelta(days=offset)
        day_end = day + timedelta(days=1)
        if day != missing:
            ctx.add_export(f"{APPROVED_ADMINS_DIR}/approved_admins_{day:%Y-%m-%d}.csv",
                           approved_admins_csv(records, day_end), day_end + DELIVERY_DELAY)
        register = json.dumps(reviews_as_of(reviews, day_end), sort_keys=True, indent=1) + "\n"
        ctx.add_export(f"{ACCESS_REVIEWS_DIR}/access_reviews_{day:%Y-%m-%d}.json", register.encode(),
                       day_end + DELIVERY_DELAY)


def load_reviews(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / REVIEWS_FILE)


def load_approvals(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / APPROVALS_FILE)

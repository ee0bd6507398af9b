"""The GRC tool's registers: risks, vendors, incidents, tabletop exercises, restore tests.

World form: one JSON file per register under `world/` (`grc_risks.json`, ...), each
document carrying its timeline (owner changes, reviews, closure, postmortem, results).
The `*_at(doc, moment)` functions render the export record as of any moment, for the
daily exports and for the answer key alike. Every register is exported daily as JSON
(see `org_exports`); the incident export for the window's 31st day is never delivered.

Planted, per control (dates are days from the window start; the default window starts
2025-10-01, so day 92 closes Q4 2025 and day 182 closes Q1 2026):

org_risk_register_review (quarterly): the register is reviewed in a meeting on the
second Tuesday of each quarter's last month, and new risks are reviewed when raised.
Q4: a high risk whose owner left (owner empty days 50-100), a risk skipped by the Q4
review (reviewed on day 99), a high risk without a mitigation plan whose exception
expired on day 85, a new high risk without a plan yet (excepted). Q1: a new high risk
raised on day 140 without an owner (excepted).

org_vendor_reviews (quarterly): critical vendors are reviewed every 315-345 days. Q4:
a critical vendor last reviewed 13 months earlier (plain failure), one overdue but
excepted until it is offboarded, one overdue whose exception expired on day 85. Q1: one
overdue with an exception until its April review.

mon_incident_postmortems (monthly): postmortems within 1-4 business days. November: a
postmortem after 8 business days, and an incident closed on the month's last Friday
whose postmortem is late in December (it passes in November: not yet due at the close).
December: a late postmortem over the holidays, excepted until day 106 - in January it
is still judged (carried over) and the exception has expired. March: two late
postmortems, excepted. October is not tested (its last export is missing); February
is clean.

mon_tabletop_exercise (annual): exercises in 2023 and 2024, one cancelled, and one held
on day 50 (scheduled since day -60); the next one is scheduled after the window.

avl_restore_test (quarterly): every system in the restore-test programme is restored
once a quarter. Q4: the core database's test failed (retested successfully in January),
the documents bucket was not tested and its exception expired on day 75, the sessions
table was not tested (excepted). Q1: the analytics warehouse was not tested (excepted);
the documents bucket failed once and passed on retest the same quarter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.org_exports import GRC_DELAY, at_work, deliver_json, work_minute
from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext
    from ccm_demo.world.seeds import Seeds

ORDER = 30
RISKS_FILE = "world/grc_risks.json"
VENDORS_FILE = "world/grc_vendors.json"
INCIDENTS_FILE = "world/grc_incidents.json"
TABLETOPS_FILE = "world/grc_tabletop_exercises.json"
RESTORE_TESTS_FILE = "world/grc_restore_tests.json"
PLAN_ID = "IRP"  # the incident response plan every tabletop exercises


def _day(spec: DemoSpec, offset: int, minute: int = 14 * 60) -> datetime:
    """A working moment `offset` days from the window start (moved to the next workday)."""
    return at_work(spec.window_start + timedelta(days=offset), minute)


def _date(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _security_people(people: list[Person]) -> list[Person]:
    return [p for p in people if p.department in {"Security", "IT"} and p.termination_at is None] or people[:1]


# risks ------------------------------------------------------------------------------------

RISK_TITLES = [
    ("Ransomware encrypts production data stores", "Security"), ("Compromised engineer credentials", "Security"),
    ("Cloud misconfiguration exposes customer data", "Security"), ("Loss of key cloud region", "Availability"),
    ("Critical vendor outage (identity provider)", "Vendor"), ("Insider exfiltration of customer data", "Security"),
    ("Unpatched third-party library exploited", "Security"), ("Payment processor integration failure", "Operations"),
    ("Phishing leads to mailbox takeover", "Security"), ("Backup corruption goes undetected", "Availability"),
    ("Privacy regulation change (data residency)", "Compliance"), ("Key-person dependency in SRE", "Operations"),
    ("DDoS against public API", "Availability"), ("Secrets committed to source control", "Security"),
    ("Lost or stolen laptop with customer data", "Security"), ("Inadequate logging hides an intrusion", "Security"),
    ("Data retention exceeds contractual limits", "Compliance"), ("Vendor breach exposes shared data", "Vendor"),
    ("Capacity shortfall during peak season", "Availability"), ("Unauthorised production change", "Change"),
    ("Expired TLS certificate takes down the API", "Availability"), ("Shadow IT SaaS holds customer data", "Security"),
    ("Insufficient separation of duties in finance", "Compliance"), ("Single database without failover", "Availability"),
    ("Social engineering of support agents", "Security"), ("Open-source licence violation", "Compliance"),
    ("Misrouted customer email", "Privacy"), ("Weak API authentication for partners", "Security"),
    ("Disaster recovery plan untested for new services", "Availability"), ("Fraudulent vendor invoice", "Operations"),
]


def _quarter_review_days(spec: DemoSpec) -> list[datetime]:
    """The quarterly register review: second Tuesday of each quarter's last month, 15:00 UTC."""
    moments = []
    year = spec.window_start.year - 3
    while True:
        for month in (3, 6, 9, 12):
            first = datetime(year, month, 1, 15, 0, tzinfo=spec.window_start.tzinfo)
            second_tuesday = first + timedelta(days=(1 - first.weekday()) % 7 + 7)
            if second_tuesday > spec.window_end + timedelta(days=60):
                return moments
            moments.append(second_tuesday)
        year += 1


def generate_risks(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "grc:risks")
    heads = [p for p in people if p.title.startswith("Head of")]
    count = min(len(RISK_TITLES) - 3, max(12, len(people) // 10))
    reviews = _quarter_review_days(spec)
    docs = []
    for index in range(count + 3):
        title, category = RISK_TITLES[index]
        likelihood, impact = rng.randint(1, 5), rng.randint(2, 5)
        identified = _day(spec, -rng.randint(60, 900), 10 * 60)
        owner = rng.choice(heads)
        docs.append({
            "risk_id": f"RSK-{index + 1:03d}", "title": title, "category": category,
            "likelihood": likelihood, "impact": impact, "treatment": "mitigate",
            "identified_at": iso(identified, millis=False), "closed_at": None,
            "owners": [[iso(identified, millis=False), {"name": f"{owner.first_name} {owner.last_name}",
                                                        "email": owner.email}]],
            "plans": [[iso(identified, millis=False), f"Mitigation plan for: {title.lower()} (see {category} roadmap)"]],
            "skip_reviews": [], "extra_reviews": [],
        })
    baseline, added = docs[:count], docs[count:]
    high = [d for d in baseline if d["likelihood"] * d["impact"] >= 15]
    # seeds need three high risks among the baseline (and three new ones raised in the window)
    for doc in [d for d in baseline if d not in high][: max(0, 3 - len(high))]:
        doc["likelihood"], doc["impact"] = 4, 5
    high = [d for d in baseline if d["likelihood"] * d["impact"] >= 15]
    for doc in rng.sample([d for d in baseline if d not in high[:3]], 2):  # closed earlier: not in the population
        doc["closed_at"] = iso(_day(spec, -rng.randint(10, 50), 11 * 60), millis=False)
    w = spec.window_start
    r1, r3 = high[0], high[1]
    r2 = next(d for d in baseline if d not in high[:3] and d["closed_at"] is None)
    # R1: the high risk's owner left; the register shows no owner from day 50 to day 100
    r1["owners"] += [[iso(_day(spec, 50), millis=False), None], [iso(_day(spec, 100), millis=False), r1["owners"][0][1]]]
    # R2: skipped by the Q4 review meeting, reviewed on day 99
    r2["skip_reviews"] = [iso(m, millis=False) for m in reviews if w <= m < w + timedelta(days=92)]
    r2["extra_reviews"] = [iso(_day(spec, 99), millis=False)]
    # R3: high risk accepted without a plan from day 30 to day 120; exception expired on day 85
    r3["treatment"] = "accept"
    r3["plans"] += [[iso(_day(spec, 30), millis=False), None], [iso(_day(spec, 120), millis=False), r3["plans"][0][1]]]
    seeds.add_exception("org_risk_register_review", r3["risk_id"], "Risk accepted by the CEO pending the "
                        "replacement of the legacy billing system", w + timedelta(days=35), w + timedelta(days=85))
    # R4: a new high risk raised on day 60 without a plan until day 100; excepted
    r4, r5, r6 = added
    r4.update(likelihood=4, impact=5, identified_at=iso(_day(spec, 60, 10 * 60), millis=False))
    r4["owners"][0][0] = r4["identified_at"]
    r4["plans"] = [[r4["identified_at"], None], [iso(_day(spec, 100), millis=False), f"Mitigation plan for: "
                                                 f"{r4['title'].lower()}"]]
    seeds.add_exception("org_risk_register_review", r4["risk_id"], "New risk; mitigation plan due at the January "
                        "architecture review", w + timedelta(days=62), w + timedelta(days=110))
    # R5: a new high risk raised on day 140 with no owner until day 200; excepted
    r5.update(likelihood=5, impact=4, identified_at=iso(_day(spec, 140, 10 * 60), millis=False))
    r5["owners"] = [[r5["identified_at"], None], [iso(_day(spec, 200), millis=False), r5["owners"][0][1]]]
    r5["plans"][0][0] = r5["identified_at"]
    seeds.add_exception("org_risk_register_review", r5["risk_id"], "Owner to be appointed with the new VP "
                        "Engineering (start date 2026-04-15)", w + timedelta(days=145), w + timedelta(days=210))
    # R6: a medium risk raised on day 20 and closed on day 75 (not open at the Q4 close)
    r6.update(likelihood=2, impact=3, identified_at=iso(_day(spec, 20, 10 * 60), millis=False),
              closed_at=iso(_day(spec, 75, 11 * 60), millis=False))
    r6["owners"][0][0] = r6["plans"][0][0] = r6["identified_at"]
    for doc in docs:
        identified = parse(doc["identified_at"])
        skipped = set(doc["skip_reviews"])
        moments = [identified] + [m for m in reviews if m > identified and iso(m, millis=False) not in skipped]
        moments += [parse(m) for m in doc["extra_reviews"]]
        if doc["closed_at"] is not None:
            moments = [m for m in moments if m < parse(doc["closed_at"])]
        doc["reviews"] = [iso(m, millis=False) for m in sorted(moments)]
        del doc["skip_reviews"], doc["extra_reviews"]
    return docs


def severity(doc: dict[str, Any]) -> str:
    score = doc["likelihood"] * doc["impact"]
    return "High" if score >= 15 else "Medium" if score >= 8 else "Low"


def _latest(timeline: list[list[Any]], moment: datetime) -> Any:
    value = None
    for at, item in timeline:
        if parse(at) < moment:
            value = item
    return value


def risk_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The risk register record as of `moment` (None: not raised yet)."""
    if parse(doc["identified_at"]) >= moment:
        return None
    closed = doc["closed_at"] is not None and parse(doc["closed_at"]) < moment
    reviews = [r for r in doc["reviews"] if parse(r) < moment]
    return {
        "id": doc["risk_id"], "title": doc["title"], "category": doc["category"], "severity": severity(doc),
        "likelihood": doc["likelihood"], "impact": doc["impact"], "owner": _latest(doc["owners"], moment),
        "treatment": doc["treatment"], "mitigation_plan": _latest(doc["plans"], moment),
        "status": "Closed" if closed else "Open", "identified_on": doc["identified_at"][:10],
        "closed_on": doc["closed_at"][:10] if closed else None,
        "last_reviewed_at": reviews[-1] if reviews else None,
        "review_history": [{"reviewed_at": r, "forum": "Risk committee"} for r in reviews[-4:]],
    }


# vendors ------------------------------------------------------------------------------------

VENDORS = [  # name, criticality, data access, services
    ("Amazon Web Services", "critical", "customer_data", ["hosting", "storage"]),
    ("Okta", "critical", "employee_data", ["identity"]),
    ("GitHub", "critical", "source_code", ["source control", "ci"]),
    ("Google Workspace", "critical", "employee_data", ["email", "documents"]),
    ("Stripe", "critical", "payment_data", ["payments"]),
    ("Datadog", "critical", "customer_data", ["monitoring", "logs"]),
    ("Cloudflare", "critical", "customer_data", ["cdn", "waf"]),
    ("Snowflake", "critical", "customer_data", ["analytics"]),
    ("Slack", "high", "employee_data", ["chat"]), ("Atlassian", "high", "source_code", ["tickets", "wiki"]),
    ("PagerDuty", "high", "none", ["on-call"]), ("Zendesk", "high", "customer_data", ["support"]),
    ("Twilio", "high", "customer_data", ["sms"]), ("Salesforce", "medium", "customer_data", ["crm"]),
    ("HubSpot", "medium", "customer_data", ["marketing"]), ("Gusto", "medium", "employee_data", ["payroll"]),
    ("Checkr", "medium", "employee_data", ["screening"]), ("DocuSign", "medium", "customer_data", ["contracts"]),
    ("1Password", "high", "credentials", ["password manager"]), ("CrowdStrike", "high", "employee_data", ["edr"]),
    ("Zoom", "low", "none", ["meetings"]), ("Figma", "low", "none", ["design"]), ("Notion", "low", "none", ["notes"]),
    ("Loom", "low", "none", ["video"]), ("Calendly", "low", "none", ["scheduling"]),
    ("Sentry", "medium", "customer_data", ["error tracking"]), ("Mailgun", "medium", "customer_data", ["email"]),
    ("Fivetran", "high", "customer_data", ["data pipelines"]), ("Vercel", "medium", "none", ["web hosting"]),
    ("Brex", "low", "none", ["expenses"]), ("Greenhouse", "medium", "employee_data", ["recruiting"]),
    ("Lattice", "low", "employee_data", ["performance"]), ("Miro", "low", "none", ["whiteboard"]),
    ("Auth0", "critical", "customer_data", ["customer identity"]), ("MongoDB Atlas", "critical", "customer_data",
                                                                      ["database"]),
    ("Segment", "high", "customer_data", ["events"]),
]


def generate_vendors(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "grc:vendors")
    reviewers = _security_people(people)
    count = min(len(VENDORS), max(15, len(people) // 8))
    horizon = spec.window_end + timedelta(days=60)
    w = spec.window_start
    docs = []
    for index, (name, criticality, data_access, services) in enumerate(VENDORS[:count]):
        onboarded = _day(spec, -rng.randint(500, 1500), 11 * 60)
        cadence = (315, 345) if criticality == "critical" else (600, 720)
        review = _day(spec, -rng.randint(20, 240 if criticality == "critical" else 500))
        reviews = [review]
        while reviews[-1] > onboarded + timedelta(days=cadence[1]):  # history back to onboarding
            earlier = reviews[-1] - timedelta(days=rng.randint(*cadence))
            if earlier <= onboarded:
                break
            reviews.append(earlier)
        reviews = sorted(reviews)
        while True:
            following = _day(spec, (reviews[-1] - w).days + rng.randint(*cadence))
            if following >= horizon:
                break
            reviews.append(following)
        docs.append({"vendor_id": f"VND-{index + 1:03d}", "name": name, "criticality": criticality,
                     "data_access": data_access, "services": services, "owner_email": rng.choice(reviewers).email,
                     "onboarded_at": iso(onboarded, millis=False), "offboarded_at": None,
                     "reviews": [iso(r, millis=False) for r in reviews]})
    critical = [d for d in docs if d["criticality"] == "critical"]

    def reschedule(doc: dict[str, Any], last_before: int, next_after: int) -> None:
        """Last review before the window on day `last_before`, the next on `next_after`, then the cadence."""
        kept = [r for r in doc["reviews"] if parse(r) < _day(spec, last_before) - timedelta(days=300)]
        moments = [*(parse(r) for r in kept), _day(spec, last_before), _day(spec, next_after)]
        while True:
            following = moments[-1] + timedelta(days=rng.randint(315, 345))
            if following >= horizon:
                break
            moments.append(_day(spec, (following - w).days))
        doc["reviews"] = [iso(m, millis=False) for m in moments if m < horizon]

    v1, v2, v3, v4 = critical[:4]
    reschedule(v1, -330, 105)  # 13 months without a review at the Q4 close
    reschedule(v2, -340, 400)  # overdue, excepted, offboarded on day 110
    v2["offboarded_at"] = iso(_day(spec, 110, 16 * 60), millis=False)
    seeds.add_exception("org_vendor_reviews", v2["vendor_id"], "Contract ends in January; vendor being "
                        "offboarded, no renewal review", w + timedelta(days=40), w + timedelta(days=120))
    reschedule(v3, -300, 100)  # overdue at the Q4 close; the exception expired on day 85
    seeds.add_exception("org_vendor_reviews", v3["vendor_id"], "SOC 2 report delayed by the vendor; bridge "
                        "letter requested", w + timedelta(days=50), w + timedelta(days=85))
    reschedule(v4, -200, 200)  # overdue at the Q1 close, excepted until the April review
    seeds.add_exception("org_vendor_reviews", v4["vendor_id"], "Review scheduled for April with the vendor's "
                        "new SOC 2 Type II report", w + timedelta(days=160), w + timedelta(days=220))
    return docs


def vendor_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The vendor register record as of `moment` (None: not onboarded yet)."""
    if parse(doc["onboarded_at"]) >= moment:
        return None
    offboarded = doc["offboarded_at"] is not None and parse(doc["offboarded_at"]) < moment
    done = [parse(r) for r in doc["reviews"] if parse(r) < moment]
    last = done[-1] if done else None
    cadence = 365 if doc["criticality"] == "critical" else 730
    return {
        "vendor_id": doc["vendor_id"], "name": doc["name"], "criticality": doc["criticality"],
        "status": "offboarded" if offboarded else "active", "owner_email": doc["owner_email"],
        "data_access": doc["data_access"], "services": doc["services"], "onboarded_on": doc["onboarded_at"][:10],
        "offboarded_on": doc["offboarded_at"][:10] if offboarded else None,
        "last_review": {"completed_on": _date(last), "outcome": "approved", "reviewer_email": doc["owner_email"],
                        "report_url": f"https://grc.kestrel.example/vendors/{doc['vendor_id']}/reviews/{_date(last)}"}
        if last else None,
        "next_review_due": _date(last + timedelta(days=cadence)) if last else None,
    }


# incidents ------------------------------------------------------------------------------------

INCIDENT_TITLES = ["Phishing campaign against finance", "Leaked API key in public repository",
                   "Suspicious login from new country", "Malware on employee laptop", "S3 bucket briefly public",
                   "Credential stuffing against customer logins", "Misdirected customer export",
                   "Vulnerable dependency exploited in staging", "Lost laptop", "Unauthorised OAuth app",
                   "DDoS on public API", "Privilege escalation attempt in CI"]


def add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def business_days_between(start: date, end: date) -> int:
    """Weekdays in (start, end]: 0 when end is not after start."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def _incident(detected: datetime, closed: datetime | None, postmortem: datetime | None, title: str,
              sev: str, commander: str) -> dict[str, Any]:
    resolved = max(detected, closed - timedelta(hours=20)) if closed else None
    return {"title": title, "severity": sev, "commander_email": commander, "detected_at": iso(detected, millis=False),
            "resolved_at": iso(resolved, millis=False), "closed_at": iso(closed, millis=False),
            "postmortem_at": iso(postmortem, millis=False)}


def generate_incidents(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "grc:incidents")
    commanders = _security_people(people)
    per_month = max(1, len(people) // 100)
    horizon = spec.window_end + timedelta(days=60)
    docs = []
    for _ in range(per_month * (12 + spec.days // 30 + 2)):
        detected = _day(spec, rng.randint(-365, spec.days + 40), work_minute(rng))
        closed = at_work(detected + timedelta(days=rng.randint(0, 4)), work_minute(rng))
        if closed <= detected:
            closed = detected + timedelta(hours=3)
        postmortem = at_work(datetime.combine(add_business_days(closed.date(), rng.randint(1, 4)),
                                              datetime.min.time(), tzinfo=closed.tzinfo), work_minute(rng))
        docs.append(_incident(detected, closed if closed < horizon else None,
                              postmortem if postmortem < horizon else None, rng.choice(INCIDENT_TITLES),
                              rng.choice(["SEV2", "SEV3", "SEV3", "SEV4"]), rng.choice(commanders).email))

    def planted(detected_day: int, closed_day: int, postmortem_day: int | None, title: str) -> dict[str, Any]:
        doc = _incident(_day(spec, detected_day, 9 * 60), _day(spec, closed_day, 16 * 60),
                        _day(spec, postmortem_day, 11 * 60) if postmortem_day is not None else None,
                        title, "SEV2", commanders[0].email)
        docs.append(doc)
        return doc

    planted(38, 40, 50, "Customer data in debug logs")  # Nov: postmortem after 8 business days
    planted(56, 58, 69, "Support agent account takeover")  # closed Fri 28 Nov, postmortem 9 Dec
    i3 = planted(77, 79, 98, "Compromised CI runner token")  # closed 19 Dec, postmortem 7 Jan
    i4 = planted(151, 153, 170, "Vendor-side breach notification")  # Mar, excepted
    i5 = planted(158, 160, 176, "Misconfigured WAF rule blocked logins")  # Mar, excepted
    planted(spec.days - 5, spec.days + 90, None, "Ongoing investigation: anomalous data access")  # open
    docs.sort(key=lambda d: (d["detected_at"], d["title"]))
    counters: dict[int, int] = {}
    for doc in docs:
        year = parse(doc["detected_at"]).year
        counters[year] = counters.get(year, 0) + 1
        doc["incident_id"] = f"INC-{year}-{counters[year]:03d}"
    w = spec.window_start
    seeds.add_exception("mon_incident_postmortems", i3["incident_id"], "Postmortem delayed by the holiday "
                        "freeze; facilitator availability", w + timedelta(days=81), w + timedelta(days=106))
    seeds.add_exception("mon_incident_postmortems", i4["incident_id"], "Postmortem waits for the vendor's root "
                        "cause analysis", w + timedelta(days=156), w + timedelta(days=190))
    seeds.add_exception("mon_incident_postmortems", i5["incident_id"], "Joint postmortem with the CDN provider "
                        "scheduled", w + timedelta(days=163), w + timedelta(days=200))
    return docs


def incident_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The incident record as of `moment` (None: not detected yet)."""
    if parse(doc["detected_at"]) >= moment:
        return None
    closed = doc["closed_at"] is not None and parse(doc["closed_at"]) < moment
    resolved = doc["resolved_at"] is not None and parse(doc["resolved_at"]) < moment
    written = doc["postmortem_at"] is not None and parse(doc["postmortem_at"]) < moment
    return {
        "id": doc["incident_id"], "title": doc["title"], "severity": doc["severity"],
        "status": "closed" if closed else "resolved" if resolved else "investigating",
        "commander_email": doc["commander_email"], "detected_at": doc["detected_at"],
        "resolved_at": doc["resolved_at"] if resolved else None, "closed_at": doc["closed_at"] if closed else None,
        "postmortem": {"status": "completed", "completed_at": doc["postmortem_at"],
                       "url": f"https://wiki.kestrel.example/postmortems/{doc['incident_id']}"}
        if written else {"status": "pending" if closed else "not_started", "completed_at": None, "url": None},
    }


# tabletop exercises ---------------------------------------------------------------------------

def generate_tabletops(spec: DemoSpec, people: list[Person]) -> list[dict[str, Any]]:
    facilitator = _security_people(people)[0].email
    participants = sorted(p.email for p in people if p.title.startswith(("Head of", "Chief")))[:8]
    rows = [  # id, title, scenario, planned (day), scheduled for (day), held (day) or None, cancelled (day)
        ("TTX-2023-01", "Ransomware tabletop", "Ransomware encrypts the production database", -900, -790, -790, None),
        ("TTX-2024-01", "Credential theft tabletop", "Engineer laptop stolen with active sessions", -520, -430, None,
         -440),
        ("TTX-2024-02", "Credential theft tabletop (rescheduled)", "Engineer laptop stolen with active sessions",
         -440, -350, -350, None),
        ("TTX-2025-01", "Cloud account compromise tabletop", "Attacker obtains AWS administrator keys", -60, 50, 50,
         None),
        ("TTX-2026-01", "Data breach notification tabletop", "Customer data exfiltrated through a partner API", 120,
         230, None, None),
    ]
    docs = []
    for exercise_id, title, scenario, planned, scheduled, held, cancelled in rows:
        docs.append({"exercise_id": exercise_id, "title": title, "scenario": scenario, "plan_id": PLAN_ID,
                     "planned_at": iso(_day(spec, planned, 10 * 60), millis=False),
                     "scheduled_for": _day(spec, scheduled).date().isoformat(),
                     "held_at": iso(_day(spec, held, 13 * 60), millis=False) if held is not None else None,
                     "cancelled_at": iso(_day(spec, cancelled, 10 * 60), millis=False) if cancelled is not None
                     else None, "facilitator_email": facilitator, "participants": participants,
                     "findings_count": 3 + len(docs) % 3 if held is not None else None})
    return docs


def tabletop_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    if parse(doc["planned_at"]) >= moment:
        return None
    held = doc["held_at"] is not None and parse(doc["held_at"]) < moment
    cancelled = doc["cancelled_at"] is not None and parse(doc["cancelled_at"]) < moment
    return {
        "id": doc["exercise_id"], "title": doc["title"], "plan_id": doc["plan_id"], "scenario": doc["scenario"],
        "status": "completed" if held else "cancelled" if cancelled else "scheduled",
        "scheduled_for": doc["scheduled_for"], "held_on": doc["held_at"][:10] if held else None,
        "facilitator_email": doc["facilitator_email"], "participants": doc["participants"] if held else [],
        "findings_count": doc["findings_count"] if held else None,
        "report_url": f"https://wiki.kestrel.example/tabletops/{doc['exercise_id']}" if held else None,
    }


# restore tests ---------------------------------------------------------------------------------

SYSTEMS = [  # id, name, kind, first quarter tested (days from the window start)
    ("SYS-DB-CORE", "core-postgres", "rds-postgresql", -640),
    ("SYS-S3-DOCS", "customer-documents", "s3", -640),
    ("SYS-DDB-SESSIONS", "sessions", "dynamodb", -450),
    ("SYS-DW-ANALYTICS", "analytics-warehouse", "redshift", -270),
]


def _quarter_starts(spec: DemoSpec, first: datetime) -> list[datetime]:
    starts = []
    moment = first.replace(month=3 * ((first.month - 1) // 3) + 1, day=1, hour=0, minute=0)
    while moment < spec.window_end + timedelta(days=60):
        starts.append(moment)
        month = moment.month + 3
        moment = moment.replace(year=moment.year + (month - 1) // 12, month=(month - 1) % 12 + 1)
    return starts


def generate_restore_tests(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "grc:restore-tests")
    operators = _security_people(people)
    w = spec.window_start
    q4, q1 = w, w + timedelta(days=92)  # the window's quarters (the default window starts on a quarter)
    skip = {("SYS-S3-DOCS", q4), ("SYS-DDB-SESSIONS", q4), ("SYS-DW-ANALYTICS", q1)}
    docs = []

    def add(system: tuple, started: datetime, result: str, note: str | None = None) -> None:
        minutes = rng.randint(25, 180)
        docs.append({"system_id": system[0], "system_name": system[1], "system_kind": system[2],
                     "started_at": iso(started, millis=False),
                     "completed_at": iso(started + timedelta(minutes=minutes), millis=False),
                     "backup_taken_at": iso(started - timedelta(hours=rng.randint(2, 20)), millis=False),
                     "result": result, "data_verified": result == "success", "restore_minutes": minutes,
                     "performed_by": rng.choice(operators).email, "notes": note})

    for system in SYSTEMS:
        for quarter in _quarter_starts(spec, _day(spec, system[3])):
            if (system[0], quarter) in skip:
                continue
            started = at_work(quarter + timedelta(days=31 + rng.randint(4, 24)), 10 * 60)
            if system[0] == "SYS-DB-CORE" and quarter == q4:
                add(system, _day(spec, 42, 10 * 60), "failed", "Checksum mismatch on 3 tables after restore")
                add(system, _day(spec, 105, 10 * 60), "success", "Retest after fixing the snapshot copy job")
                continue
            if system[0] == "SYS-S3-DOCS" and quarter == q1:
                add(system, started, "failed", "Restore job timed out")
                started += timedelta(days=7)
            add(system, started, "success")
    docs.sort(key=lambda d: (d["started_at"], d["system_id"]))
    for number, doc in enumerate(docs, start=1):
        doc["test_id"] = f"RST-{number:04d}"
        doc["backup_id"] = f"arn:aws:backup:us-east-1:recovery-point:{number:08x}-{doc['system_id'].lower()}"
        doc["ticket"] = f"OPS-{2000 + number}"
    seeds.add_exception("avl_restore_test", "SYS-S3-DOCS", "Bucket migration to a new KMS key; restore test "
                        "rescheduled", w + timedelta(days=35), w + timedelta(days=75))
    seeds.add_exception("avl_restore_test", "SYS-DDB-SESSIONS", "Sessions table holds only ephemeral data during "
                        "the re-platforming; test after migration", w + timedelta(days=60), w + timedelta(days=125))
    seeds.add_exception("avl_restore_test", "SYS-DW-ANALYTICS", "Warehouse being replaced; restore test of the "
                        "new cluster scheduled for April", w + timedelta(days=150), w + timedelta(days=200))
    return docs


def restore_test_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """Restore tests are logged when they finish."""
    if parse(doc["completed_at"]) >= moment:
        return None
    return {
        "id": doc["test_id"], "system": {"id": doc["system_id"], "name": doc["system_name"],
                                         "kind": doc["system_kind"]},
        "backup_id": doc["backup_id"], "backup_taken_at": doc["backup_taken_at"], "started_at": doc["started_at"],
        "completed_at": doc["completed_at"], "result": doc["result"], "data_verified": doc["data_verified"],
        "restore_minutes": doc["restore_minutes"], "performed_by": doc["performed_by"], "ticket": doc["ticket"],
        "notes": doc["notes"],
    }


# generation -------------------------------------------------------------------------------------

def load(demo_dir: Path, relative: str) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / relative)


def generate(ctx: WorldContext) -> None:
    spec, people, seeds = ctx.spec, ctx.people, ctx.seeds
    registers = [
        ("grc/risks", RISKS_FILE, generate_risks(spec, people, seeds), risk_at),
        ("grc/vendors", VENDORS_FILE, generate_vendors(spec, people, seeds), vendor_at),
        ("grc/incidents", INCIDENTS_FILE, generate_incidents(spec, people, seeds), incident_at),
        ("grc/tabletop_exercises", TABLETOPS_FILE, generate_tabletops(spec, people), tabletop_at),
        ("grc/restore_tests", RESTORE_TESTS_FILE, generate_restore_tests(spec, people, seeds), restore_test_at),
    ]
    for directory, world_file, docs, render in registers:
        write_json(ctx.demo_dir / world_file, docs)
        deliver_json(ctx, directory, GRC_DELAY,
                     lambda moment, docs=docs, render=render: [r for d in docs if (r := render(d, moment))])

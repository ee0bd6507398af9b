"""Okta: users following the HR lifecycle, their factors, admin roles and sign-ins.

World form (`world/okta_users.json`): one document per user with a status timeline,
factor lifetimes, administrator role grants, a sign-in schedule and absences.
`user_at` / `factors_at` / `roles_at` render the API objects as of any moment and
`events_between` renders the System Log, for the stand-in and the answer key alike, so
the log, the user list and lastLogin always agree.

Seeded on purpose (each with clean periods around it):
- MFA gaps (factor resets re-enrolled days later): iam_okta_mfa;
- late deprovisioning (deactivated more than 24 h after the HR termination, once by
  suspending first): iam_okta_deprovision_24h;
- accounts with no HR record (an ad-hoc contractor, a QA test account, a vendor support
  account, a shared reception account): iam_okta_orphan_accounts;
- dormant accounts (long leave, an account never used, a leave that ends):
  iam_dormant_accounts;
- administrator roles granted without approval: iam_admins_approved.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.access import AdminGrant
from ccm_demo.world.common import iso, okta_id, parse, read_json, rng_for, write_json
from ccm_demo.world.people import DOMAIN, Person
from ccm_demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 10

USERS_FILE = "world/okta_users.json"
FACTOR_KINDS = [  # factorType, provider, id prefix
    ("push", "OKTA", "opf"),
    ("token:software:totp", "GOOGLE", "uft"),
    ("webauthn", "FIDO", "fwf"),
    ("sms", "OKTA", "sms"),
]
CAN_SIGN_IN = {"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"}


def _factor(rng, kind: tuple[str, str, str], created: datetime, activated_after: timedelta) -> dict[str, Any]:
    factor_type, provider, prefix = kind
    return {"id": okta_id(rng, prefix), "factorType": factor_type, "provider": provider,
            "created": iso(created), "active_from": iso(created + activated_after), "removed_at": None}


def generate_users(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "okta")
    users = []
    for person in people:
        created = person.start_at - timedelta(days=5, hours=rng.randint(0, 8))
        activated = person.start_at - timedelta(minutes=rng.randint(10, 50))
        timeline = [[iso(created), "STAGED"], [iso(activated), "ACTIVE"]]
        if person.termination_at is not None:
            lag = timedelta(minutes=rng.randint(20, 300))  # the normal offboarding lag
            timeline.append([iso(person.termination_at + lag), "DEPROVISIONED"])
        first_kind = FACTOR_KINDS[rng.randrange(3)]
        factors = [_factor(rng, first_kind, activated + timedelta(minutes=rng.randint(5, 90)), timedelta(minutes=2))]
        if rng.random() < 0.35:
            second = FACTOR_KINDS[(FACTOR_KINDS.index(first_kind) + 1) % 3]
            factors.append(_factor(rng, second, activated + timedelta(days=rng.randint(1, 200)), timedelta(minutes=3)))
        users.append({
            "id": okta_id(rng, "00u"), "employee_id": person.employee_id, "login": person.email,
            "email": person.email, "first_name": person.first_name, "last_name": person.last_name,
            "department": person.department, "title": person.title, "user_type": person.employment_type,
            "created": iso(created), "activated": iso(activated), "timeline": timeline,
            "password_changed": iso(activated + timedelta(minutes=3)),
            "login_minute": 7 * 60 + rng.randint(0, 180), "factors": factors,
            "kind": "person", "login_schedule": "workdays", "absences": [], "roles": [], "actors": {},
        })
    _seed_mfa_gaps(spec, people, users, seeds)
    seeding = _Seeding(spec, people, users, seeds)
    seeding.admin_roles()
    seeding.late_deprovisioning()
    seeding.dormancy()
    seeding.accounts_without_hr_record()
    return users


def _seed_mfa_gaps(spec: DemoSpec, people: list[Person], users: list[dict[str, Any]], seeds: Seeds) -> None:
    """Users whose factors were reset and re-enrolled days later (iam_okta_mfa failures).

    Gap 0 starts on the window's second day so even a short demo shows a failure. Gaps 1-2
    are covered by approved exceptions; gap 3's exception expires a day before the user
    re-enrols (an expired exception no longer covers); gap 4 leaves the user with only a
    security question, which is not a second factor.
    """
    rng = rng_for(spec.seed, "okta:mfa-gaps")
    by_employee = {p.employee_id: p for p in people}
    stable = [u for u in users
              if by_employee[u["employee_id"]].start_at < spec.window_start - timedelta(days=30)
              and by_employee[u["employee_id"]].termination_at is None]
    chosen = rng.sample(stable, 6)
    count = 6 if spec.days >= 60 else 3
    for number, user in enumerate(chosen[:count]):
        if number == 0:
            day = 1
        else:  # spread the others over the rest of the window
            span = max(1, spec.days - 8)
            low = 4 + (number - 1) * span // (count - 1)
            day = rng.randint(low, max(low, 3 + number * span // (count - 1)))
        reset_at = spec.window_start + timedelta(days=day, hours=13, minutes=rng.randint(0, 120))
        length = 3 if number in (0, 3) else rng.randint(1, 4)
        reenrol_at = reset_at + timedelta(days=length, hours=-3)
        for factor in user["factors"]:
            if parse(factor["created"]) < reset_at and factor["removed_at"] is None:
                factor["removed_at"] = iso(reset_at)
        if number == 4:
            user["factors"].append({"id": okta_id(rng, "ufs"), "factorType": "question", "provider": "OKTA",
                                    "created": iso(reset_at + timedelta(minutes=5)),
                                    "active_from": iso(reset_at + timedelta(minutes=5)), "removed_at": None})
        kind = FACTOR_KINDS[number % 3]
        user["factors"].append(_factor(rng, kind, reenrol_at, timedelta(minutes=4)))
        if number in (1, 2):
            seeds.add_exception("iam_okta_mfa", user["id"], "Lost phone; re-enrolment scheduled with IT, "
                                "compensating control: session lifetime reduced to 1 hour",
                                reset_at, reenrol_at + timedelta(days=1))
        elif number == 3:
            seeds.add_exception("iam_okta_mfa", user["id"], "Hardware token replacement in transit",
                                reset_at, reenrol_at - timedelta(days=2))


# seeding beyond MFA ---------------------------------------------------------------------

ROLE_LABELS = {
    "SUPER_ADMIN": "Super Administrator", "ORG_ADMIN": "Organization Administrator",
    "APP_ADMIN": "Application Administrator", "USER_ADMIN": "Group Administrator",
    "HELP_DESK_ADMIN": "Help Desk Administrator", "READ_ONLY_ADMIN": "Read-only Administrator",
    "REPORT_ADMIN": "Report Administrator",
}


def window_day(spec: DemoSpec, fraction: float, minimum: int = 1, spare: int = 2) -> datetime:
    """Midnight of the window's day at `fraction` of its length (kept inside the window)."""
    offset = max(minimum, min(spec.days - spare, int(spec.days * fraction)))
    return spec.window_start + timedelta(days=offset)


class _Seeding:
    """Plants the identity violations beyond MFA, each on its own random stream.

    Every seed uses users nobody else seeded (MFA-gap users are left alone), is placed at
    a fraction of the window so short and long demos both show it, and leaves clean
    periods around it. Manual changes are made by the Head of IT (the System Log actor).
    """

    def __init__(self, spec: DemoSpec, people: list[Person], users: list[dict[str, Any]], seeds: Seeds) -> None:
        self.spec, self.users, self.seeds = spec, users, seeds
        self.by_employee = {p.employee_id: p for p in people}
        self.used = {u["id"] for u in users if any(f["removed_at"] for f in u["factors"])}
        self.it_admin = self._person_user(lambda p: p.title == "Head of IT")
        self.used.add(self.it_admin["id"])

    def _person_user(self, predicate) -> dict[str, Any]:
        return next(u for u in self.users if u["employee_id"] and predicate(self.by_employee[u["employee_id"]]))

    def _candidates(self, predicate=lambda p: True, started_before_days: int = 30,
                    leaders: bool = False) -> list[dict[str, Any]]:
        """Unused people employed throughout the window, started well before it (leaders
        only when asked: small rosters run out of others)."""
        cutoff = self.spec.window_start - timedelta(days=started_before_days)
        out = []
        for user in self.users:
            person = self.by_employee.get(user["employee_id"] or "")
            if (person is None or user["id"] in self.used or person.termination_at is not None
                    or person.start_at >= cutoff or person.title.startswith(("Head of", "Chief")) != leaders):
                continue
            if predicate(person):
                out.append(user)
        return out

    def _take(self, rng, *predicates) -> dict[str, Any]:
        """A random unused user matching the first predicate that has one; then anyone; then a leader."""
        for predicate, leaders in ((*[(p, False) for p in predicates], (lambda p: True, False),
                                    (predicates[0] if predicates else lambda p: True, True),
                                    (lambda p: True, True))):
            pool = self._candidates(predicate, leaders=leaders)
            if pool:
                user = rng.choice(pool)
                self.used.add(user["id"])
                return user
        raise RuntimeError("the demo roster is too small for the Okta seeds")

    def _grant(self, user: dict[str, Any], role: str, granted_at: datetime, revoked_at: datetime | None,
               approved: bool, rng, by: dict[str, Any] | None = None) -> None:
        user["roles"].append({
            "id": okta_id(rng, "ra1"), "type": role, "label": ROLE_LABELS[role], "granted_at": iso(granted_at),
            "revoked_at": iso(revoked_at), "approved": approved,
            "granted_by": by["id"] if by else self.it_admin["id"],
        })

    # administrators -----------------------------------------------------------------
    def admin_roles(self) -> None:
        """Baseline approved admins, and three grants nobody approved (one not excepted)."""
        rng = rng_for(self.spec.seed, "okta:admins")
        ws = self.spec.window_start
        head_security = self._person_user(lambda p: p.title == "Head of Security")
        self.used.add(head_security["id"])
        for user in (self.it_admin, head_security):
            person = self.by_employee[user["employee_id"]]
            since = max(person.start_at + timedelta(days=14), ws - timedelta(days=400))
            self._grant(user, "SUPER_ADMIN", since.replace(hour=11), None, True, rng, by=user)
        for role in ("ORG_ADMIN", "HELP_DESK_ADMIN"):
            user = self._take(rng, lambda p: p.department == "IT", lambda p: p.department == "Security")
            person = self.by_employee[user["employee_id"]]
            since = max(person.start_at + timedelta(days=20), ws - timedelta(days=300))
            self._grant(user, role, since.replace(hour=10), None, True, rng)
        # an engineer given application admin for a deployment, never approved, removed days later
        user = self._take(rng, lambda p: p.department == "Engineering")
        granted = ws + timedelta(days=1, hours=15)
        self._grant(user, "APP_ADMIN", granted, granted + timedelta(days=2, hours=20), False, rng)
        # group admin for a People-team reorganisation: unapproved but excepted throughout
        user = self._take(rng, lambda p: p.department == "People", lambda p: p.department == "Operations")
        granted = window_day(self.spec, 0.5) + timedelta(hours=10)
        self._grant(user, "USER_ADMIN", granted, granted + timedelta(days=6), False, rng)
        self.seeds.add_exception("iam_admins_approved", f"okta:{user['id']}:USER_ADMIN",
                                 "Temporary group administration for the People-team reorganisation",
                                 granted, granted + timedelta(days=7))
        # report admin for the finance close: unapproved, excepted for its three days
        user = self._take(rng, lambda p: p.department == "Finance", lambda p: p.department == "Legal")
        granted = window_day(self.spec, 0.85) + timedelta(hours=10)
        self._grant(user, "REPORT_ADMIN", granted, granted + timedelta(days=3), False, rng)
        self.seeds.add_exception("iam_admins_approved", f"okta:{user['id']}:REPORT_ADMIN",
                                 "Finance quarter close needs the sign-in reports; removed afterwards",
                                 granted, granted + timedelta(days=4))

    # offboarding --------------------------------------------------------------------
    def late_deprovisioning(self) -> None:
        """Terminations deactivated more than 24 hours late (one suspended first)."""
        leavers = sorted((u for u in self.users if u["employee_id"]
                          and self.by_employee[u["employee_id"]].termination_at is not None),
                         key=lambda u: self.by_employee[u["employee_id"]].termination_at)
        if not leavers:
            return
        count = len(leavers)
        plan: dict[int, tuple[str, timedelta, str | None]] = {}
        for position, how in ((0, ("late", timedelta(hours=30), None)),
                              (count // 4, ("suspended_first", timedelta(days=3), "covered")),
                              (count // 2, ("late", timedelta(hours=50), "expired")),
                              (3 * count // 4, ("late", timedelta(hours=28), "covered"))):
            plan.setdefault(position, how)
        for position, (how, lag, exception) in sorted(plan.items()):
            user = leavers[position]
            terminated = self.by_employee[user["employee_id"]].termination_at
            assert terminated is not None
            timeline = [entry for entry in user["timeline"] if entry[1] != "DEPROVISIONED"]
            if how == "suspended_first":
                suspended = terminated + timedelta(hours=2)
                timeline.append([iso(suspended), "SUSPENDED"])
                user["actors"][iso(suspended)] = self.it_admin["id"]
            deactivated = terminated + lag
            timeline.append([iso(deactivated), "DEPROVISIONED"])
            user["actors"][iso(deactivated)] = self.it_admin["id"]
            user["timeline"] = timeline
            self.used.add(user["id"])
            if exception == "covered":
                self.seeds.add_exception("iam_okta_deprovision_24h", user["employee_id"],
                                         "Leaver kept read access to hand over customer tickets (approved by manager)",
                                         terminated, terminated + timedelta(days=45))
            elif exception == "expired":
                self.seeds.add_exception("iam_okta_deprovision_24h", user["employee_id"],
                                         "Deactivation deferred over a public holiday",
                                         terminated, terminated)

    # dormancy -----------------------------------------------------------------------
    def dormancy(self) -> None:
        """A long leave ending in suspension, an account never used, a leave that ends."""
        rng = rng_for(self.spec.seed, "okta:dormant")
        ws = self.spec.window_start
        # long leave: dormant from the window's first days; excepted for three days after
        # the exception was filed, then the exception lapses and IT suspends the account
        user = self._take(rng, lambda p: p.start_at < ws - timedelta(days=200))
        crossing = window_day(self.spec, 0.0, minimum=1)
        user["absences"].append([iso(crossing - timedelta(days=90)), None])
        self.seeds.add_exception("iam_dormant_accounts", user["id"], "Parental leave; account kept for the return",
                                 crossing + timedelta(days=2), crossing + timedelta(days=4))
        suspended = crossing + timedelta(days=6, hours=14)
        user["timeline"].append([iso(suspended), "SUSPENDED"])
        user["actors"][iso(suspended)] = self.it_admin["id"]
        # an account created for someone who never signed in; IT suspends it days after it
        # turns dormant, under an exception covering the clean-up
        target = window_day(self.spec, 0.45, minimum=3, spare=6)
        pool = [u for u in self._candidates(started_before_days=-self.spec.days)
                if abs(parse(u["created"]) + timedelta(days=90) - target) <= timedelta(days=20)]
        if pool:
            user = min(pool, key=lambda u: (abs(parse(u["created"]) + timedelta(days=90) - target), u["id"]))
            self.used.add(user["id"])
            user["login_schedule"] = "never"
            crossing = parse(user["created"]) + timedelta(days=90)
            suspended = crossing.replace(hour=11, minute=0, second=0, microsecond=0) + timedelta(days=4)
            user["timeline"].append([iso(suspended), "SUSPENDED"])
            user["actors"][iso(suspended)] = self.it_admin["id"]
            self.seeds.add_exception("iam_dormant_accounts", user["id"],
                                     "Unused contractor account; suspension scheduled with the vendor manager",
                                     crossing, suspended + timedelta(days=1))
        # a sabbatical: dormant for four days before the person returns; excepted for the
        # last two
        user = self._take(rng, lambda p: p.start_at < ws - timedelta(days=200))
        crossing = window_day(self.spec, 0.75, minimum=4, spare=6)
        back = crossing + timedelta(days=4, hours=6)
        user["absences"].append([iso(crossing - timedelta(days=90)), iso(back)])
        self.seeds.add_exception("iam_dormant_accounts", user["id"], "Sabbatical ending this week",
                                 crossing + timedelta(days=2), back + timedelta(days=1))

    # accounts without an HR record ----------------------------------------------------
    def accounts_without_hr_record(self) -> None:
        """Accounts created by hand that no HR record stands behind."""
        rng = rng_for(self.spec.seed, "okta:orphans")
        specs = [
            # (login, first, last, created, lifetime, exception: (reason, days) or None)
            (f"ext-jamie.morgan@{DOMAIN}", "Jamie", "Morgan", window_day(self.spec, 0.1, minimum=2), 40, None),
            (f"qa.test01@{DOMAIN}", "QA", "Test01", window_day(self.spec, 0.45, minimum=3), 35,
             ("QA test account for the SSO migration; to be removed after cut-over", 8)),
            ("support.engineer@lumen-it.example", "Lumen", "Support", window_day(self.spec, 0.6, minimum=3), 28,
             ("Vendor support engineer for the directory migration", 40)),
            (f"reception@{DOMAIN}", "Front", "Desk", window_day(self.spec, 0.88, minimum=3), None,
             ("Shared reception kiosk account, owner: Head of Operations", 60)),
        ]
        for login, first, last, day, lifetime, exception in specs:
            created = day + timedelta(hours=10, minutes=rng.randint(0, 50))
            activated = created + timedelta(minutes=20)
            timeline = [[iso(created), "STAGED"], [iso(activated), "ACTIVE"]]
            actors = {iso(created): self.it_admin["id"], iso(activated): self.it_admin["id"]}
            if lifetime is not None:
                gone = created + timedelta(days=lifetime)
                timeline.append([iso(gone), "DEPROVISIONED"])
                actors[iso(gone)] = self.it_admin["id"]
            factor = _factor(rng, FACTOR_KINDS[rng.randrange(2)], activated + timedelta(minutes=10),
                             timedelta(minutes=2))
            user = {
                "id": okta_id(rng, "00u"), "employee_id": None, "login": login, "email": login,
                "first_name": first, "last_name": last, "department": None, "title": None, "user_type": "external",
                "created": iso(created), "activated": iso(activated), "timeline": timeline,
                "password_changed": iso(activated + timedelta(minutes=3)),
                "login_minute": 8 * 60 + rng.randint(0, 120), "factors": [factor], "kind": "no_hr_record",
                "login_schedule": "workdays", "absences": [], "roles": [], "actors": actors,
            }
            self.users.append(user)
            if exception is not None:
                reason, days = exception
                self.seeds.add_exception("iam_okta_orphan_accounts", user["id"], reason, created,
                                         created + timedelta(days=days))


def generate(ctx: WorldContext) -> None:
    write_json(ctx.demo_dir / USERS_FILE, generate_users(ctx.spec, ctx.people, ctx.seeds))
    # Okta is down when the runs closing the window's third day (so even a short demo shows
    # a not_tested day) and a day 41% into the window observe it
    for day in sorted({2, int(ctx.spec.days * 0.41)}):
        closes = ctx.spec.window_start + timedelta(days=day + 1)
        ctx.seeds.add_outage("okta", closes, closes + timedelta(hours=6),
                             "Okta API returns 503 for six hours after the day closes")


def load_users(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / USERS_FILE)


# state as of a moment ------------------------------------------------------------------

def status_at(user: dict[str, Any], moment: datetime) -> tuple[str | None, datetime | None]:
    """(status, since) at `moment`, or (None, None) if the user did not exist yet."""
    status, since = None, None
    for at, value in user["timeline"]:
        when = parse(at)
        if when <= moment:
            status, since = value, when
    return status, since


def factors_at(user: dict[str, Any], moment: datetime) -> list[dict[str, Any]]:
    """Factors enrolled at `moment` in the API's shape."""
    out = []
    for factor in user["factors"]:
        created, removed = parse(factor["created"]), parse(factor["removed_at"])
        if created > moment or (removed is not None and moment >= removed):
            continue
        active = moment >= parse(factor["active_from"])
        out.append({
            "id": factor["id"], "factorType": factor["factorType"], "provider": factor["provider"],
            "vendorName": factor["provider"], "status": "ACTIVE" if active else "PENDING_ACTIVATION",
            "created": factor["created"], "lastUpdated": factor["active_from"] if active else factor["created"],
            "profile": _factor_profile(factor, user),
        })
    return out


def _factor_profile(factor: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    match factor["factorType"]:
        case "push":
            return {"credentialId": user["login"], "deviceType": "SmartPhone_IPhone", "name": "iPhone", "platform": "IOS"}
        case "sms":
            return {"phoneNumber": "+1-555-01" + factor["id"][-2:].encode().hex()[:2]}
        case "question":
            return {"question": "favorite_security_question", "questionText": "What is your favorite security question?"}
        case _:
            return {"credentialId": user["login"]}


# sign-ins ------------------------------------------------------------------------------

def _sign_in_spans(user: dict[str, Any]) -> list[tuple[datetime, datetime | None]]:
    """[from, to) spans in which the user signs in: ACTIVE status, minus absences."""
    timeline = [(parse(at), status) for at, status in user["timeline"]]
    spans: list[tuple[datetime, datetime | None]] = []
    for index, (at, status) in enumerate(timeline):
        if status == "ACTIVE":
            spans.append((at, timeline[index + 1][0] if index + 1 < len(timeline) else None))
    for absent_from, absent_to in user.get("absences", []):
        a, b = parse(absent_from), parse(absent_to)
        cut: list[tuple[datetime, datetime | None]] = []
        for start, end in spans:
            if (end is not None and end <= a) or (b is not None and start >= b):
                cut.append((start, end))
                continue
            if start < a:
                cut.append((start, a))
            if b is not None and (end is None or b < end):
                cut.append((b, end))
        spans = cut
    return spans


def _scheduled(user: dict[str, Any], day: datetime) -> datetime | None:
    """The moment the user's schedule ("workdays" or "never") has them sign in on `day`."""
    schedule = user.get("login_schedule", "workdays")
    if schedule == "never":
        return None
    if schedule == "workdays" and day.weekday() >= 5:
        return None
    return day + timedelta(minutes=user["login_minute"])


def logins_between(user: dict[str, Any], start: datetime, end: datetime) -> list[datetime]:
    """Every sign-in in [start, end): the schedule, while ACTIVE and not absent."""
    if user.get("login_schedule") == "never":
        return []
    out = []
    for span_start, span_end in _sign_in_spans(user):
        lo, hi = max(start, span_start), end if span_end is None else min(end, span_end)
        day = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < hi:
            moment = _scheduled(user, day)
            if moment is not None and lo <= moment < hi:
                out.append(moment)
            day += timedelta(days=1)
    return sorted(out)


def last_login_at(user: dict[str, Any], moment: datetime) -> datetime | None:
    """The latest sign-in at or before `moment` (what Okta reports as lastLogin)."""
    if user.get("login_schedule") == "never":
        return None
    for span_start, span_end in reversed(_sign_in_spans(user)):
        if span_start > moment:
            continue
        limit = moment if span_end is None else min(moment, span_end - timedelta(microseconds=1))
        day = limit.replace(hour=0, minute=0, second=0, microsecond=0)
        while day >= span_start - timedelta(days=1):
            candidate = _scheduled(user, day)
            if candidate is not None and span_start <= candidate <= limit:
                return candidate
            day -= timedelta(days=1)
    return None


# administrator roles ---------------------------------------------------------------------

def roles_at(user: dict[str, Any], moment: datetime, base_url: str) -> list[dict[str, Any]]:
    """Role assignments held at `moment`, shaped like GET /api/v1/users/{id}/roles."""
    out = []
    for role in user["roles"]:
        granted, revoked = parse(role["granted_at"]), parse(role["revoked_at"])
        if granted <= moment and (revoked is None or moment < revoked):
            out.append({
                "id": role["id"], "label": role["label"], "type": role["type"], "status": "ACTIVE",
                "created": role["granted_at"], "lastUpdated": role["granted_at"], "assignmentType": "USER",
                "_links": {"assignee": {"href": f"{base_url}/api/v1/users/{user['id']}"}},
            })
    return out


def admin_grants(demo_dir: Path) -> list[AdminGrant]:
    """Okta's administrator grants for the IGA register and the admin oracle."""
    grants = []
    for user in load_users(demo_dir):
        deactivated = next((parse(at) for at, status in user["timeline"] if status == "DEPROVISIONED"), None)
        for role in user["roles"]:
            granted = parse(role["granted_at"])
            grants.append(AdminGrant(
                system="okta", account_id=user["id"], account=user["login"].lower(),
                employee_id=user["employee_id"], role=role["type"], granted_at=granted,
                revoked_at=parse(role["revoked_at"]), approved=role["approved"],
                approved_at=granted - timedelta(days=1) if role["approved"] else None,
                account_removed_at=deactivated,
            ))
    return grants


# the System Log ---------------------------------------------------------------------------

_LIFECYCLE = {  # (previous status, new status) -> eventType, displayMessage
    (None, "STAGED"): ("user.lifecycle.create", "Create Okta user"),
    ("STAGED", "ACTIVE"): ("user.lifecycle.activate", "Activate Okta user"),
    ("ACTIVE", "SUSPENDED"): ("user.lifecycle.suspend", "Suspend Okta user"),
    ("SUSPENDED", "ACTIVE"): ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
}
_DEACTIVATE = ("user.lifecycle.deactivate", "Deactivate Okta user")
_LEGACY = {
    "user.session.start": "core.user_auth.login_success", "user.lifecycle.create": "core.user.config.user_creation.success",
    "user.lifecycle.activate": "core.user.config.user_activated", "user.lifecycle.deactivate":
    "core.user.config.user_deactivated", "user.lifecycle.suspend": "core.user.config.user_status.suspended",
    "user.lifecycle.unsuspend": "core.user.config.user_status.unsuspended",
    "user.mfa.factor.activate": "core.user.factor.activate", "user.mfa.factor.deactivate": "core.user.factor.deactivate",
    "user.account.privilege.grant": "core.user.admin_privilege.granted",
    "user.account.privilege.revoke": "core.user.admin_privilege.revoked",
}
SYSTEM_PRINCIPAL = {"id": "0oa1hrisprovisioning", "type": "SystemPrincipal", "alternateId": "system@okta.com",
                    "displayName": "Okta System", "detailEntry": None}


def _principal(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "User", "alternateId": user["login"],
            "displayName": f"{user['first_name']} {user['last_name']}", "detailEntry": None}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _client(user: dict[str, Any] | None) -> dict[str, Any]:
    digest = _digest("client", user["id"] if user else "system")
    return {
        "userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                                      "(KHTML, like Gecko) Chrome/141.0 Safari/537.36",
                      "os": "Mac OS X", "browser": "CHROME"},
        "zone": "null", "device": "Computer", "id": None,
        "ipAddress": f"198.51.100.{digest[0] % 250 + 2}",
        "geographicalContext": {"city": "Dublin", "state": "Leinster", "country": "Ireland", "postalCode": None,
                                "geolocation": {"lat": 53.3498, "lon": -6.2603}},
    }


def _event(event_type: str, published: datetime, actor: dict[str, Any], targets: list[dict[str, Any]] | None,
           message: str, client_user: dict[str, Any] | None, debug: dict[str, str] | None = None) -> dict[str, Any]:
    digest = _digest(event_type, iso(published) or "", actor["id"], *(t["id"] for t in targets or []),
                     *(f"{k}={v}" for k, v in sorted((debug or {}).items())))
    event = {
        "uuid": str(uuid.UUID(bytes=digest[:16], version=4)),
        "published": iso(published),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "legacyEventType": _LEGACY.get(event_type),
        "displayMessage": message,
        "actor": actor,
        "client": _client(client_user),
        "device": None,
        "authenticationContext": {"authenticationProvider": None, "credentialProvider": None,
                                  "credentialType": None, "issuer": None, "interface": None,
                                  "authenticationStep": 0, "externalSessionId": "102" + digest[16:24].hex()},
        "displayMessageDetails": None,
        "securityContext": {"asNumber": None, "asOrg": None, "isp": None, "domain": None, "isProxy": None},
        "outcome": {"result": "SUCCESS", "reason": None},
        "transaction": {"type": "WEB", "id": digest[24:32].hex(), "detail": {}},
        "debugContext": {"debugData": {"requestId": digest[8:20].hex(), **(debug or {})}},
        "request": {"ipChain": []},
    }
    if targets is not None:
        event["target"] = targets
    return event


def events_between(users: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every System Log event published in [start, end), oldest first (ties by uuid).

    Derived from the same timelines the user list renders: sign-ins (`user.session.start`,
    matching lastLogin), lifecycle changes, factor activations and the seeded resets, and
    administrator privilege grants and revocations.
    """
    by_id = {u["id"]: u for u in users}

    def actor_of(user: dict[str, Any], moment: datetime) -> dict[str, Any]:
        actor_id = user.get("actors", {}).get(iso(moment))
        return _principal(by_id[actor_id]) if actor_id in by_id else SYSTEM_PRINCIPAL

    def within(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < end

    helpdesk = next((u for u in users if u.get("title") == "Head of IT"), None)
    events = []
    for user in users:
        target = [_principal(user)]
        for moment in logins_between(user, start, end):
            event = _event("user.session.start", moment, _principal(user), None, "User login to Okta", user)
            event["authenticationContext"]["authenticationProvider"] = "OKTA_AUTHENTICATION_PROVIDER"
            event["authenticationContext"]["credentialType"] = "PASSWORD"
            events.append(event)
        previous = None
        for at, status in user["timeline"]:
            moment = parse(at)
            if within(moment):
                event_type, message = _DEACTIVATE if status == "DEPROVISIONED" else _LIFECYCLE[(previous, status)]
                actor = actor_of(user, moment)
                events.append(_event(event_type, moment, actor, target, message,
                                     by_id.get(actor["id"])))
            previous = status
        for factor in user["factors"]:
            activated, removed = parse(factor["active_from"]), parse(factor["removed_at"])
            debug = {"factor": factor["factorType"], "factorIntent": "ENROLLMENT", "factorId": factor["id"]}
            if within(activated):
                events.append(_event("user.mfa.factor.activate", activated, _principal(user), target,
                                     "Activate factor or authenticator", user, debug))
            if within(removed):
                actor = _principal(helpdesk) if helpdesk else SYSTEM_PRINCIPAL
                events.append(_event("user.mfa.factor.deactivate", removed, actor, target,
                                     "Reset factor or authenticator for user", helpdesk, debug))
        for role in user["roles"]:
            granted, revoked = parse(role["granted_at"]), parse(role["revoked_at"])
            actor = _principal(by_id[role["granted_by"]]) if role["granted_by"] in by_id else SYSTEM_PRINCIPAL
            debug = {"privilegeGranted": role["label"]}
            if within(granted):
                events.append(_event("user.account.privilege.grant", granted, actor, target,
                                     "Grant user privilege", by_id.get(role["granted_by"]), debug))
            if within(revoked):
                events.append(_event("user.account.privilege.revoke", revoked, actor, target,
                                     "Revoke user privilege", by_id.get(role["granted_by"]),
                                     {"privilegeRevoked": role["label"]}))
    return sorted(events, key=lambda e: (e["published"], e["uuid"]))


def user_at(user: dict[str, Any], moment: datetime, base_url: str) -> dict[str, Any] | None:
    status, since = status_at(user, moment)
    if status is None:
        return None
    last_login = last_login_at(user, moment)
    activated = parse(user["activated"])
    return {
        "id": user["id"],
        "status": status,
        "created": user["created"],
        "activated": user["activated"] if moment >= activated else None,
        "statusChanged": iso(since),
        "lastLogin": iso(last_login),
        "lastUpdated": iso(since),
        "passwordChanged": user["password_changed"] if moment >= activated else None,
        "type": {"id": "oty1a2b3c4d5e6f7g8h9"},
        "profile": {
            "firstName": user["first_name"], "lastName": user["last_name"], "mobilePhone": None,
            "secondEmail": None, "login": user["login"], "email": user["email"],
            "employeeNumber": user["employee_id"], "department": user["department"], "title": user["title"],
            "userType": user["user_type"],
        },
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"{base_url}/api/v1/users/{user['id']}"}},
    }

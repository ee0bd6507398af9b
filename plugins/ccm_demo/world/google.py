"""Google Workspace: directory users following the HR roster, 2-step verification, admins.

World form (`world/google_users.json`): one document per person with the account's
creation, suspension (on termination, after a lag) and deletion, the spans in which the
user is enrolled in 2SV and the spans in which their organisational unit does not enforce
it, and super-admin grants. `user_at` renders the Directory API object as of any moment
for the stand-in and the answer key alike.

Seeded on purpose (each with clean periods around it):
- 2SV: a user whose 2SV was reset and re-enrolled two days later (not excepted); a user
  moved into an OU without enforcement (excepted, then the exception lapses); a user
  waiting for a security key (excepted); another short unenforced spell (excepted):
  iam_google_2sv;
- admins: a support engineer made super admin without approval (excepted, then not);
  an approved admin whose approval lapsed for three days: iam_admins_approved;
- late suspensions of two leavers (for the termination controls after the merge);
- one day when the Directory API is down.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.access import AdminGrant
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.okta import window_day
from ccm_demo.world.people import Person
from ccm_demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 12

USERS_FILE = "world/google_users.json"
CUSTOMER_ID = "C03kestrel"
EXEMPT_OU = "/Staff/2SV-Exempt"
NEVER = "1970-01-01T00:00:00.000Z"  # what the Directory API reports for "never signed in"
DELETED_RETENTION = timedelta(days=20)  # deleted users can be listed (and restored) this long


def _in(spans: list[list[str | None]], moment: datetime) -> bool:
    return any(parse(a) <= moment and (b is None or moment < parse(b)) for a, b in spans)


def generate_users(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "google")
    users = []
    for person in people:
        created = person.start_at - timedelta(hours=2)
        suspended = deleted = None
        if person.termination_at is not None:
            suspended = person.termination_at + timedelta(minutes=rng.randint(30, 240))
            deleted = suspended + timedelta(days=20)
        ou = "/Contractors" if person.employment_type == "contractor" else f"/Staff/{person.department}"
        users.append({
            "id": "1" + "".join(str(rng.randrange(10)) for _ in range(20)),
            "employee_id": person.employee_id, "email": person.email, "first_name": person.first_name,
            "last_name": person.last_name, "department": person.department, "title": person.title,
            "org_unit": ou, "created": iso(created), "suspended_at": iso(suspended), "deleted_at": iso(deleted),
            "login_minute": 7 * 60 + rng.randint(10, 190),
            "enrolled": [[iso(created + timedelta(minutes=rng.randint(30, 75))), None]],
            "unenforced": [], "admin": [],
        })
    _Seeding(spec, people, users, seeds).plant()
    return users


class _Seeding:
    def __init__(self, spec: DemoSpec, people: list[Person], users: list[dict[str, Any]], seeds: Seeds) -> None:
        self.spec, self.users, self.seeds = spec, users, seeds
        self.by_employee = {p.employee_id: p for p in people}
        self.used: set[str] = set()

    def _take(self, rng, *predicates) -> dict[str, Any]:
        """A random unused user matching the first predicate that has one; then anyone; then a leader."""
        cutoff = self.spec.window_start - timedelta(days=30)
        fallbacks = [*[(p, False) for p in predicates], (lambda p: True, False), (lambda p: True, True)]
        for predicate, leaders in fallbacks:
            pool = [u for u in self.users
                    if u["id"] not in self.used
                    and (p := self.by_employee[u["employee_id"]]).termination_at is None
                    and p.start_at < cutoff and p.title.startswith(("Head of", "Chief")) == leaders
                    and predicate(p)]
            if pool:
                user = rng.choice(pool)
                self.used.add(user["id"])
                return user
        raise RuntimeError("the demo roster is too small for the Google seeds")

    def _head(self, title: str) -> dict[str, Any]:
        user = next(u for u in self.users if self.by_employee[u["employee_id"]].title == title)
        self.used.add(user["id"])
        return user

    def plant(self) -> None:
        self.two_step()
        self.admins()
        self.late_suspensions()

    def two_step(self) -> None:
        rng = rng_for(self.spec.seed, "google:2sv")
        # reset on the window's second day, re-enrolled two days later: two failing days
        user = self._take(rng)
        day = window_day(self.spec, 0.0, minimum=1)
        first = user["enrolled"][0][0]
        user["enrolled"] = [[first, iso(day + timedelta(hours=14))], [iso(day + timedelta(days=2, hours=10)), None]]
        # moved to an OU without enforcement for five days; excepted for the first three
        user = self._take(rng, lambda p: p.department == "Sales")
        day = window_day(self.spec, 0.35, minimum=3, spare=7)
        user["unenforced"].append([iso(day + timedelta(hours=11)), iso(day + timedelta(days=5, hours=16))])
        self.seeds.add_exception("iam_google_2sv", user["id"], "Sales demo laptop pool while 2SV keys are re-issued",
                                 day, day + timedelta(days=2))
        # waiting for a replacement security key: not enrolled for four days, excepted
        user = self._take(rng, lambda p: p.department == "Engineering")
        day = window_day(self.spec, 0.6, minimum=3, spare=6)
        first = user["enrolled"][0][0]
        user["enrolled"] = [[first, iso(day + timedelta(hours=9))], [iso(day + timedelta(days=4, hours=12)), None]]
        self.seeds.add_exception("iam_google_2sv", user["id"], "Security key lost; replacement shipped",
                                 day, day + timedelta(days=5))
        # a two-day unenforced spell during an OU restructure, excepted
        user = self._take(rng, lambda p: p.department == "Marketing")
        day = window_day(self.spec, 0.8, minimum=3, spare=4)
        user["unenforced"].append([iso(day + timedelta(hours=10)), iso(day + timedelta(days=2, hours=15))])
        self.seeds.add_exception("iam_google_2sv", user["id"], "OU restructure; enforcement re-applied after the move",
                                 day, day + timedelta(days=3))

    def admins(self) -> None:
        rng = rng_for(self.spec.seed, "google:admins")
        ws = self.spec.window_start
        head = self._head("Head of IT")
        since = max(self.by_employee[head["employee_id"]].start_at + timedelta(days=7), ws - timedelta(days=500))
        head["admin"].append({"granted_at": iso(since.replace(hour=12)), "revoked_at": None, "approved": True,
                              "approval_gaps": []})
        # an approved admin whose approval lapsed and was renewed three days later
        user = self._take(rng, lambda p: p.department == "IT", lambda p: p.department == "Security")
        since = max(self.by_employee[user["employee_id"]].start_at + timedelta(days=30), ws - timedelta(days=250))
        lapse = window_day(self.spec, 0.65, minimum=3, spare=5)
        user["admin"].append({"granted_at": iso(since.replace(hour=12)), "revoked_at": None, "approved": True,
                              "approval_gaps": [[iso(lapse), iso(lapse + timedelta(days=2, hours=12))]]})
        # a support engineer made super admin to debug mail routing, never approved
        user = self._take(rng, lambda p: p.department == "Customer Support", lambda p: p.department == "IT")
        granted = window_day(self.spec, 0.3, minimum=2, spare=9) + timedelta(hours=10)
        user["admin"].append({"granted_at": iso(granted), "revoked_at": iso(granted + timedelta(days=8)),
                              "approved": False, "approval_gaps": []})
        self.seeds.add_exception("iam_admins_approved", f"google:{user['id']}:SUPER_ADMIN",
                                 "Mail routing incident; super admin needed until the vendor fix",
                                 granted, granted + timedelta(days=3))

    def late_suspensions(self) -> None:
        leavers = sorted((u for u in self.users if u["suspended_at"]),
                         key=lambda u: self.by_employee[u["employee_id"]].termination_at)
        for position in sorted({1, len(leavers) // 3} & set(range(len(leavers)))):
            user = leavers[position]
            terminated = self.by_employee[user["employee_id"]].termination_at
            suspended = terminated + timedelta(days=2, hours=20)
            user["suspended_at"] = iso(suspended)
            user["deleted_at"] = iso(suspended + timedelta(days=20))


def generate(ctx: WorldContext) -> None:
    write_json(ctx.demo_dir / USERS_FILE, generate_users(ctx.spec, ctx.people, ctx.seeds))
    day = max(4, int(ctx.spec.days * 0.55))
    closes = ctx.spec.window_start + timedelta(days=day + 1)
    ctx.seeds.add_outage("google", closes, closes + timedelta(hours=6),
                         "Google Directory API returns 503 backendError for six hours after the day closes")


def load_users(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / USERS_FILE)


# state as of a moment ------------------------------------------------------------------

def exists_at(user: dict[str, Any], moment: datetime) -> bool:
    """Created, and not deleted (deleted users are only listed with showDeleted)."""
    deleted = parse(user["deleted_at"])
    return parse(user["created"]) <= moment and (deleted is None or moment < deleted)


def deleted_listed_at(user: dict[str, Any], moment: datetime) -> bool:
    """Deleted, and still within the retention in which showDeleted lists it."""
    deleted = parse(user["deleted_at"])
    return deleted is not None and deleted <= moment < deleted + DELETED_RETENTION


def suspended_at(user: dict[str, Any], moment: datetime) -> bool:
    suspended = parse(user["suspended_at"])
    return suspended is not None and suspended <= moment


def enrolled_at(user: dict[str, Any], moment: datetime) -> bool:
    return _in(user["enrolled"], moment)


def enforced_at(user: dict[str, Any], moment: datetime) -> bool:
    return not _in(user["unenforced"], moment)


def is_admin_at(user: dict[str, Any], moment: datetime) -> bool:
    return any(parse(g["granted_at"]) <= moment and (g["revoked_at"] is None or moment < parse(g["revoked_at"]))
               for g in user["admin"])


def last_login_at(user: dict[str, Any], moment: datetime) -> datetime | None:
    """Workday sign-ins at the user's habitual minute, from the first day until suspended."""
    created = parse(user["created"])
    limit = moment
    suspended = parse(user["suspended_at"])
    if suspended is not None and suspended <= limit:
        limit = suspended - timedelta(microseconds=1)
    day = limit.replace(hour=0, minute=0, second=0, microsecond=0)
    while day >= created - timedelta(days=1):
        candidate = day + timedelta(minutes=user["login_minute"])
        if day.weekday() < 5 and created <= candidate <= limit:
            return candidate
        day -= timedelta(days=1)
    return None


def user_at(user: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The Directory API user object at `moment` (also for deleted users still listed)."""
    deleted = deleted_listed_at(user, moment)
    if not exists_at(user, moment) and not deleted:
        return None
    suspended = suspended_at(user, moment)
    enforced = enforced_at(user, moment)
    last_login = last_login_at(user, moment)
    doc: dict[str, Any] = {
        "kind": "admin#directory#user",
        "id": user["id"],
        "etag": '"' + hashlib.sha256(f"{user['id']}|{iso(moment)}".encode()).hexdigest()[:27] + '"',
        "primaryEmail": user["email"],
        "name": {"givenName": user["first_name"], "familyName": user["last_name"],
                 "fullName": f"{user['first_name']} {user['last_name']}"},
        "isAdmin": is_admin_at(user, moment),
        "isDelegatedAdmin": False,
        "lastLoginTime": iso(last_login) if last_login else NEVER,
        "creationTime": user["created"],
        "agreedToTerms": last_login is not None,
        "suspended": suspended,
        "archived": False,
        "changePasswordAtNextLogin": False,
        "ipWhitelisted": False,
        "emails": [{"address": user["email"], "primary": True}],
        "externalIds": [{"value": user["employee_id"], "type": "organization"}],
        "organizations": [{"title": user["title"], "primary": True, "customType": "",
                           "department": user["department"]}],
        "customerId": CUSTOMER_ID,
        "orgUnitPath": user["org_unit"] if enforced else EXEMPT_OU,
        "isMailboxSetup": True,
        "isEnrolledIn2Sv": enrolled_at(user, moment),
        "isEnforcedIn2Sv": enforced,
        "includeInGlobalAddressList": True,
    }
    if suspended:
        doc["suspensionReason"] = "ADMIN"
    if deleted:
        doc["deletionTime"] = user["deleted_at"]
    return doc


def admin_grants(demo_dir: Path) -> list[AdminGrant]:
    """Google super-admin grants (isAdmin) for the IGA register and the admin oracle."""
    grants = []
    for user in load_users(demo_dir):
        for grant in user["admin"]:
            granted = parse(grant["granted_at"])
            grants.append(AdminGrant(
                system="google", account_id=user["id"], account=user["email"].lower(),
                employee_id=user["employee_id"], role="SUPER_ADMIN", granted_at=granted,
                revoked_at=parse(grant["revoked_at"]), approved=grant["approved"],
                approved_at=granted - timedelta(days=1) if grant["approved"] else None,
                approval_gaps=tuple((parse(a), parse(b)) for a, b in grant["approval_gaps"]),
                account_removed_at=parse(user["deleted_at"]),
            ))
    return grants

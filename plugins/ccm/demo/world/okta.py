"""Okta: users following the HR lifecycle, their factors, and seeded MFA gaps.

World form (`world/okta_users.json`): one document per user with a status timeline and
factor lifetimes; `user_at` / `factors_at` render the API objects as of any moment,
for the stand-in and for the answer key alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm.demo.spec import DemoSpec
from ccm.demo.world.common import iso, okta_id, parse, read_json, rng_for, write_json
from ccm.demo.world.people import Person
from ccm.demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm.demo.world import WorldContext

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
            "login_minute": 7 * 60 + rng.randint(0, 180), "dormant_after": None, "factors": factors,
        })
    _seed_mfa_gaps(spec, people, users, seeds)
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


def last_login_at(user: dict[str, Any], moment: datetime) -> datetime | None:
    """Users sign in on workdays at their habitual minute while ACTIVE (and not dormant)."""
    limit = moment
    if user.get("dormant_after"):
        limit = min(limit, parse(user["dormant_after"]))
    day = limit.replace(hour=0, minute=0, second=0, microsecond=0)
    activated = parse(user["activated"])
    for _ in range(40):
        if day.weekday() < 5:
            candidate = day + timedelta(minutes=user["login_minute"])
            if candidate <= limit and candidate >= activated and status_at(user, candidate)[0] == "ACTIVE":
                return candidate
        day -= timedelta(days=1)
        if day < activated - timedelta(days=1):
            break
    return None


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

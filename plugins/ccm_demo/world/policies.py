"""Policies and acknowledgements, as the GRC tool holds them.

World form: `world/grc_policies.json` (one document per policy version with when it was
drafted and published) and `world/grc_policy_acknowledgements.json` (who acknowledged
which version, when). `policy_version_at` / `acknowledgement_at` render the export
records as of any moment.

Baseline: everyone acknowledges each version that requires it within 12 days of its
publication, and new hires acknowledge the versions in force within 5 days of starting.
The Information Security Policy gets version 4.0 40 days into the window and the
Acceptable Use Policy version 3.0 131 days in. The GRC export lists acknowledgements of
the versions in force during the 400 days before the window and since. Planted
(quarterly control org_policy_acknowledgement; 30 days' grace in the suite):

- an employee who acknowledged version 4.0 only in January (fails Q4);
- one whose exception expired in December before they acknowledged (fails Q4);
- one on parental leave, excepted through January (Q4 excepted);
- one on sabbatical who has not acknowledged AUP 3.0 by the end of March (Q1 excepted).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.org_exports import GRC_DELAY, Versioned, at_work, deliver_csv, deliver_json, stable_people
from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext
    from ccm_demo.world.seeds import Seeds

ORDER = 30
POLICIES_FILE = "world/grc_policies.json"
ACKS_FILE = "world/grc_policy_acknowledgements.json"
POLICY_DIR = "grc/policies"
ACK_DIR = "grc/policy_acknowledgements"
CONTROL_ID = "org_policy_acknowledgement"
ACK_COLUMNS = ["acknowledgement_id", "policy_id", "policy_version", "employee_id", "email", "acknowledged_at",
               "method"]

# policy id, title, owner title, requires acknowledgement, [(version, days from window start it was published)]
POLICIES = [
    ("POL-ISP", "Information Security Policy", "Head of Security", True,
     [("2.0", -800), ("3.0", -380), ("4.0", 40)]),
    ("POL-AUP", "Acceptable Use Policy", "Head of IT", True, [("2.0", -900), ("2.1", -575), ("3.0", 131)]),
    ("POL-COC", "Code of Conduct", "Head of People", True, [("4.0", -640), ("5.0", -262)]),
    ("POL-DCH", "Data Classification and Handling Standard", "Head of Security", True,
     [("1.0", -700), ("1.2", -487)]),
    ("POL-BCP", "Business Continuity and Disaster Recovery Plan", "Head of Operations", False,
     [("1.0", -500), ("2.0", -178)]),
]
HISTORY_DAYS = 400  # acknowledgements of versions superseded longer ago are archived out of the export


def generate_policies(spec: DemoSpec, people: list[Person]) -> list[dict[str, Any]]:
    owners = {p.title: p.email for p in people}
    docs = []
    for policy_id, title, owner_title, requires, versions in POLICIES:
        for index, (version, offset) in enumerate(versions):
            published = at_work(spec.window_start + timedelta(days=offset), 15 * 60)
            following = versions[index + 1][1] if index + 1 < len(versions) else None
            docs.append({
                "policy_id": policy_id, "title": title, "version": version, "owner_email": owners.get(owner_title),
                "requires_acknowledgement": requires,
                "drafted_at": iso(published - timedelta(days=20), millis=False),
                "approved_at": iso(published - timedelta(days=2), millis=False),
                "published_at": iso(published, millis=False),
                "superseded_at": iso(at_work(spec.window_start + timedelta(days=following), 15 * 60), millis=False)
                if following is not None else None,
            })
    return docs


def current_versions(policies: list[dict[str, Any]], moment: datetime) -> list[dict[str, Any]]:
    """The version of each policy in force at `moment` (published before it, not yet superseded)."""
    return [p for p in policies if parse(p["published_at"]) < moment
            and (p["superseded_at"] is None or parse(p["superseded_at"]) >= moment)]


def _seed_plan(spec: DemoSpec, people: list[Person], seeds: Seeds) -> dict[tuple[str, str, str], int | None]:
    """{(employee_id, policy_id, version): days after the window start they acknowledge (None: never)}."""
    rng = rng_for(spec.seed, "policies:seeds")
    chosen = rng.sample(stable_people(people, spec, tenure_days=120), 4)
    w = spec.window_start
    plan: dict[tuple[str, str, str], int | None] = {
        (chosen[0].employee_id, "POL-ISP", "4.0"): 105,
        (chosen[1].employee_id, "POL-ISP", "4.0"): 110,
        (chosen[2].employee_id, "POL-ISP", "4.0"): 140,
        (chosen[2].employee_id, "POL-AUP", "3.0"): 140,
        (chosen[3].employee_id, "POL-AUP", "3.0"): None,
    }
    seeds.add_exception(CONTROL_ID, chosen[1].employee_id, "On leave when version 4.0 was published; "
                        "acknowledgement due on return", w + timedelta(days=60), w + timedelta(days=80))
    seeds.add_exception(CONTROL_ID, chosen[2].employee_id, "Parental leave; acknowledges on return",
                        w + timedelta(days=55), w + timedelta(days=120))
    seeds.add_exception(CONTROL_ID, chosen[3].employee_id, "Sabbatical until May; acknowledges on return",
                        w + timedelta(days=150), w + timedelta(days=215))
    return plan


def generate_acknowledgements(spec: DemoSpec, people: list[Person], policies: list[dict[str, Any]],
                              seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "policies")
    plan = _seed_plan(spec, people, seeds)
    horizon = spec.window_end + timedelta(days=60)
    archived_before = spec.window_start - timedelta(days=HISTORY_DAYS)
    docs = []
    for person in people:
        minute = 9 * 60 + rng.randint(0, 8 * 60)
        for version in policies:
            if not version["requires_acknowledgement"]:
                continue
            published = parse(version["published_at"])
            superseded = parse(version["superseded_at"]) if version["superseded_at"] else horizon
            if superseded <= archived_before:
                continue
            key = (person.employee_id, version["policy_id"], version["version"])
            if key in plan:
                days = plan[key]
                if days is None:
                    continue
                moment = at_work(spec.window_start + timedelta(days=days), minute)
            elif person.start_at > published:
                moment = at_work(person.start_at + timedelta(days=rng.randint(0, 5)), minute)
            else:
                moment = at_work(published + timedelta(days=rng.randint(0, 12)), minute)
            if moment >= superseded or moment >= horizon:
                continue
            if person.termination_at is not None and moment >= person.termination_at:
                continue
            docs.append({"policy_id": version["policy_id"], "policy_version": version["version"],
                         "employee_id": person.employee_id, "email": person.email,
                         "acknowledged_at": iso(moment, millis=False),
                         "method": "onboarding" if person.start_at > published else "campaign"})
    docs.sort(key=lambda d: (d["acknowledged_at"], d["employee_id"], d["policy_id"]))
    for number, doc in enumerate(docs, start=1):
        doc["acknowledgement_id"] = f"ACK-{number:06d}"
    return docs


# state as of a moment ------------------------------------------------------------------

def policy_version_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The GRC tool's policy record for the version as of `moment` (None: not drafted yet)."""
    if parse(doc["drafted_at"]) >= moment:
        return None
    published = parse(doc["published_at"]) < moment
    approved = parse(doc["approved_at"]) < moment
    superseded = doc["superseded_at"] is not None and parse(doc["superseded_at"]) < moment
    return {
        "id": doc["policy_id"], "title": doc["title"], "version": doc["version"],
        "status": "superseded" if superseded else "published" if published else "approved" if approved else "draft",
        "owner": {"email": doc["owner_email"]} if doc["owner_email"] else None,
        "approved_at": doc["approved_at"] if approved else None,
        "published_at": doc["published_at"] if published else None,
        "requires_acknowledgement": doc["requires_acknowledgement"],
        "document": {"url": f"https://grc.kestrel.example/policies/{doc['policy_id']}/v{doc['version']}.pdf"},
    }


def acknowledged_before(acks: list[dict[str, Any]], moment: datetime) -> set[tuple[str, str, str]]:
    """{(employee_id, policy_id, version)} acknowledged strictly before `moment`."""
    return {(a["employee_id"], a["policy_id"], a["policy_version"]) for a in acks
            if parse(a["acknowledged_at"]) < moment}


def load_policies(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / POLICIES_FILE)


def load_acknowledgements(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / ACKS_FILE)


def generate(ctx: WorldContext) -> None:
    policies = generate_policies(ctx.spec, ctx.people)
    acks = generate_acknowledgements(ctx.spec, ctx.people, policies, ctx.seeds)
    write_json(ctx.demo_dir / POLICIES_FILE, policies)
    write_json(ctx.demo_dir / ACKS_FILE, acks)
    deliver_json(ctx, POLICY_DIR, GRC_DELAY,
                 lambda moment: [r for doc in policies if (r := policy_version_at(doc, moment))])
    records = [Versioned([parse(a["acknowledged_at"])], lambda m, a=a: {k: a[k] for k in ACK_COLUMNS})
               for a in sorted(acks, key=lambda a: a["acknowledgement_id"])]
    deliver_csv(ctx, ACK_DIR, GRC_DELAY, ACK_COLUMNS, records)

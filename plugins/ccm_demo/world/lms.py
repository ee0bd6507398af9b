"""LMS: security-awareness training (new-starter course and annual refresher) and other courses.

World form (`world/lms_enrollments.json`): one document per enrolment with the moments
it was assigned, started and completed. `enrollment_at` renders the LMS report row as of
any moment, for the daily export and for the answer key alike.

Baseline: every person takes the new-starter course within 18 days of starting (people
hired before the LMS went live took it in the launch campaign) and the annual refresher
2-28 days before the anniversary of their previous completion, so nobody is ever 12
months without training. Planted (monthly control org_security_training):

- a refresher completed six weeks late, failing the window's first month;
- a late refresher covered by an exception that expires while it is still missing;
- two late refreshers covered by exceptions (one in the last month);
- a December hire who finishes the new-starter course 38 days after starting.

Noise the control must ignore: code-of-conduct, privacy and secure-coding courses, LMS
guest accounts HR does not know (one never trained), and people who have left.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for
from ccm_demo.world.org_exports import (
    LMS_DELAY,
    at_work,
    publish_csv_register,
    stable_people,
    work_minute,
)
from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext
    from ccm_demo.world.seeds import Seeds

ORDER = 30
ENROLLMENTS_FILE = "world/lms_enrollments.json"
EXPORT_DIR = "lms/training_completions"
SECURITY_AWARENESS = "Security Awareness"
COLUMNS = ["enrollment_id", "user_id", "employee_number", "email", "course_code", "course_title", "curriculum",
           "assigned_at", "due_date", "completed_at", "status", "score"]
CONTROL_ID = "org_security_training"
GUESTS = [("mara.lind@assurance-partners.example", True), ("o.berg@assurance-partners.example", False),
          ("temp.support@staffing-agency.example", True)]


def lms_launch(spec: DemoSpec) -> datetime:
    """When the company adopted the LMS (everyone employed then took the launch campaign)."""
    return spec.window_start - timedelta(days=1400)


def _horizon(spec: DemoSpec) -> datetime:
    return spec.window_end + timedelta(days=60)


def _refreshers_forward(rng, after: datetime, until: datetime, minute: int) -> list[datetime]:
    """Annual refreshers, each 2-28 days before the anniversary of the previous one."""
    out, previous = [], after
    while True:
        following = at_work(previous + timedelta(days=365 - rng.randint(2, 28)), minute)
        if following >= until:
            return out
        out.append(following)
        previous = following


def _refreshers_backward(rng, last: datetime, floor: datetime, minute: int) -> list[datetime]:
    """The baseline chain of refreshers leading up to `last`, no earlier than `floor`."""
    out, current = [last], last
    while True:
        earlier = at_work(current - timedelta(days=365 - rng.randint(2, 28)), minute)
        if earlier <= floor:
            return sorted(out)
        out.append(earlier)
        current = earlier


def _onboarding_completion(rng, person: Person, spec: DemoSpec, minute: int) -> datetime:
    launch = lms_launch(spec)
    if person.start_at >= launch:
        return at_work(person.start_at + timedelta(days=rng.randint(0, 18)), minute)
    return at_work(launch + timedelta(days=rng.randint(3, 25)), minute)


def _security_enrollments(person: Person, spec: DemoSpec, onboarding: datetime | None,
                          refreshers: list[datetime]) -> list[dict[str, Any]]:
    """The new-starter course and one refresher enrolment per completion (plus the open one)."""
    launch = lms_launch(spec)
    assigned = max(launch, person.start_at - timedelta(days=7))
    due = (person.start_at + timedelta(days=30)).date() if person.start_at >= launch else (
        launch + timedelta(days=30)).date()
    docs = [_doc(person, "SAT-NEW", "Security Awareness for New Starters", SECURITY_AWARENESS, assigned,
                 due, onboarding)]
    previous = onboarding
    for completed in [*refreshers, None]:
        if previous is None:
            break
        assigned = previous + timedelta(days=335)
        if completed is None and assigned >= _horizon(spec):
            break
        if person.termination_at is not None and assigned >= person.termination_at:
            break
        docs.append(_doc(person, f"SAT-{assigned.year}", f"Annual Security Awareness Refresher {assigned.year}",
                         SECURITY_AWARENESS, assigned, (previous + timedelta(days=365)).date(), completed))
        previous = completed
    return docs


def _doc(person: Person | None, code: str, title: str, curriculum: str, assigned: datetime, due: date,
         completed: datetime | None, email: str | None = None) -> dict[str, Any]:
    return {
        "employee_id": person.employee_id if person else None, "email": person.email if person else email,
        "course_code": code, "course_title": title, "curriculum": curriculum,
        "assigned_at": iso(assigned, millis=False), "due_date": due.isoformat(),
        "started_at": iso(completed - timedelta(minutes=35), millis=False) if completed else None,
        "completed_at": iso(completed, millis=False) if completed else None,
    }


def _other_courses(rng, person: Person, spec: DemoSpec) -> list[dict[str, Any]]:
    """Courses outside security awareness: they must not count for the control."""
    docs = []
    minute = work_minute(rng)
    for year in (spec.window_start.year - 1, spec.window_start.year, spec.window_start.year + 1):
        assigned = datetime(year, 1, 15, 9, 0, tzinfo=spec.window_start.tzinfo)
        if not person.employed_at(assigned) or assigned >= _horizon(spec):
            continue
        completed = at_work(assigned + timedelta(days=rng.randint(1, 20)), minute)
        docs.append(_doc(person, f"COC-{year}", f"Code of Conduct {year}", "Compliance", assigned,
                         (assigned + timedelta(days=30)).date(), completed if completed < _horizon(spec) else None))
    if person.department == "Engineering":
        assigned = max(person.start_at, lms_launch(spec)) + timedelta(days=7)
        completed = at_work(assigned + timedelta(days=rng.randint(5, 40)), minute)
        docs.append(_doc(person, "ENG-SECCODE", "Secure Coding Fundamentals", "Engineering", assigned,
                         (assigned + timedelta(days=60)).date(), completed))
    return docs


def generate_enrollments(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "lms")
    plan = _seed_plan(spec, people, seeds)
    horizon = _horizon(spec)
    docs: list[dict[str, Any]] = []
    for person in people:
        minute = work_minute(rng)
        onboarding = _onboarding_completion(rng, person, spec, minute)
        until = min(horizon, person.termination_at) if person.termination_at else horizon
        seeded = plan.get(person.employee_id)
        if seeded and seeded[0] == "late_onboarding":
            onboarding = at_work(person.start_at + timedelta(days=seeded[1]), minute)
        if seeded and seeded[0] == "late_refresher":
            _, on_time, late = seeded
            chain = _refreshers_backward(rng, on_time, onboarding + timedelta(days=200), minute)
            refreshers = [*chain, late, *_refreshers_forward(rng, late, until, minute)]
        else:
            refreshers = _refreshers_forward(rng, onboarding, until, minute)
        onboarding = onboarding if onboarding < horizon else None
        refreshers = [r for r in refreshers if r < horizon]
        docs += _security_enrollments(person, spec, onboarding, refreshers)
        docs += _other_courses(rng, person, spec)
    for index, (email, trained) in enumerate(GUESTS):
        assigned = spec.window_start - timedelta(days=90 + 30 * index)
        docs.append(_doc(None, "SAT-NEW", "Security Awareness for New Starters", SECURITY_AWARENESS, assigned,
                         (assigned + timedelta(days=30)).date(),
                         at_work(assigned + timedelta(days=4), 600) if trained else None, email=email))
    # stable ids: LMS users by email, enrolments by assignment order
    users = {email: n for n, email in enumerate(sorted({d["email"] for d in docs}), start=1)}
    docs.sort(key=lambda d: (d["assigned_at"], d["email"], d["course_code"]))
    for number, doc in enumerate(docs, start=1):
        doc["enrollment_id"] = f"ENR-{number:06d}"
        doc["user_id"] = f"lmsu-{users[doc['email']]:05d}"
        doc["score"] = 80 + (number * 7) % 21 if doc["completed_at"] else None
    return docs


def _seed_plan(spec: DemoSpec, people: list[Person], seeds: Seeds) -> dict[str, tuple]:
    """Which people get a late refresher or a late new-starter course, and their exceptions.

    Refresher seeds are (on-time completion before the window, late completion): the
    person is out of compliance from 12 months after the first until the second.
    """
    rng = rng_for(spec.seed, "lms:seeds")
    w = spec.window_start
    candidates = stable_people(people, spec, tenure_days=800)
    chosen = rng.sample(candidates, 4)

    def at(days: int) -> datetime:
        return at_work(w + timedelta(days=days), 14 * 60)

    plan: dict[str, tuple] = {
        # overdue from mid-September, done mid-November: fails the first month
        chosen[0].employee_id: ("late_refresher", at(-380), at(45)),
        # due in December, done in February; the exception expires in January
        chosen[1].employee_id: ("late_refresher", at(-295), at(130)),
        # due in January, done in early February; excepted
        chosen[2].employee_id: ("late_refresher", at(-265), at(125)),
        # due mid-March, done after the window; excepted
        chosen[3].employee_id: ("late_refresher", at(-200), at(200)),
    }
    seeds.add_exception(CONTROL_ID, chosen[1].employee_id, "Extended medical leave; refresher assigned for "
                        "the first week back", w + timedelta(days=75), w + timedelta(days=110))
    seeds.add_exception(CONTROL_ID, chosen[2].employee_id, "Parental leave; training deferred until return",
                        w + timedelta(days=95), w + timedelta(days=130))
    seeds.add_exception(CONTROL_ID, chosen[3].employee_id, "Sabbatical; refresher scheduled on return",
                        w + timedelta(days=160), w + timedelta(days=220))
    december_hires = sorted((p for p in people if w + timedelta(days=61) <= p.start_at < w + timedelta(days=86)),
                            key=lambda p: p.start_at)
    if december_hires:
        plan[december_hires[0].employee_id] = ("late_onboarding", 38)
    return plan


# state as of a moment ------------------------------------------------------------------

def status_at(doc: dict[str, Any], moment: datetime) -> str | None:
    """The enrolment's status in the report taken at `moment` (None: not assigned yet)."""
    if parse(doc["assigned_at"]) >= moment:
        return None
    if doc["completed_at"] and parse(doc["completed_at"]) < moment:
        return "Completed"
    due_end = datetime.fromisoformat(doc["due_date"]).replace(tzinfo=moment.tzinfo) + timedelta(days=1)
    if due_end < moment:
        return "Overdue"
    if doc["started_at"] and parse(doc["started_at"]) < moment:
        return "In Progress"
    return "Not Started"


def enrollment_at(doc: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The LMS report row for the enrolment as of `moment`."""
    status = status_at(doc, moment)
    if status is None:
        return None
    return {
        "enrollment_id": doc["enrollment_id"], "user_id": doc["user_id"], "employee_number": doc["employee_id"],
        "email": doc["email"], "course_code": doc["course_code"], "course_title": doc["course_title"],
        "curriculum": doc["curriculum"], "assigned_at": doc["assigned_at"], "due_date": doc["due_date"],
        "completed_at": doc["completed_at"] if status == "Completed" else None, "status": status,
        "score": doc["score"] if status == "Completed" else None,
    }


def _changes(doc: dict[str, Any]) -> list[datetime]:
    moments = [parse(doc["assigned_at"])]
    moments += [parse(doc[k]) for k in ("started_at", "completed_at") if doc[k]]
    due_end = datetime.fromisoformat(doc["due_date"]).replace(tzinfo=moments[0].tzinfo) + timedelta(days=1)
    moments.append(due_end)
    return moments


def security_completions(docs: list[dict[str, Any]], employee_id: str, before: datetime) -> list[datetime]:
    """When the person completed a security-awareness course, strictly before `before`."""
    return sorted(parse(d["completed_at"]) for d in docs
                  if d["employee_id"] == employee_id and d["curriculum"] == SECURITY_AWARENESS
                  and d["completed_at"] and parse(d["completed_at"]) < before)


def load_enrollments(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / ENROLLMENTS_FILE)


def generate(ctx: WorldContext) -> None:
    docs = generate_enrollments(ctx.spec, ctx.people, ctx.seeds)
    publish_csv_register(ctx, ENROLLMENTS_FILE, docs, "enrollment_id", enrollment_at, _changes, EXPORT_DIR, LMS_DELAY, COLUMNS)

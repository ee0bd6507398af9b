"""The HR roster: employees and contractors, hires, terminations, managers, departments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import read_json, rng_for, write_json

DOMAIN = "kestrel.example"
COMPANY = "Kestrel Labs"

FIRST = ["Ada", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jules", "Kai", "Lena", "Mo",
         "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wren", "Xia", "Yusuf", "Zoe",
         "Arjun", "Bea", "Caleb", "Dmitri", "Esme", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemi", "Luca",
         "Maya", "Noah", "Olga", "Priya", "Rafael", "Sofia", "Theo", "Ulla", "Vera", "Wes", "Yara", "Zain"]
LAST = ["Abbott", "Baker", "Castro", "Diallo", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
        "Lopez", "Mensah", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Singh", "Tanaka", "Ueda", "Varga",
        "Weber", "Xu", "Yilmaz", "Zhang", "Andersen", "Bianchi", "Cohen", "Dubois", "Eriksen", "Ferreira",
        "Gupta", "Horvat", "Ivanova", "Jovanovic", "Kim", "Larsen", "Moreau", "Novak"]
DEPARTMENTS = [("Engineering", 0.42), ("Sales", 0.14), ("Customer Support", 0.1), ("Marketing", 0.07),
               ("Product", 0.07), ("Finance", 0.05), ("People", 0.04), ("IT", 0.04), ("Security", 0.03),
               ("Legal", 0.02), ("Operations", 0.02)]


@dataclass(frozen=True)
class Person:
    employee_id: str
    first_name: str
    last_name: str
    email: str
    department: str
    title: str
    manager_id: str | None
    employment_type: str  # employee | contractor
    hire_date: date
    start_at: datetime  # first working moment (UTC)
    termination_at: datetime | None  # when employment ended (UTC), if it did

    def employed_at(self, moment: datetime) -> bool:
        return self.start_at <= moment and (self.termination_at is None or moment < self.termination_at)

    def to_doc(self) -> dict:
        doc = asdict(self)
        doc["hire_date"] = self.hire_date.isoformat()
        doc["start_at"] = self.start_at.isoformat()
        doc["termination_at"] = self.termination_at.isoformat() if self.termination_at else None
        return doc

    @classmethod
    def from_doc(cls, doc: dict) -> Person:
        doc = dict(doc)
        doc["hire_date"] = date.fromisoformat(doc["hire_date"])
        doc["start_at"] = datetime.fromisoformat(doc["start_at"])
        doc["termination_at"] = datetime.fromisoformat(doc["termination_at"]) if doc["termination_at"] else None
        return cls(**doc)


def _pick_department(rng) -> str:
    roll, acc = rng.random(), 0.0
    for name, share in DEPARTMENTS:
        acc += share
        if roll < acc:
            return name
    return DEPARTMENTS[0][0]


def generate_people(spec: DemoSpec) -> list[Person]:
    rng = rng_for(spec.seed, "people")
    start = spec.window_start
    people: list[Person] = []
    used_emails: set[str] = set()

    def email_for(first: str, last: str) -> str:
        base = f"{first}.{last}".lower()
        candidate, n = f"{base}@{DOMAIN}", 2
        while candidate in used_emails:
            candidate, n = f"{base}{n}@{DOMAIN}", n + 1
        used_emails.add(candidate)
        return candidate

    def make(index: int, hire_day: datetime, department: str, manager: str | None, title: str) -> Person:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contractor = department in {"Engineering", "Customer Support"} and rng.random() < 0.08
        return Person(
            employee_id=f"E{1000 + index}", first_name=first, last_name=last, email=email_for(first, last),
            department=department, title=title, manager_id=manager,
            employment_type="contractor" if contractor else "employee",
            hire_date=hire_day.date(), start_at=hire_day.replace(hour=9, minute=0),
            termination_at=None,
        )

    # leadership first, so everyone has a manager who exists
    ceo = make(0, start - timedelta(days=2400), "Operations", None, "Chief Executive Officer")
    people.append(ceo)
    heads: dict[str, str] = {}
    for index, (department, _) in enumerate(DEPARTMENTS, start=1):
        head = make(index, start - timedelta(days=rng.randint(900, 2200)), department, ceo.employee_id,
                    f"Head of {department}")
        people.append(head)
        heads[department] = head.employee_id
    index = len(people)
    while len(people) < spec.employees:
        department = _pick_department(rng)
        hire = start - timedelta(days=rng.randint(30, 1800))
        people.append(make(index, hire, department, heads[department], f"{department} Specialist"))
        index += 1

    # hires during the window (about 2% of headcount a month), starting on workdays
    monthly_hires = max(1, round(spec.employees * 0.02))
    for _ in range(monthly_hires * max(1, spec.days // 30)):
        day = start + timedelta(days=rng.randint(3, spec.days - 3))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        department = _pick_department(rng)
        people.append(make(index, day, department, heads[department], f"{department} Specialist"))
        index += 1

    # terminations during the window (about 1.5% a month), never leadership, late afternoon UTC
    candidates = [p for p in people[len(DEPARTMENTS) + 1:] if p.start_at < start]
    rng.shuffle(candidates)
    monthly_leavers = max(1, round(spec.employees * 0.015))
    leavers = {p.employee_id for p in candidates[: monthly_leavers * max(1, spec.days // 30)]}
    result = []
    for person in people:
        if person.employee_id in leavers:
            day = start + timedelta(days=rng.randint(2, spec.days - 2))
            while day.weekday() >= 5:
                day += timedelta(days=1)
            moment = day.replace(hour=17, minute=rng.randint(0, 59))
            person = Person(**{**person.__dict__, "termination_at": moment})
        result.append(person)
    return result


def write_people(demo_dir: Path, people: list[Person]) -> None:
    write_json(Path(demo_dir) / "world" / "people.json", [p.to_doc() for p in people])


def load_people(demo_dir: Path) -> list[Person]:
    return [Person.from_doc(d) for d in read_json(Path(demo_dir) / "world" / "people.json")]


def as_utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()

"""Daily register exports of the organisational systems (LMS, GRC tool, screening vendor).

Not a world module itself (no ORDER): `lms`, `screening`, `policies` and `grc` use it to
turn their world records into one export per day of the window. Each system exports
its whole register as of the end of day D (records and changes strictly before
D+1 00:00 UTC) and the file is delivered to the inbox shortly after midnight, before
the demo's daily run at 01:30:

| system              | files                                          | delivered  |
|---------------------|------------------------------------------------|------------|
| screening vendor    | grc/background_checks/*.csv                    | D+1 00:20  |
| LMS                 | lms/training_completions/*.csv                 | D+1 00:40  |
| GRC tool            | grc/<register>/*.json, policy_acknowledgements | D+1 01:00  |

Daily rather than weekly because snapshot controls are tested on the observation made
just after their period closes (within hours): a weekly export would leave most month
and quarter ends without evidence. A few planted exports are never delivered
(`MISSING`), so the controls that need them are `not_tested` for that period.

Rendering is cached per record state (`Versioned`): a record's export form only changes
at a few moments, so the 182 daily files of a 300-person company take well under a
second per register.
"""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccm_demo.world.common import write_json

if TYPE_CHECKING:
    from ccm_demo.spec import DemoSpec
    from ccm_demo.world import WorldContext

SCREENING_DELAY = timedelta(minutes=20)
LMS_DELAY = timedelta(minutes=40)
GRC_DELAY = timedelta(minutes=60)
EPSILON = timedelta(microseconds=1)

# (directory, day offset from the window start) of exports that are never delivered:
# the GRC tool's incident export for the window's 31st day (the last day of October in
# the default window), so mon_incident_postmortems cannot be tested for that month.
MISSING = (("grc/incidents", 30),)


def missing_days(spec: DemoSpec, directory: str) -> set[date]:
    """Days (the day an export describes) whose export in `directory` never arrives."""
    return {(spec.window_start + timedelta(days=offset)).date()
            for missing_dir, offset in MISSING if missing_dir == directory and offset < spec.days}


def export_missing(spec: DemoSpec, directory: str, period_end: datetime) -> bool:
    """Is the export a run closing a period at `period_end` reads (the day before) missing?"""
    return (period_end - timedelta(days=1)).date() in missing_days(spec, directory)


@dataclass
class Versioned:
    """A record whose export form changes at known moments.

    `render(moment)` returns the record as the export taken at `moment` shows it (None
    when it is not in the export); `changes` are the moments its form changes (an
    event at moment m is visible in exports taken after m).
    """

    changes: list[datetime]
    render: Callable[[datetime], Any]
    _cache: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.changes = sorted(self.changes)

    def at(self, moment: datetime) -> Any:
        index = bisect_left(self.changes, moment)  # number of changes strictly before `moment`
        if index == 0:
            return None
        if index not in self._cache:
            self._cache[index] = self.render(self.changes[index - 1] + EPSILON)
        return self._cache[index]


def csv_text(columns: list[str], row: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=columns, lineterminator="\n").writerow(
        {k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


def csv_header(columns: list[str]) -> str:
    return ",".join(columns) + "\n"


def deliver_daily(ctx: WorldContext, directory: str, extension: str, delay: timedelta,
                  render_day: Callable[[datetime], bytes]) -> None:
    """One export per day of the window: `<directory>/<name>_<day>.<extension>`, as of the day's end."""
    stem = directory.rsplit("/", 1)[-1]
    skipped = missing_days(ctx.spec, directory)
    for offset in range(ctx.spec.days):
        day = ctx.spec.window_start + timedelta(days=offset)
        if day.date() in skipped:
            continue
        day_end = day + timedelta(days=1)
        ctx.add_export(f"{directory}/{stem}_{day:%Y-%m-%d}.{extension}", render_day(day_end), day_end + delay)


def deliver_csv(ctx: WorldContext, directory: str, delay: timedelta, columns: list[str],
                records: Iterable[Versioned]) -> None:
    """CSV exports whose rows are the records' cached CSV lines (render returns a dict row)."""
    header = csv_header(columns)
    lines = [Versioned(r.changes, lambda m, r=r: _line(columns, r.render(m))) for r in records]

    def render_day(day_end: datetime) -> bytes:
        return (header + "".join(line for v in lines if (line := v.at(day_end)))).encode()

    deliver_daily(ctx, directory, "csv", delay, render_day)


def publish_csv_register(ctx: WorldContext, world_file: str, docs: list[dict[str, Any]], key: str,
                         render: Callable[[dict[str, Any], datetime], dict[str, Any] | None],
                         changes: Callable[[dict[str, Any]], list[datetime]],
                         directory: str, delay: timedelta, columns: list[str]) -> None:
    """A register kept as `docs` in the world's `world_file` and exported daily as CSV: one row
    per doc (in `key` order) as `render(doc, moment)` shows it, changing at `changes(doc)`."""
    write_json(ctx.demo_dir / world_file, docs)
    deliver_csv(ctx, directory, delay, columns,
                [Versioned(changes(d), lambda m, d=d: render(d, m)) for d in sorted(docs, key=lambda d: d[key])])


def _line(columns: list[str], row: dict[str, Any] | None) -> str | None:
    return None if row is None else csv_text(columns, row)


def deliver_json(ctx: WorldContext, directory: str, delay: timedelta,
                 render: Callable[[datetime], list[dict[str, Any]]]) -> None:
    """JSON exports: a list of objects, as the GRC tool's API export writes them."""
    deliver_daily(ctx, directory, "json", delay,
                  lambda day_end: (json.dumps(render(day_end), sort_keys=True, indent=1) + "\n").encode())


def at_work(moment: datetime, minute_of_day: int) -> datetime:
    """The same calendar day (or the next workday) at `minute_of_day` UTC, on whole minutes."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day + timedelta(minutes=minute_of_day)


def work_minute(rng: Any) -> int:
    """A minute of the working day (08:30-17:30 UTC)."""
    return 8 * 60 + 30 + rng.randint(0, 9 * 60)


def stable_people(people: list[Any], spec: DemoSpec, tenure_days: int) -> list[Any]:
    """Employees hired long before the window who stay through it (and a month beyond):
    the people seeded violations are planted on, so each shows for the periods intended."""
    start, end = spec.window_start, spec.window_end + timedelta(days=40)
    return [p for p in people
            if p.manager_id is not None and p.start_at < start - timedelta(days=tenure_days)
            and (p.termination_at is None or p.termination_at > end)]

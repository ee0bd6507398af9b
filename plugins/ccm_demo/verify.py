"""`ccm demo verify`: does the pipeline conclude exactly what the answer key says?

The fast path used by the tests and by anyone who wants proof: for every day of the
window the simulated clock advances and every dataset is extracted, exactly as the
daily runs would; then one plan / transform / evaluate over the whole window (a long
interval produces every period in it) and a comparison with the answer key, control by
control, period by period, entity by entity.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ccm.config import Settings
from ccm.manifests import ExtractManifest, RunContext
from ccm.sources.connections import from_env
from ccm.sources.extract import Interval
from ccm.sources.registry import ALL_DATASETS, sources_of
from ccm_demo.answer_key import read_answer_key
from ccm_demo.runner import DEMO_HTTP_SETTINGS, advance_clock
from ccm_demo.spec import DemoSpec
from ccm_demo.standins.servers import Standins

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mismatch:
    control_id: str
    period: str
    expected: str
    actual: str
    detail: str

    def __str__(self) -> str:
        return f"{self.control_id} {self.period}: expected {self.expected}, got {self.actual} ({self.detail})"


def extract_day(settings: Settings, day: datetime, run: RunContext,
                datasets: list[str] | None = None) -> list[ExtractManifest]:
    from ccm.pipeline import extract

    manifests = []
    interval = Interval(day, day + timedelta(days=1))
    for key in datasets or [d.key for d in ALL_DATASETS]:
        try:
            manifests.append(extract(settings, key, interval, run, from_env))
        except Exception as exc:  # recorded as a failed manifest; the answer key expects not_tested
            log.info("extract %s for %s failed: %s", key, day.date(), exc)
    return manifests


def needed_datasets(settings: Settings, controls: list[str] | None = None) -> list[str]:
    """The datasets the matrix (or the given controls) needs, in registry order."""
    from ccm.controls.catalog import load_catalog
    from ccm.sources.registry import dataset_kinds

    catalog = load_catalog(settings.controls_path, dataset_kinds())
    needed = {d for control in catalog.select(controls) for d in control.datasets}
    return [d.key for d in ALL_DATASETS if d.key in needed]


@contextlib.contextmanager
def _standins_for(settings: Settings, demo_dir: Path) -> Iterator[dict[str, str]]:
    """The demo's stand-ins, with their connections and clock set in this process for the
    duration only (then put back); yields the environment the clock advance needs."""
    with Standins(demo_dir).start() as standins:
        env = {**os.environ, **standins.connection_env(), "CCM_DATA_DIR": str(settings.data_dir),
               "CCM_INBOX_URI": settings.inbox_uri}
        with temporary_environ(**standins.connection_env(), CCM_CLOCK_FILE=str(Path(demo_dir) / "clock")):
            yield env


@contextlib.contextmanager
def temporary_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration only, then put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_window(settings: Settings, demo_dir: Path, days: int, controls: list[str] | None = None,
               datasets: list[str] | None = None) -> dict:
    """Extract day by day on the simulated clock, then evaluate the window in one go.
    Only the datasets the evaluated controls need are extracted (unless `datasets` says)."""
    from ccm import pipeline

    spec = DemoSpec.load(demo_dir)
    datasets = datasets or needed_datasets(settings, controls)
    settings = settings.with_overrides(**DEMO_HTTP_SETTINGS)
    run = RunContext(dag_id="demo_verify", run_id=f"verify__{spec.start.isoformat()}__{days}d")
    start = spec.window_start
    end = start + timedelta(days=days)
    with _standins_for(settings, demo_dir) as env:
        for offset in range(days):
            day = start + timedelta(days=offset)
            advance_clock(demo_dir, day + timedelta(days=1), env, sources_of(datasets))
            extract_day(settings, day, run, datasets)
        interval = Interval(start, end)
        planned = pipeline.plan(settings, interval, run, controls)
        pipeline.transform(settings, run)
        evaluation = pipeline.evaluate(settings, run)
    return {"planned": planned, "evaluation": evaluation}


def run_daily(settings: Settings, demo_dir: Path, days: int) -> list[dict]:
    """Run the window as production does: one interval a day on the simulated clock, each
    extracting (with its look-back), planning, building, evaluating and publishing; a
    period re-planned because late data changed its inputs gets a new version."""
    from ccm import pipeline

    spec = DemoSpec.load(demo_dir)
    datasets = needed_datasets(settings)
    settings = settings.with_overrides(**DEMO_HTTP_SETTINGS)
    summaries = []
    with _standins_for(settings, demo_dir) as env:
        for offset in range(days):
            day = spec.window_start + timedelta(days=offset)
            run = RunContext(dag_id="demo_verify_daily", run_id=f"daily__{day:%Y-%m-%d}")
            advance_clock(demo_dir, day + timedelta(days=1), env, sources_of(datasets))
            summary = pipeline.run_interval(settings, Interval(day, day + timedelta(days=1)), run, from_env,
                                            datasets)
            summaries.append({"day": day, "plan": summary.plan, "evaluation": summary.evaluation})
    return summaries


def compare_with_answer_key(settings: Settings, demo_dir: Path, days: int,
                            controls: list[str] | None = None) -> tuple[int, list[Mismatch]]:
    """(number of control-periods compared, mismatches) for periods that closed in the first `days`."""
    from ccm.controls.catalog import load_catalog
    from ccm.warehouse import connect, ensure_schema

    spec = DemoSpec.load(demo_dir)
    catalog = load_catalog(settings.controls_path)
    wanted = {c.control_id for c in catalog} & (set(controls) if controls else {c.control_id for c in catalog})
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        cursor = con.execute(
            "select control_id, strftime(period_start, '%Y-%m-%d') as period, period_end, status, "
            "failing_entity_ids, excepted_entity_ids, exception_ids, reason from ccm.current_results")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return compare_results(read_answer_key(demo_dir), rows, wanted,
                           spec.window_start + timedelta(days=days))


def compare_results(key: dict[tuple[str, str], dict], rows: list[dict], controls: set[str],
                    closed_by: datetime) -> tuple[int, list[Mismatch]]:
    """Compare current results with the key, control-period by control-period: the status,
    the failing entities, and each excepted entity with the exception that covers it. A
    result the key does not expect, and a key row with no result, are mismatches too.
    Only periods of `controls` that closed by `closed_by` count."""
    from ccm.periods import as_utc

    mismatches: list[Mismatch] = []
    compared = 0
    expected_slots = {slot for slot in key if slot[0] in controls}
    actual = {}
    for row in rows:
        if row["control_id"] not in controls or as_utc(row["period_end"]) > closed_by:
            continue
        actual[(row["control_id"], row["period"])] = row
        if (row["control_id"], row["period"]) not in expected_slots:
            mismatches.append(Mismatch(row["control_id"], row["period"], "no result", row["status"],
                                       "the answer key has no such control-period"))
    for (control_id, period), expected in sorted(key.items()):
        if control_id not in controls:
            continue
        row = actual.get((control_id, period))
        if row is None:
            if _key_period_end(control_id, period) <= closed_by:
                compared += 1
                mismatches.append(Mismatch(control_id, period, expected["status"], "missing", "no result"))
            continue
        compared += 1
        failing = set(row["failing_entity_ids"] or [])
        excepted = dict(zip(row["excepted_entity_ids"] or [], row["exception_ids"] or [], strict=True))
        problems = []
        if failing != expected["failing"]:
            problems.append(f"failing {sorted(failing)} vs expected {sorted(expected['failing'])}")
        if excepted != expected["excepted"]:
            problems.append(f"excepted {sorted(excepted.items())} vs expected {sorted(expected['excepted'].items())}")
        if row["status"] != expected["status"] or problems:
            detail = "; ".join(problems) or "same entities"
            mismatches.append(Mismatch(control_id, period, expected["status"], row["status"],
                                       f"{detail}; {row['reason']}"))
    return compared, mismatches


def _key_period_end(control_id: str, period_label: str) -> datetime:
    """When a key period closes (the key stores only its start), by the key's own calendar."""
    from ccm.periods import as_utc
    from ccm_demo.key_rules import key_periods
    from ccm_demo.oracles import all_oracles

    frequency = all_oracles()[control_id].frequency.value
    first_day = as_utc(period_label).date()
    return next(p.end for p in key_periods(first_day, first_day + timedelta(days=400), frequency)
                if p.label == period_label)

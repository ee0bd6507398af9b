"""`ccm demo verify`: does the pipeline conclude exactly what the answer key says?

The fast path used by the tests and by anyone who wants proof: for every day of the
window the simulated clock advances and every dataset is extracted, exactly as the
daily runs would; then one plan / transform / evaluate over the whole window (a long
interval produces every period in it) and a comparison with the answer key, control by
control, period by period, entity by entity.
"""

from __future__ import annotations

import logging
import os
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
    with Standins(demo_dir).start() as standins:
        # the stand-ins' connections and clock are set for this run only, then put back
        saved = {k: os.environ.get(k) for k in ("CCM_CLOCK_FILE", *standins.connection_env())}
        env = {**os.environ, **standins.connection_env(), "CCM_DATA_DIR": str(settings.data_dir),
               "CCM_INBOX_URI": settings.inbox_uri}
        os.environ.update(standins.connection_env())
        os.environ["CCM_CLOCK_FILE"] = str(Path(demo_dir) / "clock")
        try:
            for offset in range(days):
                day = start + timedelta(days=offset)
                advance_clock(demo_dir, day + timedelta(days=1), env, sources_of(datasets))
                extract_day(settings, day, run, datasets)
            interval = Interval(start, end)
            planned = pipeline.plan(settings, interval, run, controls)
            pipeline.transform(settings, run)
            evaluation = pipeline.evaluate(settings, run)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return {"planned": planned, "evaluation": evaluation}


def compare_with_answer_key(settings: Settings, demo_dir: Path, days: int,
                            controls: list[str] | None = None) -> tuple[int, list[Mismatch]]:
    """(number of control-periods compared, mismatches) for periods that closed in the first `days`."""
    from ccm.controls.catalog import load_catalog
    from ccm.periods import as_utc, next_period_start
    from ccm.report import current_results

    spec = DemoSpec.load(demo_dir)
    end = spec.window_start + timedelta(days=days)
    catalog = load_catalog(settings.controls_path)
    key = read_answer_key(demo_dir)
    actual = {(r["control_id"], r["period_start"].strftime("%Y-%m-%d")): r for r in current_results(settings)}
    mismatches: list[Mismatch] = []
    compared = 0
    in_matrix = {c.control_id for c in catalog}
    for (control_id, period), expected in sorted(key.items()):
        if (controls and control_id not in controls) or control_id not in in_matrix:
            continue
        closes = next_period_start(as_utc(period), catalog.get(control_id).frequency)
        if closes > end:
            continue
        compared += 1
        row = actual.get((control_id, period))
        if row is None:
            mismatches.append(Mismatch(control_id, period, expected["status"], "missing", "no result"))
            continue
        failing = set(row["failing_entity_ids"] or [])
        if row["status"] != expected["status"] or failing != expected["failing"]:
            detail = f"failing {sorted(failing)} vs expected {sorted(expected['failing'])}; {row['reason']}"
            mismatches.append(Mismatch(control_id, period, expected["status"], row["status"], detail))
    return compared, mismatches

"""The pipeline's steps, callable from the DAG, the CLI and tests alike.

    extract  -> plan -> transform -> evaluate -> publish

Each step takes Settings and a RunContext and works on one data interval; the DAG wires
them as tasks, `ccm run` calls them in sequence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ccm.config import Settings
from ccm.constants import DatasetKind, ExtractStatus
from ccm.controls import engine
from ccm.errors import CcmError
from ccm.lake import Lake
from ccm.manifests import ExtractManifest, RunContext
from ccm.sources.connections import Connection
from ccm.sources.extract import Extracted, Interval, run_extracts
from ccm.sources.registry import ALL_DATASETS, get_dataset, source_family
from ccm.transform import TransformError

log = logging.getLogger(__name__)

ConnectionResolver = Callable[[str], Connection]


def extract(settings: Settings, dataset_key: str, interval: Interval, run: RunContext,
            resolve: ConnectionResolver, **client_overrides: Any) -> ExtractManifest:
    """Extract one dataset over one interval into the lake (complete, or not at all).

    For a late-arriving dataset the look-back days before the interval are re-extracted
    first, one day at a time, so a file delivered after its day's run replaces that day
    and an incomplete earlier day does not hold back the others. Returns the manifest of
    the requested interval.
    """
    dataset = get_dataset(dataset_key)
    earlier = lookback_intervals(interval, settings.late_data_lookback) if dataset.late_arriving else []
    *lookback, extracted = _run_extracts(settings, dataset_key, [*earlier, interval], run, resolve, **client_overrides)
    for again in lookback:  # recorded in its own failed manifest; the interval still ran
        if again.error is not None:
            log.error("re-extract of %s %s .. %s failed: %s", dataset_key, again.manifest.interval_start,
                      again.manifest.interval_end, again.error)
    if extracted.error is not None:
        raise extracted.error
    return extracted.manifest


def extract_days(settings: Settings, dataset_key: str, interval: Interval, run: RunContext,
                 resolve: ConnectionResolver) -> list[Extracted]:
    """Backfill an event dataset over [start, end) one UTC day at a time, each day complete
    or not at all with its own manifest (a failed day does not stop the others, and memory
    holds a day, not the range); a snapshot dataset is observed once."""
    dataset = get_dataset(dataset_key)
    days = midnight_intervals(interval.start, interval.end) if dataset.kind is DatasetKind.EVENT else [interval]
    return _run_extracts(settings, dataset_key, days, run, resolve)


def _run_extracts(settings: Settings, dataset_key: str, intervals: list[Interval], run: RunContext,
                  resolve: ConnectionResolver, **client_overrides: Any) -> list[Extracted]:
    dataset = get_dataset(dataset_key)
    family = source_family(dataset.source)
    lake = Lake(settings.lake_uri, settings.s3_endpoint_url)
    connection = resolve(family.conn_id) if family.conn_id else None
    with family.make_client(connection, settings, **client_overrides) as client:
        return run_extracts(dataset, intervals, family.fetcher(dataset, client), lake, run)


def lookback_intervals(interval: Interval, lookback: timedelta) -> list[Interval]:
    """[start - lookback, start) cut at UTC midnights, oldest first."""
    return midnight_intervals(interval.start - lookback, interval.start)


def midnight_intervals(start: datetime, end: datetime) -> list[Interval]:
    """[start, end) cut at UTC midnights, oldest first."""
    out: list[Interval] = []
    cursor = start
    while cursor < end:
        next_midnight = datetime(cursor.year, cursor.month, cursor.day, tzinfo=UTC) + timedelta(days=1)
        out.append(Interval(cursor, min(next_midnight, end)))
        cursor = out[-1].end
    return out


class ExtractFailures(CcmError):
    """Some datasets of a group could not be extracted; the others were."""


def extract_group(settings: Settings, dataset_keys: list[str], interval: Interval, run: RunContext,
                  resolve: ConnectionResolver) -> list[ExtractManifest]:
    """Extract several datasets of one source family; every dataset is attempted, and the
    failures are raised together at the end (their manifests already say why)."""
    manifests, failures = [], []
    for key in dataset_keys:
        try:
            manifests.append(extract(settings, key, interval, run, resolve))
        except Exception as exc:  # recorded in a failed manifest; keep extracting the others
            failures.append(f"{key}: {exc}")
    incomplete = [f"{m.dataset_key}: {m.status.value}" for m in manifests if m.status is not ExtractStatus.COMPLETE]
    if failures or incomplete:
        raise ExtractFailures("; ".join(failures + incomplete))
    return manifests


def health(settings: Settings, run: RunContext) -> dict[str, Any]:
    """Fail loudly (after the evidence of the failure was recorded) if a population could not
    be built in this run."""
    from ccm.warehouse import connect, ensure_schema

    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        errors = con.execute(
            "select distinct population_model, population_error from ccm.evaluation_plan "
            "where population_error is not null order by 1").fetchall()
    if errors:
        raise TransformError("populations not built (their periods are not_tested): "
                             + "; ".join(f"{model}: {reason}" for model, reason in errors))
    return {"populations": "all built"}


def plan(settings: Settings, interval: Interval, run: RunContext,
         control_ids: list[str] | None = None) -> dict[str, Any]:
    """Register the lake in the warehouse and decide what this run evaluates."""
    from ccm.warehouse import connect, register_lake

    runtime = engine.Runtime.load(settings)
    with connect(settings.warehouse_path) as con:
        registered = register_lake(con, runtime.lake, list(ALL_DATASETS))
    assessments = engine.plan(runtime, interval.start, interval.end, run, control_ids)
    return {
        "raw_views_created": registered,
        "planned": len(assessments),
        "complete": sum(1 for a in assessments if a.complete),
        "not_tested": [f"{a.control_id} {a.period.label}: {a.reason}" for a in assessments if not a.complete],
    }


def transform(settings: Settings, run: RunContext, all_tests: bool = False) -> dict[str, Any]:
    """Build the planned populations (and the staging views and tests under them) with dbt.

    A population dbt could not build (a broken model, a failed integrity test upstream) is
    recorded in the plan with the reason, so its control-periods are evaluated as
    `not_tested` and the rest of the run carries on; `health` fails the run afterwards.
    """
    from ccm.transform import load_manifest, run_dbt, unbuilt_models

    models = engine.planned_models(settings)
    if not models:
        return {"models": [], "nodes": 0, "unbuilt": {}}
    selector = " ".join(f"+{m}" for m in models)
    # the run tests what it builds (populations, intermediate models) but not the staging
    # views' whole-history integrity tests, whose cost would grow with the lake; those run in
    # CI and with `ccm transform --all-tests`
    exclude = ["resource_type:unit_test"] + ([] if all_tests else ["resource_type:test,path:models/staging"])
    if all_tests:  # the staging views read the planned files: widen them to the whole lake
        from ccm.warehouse import connect, register_planned_files

        with connect(settings.warehouse_path) as con:
            register_planned_files(con, Lake(settings.lake_uri, settings.s3_endpoint_url), list(ALL_DATASETS), None)
    nodes = run_dbt(settings, ["build", "--select", selector, "--exclude", *exclude], raise_on_failure=False)
    unbuilt = unbuilt_models(nodes, load_manifest(settings), models)
    engine.record_population_errors(settings, unbuilt)
    for model, reason in unbuilt.items():
        log.error("population %s was not built: %s", model, reason)
    return {"models": models, "nodes": len(nodes), "unbuilt": unbuilt}


def evaluate(settings: Settings, run: RunContext) -> dict[str, Any]:
    runtime = engine.Runtime.load(settings)
    results = engine.evaluate(runtime, run)
    return {
        "evaluated": len(results),
        "results": [{"control_id": r.control_id, "period": r.period.label, "status": r.status.value,
                     "version": r.version, "failing": list(r.failing), "reason": r.reason} for r in results],
    }


def publish(settings: Settings, run: RunContext) -> dict[str, Any]:
    """Rebuild the metrics marts and their exports, then the status index and the dashboard."""
    from ccm.metrics.publish import publish_metrics

    return publish_metrics(settings).as_dict()


@dataclass(frozen=True)
class IntervalSummary:
    interval: Interval
    manifests: list[ExtractManifest]
    plan: dict[str, Any]
    evaluation: dict[str, Any]


def run_interval(settings: Settings, interval: Interval, run: RunContext, resolve: ConnectionResolver,
                 datasets: list[str] | None = None, **client_overrides: Any) -> IntervalSummary:
    """Every step for one interval, in-process (the CLI path; the DAG runs the same steps as tasks)."""
    manifests: list[ExtractManifest] = []
    for key in datasets or [d.key for d in ALL_DATASETS]:
        try:
            manifests.append(extract(settings, key, interval, run, resolve, **client_overrides))
        except Exception as exc:  # recorded in a failed manifest; controls depending on it are not_tested
            log.error("extract %s failed: %s", key, exc)
    planned = plan(settings, interval, run)
    transform(settings, run)
    evaluation = evaluate(settings, run)
    publish(settings, run)
    return IntervalSummary(interval, manifests, planned, evaluation)


def failed_extracts(manifests: list[ExtractManifest]) -> list[str]:
    return [f"{m.dataset_key}: {m.status.value}" for m in manifests if m.status is not ExtractStatus.COMPLETE]



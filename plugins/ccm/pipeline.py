"""The pipeline's steps, callable from the DAG, the CLI and tests alike.

    extract  -> plan -> transform -> evaluate -> publish

Each step takes Settings and a RunContext and works on one data interval; the DAG wires
them as tasks, `ccm run` calls them in sequence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ccm.config import Settings
from ccm.constants import DatasetKind, ExtractStatus, Status
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
class Shortfall:
    """What a pipeline step could not do, so its caller can exit non-zero and say which.

    A run that finished is not a run that tested everything: an extract that failed or came
    out incomplete, a population dbt could not build and a control-period `not_tested` all
    mean the evidence has a hole for that day, and a scheduler or CI job that only sees exit
    code 0 would never look (issue 18 item 6). Each entry is one line naming the dataset or
    the control-period and why.
    """

    failed_extracts: tuple[str, ...] = ()
    unbuilt_populations: tuple[str, ...] = ()
    not_tested: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.failed_extracts or self.unbuilt_populations or self.not_tested)

    def lines(self) -> list[str]:
        return ([f"extract failed: {line}" for line in self.failed_extracts]
                + [f"population not built: {line}" for line in self.unbuilt_populations]
                + [f"not_tested: {line}" for line in self.not_tested])

    @classmethod
    def of_results(cls, results: list[dict[str, Any]]) -> Shortfall:
        """The `not_tested` control-periods among `evaluate`'s results."""
        return cls(not_tested=tuple(f"{r['control_id']} {r['period']}: {r.get('reason') or 'no reason recorded'}"
                                    for r in results if r["status"] == Status.NOT_TESTED.value))


@dataclass(frozen=True)
class IntervalSummary:
    interval: Interval
    manifests: list[ExtractManifest]
    plan: dict[str, Any]
    evaluation: dict[str, Any]
    # dataset key -> why its extract failed or came out incomplete (its manifest says so too)
    extract_failures: dict[str, str] = field(default_factory=dict)
    unbuilt: dict[str, str] = field(default_factory=dict)  # population model -> why dbt did not build it

    @property
    def shortfall(self) -> Shortfall:
        not_tested = Shortfall.of_results(self.evaluation.get("results", [])).not_tested
        return Shortfall(tuple(f"{key}: {why}" for key, why in self.extract_failures.items()),
                         tuple(f"{model}: {why}" for model, why in self.unbuilt.items()), not_tested)


def run_interval(settings: Settings, interval: Interval, run: RunContext, resolve: ConnectionResolver,
                 datasets: list[str] | None = None, **client_overrides: Any) -> IntervalSummary:
    """Every step for one interval, in-process (the CLI path; the DAG runs the same steps as tasks).

    A failed extract does not stop the run (the controls that need it come out `not_tested`);
    it is kept in the summary so the caller can say which and exit non-zero.
    """
    manifests: list[ExtractManifest] = []
    failures: dict[str, str] = {}
    for key in datasets or [d.key for d in ALL_DATASETS]:
        try:
            manifest = extract(settings, key, interval, run, resolve, **client_overrides)
        except Exception as exc:  # recorded in a failed manifest; controls depending on it are not_tested
            log.error("extract %s failed: %s", key, exc)
            failures[key] = str(exc) or type(exc).__name__
            continue
        manifests.append(manifest)
        if manifest.status is not ExtractStatus.COMPLETE:
            failures[key] = _incomplete_reason(manifest)
    planned = plan(settings, interval, run)
    transformed = transform(settings, run)
    evaluation = evaluate(settings, run)
    publish(settings, run)
    return IntervalSummary(interval, manifests, planned, evaluation, failures, dict(transformed.get("unbuilt", {})))


def _incomplete_reason(manifest: ExtractManifest) -> str:
    """One line from an incomplete manifest: what was quarantined and why, and any notes."""
    parts = [f"{reason} ({count}x)" for reason, count in manifest.quarantine_reasons.items()]
    parts += manifest.notes
    if manifest.error:
        parts.append(manifest.error)
    detail = f"{manifest.quarantined} records quarantined" if manifest.quarantined else ""
    return f"{manifest.status.value}" + (f": {detail}" if detail else "") + (f": {'; '.join(parts)}" if parts else "")


def failed_extracts(manifests: list[ExtractManifest]) -> list[str]:
    return [f"{m.dataset_key}: {m.status.value}" for m in manifests if m.status is not ExtractStatus.COMPLETE]



"""Planning and evaluating control-periods.

plan:     which (control, period) pairs this run evaluates: every period that closed in
          the run's data interval, plus recently closed periods whose inputs changed
          since their current result (late data). For each, are the inputs complete and
          which snapshot observation is the evidence. Written to `ccm.evaluation_plan`.
evaluate: for each planned pair, `not_tested` if inputs are incomplete; otherwise the
          dbt-built population is validated by the control's GX suite, failures are
          matched against approved exceptions, and the result is written as a new
          version to `ccm.control_results` and, with all its artefacts, to the evidence
          store and ledger.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ccm import clock
from ccm.config import Settings
from ccm.constants import DatasetKind, Status
from ccm.controls.catalog import Catalog, Control, load_controls
from ccm.controls.exceptions import ExceptionRegister, load_exception_register
from ccm.controls.gx_runner import CONTROL_LEVEL_ENTITY, ENTITY_COLUMN, SuiteRunner, ValidationOutcome
from ccm.controls.inputs import SNAPSHOT_RUN_MARGIN, InputAssessment, ManifestIndex, assess
from ccm.evidence.store import EvidenceStore
from ccm.evidence.writer import EvidenceWriter
from ccm.lake import Lake
from ccm.manifests import ExtractManifest, RunContext, read_manifests
from ccm.periods import Period, as_utc, iter_days, periods_closing_in
from ccm.sources.registry import ALL_DATASETS, dataset_kinds, get_dataset
from ccm.warehouse import connect, ensure_schema, register_planned_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    status: Status
    failing: tuple[str, ...] = ()
    excepted: tuple[str, ...] = ()
    exception_ids: tuple[str, ...] = ()


def decide(control: Control, period: Period, outcome_failing: tuple[str, ...],
           exceptions: ExceptionRegister) -> Decision:
    """pass / fail / excepted from the failing entities and the approved exceptions."""
    if not outcome_failing:
        return Decision(Status.PASS)
    excepted, exception_ids, uncovered = [], [], []
    for entity in outcome_failing:
        covering = None if entity == CONTROL_LEVEL_ENTITY else exceptions.covering(control.control_id, entity, period)
        if covering:
            excepted.append(entity)
            exception_ids.append(covering.exception_id)
        else:
            uncovered.append(entity)
    status = Status.FAIL if uncovered else Status.EXCEPTED
    return Decision(status, tuple(outcome_failing), tuple(excepted), tuple(exception_ids))


@dataclass
class Runtime:
    """What a step needs, loaded once: settings, control matrix, exceptions, stores."""

    settings: Settings
    catalog: Catalog
    exceptions: ExceptionRegister
    lake: Lake
    evidence: EvidenceStore
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> Runtime:
        """The shipped matrix and exceptions plus the company folder's (`Settings.company_dir`)."""
        catalog = load_controls(settings, dataset_kinds())
        exceptions = load_exception_register(settings, {c.control_id for c in catalog})
        return cls(
            settings=settings, catalog=catalog, exceptions=exceptions,
            lake=Lake(settings.lake_uri, settings.s3_endpoint_url),
            evidence=EvidenceStore(settings.evidence_uri, settings.s3_endpoint_url, settings.evidence_retention_days),
        )


# planning -----------------------------------------------------------------------------

def _current_event_files(lake: Lake, index: ManifestIndex, control: Control,
                         period: Period) -> dict[str, list[tuple[str, str]]]:
    """The lake files holding each event dataset's rows for the period, with their SHA-256."""
    files: dict[str, list[tuple[str, str]]] = {}
    for requirement in control.sources:
        dataset = get_dataset(requirement.dataset)
        if dataset.kind is not DatasetKind.EVENT:
            continue
        found = []
        for day in iter_days(period.start, period.end):
            for path in lake.list_files(lake.partition_dir(dataset, day)):
                found.append((path, index.file_hashes.get(path, "unknown")))
        files[requirement.dataset] = found
    return files


def _manifests_for(lake: Lake, candidates: list[tuple[Control, Period]]) -> list[ExtractManifest]:
    """The manifests that can decide the candidate periods, not the whole history: for an
    event dataset those of extracts overlapping the periods, for a snapshot those of runs
    around the periods' observation windows (the file name tells an extract's interval)."""
    windows: dict[str, tuple[datetime, datetime]] = {}
    for control, period in candidates:
        for requirement in control.sources:
            if get_dataset(requirement.dataset).kind is DatasetKind.EVENT:
                low, high = period.start, period.end
            else:
                low, high = period.end - SNAPSHOT_RUN_MARGIN, period.end + requirement.freshness
            known = windows.get(requirement.dataset)
            windows[requirement.dataset] = (min(low, known[0]), max(high, known[1])) if known else (low, high)
    return [m for key, window in sorted(windows.items()) for m in read_manifests(lake, get_dataset(key), window)]


def planned_files(assessments: Iterable[InputAssessment]) -> dict[str, set[str]]:
    """Per dataset, the lake files the populations of these control-periods are built from."""
    files: dict[str, set[str]] = {}
    for assessment in assessments:
        if assessment.complete:
            for dataset in assessment.datasets:
                files.setdefault(dataset.dataset, set()).update(path for path, _sha in dataset.files)
    return files


def plan(runtime: Runtime, interval_start: datetime, interval_end: datetime, run: RunContext,
         control_ids: list[str] | None = None) -> list[InputAssessment]:
    """Decide what this run evaluates and write the plan to the warehouse."""
    settings = runtime.settings
    interval_start, interval_end = as_utc(interval_start), as_utc(interval_end)
    lookback_start = interval_start - settings.late_data_lookback
    candidates = [(control, period) for control in runtime.catalog.select(control_ids)
                  for period in periods_closing_in(lookback_start, interval_end, control.frequency)]
    index = ManifestIndex(_manifests_for(runtime.lake, candidates))
    planned: list[tuple[Control, InputAssessment]] = []
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        current = {
            (row[0], as_utc(row[1])): row[2]
            for row in con.execute(
                "select control_id, period_start, input_fingerprint from ccm.current_results"
            ).fetchall()
        }
        for control, period in candidates:
            assessment = assess(control, period, index, _current_event_files(runtime.lake, index, control, period))
            closed_in_run = period.end > interval_start
            previous = current.get((control.control_id, period.start))
            if closed_in_run or (previous is not None and previous != assessment.fingerprint):
                planned.append((control, assessment))
        con.execute("delete from ccm.evaluation_plan")
        con.execute("delete from ccm.plan_inputs")
        for control, assessment in planned:
            period = assessment.period
            con.execute(
                "insert into ccm.evaluation_plan (evaluation_key, control_id, population_model, period_start, "
                "period_end, inputs_complete, not_tested_reason, input_fingerprint, input_files, planned_by_run) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f"{control.control_id}/{period.label}", control.control_id, control.population_model,
                 period.start, period.end, assessment.complete, assessment.reason or None,
                 assessment.fingerprint,
                 json.dumps([{"dataset": d.dataset, "complete": d.complete, "observed_at": d.observed_at,
                              "manifests": d.manifests, "files": d.files} for d in assessment.datasets],
                            default=str),
                 run.run_id],
            )
            for dataset in assessment.datasets:
                if dataset.observed_at is None:
                    continue
                for path, _sha in dataset.files:
                    con.execute("insert into ccm.plan_inputs values (?, ?, ?, ?, ?, ?, ?)",
                                [control.control_id, control.population_model, period.start, period.end,
                                 dataset.dataset, dataset.observed_at, runtime.lake.uri_of(path)])
        register_planned_files(con, runtime.lake, list(ALL_DATASETS), planned_files(a for _, a in planned))
    log.info("planned %s control-periods (%s with complete inputs)", len(planned),
             sum(1 for _, a in planned if a.complete))
    return [a for _, a in planned]


def record_population_errors(settings: Settings, unbuilt: dict[str, str]) -> None:
    """Mark the planned periods of populations dbt could not build, with the reason."""
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        con.execute("update ccm.evaluation_plan set population_error = null")
        for model, reason in unbuilt.items():
            con.execute("update ccm.evaluation_plan set population_error = ? where population_model = ?",
                        [reason, model])


def planned_models(settings: Settings) -> list[str]:
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        rows = con.execute(
            "select distinct population_model from ccm.evaluation_plan where inputs_complete order by 1"
        ).fetchall()
    return [r[0] for r in rows]


# evaluation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EvaluationResult:
    evaluation_id: str
    control_id: str
    period: Period
    version: int
    status: Status
    population_size: int | None
    failing: tuple[str, ...]
    excepted: tuple[str, ...]
    reason: str | None
    evidence_path: str


def _population_frame(con: Any, model: str, period: Period) -> Any:
    frame = con.execute(
        f'select * from controls."{model}" where period_start = ? order by {ENTITY_COLUMN}', [period.start]
    ).df()
    if ENTITY_COLUMN not in frame.columns:
        raise RuntimeError(f"population model {model} has no {ENTITY_COLUMN} column")
    return frame


def _frame_to_parquet(frame: Any) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def evaluate(runtime: Runtime, run: RunContext) -> list[EvaluationResult]:
    """Evaluate every planned control-period; returns the results written."""
    settings = runtime.settings
    writer = EvidenceWriter(settings, runtime.evidence, runtime.lake, runtime.exceptions, run)
    runner: SuiteRunner | None = None
    results: list[EvaluationResult] = []
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        rows = con.execute(
            "select control_id, period_start, period_end, inputs_complete, not_tested_reason, input_fingerprint, "
            "input_files, population_error from ccm.evaluation_plan order by control_id, period_start"
        ).fetchall()
        for control_id, start, end, complete, reason, fingerprint, input_files, population_error in rows:
            control = runtime.catalog.get(control_id)
            period = Period(as_utc(start), as_utc(end))
            evaluation_id = uuid.uuid4().hex
            started_at = clock.now()
            outcome: ValidationOutcome | None = None
            population_bytes: bytes | None = None
            population_size: int | None = None
            decision = Decision(Status.NOT_TESTED)
            if complete and population_error:
                reason = f"the population could not be built: {population_error}"
            elif complete:
                try:
                    frame = _population_frame(con, control.population_model, period)
                    population_size = len(frame)
                    population_bytes = _frame_to_parquet(frame)
                    if runner is None:
                        runner = SuiteRunner(settings.gx_dir / "suites", writer.gx_results_dir(started_at),
                                             writer.gx_docs_dir)
                    outcome = runner.validate(control.suite, frame, f"{period.label}__{evaluation_id[:12]}",
                                              started_at)
                    decision = decide(control, period, outcome.failing_entity_ids, runtime.exceptions)
                    reason = "; ".join(outcome.failed_expectations) or None
                except Exception as exc:  # the test could not run: never a pass
                    log.exception("%s %s: the test could not run", control_id, period.label)
                    decision = Decision(Status.NOT_TESTED)
                    reason = f"the test could not run: {type(exc).__name__}: {exc}"
            version = 1 + (con.execute(
                "select coalesce(max(version), 0) from ccm.control_results where control_id = ? and period_start = ?",
                [control_id, period.start]).fetchone()[0])
            stored = writer.write(control, period, evaluation_id, version, decision, reason, fingerprint,
                                  json.loads(input_files) if input_files else [], outcome, population_bytes,
                                  population_size, started_at)
            record = stored.record
            con.execute(
                "insert into ccm.control_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [evaluation_id, control_id, period.start, period.end, version, decision.status.value,
                 population_size, len(decision.failing), len(decision.excepted), list(decision.failing),
                 list(decision.excepted), list(decision.exception_ids), reason,
                 record.gx.result_path if record.gx else None,
                 record.gx.docs_path if record.gx else None,
                 record.population.path if record.population else None,
                 record.population.sha256 if record.population else None,
                 fingerprint, stored.key, stored.ledger_seq, started_at, run.dag_id, run.run_id,
                 run.try_number],
            )
            results.append(EvaluationResult(evaluation_id, control_id, period, version, decision.status,
                                             population_size, decision.failing, decision.excepted, reason,
                                             stored.key))
    if runner is not None:
        runner.build_docs()
    writer.finish(gx_ran=runner is not None)
    log.info("evaluated %s control-periods: %s", len(results),
             {s.value: sum(1 for r in results if r.status is s) for s in Status})
    return results


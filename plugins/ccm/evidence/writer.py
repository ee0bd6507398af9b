"""Persisting evaluations: the engine decides, the evidence writer stores (ADR 0022).

One `EvidenceWriter` per evaluate step. For each evaluation it writes the artefacts (the
population, the GX result and Data Docs page, copies of the extract manifests), then the
record (`EvaluationRecord`, canonical JSON), then chains the record's SHA-256 into the
ledger. `finish()` copies GX's staged files to an S3 store and seals the ledger with one
signed-off digest over the entries the step appended.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm import clock
from ccm.config import Settings
from ccm.evidence.ledger import Digest, Ledger
from ccm.evidence.record import (
    AppliedException,
    CodeVersion,
    ControlRef,
    EvaluationRecord,
    GxArtifact,
    InputDataset,
    InputManifest,
    Inputs,
    LakeFile,
    PopulationArtifact,
    RunRef,
    SourceInput,
)
from ccm.evidence.records import (
    RECORD_FORMAT,
    actor,
    evaluation_record_key,
    file_hash_or_none,
    git_commit,
    input_manifest_key,
    population_key,
)
from ccm.evidence.signing import signer_from_env
from ccm.evidence.store import EvidenceStore
from ccm.evidence.timestamping import TimestampAuthority
from ccm.manifests import RunContext
from ccm.periods import Period

if TYPE_CHECKING:
    from ccm.controls.catalog import Control
    from ccm.controls.engine import Decision
    from ccm.controls.exceptions import ExceptionRegister
    from ccm.controls.gx_runner import ValidationOutcome
    from ccm.lake import Lake

log = logging.getLogger(__name__)

# GX's result store, one directory per month of evaluation: building the Data Docs index
# lists (and parses the key of) every result in the store, so a store holding the whole
# history made each run's evidence step grow with it; the index shows this month's results
GX_RESULTS = "gx/validations"
GX_DOCS = "gx/docs"
GX_STAGING = "evidence-staging"  # under the data dir: where GX writes when the store is on S3


@dataclass(frozen=True)
class StoredRecord:
    """A record as written: where it is, its SHA-256 and its ledger entry."""

    record: EvaluationRecord
    key: str
    sha256: str
    ledger_seq: int


class EvidenceWriter:
    """Writes one evaluate step's evidence: artefacts, records, ledger entries, then a digest."""

    def __init__(self, settings: Settings, store: EvidenceStore, lake: Lake, exceptions: ExceptionRegister,
                 run: RunContext) -> None:
        from ccm.transform import load_manifest

        self.settings = settings
        self.store = store
        self.lake = lake
        self.exceptions = exceptions
        self.run = run
        self.ledger = Ledger(store)
        # GX writes its results and pages here: the store itself when local, else a staging dir
        self.gx_root: Path = store.local_path("") if store.is_local else settings.data_dir / GX_STAGING
        self._dbt_manifest = load_manifest(settings)
        self._commit = git_commit(settings.project_dir)
        self._manifests: dict[str, InputManifest] = {}  # lake path -> its copy, shared by the step's records

    def gx_results_dir(self, started_at: datetime) -> Path:
        return self.gx_root / GX_RESULTS / f"{started_at:%Y-%m}"

    @property
    def gx_docs_dir(self) -> Path:
        return self.gx_root / GX_DOCS

    # one evaluation -----------------------------------------------------------------------
    def write(self, control: Control, period: Period, evaluation_id: str, version: int, decision: Decision,
              reason: str | None, fingerprint: str | None, inputs: Sequence[dict[str, Any]],
              outcome: ValidationOutcome | None, population: bytes | None, population_rows: int | None,
              started_at: datetime) -> StoredRecord:
        """Write the evaluation's artefacts and its record (the run manifest), then chain it.

        The record names every artefact by path and SHA-256 (population, GX result, Data Docs
        page, copies of the extract manifests), the code that ran (git commit, dbt model and
        compiled SQL, GX suite), the Airflow run, the exceptions applied and the version it
        supersedes; the ledger entry holds the record's SHA-256.
        """
        store, settings, run = self.store, self.settings, self.run
        population_artifact = None
        if population is not None:
            key = population_key(control.control_id, period.label, evaluation_id)
            population_artifact = PopulationArtifact(key, store.put(key, population), population_rows, "parquet")
        gx = self._gx_artifact(control, outcome) if outcome is not None else None
        from ccm.transform import model_files

        model_sql, compiled_sql = model_files(settings, self._dbt_manifest, control.population_model)
        suite_file = settings.gx_dir / "suites" / f"{control.suite}.json"
        applied = tuple(AppliedException(**e.as_dict()) for e in self.exceptions.for_control(control.control_id)
                        if e.exception_id in decision.exception_ids)
        record = EvaluationRecord(
            record_format=RECORD_FORMAT,
            evaluation_id=evaluation_id,
            control=ControlRef(control.control_id, control.title, tuple(control.criteria), control.frequency,
                               control.owner),
            period=period,
            version=version,
            supersedes=self._previous_version(control.control_id, period, version) if version > 1 else None,
            status=decision.status,
            reason=reason,
            population=population_artifact,
            failing_entity_ids=tuple(decision.failing),
            excepted_entity_ids=tuple(decision.excepted),
            exceptions_applied=applied,
            gx=gx,
            inputs=Inputs(fingerprint, tuple(self._input_dataset(d) for d in inputs)),
            code=CodeVersion(
                git_commit=self._commit,
                controls_yml_sha256=file_hash_or_none(settings.controls_path),
                exceptions_yml_sha256=file_hash_or_none(settings.exceptions_path),
                dbt_model=control.population_model,
                dbt_model_path=settings.project_relative(model_sql) if model_sql else None,
                dbt_model_sha256=file_hash_or_none(model_sql),
                dbt_compiled_sha256=file_hash_or_none(compiled_sql),
                gx_suite=control.suite,
                gx_suite_path=settings.project_relative(suite_file) if suite_file else None,
                gx_suite_sha256=file_hash_or_none(suite_file),
            ),
            run=RunRef(run.dag_id, run.run_id, run.try_number, run.task_id, started_at.isoformat(),
                       clock.now().isoformat()),
        )
        key = record.key
        digest = store.put(key, record.to_json_bytes())
        entry = self.ledger.append("evaluation", {
            "evaluation_id": evaluation_id, "control_id": control.control_id,
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(), "version": version,
            "status": decision.status.value, "record": key, "record_sha256": digest,
        }, recorded_at=clock.now().isoformat())
        return StoredRecord(record, key, digest, entry.seq)

    def _gx_artifact(self, control: Control, outcome: ValidationOutcome) -> GxArtifact:
        result_relative = outcome.result_path.relative_to(self.gx_root).as_posix()
        docs_relative = f"{GX_DOCS}/{outcome.docs_relative_path}"
        docs_page = outcome.docs_page or self.gx_root / docs_relative
        if not self.store.is_local:  # staged locally: copy now, write-once, so the record never names a missing object
            self.store.put_file(result_relative, outcome.result_path)
            self.store.put_file(docs_relative, docs_page)
        return GxArtifact(
            suite=control.suite, result_id=outcome.result_id, validation_id=outcome.validation_id,
            result_path=result_relative, result_sha256=file_hash_or_none(outcome.result_path),
            docs_path=docs_relative, docs_sha256=file_hash_or_none(docs_page), success=outcome.success,
            failed_expectations=tuple(outcome.failed_expectations), statistics=outcome.statistics)

    def _input_dataset(self, planned: dict[str, Any]) -> InputDataset:
        """A dataset of the plan's inputs, its extract manifests hashed and copied into the store."""
        manifests = []
        for path in planned.get("manifests") or []:
            if path not in self._manifests:
                data = self.lake.read_bytes(path)
                key = input_manifest_key(path)
                doc = json.loads(data)
                self._manifests[path] = InputManifest(
                    path=path, evidence_path=key, sha256=self.store.put(key, data), status=doc.get("status"),
                    source_inputs=tuple(SourceInput(i["name"], i["sha256"], i["bytes"])
                                        for i in doc.get("inputs") or []))
            manifests.append(self._manifests[path])
        return InputDataset(planned["dataset"], planned["complete"], planned.get("observed_at"), tuple(manifests),
                            tuple(LakeFile(f[0], f[1]) for f in planned.get("files") or []))

    def _previous_version(self, control_id: str, period: Period, version: int) -> str | None:
        prefix = evaluation_record_key(control_id, period.label, 0, "").rsplit("/", 1)[0] + "/"
        earlier = [k for k in self.store.list(prefix) if k.rsplit("/", 1)[-1] < f"v{version:03d}-"]
        return earlier[-1] if earlier else None

    # the end of the step ------------------------------------------------------------------
    def finish(self, gx_ran: bool) -> Digest | None:
        """Copy GX's staged files to an S3 store (when GX ran) and seal the ledger."""
        if gx_ran and not self.store.is_local:
            self._copy_staged_gx()
        return self._seal()

    def _copy_staged_gx(self) -> None:
        staging = self.gx_root
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                relative = path.relative_to(staging).as_posix()
                if relative.startswith(GX_RESULTS) or not self.store.exists(relative):
                    self.store.put_file(relative, path)

    def _seal(self) -> Digest | None:
        """One signed-off digest per evaluate step over the entries it appended."""
        run = self.run
        closed_by = {"actor": actor(), "dag_id": run.dag_id, "run_id": run.run_id, "task_id": run.task_id,
                     "try_number": run.try_number}
        digest = self.ledger.seal(closed_by, clock.now().isoformat(), signer_from_env(), TimestampAuthority.from_env())
        if digest is not None:
            log.info("ledger digest %s seals entries %s..%s", digest.digest_seq, digest.from_seq, digest.to_seq)
        return digest


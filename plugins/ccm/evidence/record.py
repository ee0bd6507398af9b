"""The evaluation record as a type: what one evaluation of one control-period rests on.

`EvaluationRecord` is the record the evidence writer stores (as canonical JSON under
`evaluations/<control>/<period>/vNNN-<id>.json`, its SHA-256 chained into the ledger) and
every reader (verify, show, sample, pack) reads back. Its parts are typed: the control,
the period, the population and GX artefacts, the applied exceptions, the inputs (lake
files and copied extract manifests), the code that ran and the Airflow run.

The stored bytes are never rewritten (they are hashed into the ledger), so the type reads
every format the product has written and writes each back byte for byte:

- format 1 (no `record_format` key): no `supersedes`; the population without `format`;
  the GX part without suite, result and validation ids or the Data Docs page's SHA-256;
  the inputs as the plan listed them (manifests by lake path, files as `[path, sha256]`);
  the code without the dbt model's and GX suite's paths.
- format 2 (`record_format: 2`, today's): all of the above.

`EvaluationRecord.from_json(data).to_json_bytes() == data` for every record of either
format; a document with keys the format does not have is refused (`RecordFormatError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccm.constants import Frequency, Status
from ccm.errors import EvidenceError
from ccm.evidence.records import RECORD_FORMAT, canonical_json, evaluation_record_key
from ccm.periods import Period, as_utc

FORMAT_1 = 1  # records written before `record_format` existed
KNOWN_FORMATS = (FORMAT_1, RECORD_FORMAT)


class RecordFormatError(EvidenceError, ValueError):
    """A document that is not an evaluation record of a known format."""


def _fields(doc: Any, what: str, required: Iterable[str], optional: Iterable[str] = ()) -> Mapping[str, Any]:
    """`doc` as a mapping holding every required key, and no key outside required + optional."""
    if not isinstance(doc, Mapping):
        raise RecordFormatError(f"{what}: expected an object, found {type(doc).__name__}")
    required = set(required)
    missing = required - set(doc)
    unknown = set(doc) - required - set(optional)
    if missing or unknown:
        detail = "; ".join(part for part in (f"missing {', '.join(sorted(missing))}" if missing else "",
                                              f"unexpected {', '.join(sorted(unknown))}" if unknown else "") if part)
        raise RecordFormatError(f"{what}: {detail}")
    return doc


@dataclass(frozen=True)
class ControlRef:
    """The control as the matrix described it when it was evaluated."""

    control_id: str
    title: str
    criteria: tuple[str, ...]
    frequency: Frequency
    owner: str

    def to_dict(self) -> dict[str, Any]:
        return {"control_id": self.control_id, "title": self.title, "criteria": list(self.criteria),
                "frequency": self.frequency.value, "owner": self.owner}

    @classmethod
    def from_dict(cls, doc: Any) -> ControlRef:
        doc = _fields(doc, "control", ("control_id", "title", "criteria", "frequency", "owner"))
        return cls(doc["control_id"], doc["title"], tuple(doc["criteria"]), Frequency(doc["frequency"]),
                   doc["owner"])


@dataclass(frozen=True)
class PopulationArtifact:
    """The tested population (Parquet) in the evidence store."""

    path: str
    sha256: str
    rows: int | None
    format: str | None = "parquet"  # None: not stated (format 1)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "rows": self.rows}
        if self.format is not None:
            doc["format"] = self.format
        return doc

    @classmethod
    def from_dict(cls, doc: Any) -> PopulationArtifact:
        doc = _fields(doc, "population", ("path", "sha256", "rows"), ("format",))
        return cls(doc["path"], doc["sha256"], doc["rows"], doc.get("format"))


@dataclass(frozen=True)
class GxArtifact:
    """The GX validation: its result JSON and Data Docs page in the store, and what it found."""

    result_path: str
    result_sha256: str | None
    docs_path: str
    success: bool
    failed_expectations: tuple[str, ...]
    statistics: Mapping[str, Any] = field(default_factory=dict)  # GX's own statistics, verbatim
    suite: str | None = None  # format 2 on
    result_id: str | None = None
    validation_id: str | None = None
    docs_sha256: str | None = None

    _FORMAT_1 = ("result_path", "result_sha256", "docs_path", "success", "failed_expectations", "statistics")
    _FORMAT_2 = (*_FORMAT_1, "suite", "result_id", "validation_id", "docs_sha256")

    def to_dict(self, record_format: int) -> dict[str, Any]:
        doc: dict[str, Any] = {"result_path": self.result_path, "result_sha256": self.result_sha256,
                               "docs_path": self.docs_path, "success": self.success,
                               "failed_expectations": list(self.failed_expectations),
                               "statistics": dict(self.statistics)}
        if record_format >= 2:
            doc.update(suite=self.suite, result_id=self.result_id, validation_id=self.validation_id,
                       docs_sha256=self.docs_sha256)
        return doc

    @classmethod
    def from_dict(cls, doc: Any, record_format: int) -> GxArtifact:
        doc = _fields(doc, "gx", cls._FORMAT_1 if record_format == FORMAT_1 else cls._FORMAT_2)
        return cls(doc["result_path"], doc["result_sha256"], doc["docs_path"], doc["success"],
                   tuple(doc["failed_expectations"]), dict(doc["statistics"] or {}), doc.get("suite"),
                   doc.get("result_id"), doc.get("validation_id"), doc.get("docs_sha256"))


@dataclass(frozen=True)
class AppliedException:
    """An approved exception that covered a failing entity, as the register held it."""

    exception_id: str
    control_id: str
    entity_id: str
    reason: str
    approved_by: str
    approved_on: str  # ISO date
    ticket: str
    expires_on: str  # ISO date

    def to_dict(self) -> dict[str, Any]:
        return {"exception_id": self.exception_id, "control_id": self.control_id, "entity_id": self.entity_id,
                "reason": self.reason, "approved_by": self.approved_by, "approved_on": self.approved_on,
                "ticket": self.ticket, "expires_on": self.expires_on}

    @classmethod
    def from_dict(cls, doc: Any) -> AppliedException:
        doc = _fields(doc, "exceptions_applied[]", ("exception_id", "control_id", "entity_id", "reason",
                                                     "approved_by", "approved_on", "ticket", "expires_on"))
        return cls(**doc)


@dataclass(frozen=True)
class SourceInput:
    """A file a file-based extract read (an export file, a CloudTrail object)."""

    name: str
    sha256: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "bytes": self.bytes}

    @classmethod
    def from_dict(cls, doc: Any) -> SourceInput:
        doc = _fields(doc, "source_inputs[]", ("name", "sha256", "bytes"))
        return cls(doc["name"], doc["sha256"], doc["bytes"])


@dataclass(frozen=True)
class InputManifest:
    """An extract manifest the evaluation rests on: its lake path and (format 2) its copy in the store."""

    path: str
    evidence_path: str | None = None  # None: format 1 named the manifest by lake path only
    sha256: str | None = None
    status: str | None = None
    source_inputs: tuple[SourceInput, ...] = ()

    @property
    def copied(self) -> bool:
        return self.evidence_path is not None

    def to_json_value(self, record_format: int) -> Any:
        if record_format == FORMAT_1:
            return self.path
        return {"path": self.path, "evidence_path": self.evidence_path, "sha256": self.sha256,
                "status": self.status, "source_inputs": [i.to_dict() for i in self.source_inputs]}

    @classmethod
    def from_json_value(cls, value: Any, record_format: int) -> InputManifest:
        if record_format == FORMAT_1:
            if not isinstance(value, str):
                raise RecordFormatError("inputs.datasets[].manifests[]: format 1 names a manifest by its path")
            return cls(value)
        doc = _fields(value, "inputs.datasets[].manifests[]", ("path", "evidence_path", "sha256", "status",
                                                                "source_inputs"))
        return cls(doc["path"], doc["evidence_path"], doc["sha256"], doc["status"],
                   tuple(SourceInput.from_dict(i) for i in doc["source_inputs"] or []))


@dataclass(frozen=True)
class LakeFile:
    """A lake file the population was built from, with its SHA-256 when the extract recorded it."""

    path: str
    sha256: str

    def to_json_value(self, record_format: int) -> Any:
        if record_format == FORMAT_1:
            return [self.path, self.sha256]
        return {"path": self.path, "sha256": self.sha256}

    @classmethod
    def from_json_value(cls, value: Any, record_format: int) -> LakeFile:
        if record_format == FORMAT_1:
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise RecordFormatError("inputs.datasets[].files[]: format 1 lists a file as [path, sha256]")
            return cls(value[0], value[1])
        doc = _fields(value, "inputs.datasets[].files[]", ("path", "sha256"))
        return cls(doc["path"], doc["sha256"])


@dataclass(frozen=True)
class InputDataset:
    """One dataset the control reads: complete or not, which observation, files and manifests."""

    dataset: str
    complete: bool
    observed_at: str | None  # the snapshot observation used (as the plan wrote it); None for events
    manifests: tuple[InputManifest, ...] = ()
    files: tuple[LakeFile, ...] = ()

    def to_dict(self, record_format: int) -> dict[str, Any]:
        return {"dataset": self.dataset, "complete": self.complete, "observed_at": self.observed_at,
                "manifests": [m.to_json_value(record_format) for m in self.manifests],
                "files": [f.to_json_value(record_format) for f in self.files]}

    @classmethod
    def from_dict(cls, doc: Any, record_format: int) -> InputDataset:
        doc = _fields(doc, "inputs.datasets[]", ("dataset", "complete", "observed_at", "manifests", "files"))
        return cls(doc["dataset"], doc["complete"], doc["observed_at"],
                   tuple(InputManifest.from_json_value(m, record_format) for m in doc["manifests"] or []),
                   tuple(LakeFile.from_json_value(f, record_format) for f in doc["files"] or []))


@dataclass(frozen=True)
class Inputs:
    fingerprint: str | None
    datasets: tuple[InputDataset, ...] = ()

    def to_dict(self, record_format: int) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "datasets": [d.to_dict(record_format) for d in self.datasets]}

    @classmethod
    def from_dict(cls, doc: Any, record_format: int) -> Inputs:
        doc = _fields(doc, "inputs", ("fingerprint", "datasets"))
        return cls(doc["fingerprint"], tuple(InputDataset.from_dict(d, record_format) for d in doc["datasets"] or []))


@dataclass(frozen=True)
class CodeVersion:
    """The code that ran: git commit, control matrix and exceptions, dbt model, GX suite (SHA-256s)."""

    git_commit: str
    controls_yml_sha256: str | None
    exceptions_yml_sha256: str | None
    dbt_model: str
    dbt_model_sha256: str | None
    dbt_compiled_sha256: str | None
    gx_suite: str
    gx_suite_sha256: str | None
    dbt_model_path: str | None = None  # format 2 on
    gx_suite_path: str | None = None

    _FORMAT_1 = ("git_commit", "controls_yml_sha256", "exceptions_yml_sha256", "dbt_model", "dbt_model_sha256",
                 "dbt_compiled_sha256", "gx_suite", "gx_suite_sha256")
    _FORMAT_2 = (*_FORMAT_1, "dbt_model_path", "gx_suite_path")

    def to_dict(self, record_format: int) -> dict[str, Any]:
        names = self._FORMAT_1 if record_format == FORMAT_1 else self._FORMAT_2
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_dict(cls, doc: Any, record_format: int) -> CodeVersion:
        doc = _fields(doc, "code", cls._FORMAT_1 if record_format == FORMAT_1 else cls._FORMAT_2)
        return cls(**doc)


@dataclass(frozen=True)
class RunRef:
    """The Airflow task (or CLI run) that evaluated, and when."""

    dag_id: str
    run_id: str
    try_number: int
    task_id: str | None
    started_at: str  # ISO timestamps as recorded
    finished_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "try_number": self.try_number,
                "task_id": self.task_id, "started_at": self.started_at, "finished_at": self.finished_at}

    @classmethod
    def from_dict(cls, doc: Any) -> RunRef:
        doc = _fields(doc, "run", ("dag_id", "run_id", "try_number", "task_id", "started_at", "finished_at"))
        return cls(**doc)


_TOP_FORMAT_1 = ("evaluation_id", "control", "period", "version", "status", "reason", "population",
                 "failing_entity_ids", "excepted_entity_ids", "exceptions_applied", "gx", "inputs", "code", "run")
_TOP_FORMAT_2 = (*_TOP_FORMAT_1, "record_format", "supersedes")


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation (one version of one control-period) and everything it rests on."""

    evaluation_id: str
    control: ControlRef
    period: Period
    version: int
    status: Status
    reason: str | None
    population: PopulationArtifact | None
    failing_entity_ids: tuple[str, ...]
    excepted_entity_ids: tuple[str, ...]
    exceptions_applied: tuple[AppliedException, ...]
    gx: GxArtifact | None
    inputs: Inputs
    code: CodeVersion
    run: RunRef
    supersedes: str | None = None  # the key of the version this one replaces (format 2 on)
    record_format: int = RECORD_FORMAT

    def __post_init__(self) -> None:
        if self.record_format not in KNOWN_FORMATS:
            raise RecordFormatError(f"record_format {self.record_format!r} is not one this code reads "
                                    f"({', '.join(map(str, KNOWN_FORMATS))})")

    # where and what ----------------------------------------------------------------------
    @property
    def control_id(self) -> str:
        return self.control.control_id

    @property
    def key(self) -> str:
        """Where the record is stored in the evidence store."""
        return evaluation_record_key(self.control_id, self.period.label, self.version, self.evaluation_id)

    @property
    def label(self) -> str:
        """`<control> <period start> v<version>`, how verification names the record."""
        return f"{self.control_id} {self.period.start.isoformat()[:10]} v{self.version}"

    @property
    def uncovered_entity_ids(self) -> tuple[str, ...]:
        """Failing entities no approved exception covers."""
        return tuple(sorted(set(self.failing_entity_ids) - set(self.excepted_entity_ids)))

    def artefacts(self) -> list[tuple[str, str, str | None]]:
        """(what, store key, SHA-256 in the record) of every artefact the record names, for verification."""
        found: list[tuple[str, str, str | None]] = []
        if self.population is not None:
            found.append(("population", self.population.path, self.population.sha256))
        if self.gx is not None:
            found.append(("GX validation result", self.gx.result_path, self.gx.result_sha256))
            found.append(("Data Docs page", self.gx.docs_path, self.gx.docs_sha256))
        for dataset in self.inputs.datasets:
            for manifest in dataset.manifests:
                if manifest.evidence_path:
                    found.append((f"extract manifest ({dataset.dataset})", manifest.evidence_path, manifest.sha256))
        return found

    # JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        fmt = self.record_format
        doc: dict[str, Any] = {
            "evaluation_id": self.evaluation_id,
            "control": self.control.to_dict(),
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "version": self.version,
            "status": self.status.value,
            "reason": self.reason,
            "population": self.population.to_dict() if self.population is not None else None,
            "failing_entity_ids": list(self.failing_entity_ids),
            "excepted_entity_ids": list(self.excepted_entity_ids),
            "exceptions_applied": [e.to_dict() for e in self.exceptions_applied],
            "gx": self.gx.to_dict(fmt) if self.gx is not None else None,
            "inputs": self.inputs.to_dict(fmt),
            "code": self.code.to_dict(fmt),
            "run": self.run.to_dict(),
        }
        if fmt >= 2:
            doc["record_format"] = fmt
            doc["supersedes"] = self.supersedes
        return doc

    def to_json_bytes(self) -> bytes:
        """The canonical bytes stored and hashed into the ledger."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, Any]) -> EvaluationRecord:
        """Read a stored record of any format (bytes or already-parsed JSON)."""
        if isinstance(data, bytes | bytearray | str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise RecordFormatError(f"not JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise RecordFormatError(f"an evaluation record is a JSON object, not {type(data).__name__}")
        fmt = data.get("record_format", FORMAT_1)
        if fmt not in KNOWN_FORMATS or isinstance(fmt, bool) or ("record_format" in data and fmt == FORMAT_1):
            raise RecordFormatError(f"record_format {fmt!r} is not one this code reads")
        doc = _fields(data, "record", _TOP_FORMAT_1 if fmt == FORMAT_1 else _TOP_FORMAT_2)
        period = _fields(doc["period"], "period", ("start", "end"))
        try:
            return cls(
                evaluation_id=doc["evaluation_id"],
                control=ControlRef.from_dict(doc["control"]),
                period=Period(as_utc(period["start"]), as_utc(period["end"])),
                version=doc["version"],
                status=Status(doc["status"]),
                reason=doc["reason"],
                population=PopulationArtifact.from_dict(doc["population"]) if doc["population"] else None,
                failing_entity_ids=tuple(doc["failing_entity_ids"] or ()),
                excepted_entity_ids=tuple(doc["excepted_entity_ids"] or ()),
                exceptions_applied=tuple(AppliedException.from_dict(e) for e in doc["exceptions_applied"] or ()),
                gx=GxArtifact.from_dict(doc["gx"], fmt) if doc["gx"] else None,
                inputs=Inputs.from_dict(doc["inputs"], fmt),
                code=CodeVersion.from_dict(doc["code"], fmt),
                run=RunRef.from_dict(doc["run"]),
                supersedes=doc.get("supersedes"),
                record_format=fmt,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, RecordFormatError):
                raise
            raise RecordFormatError(f"not an evaluation record: {exc}") from None


def read_record(store: Any, key: str) -> EvaluationRecord:
    """The record stored under `key` (raises EvidenceError if it is missing or not a record)."""
    return EvaluationRecord.from_json(store.get(key))

"""Extract manifests: what each extract attempt read, wrote, quarantined and concluded.

One JSON document per attempt under `<lake>/manifests/<source>/<dataset>/`. Attempts are
never rewritten: a failed re-run leaves the earlier complete manifest (and its data) as
the current state of the interval. Controls read these to decide whether their inputs
are complete for a period.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ccm.constants import DatasetKind, ExtractStatus
from ccm.periods import as_utc

if TYPE_CHECKING:
    from ccm.datasets import Dataset
    from ccm.lake import Lake


@dataclass(frozen=True)
class WrittenFile:
    """A Parquet file an extract wrote (path relative to the lake root)."""

    path: str
    sha256: str
    rows: int
    partition_date: str


@dataclass(frozen=True)
class RunContext:
    """Who ran a step: the Airflow run, or the CLI."""

    dag_id: str = "cli"
    run_id: str = "manual"
    try_number: int = 1
    task_id: str = ""

    @classmethod
    def from_airflow(cls, context: dict[str, Any]) -> RunContext:
        ti = context["ti"]
        return cls(dag_id=ti.dag_id, run_id=ti.run_id, try_number=ti.try_number, task_id=ti.task_id)


@dataclass(frozen=True)
class InputFile:
    """A file read by a file-based extract (CloudTrail object, export file)."""

    name: str
    sha256: str
    bytes: int


@dataclass
class ExtractManifest:
    extract_id: str
    source: str
    dataset: str
    kind: DatasetKind
    interval_start: datetime
    interval_end: datetime
    status: ExtractStatus
    started_at: datetime
    finished_at: datetime
    observed_at: datetime | None = None
    rows_written: int = 0
    api_total: int | None = None
    pages: int = 0
    files_written: list[WrittenFile] = field(default_factory=list)
    inputs: list[InputFile] = field(default_factory=list)
    quarantined: int = 0
    quarantine_path: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0
    run: RunContext = field(default_factory=RunContext)
    # the real (wall-clock) time the attempt was recorded: orders attempts that share a
    # simulated started_at in the demo, and is what an operator correlates with logs
    recorded_at: datetime | None = None

    @property
    def dataset_key(self) -> str:
        return f"{self.source}.{self.dataset}"

    @property
    def relative_path(self) -> str:
        stamp = f"{self.interval_start:%Y%m%dT%H%M%S}_{self.interval_end:%Y%m%dT%H%M%S}"
        return f"manifests/{self.source}/{self.dataset}/{stamp}_{self.extract_id}.json"

    def to_json(self) -> str:
        doc = asdict(self)
        return json.dumps(doc, sort_keys=True, indent=1, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> ExtractManifest:
        doc = json.loads(text)
        for key in ("interval_start", "interval_end", "started_at", "finished_at", "observed_at", "recorded_at"):
            if doc.get(key):
                doc[key] = as_utc(doc[key])
        doc["kind"] = DatasetKind(doc["kind"])
        doc["status"] = ExtractStatus(doc["status"])
        doc["files_written"] = [WrittenFile(**f) for f in doc.get("files_written", [])]
        doc["inputs"] = [InputFile(**f) for f in doc.get("inputs", [])]
        doc["run"] = RunContext(**doc.get("run", {}))
        return cls(**doc)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def write_manifest(lake: Lake, manifest: ExtractManifest) -> str:
    manifest.recorded_at = datetime.now(UTC)
    lake.write_bytes(manifest.relative_path, manifest.to_json().encode())
    return manifest.relative_path


def read_manifests(lake: Lake, dataset: Dataset | None = None,
                   overlapping: tuple[datetime, datetime] | None = None) -> list[ExtractManifest]:
    """Every manifest (of one dataset, or all), oldest attempt first; with `overlapping`, only
    those whose interval overlaps [start, end], told by the file name without reading it
    (a daily run must not read the whole history: it grows by every dataset every day)."""
    directory = f"manifests/{dataset.source}/{dataset.name}" if dataset else "manifests"
    paths = lake.list_files(directory)
    if overlapping is not None:
        paths = [p for p in paths if _overlaps(p, *overlapping)]
    manifests = [ExtractManifest.from_json(lake.read_bytes(p).decode()) for p in paths]
    return sorted(manifests, key=attempt_order)


_STAMP = re.compile(r"/(\d{8}T\d{6})_(\d{8}T\d{6})_[^/]+\.json$")


def _overlaps(path: str, start: datetime, end: datetime) -> bool:
    match = _STAMP.search(path)
    if match is None:  # not named by our writer: read it rather than miss it
        return True
    first, last = (datetime.strptime(g, "%Y%m%dT%H%M%S").replace(tzinfo=UTC) for g in match.groups())
    return first <= end and last >= start


def attempt_order(manifest: ExtractManifest) -> tuple:
    return (manifest.started_at, manifest.recorded_at or manifest.started_at, manifest.extract_id)

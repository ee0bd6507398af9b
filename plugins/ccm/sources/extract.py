"""Running one extract: fetch everything, map it, then write it completely or not at all.

The fetcher yields source records and notes pages, API-reported totals and input files
in a FetchLog. Nothing touches the lake until the whole interval has been fetched and
every record mapped. Then:
- complete: the interval is written (events replace their interval, snapshots append
  one observation) and the manifest says so;
- incomplete: records were quarantined or the API's total disagrees with what arrived;
  the raw data is NOT written (the lake keeps what it had), the quarantined records are
  kept beside it with their reasons, and the manifest says incomplete;
- failed: the fetch raised; nothing is written, the manifest records the error, and the
  error is raised again so the orchestrator retries and shows the failure.

Bulk sources (log files with millions of records) may yield `pyarrow.Table` batches
instead of records: each batch must already carry the dataset's typed columns and `raw`
(cast to `Dataset.arrow_schema` here) and the fetcher is responsible for the per-record
checks `Dataset.to_row` would make, rejecting what does not fit through
`FetchLog.reject`. The runner still checks event times against the interval and applies
the same complete-or-nothing rule; records and batches may be mixed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccm import clock
from ccm.constants import DatasetKind, ExtractStatus
from ccm.errors import RecordError
from ccm.manifests import ExtractManifest, InputFile, RunContext, write_manifest
from ccm.periods import as_utc

if TYPE_CHECKING:
    from ccm.datasets import Dataset
    from ccm.lake import Lake

log = logging.getLogger(__name__)


@dataclass
class FetchLog:
    """What a fetcher reports besides the records themselves."""

    pages: int = 0
    api_total: int | None = None
    inputs: list[InputFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # records a fetcher rejected before mapping (unreadable file, record it cannot place)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, reason: str, where: str, record: Any = None) -> None:
        self.rejected.append({"reason": reason, "where": where, "record": record})


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"empty interval {self.start} .. {self.end}")


Fetcher = Callable[[Interval, FetchLog], Iterable[Any]]  # yields records or pyarrow Tables


def _is_arrow_table(item: Any) -> bool:
    return type(item).__name__ == "Table" and type(item).__module__.startswith("pyarrow")


def _batch_in_interval(dataset: Dataset, interval: Interval, batch: Any, quarantined: list[dict[str, Any]],
                       drop_outside_interval: bool) -> Any:
    """A typed batch cast to the dataset's schema, without (and, unless dropped, quarantining)
    the rows whose event time is outside the interval."""
    import json

    import pyarrow as pa
    import pyarrow.compute as pc

    from ccm.datasets import RAW

    batch = batch.select(dataset.arrow_schema.names).cast(dataset.arrow_schema)
    if dataset.kind is not DatasetKind.EVENT or batch.num_rows == 0:
        return batch
    times = batch.column(dataset.time_column)
    inside = pc.and_(pc.greater_equal(times, pa.scalar(interval.start, times.type)),
                     pc.less(times, pa.scalar(interval.end, times.type)))
    if pc.all(inside).as_py():
        return batch
    if not drop_outside_interval:
        for row in batch.filter(pc.invert(inside)).to_pylist():
            quarantined.append({
                "reason": f"{dataset.time_column} {row[dataset.time_column].isoformat()} is outside the requested interval",
                "where": " ".join(f"{k}={row[k]}" for k in dataset.key_columns), "record": json.loads(row[RAW]),
            })
    return batch.filter(inside)


@dataclass
class Extracted:
    """One interval's extract: its manifest (always written), and the error if it failed."""

    manifest: ExtractManifest
    error: Exception | None = None


@dataclass
class _Collected:
    """An interval fetched and mapped, not yet stored."""

    manifest: ExtractManifest
    fetch_log: FetchLog
    started: float
    table: Any = None  # pyarrow.Table, None when nothing is to be written
    quarantined: list[dict[str, Any]] = field(default_factory=list)


def run_extract(
    dataset: Dataset,
    interval: Interval,
    fetch: Fetcher,
    lake: Lake,
    run: RunContext | None = None,
    drop_outside_interval: bool = False,
) -> ExtractManifest:
    """Fetch, map and store one dataset for one interval; returns the manifest written."""
    extracted = run_extracts(dataset, [interval], fetch, lake, run, drop_outside_interval)[0]
    if extracted.error is not None:
        raise extracted.error
    return extracted.manifest


def run_extracts(
    dataset: Dataset,
    intervals: list[Interval],
    fetch: Fetcher,
    lake: Lake,
    run: RunContext | None = None,
    drop_outside_interval: bool = False,
) -> list[Extracted]:
    """One extract per interval (look-back days, a backfill's days), in order, each complete
    or not at all with its own manifest; a failed interval does not stop the next.

    The lake write of an interval (sort, Parquet, manifest) runs on a writer thread while
    the next interval is fetched and mapped: the write is single-threaded and would
    otherwise leave the second core idle for a third of the time. At most one interval
    waits for the writer, so memory stays two intervals' worth whatever their number;
    fetchers read their source, never the lake, so the overlap cannot change what they see.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    run = run or RunContext()
    out: list[Extracted] = []
    with ThreadPoolExecutor(1, thread_name_prefix="lake-writer") as writer:
        writing: Future[Extracted] | None = None
        for interval in intervals:
            collected = _collect(dataset, interval, fetch, lake, run, drop_outside_interval)
            if writing is not None:
                out.append(writing.result())
                writing = None
            if isinstance(collected, Extracted):  # the fetch failed; its manifest is written
                out.append(collected)
            else:
                writing = writer.submit(_store, dataset, interval, lake, collected)
        if writing is not None:
            out.append(writing.result())
    return out


def _collect(dataset: Dataset, interval: Interval, fetch: Fetcher, lake: Lake, run: RunContext,
             drop_outside_interval: bool) -> _Collected | Extracted:
    """Fetch and map one interval; nothing touches the lake but a failed fetch's manifest."""
    started_at = clock.now()
    started = time.monotonic()
    observed_at = started_at if dataset.kind is DatasetKind.SNAPSHOT else None
    fetch_log = FetchLog()
    manifest = ExtractManifest(
        extract_id=uuid.uuid4().hex, source=dataset.source, dataset=dataset.name, kind=dataset.kind,
        interval_start=interval.start, interval_end=interval.end, status=ExtractStatus.FAILED,
        started_at=started_at, finished_at=started_at, observed_at=observed_at, run=run,
    )
    rows: list[dict[str, Any]] = []
    batches: list[Any] = []
    quarantined: list[dict[str, Any]] = []
    try:
        for position, record in enumerate(fetch(interval, fetch_log)):
            if _is_arrow_table(record):
                batches.append(_batch_in_interval(dataset, interval, record, quarantined, drop_outside_interval))
                continue
            try:
                row = dataset.to_row(record, position, observed_at)
            except RecordError as exc:
                quarantined.append({"reason": exc.reason, "where": exc.record_ref, "record": record})
                continue
            if dataset.kind is DatasetKind.EVENT:
                moment = row[dataset.time_column]
                if not interval.start <= moment < interval.end:
                    if not drop_outside_interval:
                        quarantined.append({
                            "reason": f"{dataset.time_column} {moment.isoformat()} is outside the requested interval",
                            "where": dataset.record_ref(record, position), "record": record,
                        })
                    continue
            rows.append(row)
    except Exception as exc:
        return _failed(dataset, interval, lake, manifest, fetch_log, started, exc)

    collected = _Collected(manifest, fetch_log, started, quarantined=fetch_log.rejected + quarantined)
    arrived = len(rows) + sum(b.num_rows for b in batches) + len(collected.quarantined)
    if fetch_log.api_total is not None and fetch_log.api_total != arrived:
        manifest.notes.append(f"the API reported {fetch_log.api_total} records but {arrived} arrived")
    elif not collected.quarantined:
        import pyarrow as pa

        try:
            collected.table = pa.concat_tables([pa.Table.from_pylist(rows, schema=dataset.arrow_schema), *batches])
        except (pa.ArrowException, ValueError, TypeError) as exc:  # rows that passed to_row but do not fit
            return _failed(dataset, interval, lake, manifest, fetch_log, started, exc)
    return collected


def _store(dataset: Dataset, interval: Interval, lake: Lake, collected: _Collected) -> Extracted:
    """Write a collected interval: complete (the data, then its manifest) or incomplete
    (the quarantined records and a manifest saying so; the lake keeps its data)."""
    manifest = collected.manifest
    try:
        manifest.quarantined = len(collected.quarantined)
        manifest.quarantine_reasons = dict(Counter(q["reason"] for q in collected.quarantined).most_common(20))
        manifest.quarantine_path = lake.quarantine(dataset, manifest.extract_id, collected.quarantined)
        if collected.table is None:
            manifest.status = ExtractStatus.INCOMPLETE
            log.error("%s: incomplete extract (%s quarantined%s); the lake keeps its previous data for the interval",
                      dataset.key, manifest.quarantined, ", total mismatch" if manifest.notes else "")
        else:
            if dataset.kind is DatasetKind.EVENT:
                manifest.files_written = lake.replace_event_interval(dataset, interval.start, interval.end,
                                                                     collected.table)
            else:
                manifest.files_written = lake.append_snapshot(dataset, collected.table)
            manifest.rows_written = collected.table.num_rows
            manifest.status = ExtractStatus.COMPLETE
    except Exception as exc:
        return _failed(dataset, interval, lake, manifest, collected.fetch_log, collected.started, exc)
    _finish(manifest, collected.fetch_log, collected.started)
    write_manifest(lake, manifest)
    log.info("%s: %s, %s rows, %s pages, %s quarantined", dataset.key, manifest.status.value,
             manifest.rows_written, manifest.pages, manifest.quarantined)
    return Extracted(manifest)


def _failed(dataset: Dataset, interval: Interval, lake: Lake, manifest: ExtractManifest, fetch_log: FetchLog,
            started: float, exc: Exception) -> Extracted:
    manifest.status = ExtractStatus.FAILED
    manifest.error = f"{type(exc).__name__}: {exc}"
    _finish(manifest, fetch_log, started)
    write_manifest(lake, manifest)
    log.error("%s: extract of %s .. %s failed: %s", dataset.key, interval.start, interval.end, manifest.error)
    return Extracted(manifest, exc)


def _finish(manifest: ExtractManifest, fetch_log: FetchLog, started: float) -> None:
    manifest.pages = fetch_log.pages
    manifest.api_total = fetch_log.api_total
    manifest.inputs = list(fetch_log.inputs)
    manifest.notes = [*manifest.notes, *fetch_log.notes]
    manifest.finished_at = clock.now()
    manifest.duration_s = round(time.monotonic() - started, 3)

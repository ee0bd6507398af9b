"""The raw lake: Parquet partitioned by source/dataset/date, on a local directory or S3.

Layout: `<lake>/raw/<source>/<dataset>/date=YYYY-MM-DD/part-<sha256[:16]>.parquet`.

Two write rules, matching the two kinds of dataset:
- event datasets: an extract over [start, end) owns every row whose time falls in it and
  replaces exactly those rows (whole days are rewritten; partial days are merged with the
  rows outside the interval), so re-running an interval is idempotent;
- snapshot datasets: each extract appends one observation (its rows share `observed_at`);
  observations are never deleted, and an identical re-observation lands on the same
  content-addressed file name.

Files are written under a temporary name and renamed (locally) or written with a single
PUT (S3), so a reader never sees half a file, and new files are in place before stale
ones are removed.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ccm.constants import DatasetKind
from ccm.datasets import OBSERVED_AT, RAW, Dataset
from ccm.errors import LakeError
from ccm.manifests import WrittenFile
from ccm.periods import iter_days


def open_filesystem(uri: str, s3_endpoint_url: str | None = None) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the root path inside it for a local path or s3:// URI."""
    if uri.startswith("s3://"):
        import boto3  # credentials and region resolved the standard AWS way

        session = boto3.Session()
        creds = session.get_credentials()
        frozen = creds.get_frozen_credentials() if creds else None
        fs = pafs.S3FileSystem(
            access_key=frozen.access_key if frozen else None,
            secret_key=frozen.secret_key if frozen else None,
            session_token=frozen.token if frozen else None,
            region=session.region_name or "us-east-1",
            endpoint_override=s3_endpoint_url,
            scheme="http" if s3_endpoint_url and s3_endpoint_url.startswith("http://") else "https",
        )
        return fs, uri.removeprefix("s3://").rstrip("/")
    root = Path(uri).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return pafs.LocalFileSystem(), root.as_posix()


def parquet_bytes(table: pa.Table) -> bytes:
    """The partition's file. `raw` (each record's JSON, unique per row) is written without a
    dictionary or min/max statistics: nothing looks values up in it or filters on it, a
    dictionary of unique values is abandoned after its first page, and the statistics
    (kilobytes of JSON per page) only make the file larger."""
    sink = pa.BufferOutputStream()
    summarised = [name for name in table.column_names if name != RAW]
    pq.write_table(table, sink, compression="zstd", use_dictionary=summarised, write_statistics=summarised)
    return sink.getvalue().to_pybytes()


class Lake:
    """Reads and writes the raw lake; the only code that knows its layout."""

    def __init__(self, uri: str, s3_endpoint_url: str | None = None) -> None:
        self.uri = uri
        self.fs, self.root = open_filesystem(uri, s3_endpoint_url)
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)

    # paths ------------------------------------------------------------------------
    def _abs(self, relative: str) -> str:
        return posixpath.join(self.root, relative)

    @staticmethod
    def dataset_dir(dataset: Dataset) -> str:
        return f"raw/{dataset.source}/{dataset.name}"

    def partition_dir(self, dataset: Dataset, day: datetime) -> str:
        return f"{self.dataset_dir(dataset)}/date={day:%Y-%m-%d}"

    def uri_of(self, relative: str) -> str:
        """The absolute path (or s3:// URI) of a lake file, as DuckDB's `filename` column shows it."""
        return ("" if self.is_local else "s3://") + self._abs(relative)

    def glob(self, dataset: Dataset) -> str:
        """A glob over every file of the dataset, for DuckDB's read_parquet."""
        return self.uri_of(f"{self.dataset_dir(dataset)}/date=*/*.parquet")

    # low-level io -----------------------------------------------------------------
    def list_files(self, relative_dir: str) -> list[str]:
        selector = pafs.FileSelector(self._abs(relative_dir), allow_not_found=True, recursive=True)
        infos = self.fs.get_file_info(selector)
        # the listings grow with history (manifests: every dataset, every day): a path under
        # the root is cut after it rather than given to relpath, which costs several times more
        prefix = self.root.rstrip("/") + "/"

        def relative(path: str) -> str:
            if path.startswith(prefix) and posixpath.normpath(path) == path:
                return path[len(prefix):]
            return posixpath.relpath(path, self.root)

        return sorted(
            relative(info.path)
            for info in infos
            if info.type == pafs.FileType.File and not posixpath.basename(info.path).startswith(".")
        )

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self._abs(relative)).type == pafs.FileType.File

    def read_bytes(self, relative: str) -> bytes:
        with self.fs.open_input_stream(self._abs(relative)) as stream:
            return stream.read()

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Atomic: a temporary name then rename locally, a single PUT on S3."""
        target = self._abs(relative)
        parent = posixpath.dirname(target)
        self.fs.create_dir(parent, recursive=True)
        if self.is_local:
            tmp = posixpath.join(parent, f".tmp-{uuid.uuid4().hex}")
            with self.fs.open_output_stream(tmp) as out:
                out.write(data)
            self.fs.move(tmp, target)
        else:
            with self.fs.open_output_stream(target) as out:
                out.write(data)

    def delete(self, relative: str) -> None:
        self.fs.delete_file(self._abs(relative))

    def read_table(self, relative: str) -> pa.Table:
        with self.fs.open_input_file(self._abs(relative)) as handle:
            return pq.read_table(handle)

    # data writes ------------------------------------------------------------------
    def _write_partition(self, dataset: Dataset, day: datetime, table: pa.Table) -> WrittenFile:
        data = parquet_bytes(table)
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{self.partition_dir(dataset, day)}/part-{digest[:16]}.parquet"
        if not self.exists(relative):
            self.write_bytes(relative, data)
        return WrittenFile(relative, digest, table.num_rows, f"{day:%Y-%m-%d}")

    def replace_event_interval(
        self, dataset: Dataset, start: datetime, end: datetime, table: pa.Table
    ) -> list[WrittenFile]:
        """Replace every row of `dataset` with time in [start, end) by `table`'s rows."""
        if dataset.kind is not DatasetKind.EVENT or dataset.time_column is None:
            raise LakeError(f"{dataset.key}: replace_event_interval is for event datasets")
        table = table.cast(dataset.arrow_schema)
        times = table.column(dataset.time_column)
        outside = pc.or_(pc.less(times, pa.scalar(start, times.type)), pc.greater_equal(times, pa.scalar(end, times.type)))
        if pc.any(outside).as_py():
            raise LakeError(f"{dataset.key}: rows outside the interval [{start}, {end}) cannot be written by it")
        written: list[WrittenFile] = []
        for day in iter_days(start, end):
            day_end = day + timedelta(days=1)
            if start == day and end == day_end:  # a one-day interval: every row (checked above) is in it
                rows = table
            else:
                in_day = pc.and_(
                    pc.greater_equal(times, pa.scalar(day, times.type)), pc.less(times, pa.scalar(day_end, times.type))
                )
                rows = table.filter(in_day)
            directory = self.partition_dir(dataset, day)
            existing = self.list_files(directory)
            if start > day or end < day_end:  # partial day: keep the rows the interval does not own
                for path in existing:
                    old = self.read_table(path).cast(dataset.arrow_schema)
                    old_times = old.column(dataset.time_column)
                    keep = pc.or_(
                        pc.less(old_times, pa.scalar(start, old_times.type)),
                        pc.greater_equal(old_times, pa.scalar(end, old_times.type)),
                    )
                    rows = pa.concat_tables([rows, old.filter(keep)])
            new_file = None
            if rows.num_rows:
                # key columns before raw (as for snapshots): a unique key settles ties without
                # comparing the long raw JSON, which dominated the write of large partitions
                key_sort = [(name, "ascending") for name in dataset.key_columns if name != dataset.time_column]
                # straight from the chunks (one per log file): pyarrow 26's `take` over them
                # returns one contiguous chunk, so the Parquet bytes do not depend on how the
                # rows arrived, and making the table contiguous first would cost a copy of the day
                rows = rows.sort_by(
                    [(dataset.time_column, "ascending"), *key_sort, (RAW, "ascending")])
                new_file = self._write_partition(dataset, day, rows)
                written.append(new_file)
            for path in existing:
                if new_file is None or path != new_file.path:
                    self.delete(path)
        return written

    def append_snapshot(self, dataset: Dataset, table: pa.Table) -> list[WrittenFile]:
        """Store one observation; its rows share observed_at, which decides the partition."""
        if dataset.kind is not DatasetKind.SNAPSHOT:
            raise LakeError(f"{dataset.key}: append_snapshot is for snapshot datasets")
        table = table.cast(dataset.arrow_schema)
        if table.num_rows == 0:
            return []
        observed = pc.unique(table.column(OBSERVED_AT)).to_pylist()
        if len(observed) != 1:
            raise LakeError(f"{dataset.key}: one observation must share one observed_at, got {len(observed)}")
        key_sort = [(name, "ascending") for name in dataset.key_columns] + [(RAW, "ascending")]
        table = table.sort_by(key_sort)
        return [self._write_partition(dataset, observed[0], table)]

    def quarantine(self, dataset: Dataset, extract_id: str, records: Iterable[dict[str, Any]]) -> str | None:
        lines = [json.dumps(r, sort_keys=True, default=str) for r in records]
        if not lines:
            return None
        relative = f"quarantine/{dataset.source}/{dataset.name}/{extract_id}.jsonl"
        self.write_bytes(relative, ("\n".join(lines) + "\n").encode())
        return relative

    def dataset_files(self, dataset: Dataset) -> list[str]:
        return [p for p in self.list_files(self.dataset_dir(dataset)) if p.endswith(".parquet")]

"""Mapping verified log files onto a dataset's typed columns with DuckDB
(`ccm.sources.json_bulk`), rejecting what does not fit.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from ccm.datasets import RAW, Dataset
from ccm.sources.cloudtrail.client import CloudTrailClient
from ccm.sources.cloudtrail.reader import Verified
from ccm.sources.extract import FetchLog, Interval


def _binary_value(body: bytes) -> Any:
    """A one-value large_binary Arrow array over `body` without copying it."""
    import pyarrow as pa

    offsets = pa.py_buffer(struct.pack("<qq", 0, len(body)))
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)])


class Mapper:
    """Maps batches of verified files onto a dataset's columns with DuckDB, keeping the
    records inside the interval that fit and collecting what does not."""

    def __init__(self, dataset: Dataset, interval: Interval, event_filter: str | None, fetch_log: FetchLog,
                 client: CloudTrailClient) -> None:
        self.dataset = dataset
        self.interval = interval
        self.fetch_log = fetch_log
        columns = tuple(c for c in dataset.columns if c.name != "log_file")
        self.mapping = Dataset(dataset.source, dataset.name, dataset.kind, columns, dataset.key_columns,
                               dataset.time_column)
        # only rows the filter selects matter; a row whose filter fields are absent might be one
        self.selected = f"({event_filter}) or event_source is null or event_name is null" if event_filter else "true"
        self.tables: list[Any] = []
        self.problems: list[tuple[str, str, str]] = []
        self.not_logs: set[tuple[str, str | None]] = set()
        self.con, self.views = client.mapping_connection()
        self.view = f"mapped_{dataset.name}"

    def _create_view(self) -> str:
        """The mapping as a view over the registered `contents` (created with the first batch,
        as its columns bind to it), so each batch runs a short query: the mapping's SQL is
        12 kB, and parsing and planning it per batch took a quarter of mapping a 32 MB batch."""
        from ccm.sources.json_bulk import leaves_structure, typed_select

        if self.view in self.views:
            return self.view
        # one pass over each document for the records' JSON text, one for their typed leaves
        leaves = json.dumps({"Records": [json.loads(leaves_structure(self.mapping))]}).replace("'", "''")
        records_sql = (
            "select log_file, kind,"
            "       unnest(case when len(records) > 0 then records else [null::json] end) as record,"
            "       unnest(case when len(records) > 0 then parsed else [null] end) as _parsed from ("
            "  select log_file, from_json(text, '{\"Records\": \"JSON[]\"}').Records as records,"
            f"        from_json(text, '{leaves}').Records as parsed,"
            "         case when records is null then json_type(text, '$.Records') else 'ARRAY' end as kind"
            "  from (select log_file, decode(content) as text from contents))"
        )
        mapped_sql = typed_select(self.mapping, records_sql, "record", ("log_file", "kind"), parsed="_parsed")
        self.con.execute(f"create temp view {self.view} as select *, coalesce({self.selected}, false) as _selected "
                         f"from ({mapped_sql})")
        self.views.add(self.view)
        return self.view

    def add(self, files: list[Verified]) -> None:
        import duckdb
        import pyarrow as pa
        import pyarrow.compute as pc

        from ccm.sources.json_bulk import PROBLEM

        files = [f for f in files if f.body is not None]
        mapped = None
        while files:
            # one record batch per file: DuckDB parses batches in parallel
            contents = pa.Table.from_batches([
                pa.record_batch({"log_file": [f.key], "content": _binary_value(f.body)}) for f in files])
            self.con.register("contents", contents)
            try:
                mapped = self.con.sql(f"select * from {self._create_view()}").to_arrow_table()
                break
            except (duckdb.Error, OSError):  # a file is not JSON (the reader reports it as OSError): say which
                unreadable = {f.key: why for f in files if (why := _not_json(f.body or b""))}
                if not unreadable:
                    raise
                for key, why in unreadable.items():
                    self.fetch_log.reject(why, where=key)
                files = [f for f in files if f.key not in unreadable]
            finally:
                self.con.unregister("contents")
                del contents
        if mapped is None:
            return
        records_array = pc.fill_null(pc.equal(mapped.column("kind"), "ARRAY"), False)
        odd = mapped.select(["log_file", "kind"]).filter(pc.invert(records_array))
        self.not_logs.update(zip(odd.column("log_file").to_pylist(), odd.column("kind").to_pylist(), strict=True))
        keep = pc.and_(pc.and_(pc.is_valid(mapped.column(RAW)), records_array), mapped.column("_selected"))
        bad = mapped.filter(pc.and_(keep, pc.is_valid(mapped.column(PROBLEM))))
        self.problems += zip(bad.column("log_file").to_pylist(), bad.column(RAW).to_pylist(),
                             bad.column(PROBLEM).to_pylist(), strict=True)
        times = mapped.column("event_time")
        inside = pc.and_(pc.and_(keep, pc.is_null(mapped.column(PROBLEM))),
                         pc.and_(pc.greater_equal(times, pa.scalar(self.interval.start, times.type)),
                                 pc.less(times, pa.scalar(self.interval.end, times.type))))
        if not pc.all(inside).as_py():  # usually every row is kept: then no copy is made
            mapped = mapped.filter(inside)
        self.tables.append(mapped.select([*(c.name for c in self.dataset.columns), RAW]))

    def result(self) -> Any:
        """The records kept, deduplicated by eventID; rejections reported to the fetch log."""
        import pyarrow as pa
        import pyarrow.compute as pc

        fetch_log = self.fetch_log
        for key, kind in sorted(self.not_logs, key=lambda item: item[0]):
            fetch_log.reject(f"log file is not a CloudTrail log ({{\"Records\": [...]}}); Records is "
                             f"{(kind or 'absent').lower()}", where=key)
        self.problems.sort()
        for key, raw, problem in self.problems[:1000]:
            fetch_log.reject(problem, where=_record_ref(key, raw), record=json.loads(raw))
        if len(self.problems) > 1000:
            fetch_log.notes.append(f"{len(self.problems)} records rejected; the first 1000 are quarantined")
        if not self.tables:
            return pa.Table.from_pylist([], schema=self.dataset.arrow_schema)
        table = pa.concat_tables(self.tables)
        self.tables = []
        duplicates = table.num_rows - pc.count_distinct(table.column("event_id")).as_py()
        if duplicates:  # CloudTrail may deliver a record twice: keep one per eventID (from the first file by key)
            self.con.register("kept", table)
            table = self.con.sql(f"select * from kept qualify row_number() over "
                                 f"(partition by event_id order by log_file, {RAW}) = 1").to_arrow_table()
            self.con.unregister("kept")
            fetch_log.notes.append(f"{duplicates} duplicate records (same eventID) dropped")
        return table


def _not_json(body: bytes) -> str | None:
    """Why a file is not one JSON document (None if it is one)."""
    try:
        json.loads(body)
        return None
    except ValueError as exc:
        error = exc
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        if len(lines) > 1 and all(isinstance(json.loads(line), dict) for line in lines):
            return "log file is JSON lines (one object per line), not a CloudTrail log ({\"Records\": [...]})"
    except ValueError:
        pass
    return f"log file is not JSON: {error}"


def _record_ref(key: str, raw: str) -> str:
    try:
        doc = json.loads(raw)
    except ValueError:
        return key
    event_id = doc.get("eventID") if isinstance(doc, dict) else None
    return f"{key} eventID={event_id}" if event_id else f"{key} (record without eventID)"

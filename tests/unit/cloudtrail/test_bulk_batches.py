"""run_extract's bulk path: fetchers yielding typed Arrow tables (used by the CloudTrail source)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from ccm.constants import DatasetKind, ExtractStatus
from ccm.datasets import Column, ColumnType, Dataset
from ccm.lake import Lake
from ccm.sources.extract import Interval, run_extract

EVENTS = Dataset("t", "events", DatasetKind.EVENT, (Column("id", "id", required=True),
                                                    Column("at", "at", ColumnType.TIMESTAMP, required=True)),
                 key_columns=("id",), time_column="at")
DAY = Interval(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))


def batch(*rows: tuple[str, datetime]) -> pa.Table:
    return pa.table({"id": [r[0] for r in rows], "at": [r[1] for r in rows],
                     "raw": [json.dumps({"id": r[0], "at": r[1].isoformat()}) for r in rows]})


def test_batches_and_records_are_written_together(tmp_path):
    lake = Lake(str(tmp_path / "lake"))

    def fetch(interval, fetch_log):
        yield {"id": "r1", "at": "2025-10-01T10:00:00Z"}
        yield batch(("b1", datetime(2025, 10, 1, 11, tzinfo=UTC)), ("b2", datetime(2025, 10, 1, 12, tzinfo=UTC)))

    manifest = run_extract(EVENTS, DAY, fetch, lake)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 3
    written = lake.read_table(manifest.files_written[0].path)
    assert written.column("id").to_pylist() == ["r1", "b1", "b2"]


def test_batch_rows_outside_the_interval_are_quarantined_or_dropped(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    rows = (("in", datetime(2025, 10, 1, 11, tzinfo=UTC)), ("late", datetime(2025, 10, 2, 0, 5, tzinfo=UTC)))
    manifest = run_extract(EVENTS, DAY, lambda interval, log: [batch(*rows)], lake)
    assert manifest.status is ExtractStatus.INCOMPLETE and manifest.files_written == []
    assert list(manifest.quarantine_reasons) == ["at 2025-10-02T00:05:00+00:00 is outside the requested interval"]
    kept = run_extract(EVENTS, DAY, lambda interval, log: [batch(*rows)], lake, drop_outside_interval=True)
    assert kept.status is ExtractStatus.COMPLETE and kept.rows_written == 1

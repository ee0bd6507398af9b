"""The warehouse's lake views: `raw` covers the whole lake, `planned` only the plan's files."""

from datetime import UTC, datetime

import pyarrow as pa

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.lake import Lake
from ccm.warehouse import connect, register_lake, register_planned_files

EVENTS = Dataset("src", "events", DatasetKind.EVENT,
                 (Column("id", "id", required=True), Column("at", "at", ColumnType.TIMESTAMP, required=True)),
                 key_columns=("id",), time_column="at")


def write_day(lake: Lake, day: int, *ids: str) -> str:
    start, end = datetime(2025, 10, day, tzinfo=UTC), datetime(2025, 10, day + 1, tzinfo=UTC)
    table = pa.Table.from_pylist([{"id": i, "at": start, "raw": "{}"} for i in ids], schema=EVENTS.arrow_schema)
    (written,) = lake.replace_event_interval(EVENTS, start, end, table)
    return written.path


def ids(con, relation: str) -> list[str]:
    return sorted(r[0] for r in con.execute(f"select id from {relation}").fetchall())


def test_raw_views_see_new_partitions_without_being_recreated(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    with connect(tmp_path / "w.duckdb") as con:
        assert register_lake(con, lake, [EVENTS]) == ["src.events"]  # the empty placeholder
        assert ids(con, "raw.src__events") == []
        write_day(lake, 1, "a")
        assert register_lake(con, lake, [EVENTS]) == ["src.events"]  # placeholder -> lake
        write_day(lake, 2, "b")
        assert register_lake(con, lake, [EVENTS]) == []  # a glob already covers day 2
        assert ids(con, "raw.src__events") == ["a", "b"]


def test_a_view_missing_a_column_of_the_schema_is_recreated(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_day(lake, 1, "a")
    with connect(tmp_path / "w.duckdb") as con:
        register_lake(con, lake, [EVENTS])
        con.execute("create or replace view raw.src__events as select id, raw from read_parquet("
                    f"'{lake.glob(EVENTS)}')")  # an older definition without `at`
        assert register_lake(con, lake, [EVENTS]) == ["src.events"]
        assert "at" in {r[0] for r in con.execute("describe raw.src__events").fetchall()}


def test_planned_views_read_exactly_the_planned_files(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_day(lake, 1, "a")
    second = write_day(lake, 2, "b", "c")
    with connect(tmp_path / "w.duckdb") as con:
        counts = register_planned_files(con, lake, [EVENTS], {"src.events": {second}})
        assert counts == {"src.events": 1}
        assert ids(con, "planned.src__events") == ["b", "c"]
        assert {r[0] for r in con.execute("select lake_file from planned.src__events").fetchall()} \
            == {lake.uri_of(second)}  # the same name the plan records for the file
        register_planned_files(con, lake, [EVENTS], {})
        assert ids(con, "planned.src__events") == []
        assert register_planned_files(con, lake, [EVENTS], None) == {"src.events": 2}
        assert ids(con, "planned.src__events") == ["a", "b", "c"]

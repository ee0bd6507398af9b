"""The raw lake's write rules: events replace their interval, snapshots append observations."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.errors import LakeError
from ccm.lake import Lake

EVENTS = Dataset("src", "events", DatasetKind.EVENT,
                 (Column("id", "id", required=True), Column("at", "at", ColumnType.TIMESTAMP, required=True)),
                 key_columns=("id",), time_column="at")


def t(day, hour=0):
    return datetime(2025, 10, day, hour, tzinfo=UTC)


def rows(*items):
    return pa.Table.from_pylist([{"id": i, "at": at, "raw": "{}"} for i, at in items], schema=EVENTS.arrow_schema)


def ids(lake):
    out = []
    for path in lake.dataset_files(EVENTS):
        out += lake.read_table(path).column("id").to_pylist()
    return sorted(out)


def test_rewriting_an_interval_replaces_exactly_its_rows(tmp_path):
    lake = Lake(str(tmp_path))
    lake.replace_event_interval(EVENTS, t(1), t(3), rows(("a", t(1, 5)), ("b", t(2, 5))))
    assert ids(lake) == ["a", "b"]
    lake.replace_event_interval(EVENTS, t(2), t(3), rows(("c", t(2, 6))))
    assert ids(lake) == ["a", "c"]
    # an empty, complete interval removes what was there
    lake.replace_event_interval(EVENTS, t(2), t(3), rows())
    assert ids(lake) == ["a"]


def test_a_partial_day_interval_keeps_the_rest_of_the_day(tmp_path):
    lake = Lake(str(tmp_path))
    lake.replace_event_interval(EVENTS, t(1), t(2), rows(("a", t(1, 1)), ("b", t(1, 13))))
    lake.replace_event_interval(EVENTS, t(1, 12), t(2), rows(("c", t(1, 14))))
    assert ids(lake) == ["a", "c"]
    assert len(lake.dataset_files(EVENTS)) == 1


def test_rewriting_the_same_rows_is_byte_identical(tmp_path):
    lake = Lake(str(tmp_path))
    first = lake.replace_event_interval(EVENTS, t(1), t(2), rows(("a", t(1, 1)), ("b", t(1, 2))))
    second = lake.replace_event_interval(EVENTS, t(1), t(2), rows(("b", t(1, 2)), ("a", t(1, 1))))
    assert first == second
    assert lake.dataset_files(EVENTS) == [first[0].path]


def test_a_partition_does_not_depend_on_how_its_rows_were_chunked(tmp_path):
    """Log files arrive as one Arrow chunk each; the Parquet bytes (and so the file name and
    hash a re-run must reproduce) must be those of the rows alone, whatever the chunking."""
    import random

    rng = random.Random(3)
    items = [(f"id-{rng.randrange(10**9):09d}", t(1, rng.randrange(24))) for _ in range(20_000)]
    table = pa.Table.from_pylist([{"id": i, "at": at, "raw": "x" * rng.randrange(200, 2000)} for i, at in items],
                                 schema=EVENTS.arrow_schema)
    one_chunk = Lake(str(tmp_path / "one")).replace_event_interval(EVENTS, t(1), t(2), table.combine_chunks())
    per_file = pa.concat_tables([table.slice(start, 500) for start in range(0, table.num_rows, 500)])
    many_chunks = Lake(str(tmp_path / "many")).replace_event_interval(EVENTS, t(1), t(2), per_file)
    assert [(f.path, f.sha256) for f in one_chunk] == [(f.path, f.sha256) for f in many_chunks]


def test_raw_is_stored_without_dictionary_or_statistics_and_the_other_columns_with_both(tmp_path):
    import pyarrow.parquet as pq

    lake = Lake(str(tmp_path))
    written = lake.replace_event_interval(EVENTS, t(1), t(2), rows(("a", t(1, 1)), ("b", t(1, 2))))
    metadata = pq.ParquetFile(str(tmp_path / written[0].path)).metadata.row_group(0)
    columns = {metadata.column(i).path_in_schema: metadata.column(i) for i in range(metadata.num_columns)}
    assert columns["raw"].statistics is None or not columns["raw"].statistics.has_min_max
    assert "RLE_DICTIONARY" not in columns["raw"].encodings
    assert columns["id"].statistics.has_min_max and columns["id"].statistics.min == "a"
    assert "RLE_DICTIONARY" in columns["id"].encodings


def test_rows_outside_the_interval_are_refused(tmp_path):
    with pytest.raises(LakeError, match="outside the interval"):
        Lake(str(tmp_path)).replace_event_interval(EVENTS, t(1), t(2), rows(("a", t(3))))


def test_no_temporary_files_are_left_behind(tmp_path):
    lake = Lake(str(tmp_path))
    lake.replace_event_interval(EVENTS, t(1), t(2), rows(("a", t(1, 1))))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp")]


def test_listing_gives_paths_relative_to_the_root_sorted_without_hidden_files(tmp_path):
    lake = Lake(str(tmp_path / "lake") + "/")
    for relative in ("manifests/okta/users/b.json", "manifests/okta/users/a.json", "manifests/.tmp-x", "raw/f"):
        lake.write_bytes(relative, b"{}")
    assert lake.list_files("manifests") == ["manifests/okta/users/a.json", "manifests/okta/users/b.json"]
    assert lake.list_files("") == ["manifests/okta/users/a.json", "manifests/okta/users/b.json", "raw/f"]
    assert Lake(str(tmp_path / "lake" / ".." / "lake")).list_files("raw") == ["raw/f"]
    assert lake.list_files("nothing") == []

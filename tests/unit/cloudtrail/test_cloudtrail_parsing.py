"""Parsing records shaped like real CloudTrail (the Stratus Red Team and OTRF samples).

The bulk DuckDB mapping (`ccm.sources.json_bulk`) must agree with the per-record
`Dataset.to_row` on every record it accepts, and refuse what to_row refuses, with the
same reason.
"""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ccm.datasets import Dataset
from ccm.errors import RecordError
from ccm.sources import cloudtrail
from ccm.sources.cloudtrail.client import CloudTrailClient, LocalArchive, Trail
from ccm.sources.cloudtrail.datasets import EVENTS
from ccm.sources.cloudtrail.fetchers import fetch_events
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.json_bulk import PROBLEM, typed_select

WIDE = Interval(datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 9, 1, tzinfo=UTC))
MAPPED = tuple(c for c in EVENTS.columns if c.name != "log_file")


def bulk_map(records: list) -> list[dict]:
    """Records through typed_select (the bulk path), one row each, in order."""
    mapping = Dataset("t", "events", EVENTS.kind, MAPPED, ("event_id",), "event_time")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    texts = pa.table({"n": list(range(len(records))), "record": [json.dumps(r) for r in records]})
    con.register("texts", texts)
    sql = typed_select(mapping, "select n, record::json as record from texts", "record", ("n",))
    out = con.sql(f"select * from ({sql}) order by n").fetchall()
    names = [d[0] for d in con.sql(f"select * from ({sql}) limit 0").description]
    con.close()
    return [dict(zip(names, row, strict=True)) for row in out]


def test_real_shaped_records_map_to_the_typed_columns(stratus_records):
    rows = {r["event_id"]: r for r in bulk_map(stratus_records)}
    login = rows["0c1e9a52-5b43-4d7e-9a7c-2f8f4e0a1b01"]
    assert login["_problem"] is None
    assert (login["event_name"], login["console_login_result"], login["mfa_used"], login["user_type"]) == (
        "ConsoleLogin", "Success", "No", "IAMUser")
    assert login["event_time"] == datetime(2024, 8, 2, 8, 53, 24, tzinfo=UTC)
    assert login["aws_region"] == "eu-west-2r"  # anonymised regions are just strings
    denied = rows["0c1e9a52-5b43-4d7e-9a7c-2f8f4e0a1b04"]
    assert denied["error_code"] == "Client.UnauthorizedOperation" and denied["user_type"] == "AssumedRole"
    assert rows["0c1e9a52-5b43-4d7e-9a7c-2f8f4e0a1b05"]["user_type"] == "FederatedUser"
    assert json.loads(rows["0c1e9a52-5b43-4d7e-9a7c-2f8f4e0a1b06"]["raw"])["requestParameters"]["ipPermissions"][
        "items"][0]["ipRanges"]["items"][0]["cidrIp"] == "208.236.235.254/0"


def _to_row(record, position):
    mapping = Dataset("t", "events", EVENTS.kind, MAPPED, ("event_id",), "event_time")
    return mapping.to_row(record, position)


def test_bulk_and_per_record_mapping_agree_on_every_record(stratus_records):
    for position, (record, row) in enumerate(zip(stratus_records, bulk_map(stratus_records), strict=True)):
        expected = _to_row(record, position)
        for column in MAPPED:
            assert row[column.name] == expected[column.name], (record["eventID"], column.name)
        assert json.loads(row["raw"]) == record


@pytest.mark.parametrize(("change", "reason"), [
    (lambda r: r.pop("eventTime"), "required field 'eventTime' is missing"),
    (lambda r: r.update(eventTime=None), "required field 'eventTime' is missing"),
    (lambda r: r.update(readOnly="sometimes"), "field 'readOnly' should be bool"),
    (lambda r: r.update(eventSource=["ec2.amazonaws.com"]), "field 'eventSource' should be string"),
    (lambda r: r["userIdentity"].update(type={"kind": "IAMUser"}), "field 'userIdentity.type' should be string"),
    (lambda r: r.update(eventID=12345), None),  # a number where a string is expected: to_row accepts it too
    (lambda r: r.update(readOnly="TRUE"), None),
    (lambda r: r.update(eventName="[not an array"), None),  # a string that merely looks like one
])
def test_bulk_refuses_what_to_row_refuses_with_the_same_reason(stratus_records, change, reason):
    record = json.loads(json.dumps(stratus_records[3]))
    change(record)
    row = bulk_map([record])[0]
    if reason is None:
        assert row["_problem"] is None
        expected = _to_row(record, 0)
        assert all(row[c.name] == expected[c.name] for c in MAPPED)
    else:
        assert row[PROBLEM].startswith(reason)
        with pytest.raises(RecordError, match=reason.replace("'", ".").replace("[", ".")):
            _to_row(record, 0)


def test_a_local_archive_of_real_shaped_files_extracts_with_the_same_code(tmp_path, stratus_records, otrf_lines):
    """Files as the Stratus S3-layout sample has them (no digests): read unverified, noted."""
    key = "AWSLogs/210987654321/CloudTrail/eu-west-2r/2024/08/02/210987654321_CloudTrail_eu-west-2r_20240802T0900Z_fixture0000000001.json.gz"
    path = tmp_path / key
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": stratus_records}).encode()))
    client = CloudTrailClient(Trail(LocalArchive(tmp_path)))
    assert client.scope() == [("210987654321", "eu-west-2r")]  # discovered from the layout
    fetch_log = FetchLog()
    interval = Interval(datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 8, 2, 12, tzinfo=UTC))
    table = next(iter(fetch_events(client)(interval, fetch_log)))
    assert fetch_log.rejected == []
    assert sorted(table.column("event_time").to_pylist())[0] == datetime(2024, 8, 1, 13, 42, 10, tzinfo=UTC)
    assert table.num_rows == 4  # the July records are outside the interval (their own days' extracts)
    assert "1 log files no digest lists (yet) were read unverified" in fetch_log.notes
    ndjson = tmp_path / key.replace("fixture0000000001", "fixture0000000002")
    ndjson.write_bytes(gzip.compress(otrf_lines))
    fetch_log = FetchLog()
    list(fetch_events(client)(interval, fetch_log))
    assert [r["reason"] for r in fetch_log.rejected] == [
        'log file is JSON lines (one object per line), not a CloudTrail log ({"Records": [...]})']


def test_a_bare_json_array_like_the_raw_stratus_files_is_not_a_cloudtrail_log(tmp_path, stratus_records):
    key = "AWSLogs/210987654321/CloudTrail/eu-west-2r/2024/08/02/210987654321_CloudTrail_eu-west-2r_20240802T0900Z_bare.json.gz"
    (tmp_path / key).parent.mkdir(parents=True)
    (tmp_path / key).write_bytes(gzip.compress(json.dumps(stratus_records).encode()))
    client = CloudTrailClient(Trail(LocalArchive(tmp_path)))
    fetch_log = FetchLog()
    list(fetch_events(client)(WIDE, fetch_log))
    assert fetch_log.rejected == [{"reason": 'log file is not a CloudTrail log ({"Records": [...]}); Records is absent',
                                   "where": key, "record": None}]


def test_source_module_imports_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, ccm.sources.cloudtrail, ccm.sources.json_bulk;"
            "print([m for m in ('boto3', 'duckdb', 'pyarrow', 'pandas') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("content", [b"", b"{}", json.dumps({"Records": [{"eventID": "e"}] * 5000}).encode()])
def test_gunzip_gives_the_content_whatever_the_stated_size(content):
    packed = gzip.compress(content, mtime=0)
    assert cloudtrail.reader._gunzip(packed) == content
    assert cloudtrail.reader._gunzip(zlib.compress(content)) == content  # no size trailer: a guess, same result
    two_members = packed + gzip.compress(b"more", mtime=0)  # CloudTrail writes one member: the rest is ignored
    assert cloudtrail.reader._gunzip(two_members) == content


def test_gunzip_refuses_a_truncated_file_even_when_its_tail_looks_like_a_huge_size():
    packed = gzip.compress(json.dumps({"Records": [{"eventID": str(i)} for i in range(20000)]}).encode(), mtime=0)
    for cut in (len(packed) // 2, len(packed) - 5, 20):
        truncated = packed[:cut - 4] + b"\xff\xff\xff\x7f"  # ends in a "size" of 2 GB
        with pytest.raises(zlib.error):
            cloudtrail.reader._gunzip(truncated)
    with pytest.raises(zlib.error):
        cloudtrail.reader._gunzip(packed[:-1] + bytes([packed[-1] ^ 1]))  # a size that does not match the content

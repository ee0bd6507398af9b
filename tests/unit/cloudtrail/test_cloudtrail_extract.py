"""cloudtrail.events from a moto S3 bucket: layout, event-time partitions, look-back, faults.

Every fault must end either in a complete extract (the fault is harmless: a duplicate
delivery, a new field) or in an incomplete/failed manifest naming the file or record,
with the lake exactly as it was.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.lake import Lake
from ccm.manifests import RunContext, read_manifests
from ccm.pipeline import extract
from ccm.sources.extract import Interval
from tests.unit.cloudtrail.conftest import body_of, event

DAY1 = Interval(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))
DAY2 = Interval(datetime(2025, 10, 2, tzinfo=UTC), datetime(2025, 10, 3, tzinfo=UTC))


def run(settings, trail, interval=DAY1, dataset="cloudtrail.events", lookback=timedelta(0)):
    return extract(settings.with_overrides(late_data_lookback=lookback), dataset, interval, RunContext(),
                   lambda _conn_id: trail.connection())


def lake_state(settings) -> dict[str, bytes]:
    lake = Lake(settings.lake_uri)
    return {path: lake.read_bytes(path) for path in lake.list_files("raw")}


def rows(settings, day: str, dataset: str = "events") -> list[dict]:
    lake = Lake(settings.lake_uri)
    files = lake.list_files(f"raw/cloudtrail/{dataset}/date={day}")
    return [row for path in files for row in pq.read_table(lake._abs(path)).to_pylist()]


@pytest.fixture
def day1(trail, settings):
    """A complete day: two log files, one holding the day's last minute delivered after
    midnight, the hourly digests; extracted once (complete)."""
    trail.log_file([event("e-0955", "2025-10-01T09:55:00Z"), event("e-1000", "2025-10-01T10:00:00Z")],
                   "2025-10-01T10:07:00Z", "morning")
    trail.log_file([event("e-2358", "2025-10-01T23:58:00Z"), event("e-0001", "2025-10-02T00:01:00Z")],
                   "2025-10-02T00:07:00Z", "midnight")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    manifest = run(settings, trail)
    assert manifest.status is ExtractStatus.COMPLETE, manifest.quarantine_reasons
    return manifest


def test_events_are_partitioned_by_event_time_not_by_the_delivering_file(day1, trail, settings):
    assert day1.rows_written == 3
    day_one = {r["event_id"]: r for r in rows(settings, "2025-10-01")}
    assert set(day_one) == {"e-0955", "e-1000", "e-2358"}
    # the last minute of the day came in a file delivered (and keyed) the next day
    assert "/2025/10/02/" in day_one["e-2358"]["log_file"] and day_one["e-2358"]["log_file"].endswith(".json.gz")
    assert json.loads(day_one["e-2358"]["raw"])["eventTime"] == "2025-10-01T23:58:00Z"
    assert rows(settings, "2025-10-02") == []
    second = run(settings, trail, DAY2)
    assert second.status is ExtractStatus.COMPLETE
    assert [r["event_id"] for r in rows(settings, "2025-10-02")] == ["e-0001"]
    # the digests are the evidence of what was read (they list every log file with its hash)
    assert any("CloudTrail-Digest" in i.name for i in day1.inputs)
    assert all(len(i.sha256) == 64 for i in day1.inputs)


def test_look_back_rereads_a_late_file_and_reruns_are_byte_identical(day1, trail, settings):
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T06:00:00Z")
    first = run(settings, trail, DAY2, lookback=timedelta(hours=24))
    assert first.status is ExtractStatus.COMPLETE
    assert len(rows(settings, "2025-10-01")) == 3
    # a file with events of the 1st arrives hours into the 2nd, after that day's run
    trail.log_file([event("e-2100", "2025-10-01T21:00:00Z"), event("e-2101", "2025-10-01T21:01:00Z")],
                   "2025-10-02T05:40:00Z", "late")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T07:00:00Z")
    run(settings, trail, DAY2, lookback=timedelta(hours=24))
    assert {r["event_id"] for r in rows(settings, "2025-10-01")} == {"e-0955", "e-1000", "e-2100", "e-2101", "e-2358"}
    before = lake_state(settings)
    run(settings, trail, DAY2, lookback=timedelta(hours=24))
    assert lake_state(settings) == before
    statuses = [(m.interval_start.day, m.status) for m in read_manifests(Lake(settings.lake_uri))
                if m.dataset == "events"]
    assert statuses[-2:] == [(1, ExtractStatus.COMPLETE), (2, ExtractStatus.COMPLETE)]


def _incomplete_and_unchanged(settings, trail, before, reason_part, where_part):
    manifest = run(settings, trail)
    assert manifest.status is ExtractStatus.INCOMPLETE, manifest.notes
    assert manifest.rows_written == 0 and manifest.files_written == []
    assert any(reason_part in reason for reason in manifest.quarantine_reasons), manifest.quarantine_reasons
    quarantined = Lake(settings.lake_uri).read_bytes(manifest.quarantine_path).decode()
    assert where_part in quarantined
    assert lake_state(settings) == before
    return manifest


def test_a_truncated_gzip_makes_the_extract_incomplete_naming_the_file(day1, trail, settings):
    before = lake_state(settings)
    key = trail.delivered[0][0]
    data = trail.s3.get_object(Bucket=trail.bucket, Key=key)["Body"].read()
    trail.put(key, data[: len(data) // 2])
    _incomplete_and_unchanged(settings, trail, before, "is not a readable gzip file", key)


def test_a_file_that_is_not_json_is_refused_by_name(day1, trail, settings):
    before = lake_state(settings)
    key = trail.log_file([], "2025-10-01T15:05:00Z", "html", body=b"<html><body>Access Denied</body></html>")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    _incomplete_and_unchanged(settings, trail, before, "log file is not JSON", key)


def test_a_record_without_event_time_is_quarantined_with_its_reason(day1, trail, settings, otrf_lines):
    """The OTRF sample's records (shipped through Logstash) have @timestamp, not eventTime."""
    before = lake_state(settings)
    record = {k: v for k, v in json.loads(otrf_lines.splitlines()[0]).items()}
    record["@timestamp"] = "2025-10-01T12:00:00.000Z"
    key = trail.log_file([record], "2025-10-01T12:09:00Z", "logstash")
    manifest = _incomplete_and_unchanged(settings, trail, before, "required field 'eventTime' is missing", key)
    quarantined = json.loads(Lake(settings.lake_uri).read_bytes(manifest.quarantine_path).decode().splitlines()[0])
    assert quarantined["where"] == f"{key} eventID={record['eventID']}"
    assert quarantined["record"]["@timestamp"] == "2025-10-01T12:00:00.000Z"


def test_json_lines_like_the_otrf_sample_are_not_a_cloudtrail_log(day1, trail, settings, otrf_lines):
    before = lake_state(settings)
    key = trail.log_file([], "2025-10-01T12:09:00Z", "ndjson", body=otrf_lines)
    _incomplete_and_unchanged(settings, trail, before, "JSON lines", key)


def test_a_file_the_digest_lists_but_that_was_never_delivered(day1, trail, settings):
    before = lake_state(settings)
    key = trail.delivered[0][0]
    trail.delete(key)
    _incomplete_and_unchanged(settings, trail, before, "but was not delivered", key)


def test_a_file_that_differs_from_its_digest_hash(day1, trail, settings):
    before = lake_state(settings)
    key = trail.delivered[0][0]
    trail.put(key, gzip.compress(body_of([event("e-0955", "2025-10-01T09:55:00Z")]), mtime=0))
    _incomplete_and_unchanged(settings, trail, before, "differs from the SHA-256", key)


def test_a_duplicate_delivery_is_deduplicated_by_event_id(day1, trail, settings):
    key, body, *_ = trail.delivered[0]
    trail.log_file(json.loads(body)["Records"], "2025-10-01T10:10:00Z", "again")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    manifest = run(settings, trail)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == 3
    assert "2 duplicate records (same eventID) dropped" in manifest.notes
    kept = {r["event_id"]: r["log_file"] for r in rows(settings, "2025-10-01")}
    assert kept["e-0955"] == min(key, trail.delivered[-1][0])  # from the first file by key: deterministic


def test_an_unknown_new_field_is_kept_in_raw(day1, trail, settings):
    trail.log_file([event("e-1200", "2025-10-01T12:00:00Z", sessionCredentialFromConsole="true",
                          someFieldAwsAddedLater={"nested": [1, 2]})], "2025-10-01T12:08:00Z", "newfield")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    manifest = run(settings, trail)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 4
    raw = json.loads(next(r for r in rows(settings, "2025-10-01") if r["event_id"] == "e-1200")["raw"])
    assert raw["someFieldAwsAddedLater"] == {"nested": [1, 2]}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("readOnly", "maybe", "field 'readOnly' should be bool, got \"maybe\""),
    ("eventName", {"name": "DescribeInstances"}, "field 'eventName' should be string, got {\"name\":"),
    ("eventTime", "yesterday", "field 'eventTime' should be timestamp, got \"yesterday\""),
])
def test_a_type_change_in_a_typed_field_is_refused(day1, trail, settings, field, value, reason):
    before = lake_state(settings)
    record = event("e-1300", "2025-10-01T13:00:00Z")
    record[field] = value
    key = trail.log_file([record], "2025-10-01T13:09:00Z", "typechange")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    _incomplete_and_unchanged(settings, trail, before, reason, f"{key} eventID=e-1300")


def test_a_type_change_in_a_field_kept_only_in_raw_is_fine(day1, trail, settings):
    trail.log_file([event("e-1400", "2025-10-01T14:00:00Z", requestParameters="now a string")],
                   "2025-10-01T14:09:00Z", "untyped")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    manifest = run(settings, trail)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 4


def test_an_unreachable_bucket_fails_naming_it(settings, trail):
    trail.bucket = "no-such-bucket-anywhere"
    with pytest.raises(Exception, match="cloudtrail: cannot list s3://no-such-bucket-anywhere/AWSLogs/"):
        run(settings, trail)
    assert [m.status for m in read_manifests(Lake(settings.lake_uri))] == [ExtractStatus.FAILED]
    assert lake_state(settings) == {}


@pytest.mark.parametrize("dataset", ["cloudtrail.events", "cloudtrail.trail_changes", "cloudtrail.digests"])
def test_a_day_whose_objects_expired_fails_and_keeps_the_lake(day1, trail, settings, dataset):
    """A lifecycle rule deleted the day's logs and digests: a re-run must not replace the
    lake's copy of the day with nothing (nor with an hour-by-hour gap report)."""
    run(settings, trail, dataset=dataset)
    before = lake_state(settings)
    for page in trail.s3.get_paginator("list_objects_v2").paginate(Bucket=trail.bucket):
        for item in page.get("Contents", []):
            trail.delete(item["Key"])
    with pytest.raises(Exception, match=r"no digest or log file under the \d date prefixes .* \(not delivered, or expired\)"):
        run(settings, trail, dataset=dataset)
    assert read_manifests(Lake(settings.lake_uri))[-1].status is ExtractStatus.FAILED
    assert lake_state(settings) == before


def test_a_backfill_is_one_complete_extract_per_day_equal_to_the_daily_runs(day1, trail, settings, tmp_path):
    """`ccm extract cloudtrail.events --from --to`: each UTC day its own manifest, and the
    lake exactly as two daily runs leave it."""
    from ccm.pipeline import extract_days

    trail.log_file([event("e-0002", "2025-10-02T12:00:00Z")], "2025-10-02T12:05:00Z", "noon")
    trail.digests("2025-10-02T02:00:00Z", "2025-10-03T02:00:00Z")
    assert run(settings, trail, DAY2).status is ExtractStatus.COMPLETE
    daily = lake_state(settings)
    backfill = settings.with_overrides(data_dir=tmp_path / "backfill", lake_uri=str(tmp_path / "backfill" / "lake"))
    extracted = extract_days(backfill, "cloudtrail.events", Interval(DAY1.start, DAY2.end), RunContext(),
                             lambda _conn_id: trail.connection())
    assert [(e.manifest.interval_start, e.manifest.interval_end) for e in extracted] == \
        [(DAY1.start, DAY1.end), (DAY2.start, DAY2.end)]
    assert [e.manifest.status for e in extracted] == [ExtractStatus.COMPLETE] * 2
    assert {p: b for p, b in lake_state(backfill).items() if "/manifests/" not in p} == \
        {p: b for p, b in daily.items() if "/manifests/" not in p}

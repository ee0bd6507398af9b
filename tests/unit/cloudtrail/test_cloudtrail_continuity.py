"""cloudtrail.digests and cloudtrail.trail_changes: the inputs of log continuity.

A gap (a listed file never delivered, an altered file, an hour without a digest) is
reported as data by the digests dataset, and the trail-change extract stays complete
over the files that did arrive; the events extract for the same day is incomplete.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.lake import Lake
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.extract import Interval
from tests.unit.cloudtrail.conftest import ACCOUNT, REGION, body_of, event

DAY = Interval(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))


def run(settings, trail, dataset):
    return extract(settings.with_overrides(late_data_lookback=timedelta(0)), dataset, DAY, RunContext(),
                   lambda _conn_id: trail.connection())


def table(settings, dataset):
    lake = Lake(settings.lake_uri)
    files = lake.list_files(f"raw/cloudtrail/{dataset}/date=2025-10-01")
    return [row for path in files for row in pq.read_table(lake._abs(path)).to_pylist()]


@pytest.fixture
def day(trail):
    """A day with a trail stopped and restarted, a denied attempt, a file that goes missing
    (09:00 hour), one that is altered (14:00 hour), and the 20:00 digest never delivered."""
    admin = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/admin", "accountId": ACCOUNT, "userName": "admin"}
    trail.log_file([event("e-stop", "2025-10-01T08:00:00Z", eventSource="cloudtrail.amazonaws.com",
                          eventName="StopLogging", readOnly=False, userIdentity=admin,
                          requestParameters={"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/org-trail"}),
                    event("e-start", "2025-10-01T08:07:00Z", eventSource="cloudtrail.amazonaws.com",
                          eventName="StartLogging", readOnly=False, userIdentity=admin),
                    event("e-deny", "2025-10-01T08:09:00Z", eventSource="cloudtrail.amazonaws.com",
                          eventName="DeleteTrail", readOnly=False, errorCode="AccessDenied",
                          requestParameters={"name": "org-trail"}),
                    event("e-status", "2025-10-01T08:10:00Z", eventSource="cloudtrail.amazonaws.com",
                          eventName="GetTrailStatus")], "2025-10-01T08:15:00Z", "trail-ops")
    trail.log_file([event("e-0901", "2025-10-01T09:01:00Z")], "2025-10-01T09:12:00Z", "lost", upload=False)
    altered = trail.log_file([event("e-1400", "2025-10-01T14:00:00Z")], "2025-10-01T14:10:00Z", "altered")
    trail.log_file([event("e-2005", "2025-10-01T20:05:00Z")], "2025-10-01T20:14:00Z", "undigested")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z", skip=("2025-10-01T20:00:00Z",))
    trail.put(altered, gzip.compress(body_of([event("e-1400", "2025-10-01T14:00:01Z")]), mtime=0))
    return trail


def test_digests_report_every_hour_with_its_gaps(day, settings):
    manifest = run(settings, day, "cloudtrail.digests")
    assert manifest.status is ExtractStatus.COMPLETE
    hours = {r["digest_start_time"].hour: r for r in table(settings, "digests")}
    assert sorted(hours) == list(range(24))
    assert hours[8]["digest_found"] and hours[8]["log_file_count"] == 1 and hours[8]["log_files_missing"] == 0
    assert hours[8]["digest_intact"] is True  # the 09:00 digest records its hash
    assert hours[9]["log_files_missing"] == 1 and hours[9]["log_files_altered"] == 0
    assert hours[14]["log_files_altered"] == 1
    assert hours[20]["digest_found"] is False and hours[20]["digest_s3_object"].endswith("_20251001T210000Z.json.gz")
    assert hours[19]["digest_intact"] is None  # its successor never arrived: unknown, not a failure
    assert hours[3]["digest_found"] and hours[3]["log_file_count"] == 0  # a quiet hour is fine


def test_trail_changes_are_complete_over_what_arrived_while_events_are_not(day, settings):
    events = run(settings, day, "cloudtrail.events")
    assert events.status is ExtractStatus.INCOMPLETE
    assert any("but was not delivered" in r for r in events.quarantine_reasons)
    assert any("differs from the SHA-256" in r for r in events.quarantine_reasons)
    changes = run(settings, day, "cloudtrail.trail_changes")
    assert changes.status is ExtractStatus.COMPLETE
    assert sum("gap reported by cloudtrail.digests" in n for n in changes.notes) == 2
    assert {r["event_id"]: r["error_code"] for r in table(settings, "trail_changes")} == {
        "e-stop": None, "e-deny": "AccessDenied"}  # StartLogging and GetTrailStatus change nothing


def test_a_trail_change_without_event_time_makes_trail_changes_incomplete(trail, settings):
    record = event("e-stop", "2025-10-01T08:00:00Z", eventSource="cloudtrail.amazonaws.com", eventName="StopLogging")
    del record["eventTime"]
    trail.log_file([record, event("e-fine", "2025-10-01T08:01:00Z")], "2025-10-01T08:15:00Z")
    trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    manifest = run(settings, trail, "cloudtrail.trail_changes")
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.quarantine_reasons == {"required field 'eventTime' is missing": 1}


def test_an_unreadable_digest_vouches_for_nothing(trail, settings):
    trail.log_file([event("e-1001", "2025-10-01T10:01:00Z")], "2025-10-01T10:12:00Z")
    keys = trail.digests("2025-10-01T00:00:00Z", "2025-10-02T02:00:00Z")
    broken = next(k for k in keys if k.endswith("_20251001T110000Z.json.gz"))
    trail.put(broken, b"\x1f\x8b\x08 not really gzip")
    events = run(settings, trail, "cloudtrail.events")
    assert events.status is ExtractStatus.INCOMPLETE
    assert any(r.startswith(f"digest {broken} is unreadable") for r in events.quarantine_reasons)
    digests = run(settings, trail, "cloudtrail.digests")
    assert digests.status is ExtractStatus.COMPLETE
    hour = next(r for r in table(settings, "digests") if r["digest_start_time"].hour == 10)
    assert hour["digest_found"] is True and hour["digest_intact"] is False

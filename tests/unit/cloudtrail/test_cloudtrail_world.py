"""The simulated CloudTrail: record and file shapes, digests, planted facts, delivery into moto."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import timedelta

import pytest

from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.standins import cloudtrail as standin
from ccm_demo.world import aws_org, cloudtrail, people
from ccm_demo.world.common import parse

KEY = re.compile(r"^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
                 r"\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$")


@pytest.fixture(scope="module")
def objects(demo_dir):
    """Every delivered object of the session's small demo: key -> (delivery, uncompressed content)."""
    return {d.key: (d, cloudtrail.read_content(demo_dir, d)) for d in cloudtrail.load_deliveries(demo_dir)}


def test_log_files_are_in_cloudtrails_layout_and_shape(objects, demo_dir):
    facts = cloudtrail.load_facts(demo_dir)
    delayed = {f["key"] for f in facts["late_log_files"]} | {f["copy_key"] for f in facts["duplicate_log_files"]}
    logs = {k: v for k, v in objects.items() if "/CloudTrail/" in k}
    assert len(logs) > 100
    straddling = 0
    for key, (delivery, content) in logs.items():
        match = KEY.match(key)
        assert match, key
        records = json.loads(content)["Records"]
        assert records and all(r["eventTime"] <= delivery.deliver_at for r in records)
        newest = max(parse(r["eventTime"]) for r in records)
        delay = parse(delivery.deliver_at) - newest
        assert timedelta(minutes=5) <= delay < timedelta(minutes=16) or key in delayed, key
        assert match.group(6) == parse(delivery.deliver_at).strftime("%Y%m%dT%H%MZ")
        assert f"{match.group(3)}-{match.group(4)}-{match.group(5)}" == delivery.deliver_at[:10]
        straddling += delivery.deliver_at[:10] != newest.strftime("%Y-%m-%d")
        for record in records:
            assert {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                    "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "eventID", "readOnly",
                    "eventType", "managementEvent", "recipientAccountId"} <= set(record), record
            assert record["recipientAccountId"] == match.group(1)
    assert straddling >= 4  # each account-region's last file of a day is delivered after midnight


def test_digests_list_the_files_of_their_hour_with_hashes_and_chain(objects, demo_dir):
    facts = cloudtrail.load_facts(demo_dir)
    digests = {k: json.loads(c) for k, (_, c) in objects.items() if "/CloudTrail-Digest/" in k}
    contents = {k: c for k, (_, c) in objects.items()}
    missing = {f["key"] for f in facts["missing_log_files"]}
    listed = 0
    for key, doc in digests.items():
        assert key == doc["digestS3Object"]
        assert doc["digestEndTime"].replace("-", "").replace(":", "")[:15] in key
        for entry in doc["logFiles"]:
            listed += 1
            if entry["s3Object"] in missing:
                assert entry["s3Object"] not in contents
                continue
            assert hashlib.sha256(contents[entry["s3Object"]]).hexdigest() == entry["hashValue"]
        previous = doc["previousDigestS3Object"]
        if previous in contents:
            assert hashlib.sha256(contents[previous]).hexdigest() == doc["previousDigestHashValue"]
    lost = {d["key"] for d in facts["missing_digests"]}
    lost_hours = {(d["account_id"], d["region"], d["start"][:13]) for d in facts["missing_digests"]}
    unlisted = [k for k, (d, _) in objects.items() if "/CloudTrail/" in k
                and (k.split("/")[1], k.split("/")[3], d.deliver_at[:13]) in lost_hours]
    assert unlisted  # delivered during an hour whose digest never arrived
    assert listed == sum(1 for k in objects if "/CloudTrail/" in k) - len(unlisted) + len(missing)
    assert lost and not lost & set(objects)
    assert {doc["previousDigestS3Object"] for doc in digests.values()} & lost  # the next one's chain names it


def test_the_planted_facts_cover_every_kind(demo_dir, small_spec):
    facts = cloudtrail.load_facts(demo_dir)
    kinds = {(p["kind"], p.get("success"), p.get("mfa_used")) for p in facts["planted_events"]}
    assert ("root", None, None) in kinds
    assert ("console_login", True, False) in kinds and ("console_login", False, False) in kinds
    assert {p["event_name"] for p in facts["planted_events"] if p["kind"] == "trail_change"} >= {
        "StopLogging", "UpdateTrail", "PutEventSelectors", "DeleteTrail"}
    assert len(facts["missing_log_files"]) == 2 and facts["late_log_files"] and facts["duplicate_log_files"]
    assert facts["logging_stopped"]
    exceptions = [e for e in (demo_dir / "exceptions.yml").read_text().split("- exception_id")[1:]]
    for control in ("iam_aws_root_activity", "iam_aws_console_mfa", "mon_cloudtrail_continuity"):
        assert sum(f"control_id: {control}" in e for e in exceptions) >= 3, control


def test_the_same_spec_gives_the_same_bytes(tmp_path):
    spec = DemoSpec(seed=11, employees=20, days=7)
    first, second = generate(spec, tmp_path / "a"), generate(spec, tmp_path / "b")
    for name in ("deliveries.tsv", "facts.json"):
        assert (first / cloudtrail.ROOT_DIR / name).read_bytes() == (second / cloudtrail.ROOT_DIR / name).read_bytes()
    packs = sorted(p.name for p in (first / cloudtrail.OBJECTS_DIR).iterdir())
    assert packs and all((first / cloudtrail.OBJECTS_DIR / p).read_bytes() == (second / cloudtrail.OBJECTS_DIR / p)
                         .read_bytes() for p in packs)


def test_the_default_company_makes_at_least_20000_events_a_day(tmp_path):
    spec = DemoSpec()  # 300 people, scale 1
    company = cloudtrail._company(spec, people.generate_people(spec))
    weekend = 3  # 2025-10-04 is a Saturday: the quietest kind of day
    result = cloudtrail._generate_days(company, tmp_path, [weekend])[0]
    assert 20_000 <= result.events <= 30_000
    assert cloudtrail._company(DemoSpec(scale=3), people.generate_people(spec)).volume == 3 * company.volume


def test_incidents_fit_short_windows_on_distinct_days():
    for days in (7, 10, 14, 31, 182):
        plan = cloudtrail.plan_incidents(days)
        incomplete = {plan.missing_file_midnight, plan.missing_file_midday}
        root = [plan.root_fail, *plan.root_excepted, *plan.root_expired]
        mfa = [plan.mfa_fail, *plan.mfa_excepted, *plan.mfa_expired, plan.late_file]
        for planted in (root, mfa):
            placed = [d for d in planted if d is not None]
            assert len(placed) == len(set(placed)) and not set(placed) & incomplete, (days, planted)
            assert all(0 < d < days for d in placed)
        if days >= 10:
            assert None not in root + mfa
            assert plan.root_expired[1] >= plan.root_expired[0] + 2 and plan.mfa_expired[1] >= plan.mfa_expired[0] + 2


def _trail_connection(moto_endpoint: str, bucket: str):
    """The aws_default connection (as the environment) naming `bucket` as the trail's, and an S3 client of moto."""
    import boto3

    env = {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps({
        "login": "AKIATESTCLOUDTRAIL01", "password": "test-secret",
        "extra": {"endpoint_url": moto_endpoint, "region_name": "us-east-1", "cloudtrail_bucket": bucket}})}
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="AKIATESTCLOUDTRAIL01", aws_secret_access_key="test-secret")
    return env, s3


def test_delivery_follows_the_clock_forwards_and_back(demo_dir, small_spec, moto_endpoint):
    bucket = aws_org.log_archive_bucket(small_spec.seed) + "-standin-test"
    env, s3 = _trail_connection(moto_endpoint, bucket)
    deliveries = cloudtrail.load_deliveries(demo_dir)

    def present() -> set[str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/")
        return {o["Key"] for page in pages for o in page.get("Contents", [])}

    def due(moment) -> set[str]:
        return {d.key for d in deliveries if parse(d.deliver_at) <= moment}

    first = small_spec.observation_time(small_spec.window_start + timedelta(days=1))
    standin.advance_to(demo_dir, first, env)  # creates the bucket
    assert present() == due(first) and due(first)
    second = first + timedelta(days=1)
    standin.advance_to(demo_dir, second, env)
    assert present() == due(second) > due(first)
    standin.advance_to(demo_dir, first, env)  # the clock moves back: later files are withdrawn
    assert present() == due(first)
    key = sorted(due(first))[0]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert gzip.decompress(body) == cloudtrail.read_content(demo_dir, next(d for d in deliveries if d.key == key))
    standin.advance_to(demo_dir, first, {})  # no AWS connection: nothing to do, no error


def test_removed_files_leave_no_versions_in_a_versioned_bucket(demo_dir, small_spec, moto_endpoint, monkeypatch):
    """The world's log archive bucket is versioned: a file the expiry removes, or the clock
    withdraws, goes with every version (even one a test wrote over it), so that moto does
    not keep, and walk on every listing, each file ever delivered behind a delete marker."""

    bucket = aws_org.log_archive_bucket(small_spec.seed) + "-versioned-test"
    env, s3 = _trail_connection(moto_endpoint, bucket)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    expiry = timedelta(hours=23)  # the window is short: a day's move expires files
    monkeypatch.setattr(standin, "LOG_ARCHIVE_EXPIRY", expiry)
    deliveries = cloudtrail.load_deliveries(demo_dir)

    def versions() -> dict[str, int]:  # key -> versions and delete markers under AWSLogs/
        found: dict[str, int] = {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="AWSLogs/"):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found[item["Key"]] = found.get(item["Key"], 0) + 1
        return found

    def present(moment) -> dict[str, int]:  # delivered and not expired: one version each
        return {d.key: 1 for d in deliveries if moment - expiry < parse(d.deliver_at) <= moment}

    first = small_spec.observation_time(small_spec.window_start + timedelta(days=1))
    second = first + timedelta(days=1)
    standin.advance_to(demo_dir, first, env)
    standin.advance_to(demo_dir, second, env)  # the first day's files expire
    assert versions() == present(second) and set(present(first)) - set(present(second))
    rewritten = sorted(set(present(second)) - set(present(first)))[0]
    s3.put_object(Bucket=bucket, Key=rewritten, Body=b"rewritten")  # as the fault tests do: a second version
    standin.advance_to(demo_dir, first, env)  # the clock moves back: later files are withdrawn
    assert versions() == present(first)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/")
    assert {o["Key"] for page in pages for o in page.get("Contents", [])} == set(present(first))

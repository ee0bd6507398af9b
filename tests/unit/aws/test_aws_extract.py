"""The AWS extract against the moto stand-in: accounts, pages, retries, failures, report quirks."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import ConfigError, RecordError, SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext, read_manifests
from ccm.pipeline import extract
from ccm.sources.aws.client import AwsAccount, accounts_from_extra, make_client, strip_account_host_label
from ccm.sources.aws.datasets import DATASETS
from ccm.sources.aws.fetchers import (
    REPORT_COLUMNS,
    REPORT_POLLS,
    fetch_credential_report,
    fetch_guardduty_detectors,
    parse_credential_report,
)
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.registry import get_dataset
from ccm_demo.world import aws as world
from ccm_demo.world import aws_org
from tests.unit.aws.conftest import window_day


def _extract(settings, connection, key: str, day: datetime, **overrides):
    interval = Interval(day, day + timedelta(days=1))
    return extract(settings, key, interval, RunContext(), lambda _conn_id: connection, **overrides)


def _rows(settings, manifest) -> list[dict]:
    lake = Lake(settings.lake_uri)
    return [row for f in manifest.files_written for row in pq.read_table(lake._abs(f.path)).to_pylist()]


def test_every_dataset_reads_every_account_and_region(settings, aws_connection, at_day, small_spec, demo_dir):
    at_day(1)
    day = window_day(small_spec, 1)
    accounts = {a.account_id: a for a in aws_org.accounts(small_spec.seed)}
    manifests = {d.name: _extract(settings, aws_connection, d.key, day) for d in DATASETS}
    assert {m.status for m in manifests.values()} == {ExtractStatus.COMPLETE}
    summary = _rows(settings, manifests["account_summary"])
    assert {r["account_id"] for r in summary} == set(accounts)
    groups = _rows(settings, manifests["security_groups"])
    assert {(r["account_id"], r["region"]) for r in groups} == {
        (a.account_id, region) for a in accounts.values() for region in a.regions}
    # the world's users are in the credential report, with the root row of each account
    report = _rows(settings, manifests["credential_report"])
    aws_world = world.AwsWorld.load(demo_dir)
    users = {world.entity_of(u) for u, _ in aws_world.existing(world.USER, at_day(1))}
    assert {r["arn"] for r in report if not r["is_root"]} == users
    roots = [r for r in report if r["is_root"]]
    assert {r["account_id"] for r in roots} == set(accounts)
    assert all(r["password_enabled"] is None and r["user_name"] == "<root_account>" for r in roots)
    # GuardDuty has a row for every active region, and every backup job of the day is in
    detectors = _rows(settings, manifests["guardduty_detectors"])
    assert {(r["account_id"], r["region"]) for r in detectors} == {
        (a.account_id, region) for a in accounts.values() for region in a.regions}
    jobs = _rows(settings, manifests["backup_jobs"])
    assert jobs and all(day <= r["created_at"] < day + timedelta(days=1) for r in jobs)


def test_pagination_follows_every_page(settings, aws_connection, at_day, small_spec):
    at_day(1)
    day = window_day(small_spec, 1)
    whole = {k: _extract(settings, aws_connection, k, day) for k in ("aws.iam_policies", "aws.backup_jobs")}
    paged = {k: _extract(settings, aws_connection, k, day, page_size=1) for k in whole}
    for key, manifest in paged.items():
        assert manifest.status is ExtractStatus.COMPLETE
        assert manifest.rows_written == whole[key].rows_written >= 3
        assert manifest.pages >= manifest.rows_written  # one item per page, every page followed


def test_throttling_is_retried_within_bounds(settings, aws_connection, at_day, small_spec, aws_standin):
    at_day(1)
    aws_standin.inject(service="iam", operation="GetAccountSummary", status=400, code="Throttling", count=1)
    manifest = _extract(settings, aws_connection, "aws.account_summary", window_day(small_spec, 1), max_attempts=3)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 3
    calls = [entry for entry in aws_standin.front.request_log if entry[2] == "GetAccountSummary"]
    assert [status for _, _, _, status in calls[-4:]] == [400, 200, 200, 200]


def test_a_failing_call_fails_the_extract_naming_account_region_and_api(settings, aws_connection, at_day, small_spec,
                                                                       aws_standin):
    at_day(1)
    day = window_day(small_spec, 1)
    first = _extract(settings, aws_connection, "aws.security_groups", day)
    lake = Lake(settings.lake_uri)
    before = {p: lake.read_bytes(p) for p in lake.dataset_files(get_dataset("aws.security_groups"))}
    prod = aws_org.accounts(small_spec.seed)[0]
    # the first account-region answers, the second (prod, eu-west-1) keeps failing
    aws_standin.inject(service="ec2", operation="DescribeSecurityGroups", status=500, code="InternalError",
                       count=50, after=1)
    with pytest.raises(SourceError, match=rf"aws: account {prod.account_id} \(prod\) eu-west-1 "
                                          r"ec2:DescribeSecurityGroups failed after 2 attempt\(s\): InternalError"):
        _extract(settings, aws_connection, "aws.security_groups", day, max_attempts=2)
    after = {p: lake.read_bytes(p) for p in lake.dataset_files(get_dataset("aws.security_groups"))}
    assert after == before and first.status is ExtractStatus.COMPLETE
    statuses = [m.status for m in read_manifests(lake, get_dataset("aws.security_groups"))]
    assert statuses == [ExtractStatus.COMPLETE, ExtractStatus.FAILED]


def test_an_outage_fails_the_audit_apis_but_not_log_delivery(settings, aws_connection, at_day, small_spec,
                                                              aws_standin, demo_dir):
    start, _end = world.outage_windows(small_spec)[-1]
    outage_day = (start - small_spec.window_start).days - 1
    at_day(outage_day)
    with pytest.raises(SourceError, match=r"iam:GetAccountSummary failed after 2 attempt\(s\): ServiceUnavailable"):
        _extract(settings, aws_connection, "aws.account_summary", window_day(small_spec, outage_day),
                 max_attempts=2)
    # CloudTrail keeps delivering into the log archive bucket during a control-plane outage
    client = make_client(aws_connection, settings)
    security = client.accounts[2]
    s3 = client.client(security, "s3")
    bucket = aws_org.log_archive_bucket(small_spec.seed)
    s3.put_object(Bucket=bucket, Key="AWSLogs/outage-probe.json.gz", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="AWSLogs/outage-probe.json.gz")["Body"].read() == b"{}"
    s3.delete_object(Bucket=bucket, Key="AWSLogs/outage-probe.json.gz")


def test_a_credential_report_generated_before_the_interval_closed_is_refused(settings, aws_connection, at_day,
                                                                           small_spec):
    at_day(1)
    later = window_day(small_spec, 3)  # the report (generated "now") predates this interval's end
    with pytest.raises(SourceError, match=r"credential report was generated at .* before the interval closed"):
        _extract(settings, aws_connection, "aws.credential_report", later)


AWS_HEADER = ",".join(REPORT_COLUMNS)
ROOT = ("<root_account>,arn:aws:iam::111122223333:root,2019-01-01T00:00:00+00:00,not_supported,"
        "2025-09-30T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
        "false,N/A,false,N/A")
USER = ("ada,arn:aws:iam::111122223333:user/ada,2024-01-01T09:00:00+00:00,true,no_information,"
        "2025-08-01T09:00:00+00:00,2025-10-30T09:00:00+00:00,false,true,2025-07-01T08:00:00+00:00,"
        "2025-09-30T08:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
SERVICE = ("ci,arn:aws:iam::111122223333:user/ci,2023-01-01T09:00:00+00:00,false,N/A,N/A,N/A,false,true,"
           "2025-09-01T08:00:00+00:00,N/A,N/A,N/A,true,2025-09-20T08:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A")
ACCOUNT = AwsAccount("111122223333", "prod", "arn:aws:iam::111122223333:role/ccm-audit", ("us-east-1",))
GENERATED = datetime(2025, 10, 2, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("header", [AWS_HEADER, AWS_HEADER.replace("user,", "User,", 1)],
                         ids=["aws-header", "moto-legacy-header"])
def test_credential_report_is_read_by_the_aws_documentation(header):
    content = "\n".join([header, ROOT, USER, SERVICE]).encode()
    records = parse_credential_report(content, ACCOUNT, GENERATED)
    dataset = get_dataset("aws.credential_report")
    rows = [dataset.to_row(r, i, GENERATED) for i, r in enumerate(records)]
    root, ada, ci = rows
    assert root["is_root"] and root["user_name"] == "<root_account>"
    assert root["password_enabled"] is None and root["password_last_changed"] is None  # not_supported
    assert root["mfa_active"] is True and root["access_key_1_active"] is False
    assert root["access_key_1_last_rotated"] is None  # N/A
    assert ada["password_last_used"] is None  # no_information
    assert ada["access_key_1_last_rotated"] == datetime(2025, 7, 1, 8, tzinfo=UTC)
    assert ada["mfa_active"] is False and ada["password_enabled"] is True
    assert ci["password_enabled"] is False and ci["access_key_2_active"] is True
    assert json.loads(ci["raw"])["csv"]["password_last_used"] == "N/A"  # the original row is kept


def test_credential_report_problems_are_named():
    missing = AWS_HEADER.replace(",mfa_active", "")
    with pytest.raises(SourceError, match=r"account 111122223333 \(prod\): the credential report has no column\(s\) "
                                          "mfa_active"):
        parse_credential_report(f"{missing}\n".encode(), ACCOUNT, GENERATED)
    with pytest.raises(SourceError, match="line 2 has 3 fields"):
        parse_credential_report(f"{AWS_HEADER}\na,b,c\n".encode(), ACCOUNT, GENERATED)
    garbled = USER.replace("2025-07-01T08:00:00+00:00", "yesterday")
    record = parse_credential_report(f"{AWS_HEADER}\n{garbled}".encode(), ACCOUNT, GENERATED)[0]
    with pytest.raises(RecordError, match="access_key_1_last_rotated' should be timestamp, got 'yesterday'"):
        get_dataset("aws.credential_report").to_row(record, 0, GENERATED)


def test_connection_accounts_are_validated_naming_the_entry():
    good = {"account_id": "111122223333", "name": "prod", "role_arn": "arn:aws:iam::111122223333:role/ccm-audit",
            "regions": ["us-east-1"]}
    assert accounts_from_extra({"accounts": [good]})[0].regions == ("us-east-1",)
    with pytest.raises(ConfigError, match=r"extra\.accounts must list"):
        accounts_from_extra({})
    with pytest.raises(ConfigError, match=r"extra.accounts #1 \(111122223333\): role_arn must be a role in that"):
        accounts_from_extra({"accounts": [{**good, "role_arn": "arn:aws:iam::999999999999:role/x"}]})
    with pytest.raises(ConfigError, match=r"extra\.accounts #2: account_id must be 12 digits"):
        accounts_from_extra({"accounts": [good, {**good, "account_id": "12"}]})


def test_s3_control_host_label_is_dropped_only_for_loopback_endpoints():
    class Request:
        def __init__(self, url):
            self.url = url

    local = Request("http://111122223333.127.0.0.1:5000/v20180820/configuration/publicAccessBlock")
    strip_account_host_label(local)
    assert local.url == "http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock"
    real = Request("https://111122223333.s3-control.us-east-1.amazonaws.com/v20180820/configuration/publicAccessBlock")
    strip_account_host_label(real)
    assert real.url.startswith("https://111122223333.s3-control.")


def test_the_source_module_imports_nothing_heavy():
    """DAG files import the registry at parse time: boto3 and pyarrow load inside tasks only."""
    code = ("import sys, ccm.sources.registry, ccm.sources.aws; "
            "print(','.join(m for m in ('boto3', 'botocore', 'pyarrow', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_fetch_log_counts_pages_of_a_fetch(settings, aws_connection, at_day, small_spec):
    at_day(1)
    log = FetchLog()
    with make_client(aws_connection, settings) as client:
        records = list(fetch_guardduty_detectors(client)(Interval(window_day(small_spec, 1),
                                                                      window_day(small_spec, 2)), log))
    assert log.pages == sum(len(a.regions) for a in client.accounts) and len(records) == log.pages


class _ReportStub:
    """A client whose credential report takes two polls to be ready."""

    def __init__(self, ready_after: int) -> None:
        self.accounts = (ACCOUNT,)
        self.ready_after, self.gets, self.sleeps = ready_after, 0, []

    def call(self, account, service, operation, allow=(), **kwargs):
        if operation == "GenerateCredentialReport":
            return {"State": "STARTED" if self.gets < self.ready_after else "COMPLETE"}
        self.gets += 1
        if self.gets <= self.ready_after:
            assert "ReportInProgress" in allow
            return None
        return {"Content": f"{AWS_HEADER}\n{ROOT}".encode(), "GeneratedTime": GENERATED}

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_the_credential_report_is_polled_until_ready_within_bounds():
    interval = Interval(GENERATED - timedelta(days=1, hours=1, minutes=30), GENERATED - timedelta(hours=1, minutes=30))
    stub = _ReportStub(ready_after=2)
    records = list(fetch_credential_report(stub)(interval, FetchLog()))
    assert [r["user"] for r in records] == ["<root_account>"] and stub.sleeps == [1, 2]
    never = _ReportStub(ready_after=100)
    with pytest.raises(SourceError, match="credential report was not ready after 10 polls"):
        list(fetch_credential_report(never)(interval, FetchLog()))
    assert len(never.sleeps) == REPORT_POLLS and max(never.sleeps) <= 10

"""AWS fetchers: API responses as records wrapped with their account (and region), and the
credential report parsed by its documented format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ccm.errors import SourceError
from ccm.sources.aws.client import AwsAccount, AwsClient
from ccm.sources.aws.datasets import (
    ACCOUNT_SUMMARY,
    BACKUP_JOBS,
    CLOUDTRAIL_TRAILS,
    CONFIG_RECORDERS,
    CREDENTIAL_REPORT,
    GUARDDUTY_DETECTORS,
    IAM_POLICIES,
    IAM_USERS,
    KMS_KEYS,
    PASSWORD_POLICY,
    RDS_INSTANCES,
    S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    S3_BUCKETS,
    SECURITY_GROUPS,
    SOURCE,
)
from ccm.sources.extract import Fetcher, FetchLog, Interval

REPORT_POLLS = 10  # GenerateCredentialReport polls before giving up


# the credential report's columns (AWS IAM User Guide, "Credential report format")
REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
    "cert_2_active", "cert_2_last_rotated",
)
REQUIRED_REPORT_COLUMNS = ("user", "arn", "password_enabled", "mfa_active", "access_key_1_active",
                           "access_key_1_last_rotated", "access_key_2_active", "access_key_2_last_rotated")
# values the report uses instead of a date or a boolean
REPORT_SENTINELS = {"N/A", "no_information", "not_supported"}
ROOT_USER = "<root_account>"
_BOOLEAN_COLUMNS = {"password_enabled", "mfa_active", "access_key_1_active", "access_key_2_active",
                    "cert_1_active", "cert_2_active"}
_TIME_COLUMNS = {"user_creation_time", "password_last_used", "password_last_changed", "password_next_rotation",
                 "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_2_last_rotated",
                 "access_key_2_last_used_date", "cert_1_last_rotated", "cert_2_last_rotated"}


def _jsonable(value: Any) -> Any:
    """API responses as JSON values: datetimes as ISO-8601 UTC, bytes as text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _wrap(account: AwsAccount, region: str | None = None, **parts: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"account_id": account.account_id, "account_name": account.name}
    if region is not None:
        record["region"] = region
    record.update({k: _jsonable(v) for k, v in parts.items()})
    return record


def parse_credential_report(content: bytes, account: AwsAccount, generated_at: datetime) -> list[dict[str, Any]]:
    """The credential report CSV as records, by AWS's documented format.

    Header names are matched case-insensitively (moto has written `User`, AWS writes
    `user`); the sentinels `N/A`, `no_information` and `not_supported` become nulls;
    `<root_account>` is the root user. A value that is neither a sentinel nor of the
    column's type is passed on as is, so the dataset contract quarantines it by name.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(SOURCE, f"{account}: the credential report is not UTF-8 text: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise SourceError(SOURCE, f"{account}: the credential report is empty (no header row)")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_REPORT_COLUMNS if c not in names]
    if missing:
        raise SourceError(SOURCE, f"{account}: the credential report has no column(s) {', '.join(missing)} "
                                  f"(header: {','.join(header)})")
    records = []
    for line, values in enumerate(reader, start=2):
        if not values:
            continue
        if len(values) != len(names):
            raise SourceError(SOURCE, f"{account}: credential report line {line} has {len(values)} fields, "
                                      f"the header has {len(names)}")
        row = dict(zip(names, values, strict=True))
        record: dict[str, Any] = {"account_id": account.account_id, "account_name": account.name,
                                  "report_generated_at": _jsonable(generated_at),
                                  "is_root": row["user"] == ROOT_USER, "csv": row}
        for name, value in row.items():
            value = value.strip()
            if value in REPORT_SENTINELS:
                record[name] = None
            elif name in _BOOLEAN_COLUMNS:
                record[name] = value.lower() == "true" if value.lower() in {"true", "false"} else value
            else:
                record[name] = value
        records.append(record)
    return records


# fetchers ---------------------------------------------------------------------------------

def fetch_credential_report(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for poll in range(REPORT_POLLS):
                # starts a report unless one (at most four hours old) exists; then fetch it
                client.call(account, "iam", "GenerateCredentialReport")
                report = client.call(account, "iam", "GetCredentialReport",
                                     allow=("ReportInProgress", "ReportNotPresent", "ReportExpired"))
                if report is not None:
                    break
                client.sleep(min(2 ** poll, 10))
            else:
                raise SourceError(SOURCE, f"{account}: the credential report was not ready after {REPORT_POLLS} polls")
            fetch_log.pages += 1
            generated = report["GeneratedTime"]
            if generated < interval.end:
                raise SourceError(SOURCE, f"{account}: the credential report was generated at {generated.isoformat()}, "
                                          f"before the interval closed ({interval.end.isoformat()}); IAM reuses a "
                                          "report for four hours, so try again later")
            yield from parse_credential_report(report["Content"], account, generated)

    return fetch


def fetch_account_summary(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            response = client.call(account, "iam", "GetAccountSummary")
            fetch_log.pages += 1
            yield _wrap(account, summary=response["SummaryMap"])

    return fetch


def fetch_password_policy(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            response = client.call(account, "iam", "GetAccountPasswordPolicy", allow=("NoSuchEntity",))
            fetch_log.pages += 1
            policy = (response or {}).get("PasswordPolicy")
            yield _wrap(account, has_policy=policy is not None, policy=policy)

    return fetch


def fetch_iam_policies(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for policy in client.paginate(account, "iam", "ListPolicies", "Policies", fetch_log, Scope="Local"):
                version = client.call(account, "iam", "GetPolicyVersion", PolicyArn=policy["Arn"],
                                      VersionId=policy["DefaultVersionId"])["PolicyVersion"]
                yield _wrap(account, policy=policy, default_version=version)

    return fetch


def fetch_iam_users(client: AwsClient) -> Fetcher:
    """GetAccountAuthorizationDetails: users with tags, attached policies and groups (and the
    groups' attached policies) in a few calls per account instead of three per user."""

    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            users: list[dict[str, Any]] = []
            group_policies: dict[str, list[str]] = {}
            for page in client.pages(account, "iam", "GetAccountAuthorizationDetails", fetch_log,
                                     Filter=["User", "Group"]):
                users += page.get("UserDetailList", [])
                for group in page.get("GroupDetailList", []):
                    group_policies[group["GroupName"]] = [p["PolicyArn"] for p in group.get("AttachedManagedPolicies", [])]
            for user in users:
                groups = sorted(user.get("GroupList", []))
                direct = {p["PolicyArn"] for p in user.get("AttachedManagedPolicies", [])}
                via_groups = {arn for group in groups for arn in group_policies.get(group, [])}
                yield _wrap(account, user={k: v for k, v in user.items() if k != "Tags"},
                            tags={t["Key"]: t["Value"] for t in user.get("Tags", [])},
                            attached_policy_arns=sorted(direct), groups=groups,
                            effective_policy_arns=sorted(direct | via_groups))

    return fetch


def fetch_s3_buckets(client: AwsClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        missing = ("ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration",
                   "NoSuchTagSet")
        for account in client.accounts:
            for bucket in client.paginate(account, "s3", "ListBuckets", "Buckets", fetch_log):
                name = bucket["Name"]
                location = client.call(account, "s3", "GetBucketLocation", Bucket=name).get("LocationConstraint")
                region = location or "us-east-1"  # AWS answers null for us-east-1
                encryption = client.call(account, "s3", "GetBucketEncryption", region=region, allow=missing,
                                         Bucket=name)
                block = client.call(account, "s3", "GetPublicAccessBlock", region=region, allow=missing, Bucket=name)
                versioning = client.call(account, "s3", "GetBucketVersioning", region=region, Bucket=name)
                tagging = client.call(account, "s3", "GetBucketTagging", region=region, allow=missing, Bucket=name)
                yield _wrap(account, region, bucket=bucket,
                            encryption=(encryption or {}).get("ServerSideEncryptionConfiguration"),
                            public_access_block=(block or {}).get("PublicAccessBlockConfiguration"),
                            versioning=versioning,
                            tags={t["Key"]: t["Value"] for t in (tagging or {}).get("TagSet", [])})

    return fetch


def fetch_s3_account_public_access_block(client: AwsClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            response = client.call(account, "s3control", "GetPublicAccessBlock",
                                   allow=("NoSuchPublicAccessBlockConfiguration",), AccountId=account.account_id)
            fetch_log.pages += 1
            configuration = (response or {}).get("PublicAccessBlockConfiguration")
            yield _wrap(account, has_configuration=configuration is not None, configuration=configuration)

    return fetch


def _regional_listing(service: str, operation: str, result_key: str, field: str) -> Callable[[AwsClient], Fetcher]:
    """A fetcher of every item a paginated listing returns in each account's regions, as `{field: item}`."""

    def factory(client: AwsClient) -> Fetcher:
        def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
            for account, region in client.account_regions():
                for item in client.paginate(account, service, operation, result_key, fetch_log, region=region):
                    yield _wrap(account, region, **{field: item})

        return fetch

    return factory


fetch_security_groups = _regional_listing("ec2", "DescribeSecurityGroups", "SecurityGroups", "group")
fetch_rds_instances = _regional_listing("rds", "DescribeDBInstances", "DBInstances", "instance")


def fetch_kms_keys(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account, region in client.account_regions():
            aliases: dict[str, list[str]] = {}
            for alias in client.paginate(account, "kms", "ListAliases", "Aliases", fetch_log, region=region):
                if alias.get("TargetKeyId"):
                    aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
            for key in client.paginate(account, "kms", "ListKeys", "Keys", fetch_log, region=region):
                metadata = client.call(account, "kms", "DescribeKey", region=region,
                                       KeyId=key["KeyId"])["KeyMetadata"]
                rotation = None
                if (metadata.get("KeyManager") == "CUSTOMER" and metadata.get("KeyState") == "Enabled"
                        and metadata.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
                        and metadata.get("Origin", "AWS_KMS") == "AWS_KMS"):
                    rotation = client.call(account, "kms", "GetKeyRotationStatus", region=region,
                                           KeyId=key["KeyId"])
                yield _wrap(account, region, metadata=metadata, aliases=sorted(aliases.get(key["KeyId"], [])),
                            rotation=rotation)

    return fetch


def fetch_cloudtrail_trails(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account, region in client.account_regions():
            trails = client.call(account, "cloudtrail", "DescribeTrails", region=region,
                                 includeShadowTrails=False)["trailList"]
            fetch_log.pages += 1
            for trail in trails:
                if trail.get("HomeRegion", region) != region:
                    continue  # reported from its home region
                arn = trail["TrailARN"]
                status = client.call(account, "cloudtrail", "GetTrailStatus", region=region, Name=arn)
                selectors = client.call(account, "cloudtrail", "GetEventSelectors", region=region, TrailName=arn)
                yield _wrap(account, region, trail=trail, status=status, selectors=selectors)

    return fetch


def fetch_guardduty_detectors(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account, region in client.account_regions():
            detector_ids = list(client.paginate(account, "guardduty", "ListDetectors", "DetectorIds", fetch_log,
                                                region=region))
            if not detector_ids:
                yield _wrap(account, region, detector_id=None, detector=None)
            for detector_id in detector_ids:
                detector = client.call(account, "guardduty", "GetDetector", region=region, DetectorId=detector_id)
                yield _wrap(account, region, detector_id=detector_id, detector=detector)

    return fetch


def fetch_config_recorders(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account, region in client.account_regions():
            recorders = client.call(account, "config", "DescribeConfigurationRecorders",
                                    region=region).get("ConfigurationRecorders", [])
            if not recorders:
                yield _wrap(account, region, recorder=None, status=None)
                continue
            statuses = client.call(account, "config", "DescribeConfigurationRecorderStatus",
                                   region=region).get("ConfigurationRecordersStatus", [])
            by_name = {status["name"]: status for status in statuses}
            for recorder in recorders:
                yield _wrap(account, region, recorder=recorder, status=by_name.get(recorder["name"]))

    return fetch


def fetch_backup_jobs(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account, region in client.account_regions():
            jobs = client.paginate(account, "backup", "ListBackupJobs", "BackupJobs", fetch_log, region=region,
                                   ByCreatedAfter=interval.start, ByCreatedBefore=interval.end)
            for job in jobs:
                created = job.get("CreationDate")
                # the API's bounds are inclusive; the interval is half-open
                if isinstance(created, datetime) and not interval.start <= created < interval.end:
                    continue
                yield _wrap(account, region, job=job)

    return fetch


FETCHERS = {
    CREDENTIAL_REPORT.name: fetch_credential_report,
    ACCOUNT_SUMMARY.name: fetch_account_summary,
    PASSWORD_POLICY.name: fetch_password_policy,
    IAM_POLICIES.name: fetch_iam_policies,
    IAM_USERS.name: fetch_iam_users,
    S3_BUCKETS.name: fetch_s3_buckets,
    S3_ACCOUNT_PUBLIC_ACCESS_BLOCK.name: fetch_s3_account_public_access_block,
    SECURITY_GROUPS.name: fetch_security_groups,
    RDS_INSTANCES.name: fetch_rds_instances,
    KMS_KEYS.name: fetch_kms_keys,
    CLOUDTRAIL_TRAILS.name: fetch_cloudtrail_trails,
    GUARDDUTY_DETECTORS.name: fetch_guardduty_detectors,
    CONFIG_RECORDERS.name: fetch_config_recorders,
    BACKUP_JOBS.name: fetch_backup_jobs,
}

"""AWS configuration and IAM: one audit role per account, read through boto3.

The `aws_default` connection names the accounts to audit (`extra.accounts`: account id,
name, the read-only role to assume, the regions the company is active in), optionally an
endpoint (`extra.endpoint_url`, e.g. a moto server; `extra.endpoint_urls` per service)
and the home region. Credentials are the connection's login/password when set, otherwise
the standard AWS credential chain; each account is entered with STS AssumeRole. Nothing
credential-like is ever logged or stored.

Every call uses botocore's standard retry mode (throttling and transient errors, bounded
by `settings.http_max_attempts`); pagination is bounded; a call that still fails raises
`SourceError` naming the account, region and API, so the whole extract fails and the
lake keeps what it had.

Datasets are snapshots observed at extract time except `backup_jobs`, an event dataset
over the extract's interval. Records keep the API's shapes (datetimes as ISO-8601
strings), wrapped with the account (and region) they came from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.errors import ConfigError, SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval

SOURCE = "aws"
CONN_ID = "aws_default"
MAX_PAGES = 1000  # per paginated call; a source that pages beyond this is misbehaving
REPORT_POLLS = 10  # GenerateCredentialReport polls before giving up
SESSION_NAME = "ccm-audit-extract"

log = logging.getLogger(__name__)

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


def _account_columns(regional: bool = False) -> tuple[Column, ...]:
    columns = (Column("account_id", "account_id", required=True), Column("account_name", "account_name"))
    return (*columns, Column("region", "region", required=True)) if regional else columns


CREDENTIAL_REPORT = Dataset(
    source=SOURCE, name="credential_report", kind=DatasetKind.SNAPSHOT,
    description="IAM credential report per account: one row per IAM user plus the <root_account> row.",
    key_columns=("account_id", "arn"),
    columns=(
        *_account_columns(),
        Column("report_generated_at", "report_generated_at", ColumnType.TIMESTAMP, required=True),
        Column("user_name", "user", required=True),
        Column("arn", "arn", required=True),
        Column("is_root", "is_root", ColumnType.BOOL, required=True),
        Column("user_creation_time", "user_creation_time", ColumnType.TIMESTAMP),
        Column("password_enabled", "password_enabled", ColumnType.BOOL),
        Column("password_last_used", "password_last_used", ColumnType.TIMESTAMP),
        Column("password_last_changed", "password_last_changed", ColumnType.TIMESTAMP),
        Column("password_next_rotation", "password_next_rotation", ColumnType.TIMESTAMP),
        Column("mfa_active", "mfa_active", ColumnType.BOOL, required=True),
        Column("access_key_1_active", "access_key_1_active", ColumnType.BOOL, required=True),
        Column("access_key_1_last_rotated", "access_key_1_last_rotated", ColumnType.TIMESTAMP),
        Column("access_key_1_last_used_date", "access_key_1_last_used_date", ColumnType.TIMESTAMP),
        Column("access_key_1_last_used_service", "access_key_1_last_used_service"),
        Column("access_key_2_active", "access_key_2_active", ColumnType.BOOL, required=True),
        Column("access_key_2_last_rotated", "access_key_2_last_rotated", ColumnType.TIMESTAMP),
        Column("access_key_2_last_used_date", "access_key_2_last_used_date", ColumnType.TIMESTAMP),
        Column("access_key_2_last_used_service", "access_key_2_last_used_service"),
    ),
)

ACCOUNT_SUMMARY = Dataset(
    source=SOURCE, name="account_summary", kind=DatasetKind.SNAPSHOT,
    description="IAM GetAccountSummary per account (root MFA and root access keys, entity counts).",
    key_columns=("account_id",),
    columns=(
        *_account_columns(),
        Column("account_mfa_enabled", "summary.AccountMFAEnabled", ColumnType.INT, required=True),
        Column("account_access_keys_present", "summary.AccountAccessKeysPresent", ColumnType.INT, required=True),
        Column("users", "summary.Users", ColumnType.INT),
        Column("mfa_devices_in_use", "summary.MFADevicesInUse", ColumnType.INT),
        Column("policies", "summary.Policies", ColumnType.INT),
    ),
)

PASSWORD_POLICY = Dataset(
    source=SOURCE, name="password_policy", kind=DatasetKind.SNAPSHOT,
    description="IAM account password policy per account; has_policy is false when none is set.",
    key_columns=("account_id",),
    columns=(
        *_account_columns(),
        Column("has_policy", "has_policy", ColumnType.BOOL, required=True),
        Column("minimum_password_length", "policy.MinimumPasswordLength", ColumnType.INT),
        Column("require_symbols", "policy.RequireSymbols", ColumnType.BOOL),
        Column("require_numbers", "policy.RequireNumbers", ColumnType.BOOL),
        Column("require_uppercase", "policy.RequireUppercaseCharacters", ColumnType.BOOL),
        Column("require_lowercase", "policy.RequireLowercaseCharacters", ColumnType.BOOL),
        Column("allow_users_to_change", "policy.AllowUsersToChangePassword", ColumnType.BOOL),
        Column("expire_passwords", "policy.ExpirePasswords", ColumnType.BOOL),
        Column("max_password_age", "policy.MaxPasswordAge", ColumnType.INT),
        Column("password_reuse_prevention", "policy.PasswordReusePrevention", ColumnType.INT),
        Column("hard_expiry", "policy.HardExpiry", ColumnType.BOOL),
    ),
)

IAM_POLICIES = Dataset(
    source=SOURCE, name="iam_policies", kind=DatasetKind.SNAPSHOT,
    description="Customer-managed IAM policies with the document of their default version.",
    key_columns=("account_id", "policy_arn"),
    columns=(
        *_account_columns(),
        Column("policy_arn", "policy.Arn", required=True),
        Column("policy_name", "policy.PolicyName", required=True),
        Column("default_version_id", "policy.DefaultVersionId", required=True),
        Column("attachment_count", "policy.AttachmentCount", ColumnType.INT),
        Column("created_at", "policy.CreateDate", ColumnType.TIMESTAMP),
        Column("updated_at", "policy.UpdateDate", ColumnType.TIMESTAMP),
        Column("document", "default_version.Document", ColumnType.JSON, required=True),
    ),
)

IAM_USERS = Dataset(
    source=SOURCE, name="iam_users", kind=DatasetKind.SNAPSHOT,
    description="IAM users with their tags (email links a user to a person), groups and managed policies "
                "attached directly or through groups (GetAccountAuthorizationDetails).",
    key_columns=("account_id", "user_arn"),
    columns=(
        *_account_columns(),
        Column("user_arn", "user.Arn", required=True),
        Column("user_name", "user.UserName", required=True),
        Column("user_id", "user.UserId", required=True),
        Column("created_at", "user.CreateDate", ColumnType.TIMESTAMP),
        Column("tags", "tags", ColumnType.JSON),
        Column("attached_policy_arns", "attached_policy_arns", ColumnType.STRING_LIST, required=True),
        Column("groups", "groups", ColumnType.STRING_LIST),
        Column("effective_policy_arns", "effective_policy_arns", ColumnType.STRING_LIST, required=True,
               description="Attached directly or through a group."),
    ),
)

S3_BUCKETS = Dataset(
    source=SOURCE, name="s3_buckets", kind=DatasetKind.SNAPSHOT,
    description="S3 buckets with default encryption, public access block, versioning and tags.",
    key_columns=("bucket_name",),
    columns=(
        *_account_columns(),
        Column("bucket_name", "bucket.Name", required=True),
        Column("region", "region", required=True),
        Column("created_at", "bucket.CreationDate", ColumnType.TIMESTAMP),
        Column("encryption_rules", "encryption.Rules", ColumnType.JSON),
        Column("public_access_block", "public_access_block", ColumnType.JSON),
        Column("versioning_status", "versioning.Status"),
        Column("tags", "tags", ColumnType.JSON),
    ),
)

S3_ACCOUNT_PUBLIC_ACCESS_BLOCK = Dataset(
    source=SOURCE, name="s3_account_public_access_block", kind=DatasetKind.SNAPSHOT,
    description="The account-level S3 Block Public Access settings (S3 Control); null when none is set.",
    key_columns=("account_id",),
    columns=(
        *_account_columns(),
        Column("has_configuration", "has_configuration", ColumnType.BOOL, required=True),
        Column("block_public_acls", "configuration.BlockPublicAcls", ColumnType.BOOL),
        Column("ignore_public_acls", "configuration.IgnorePublicAcls", ColumnType.BOOL),
        Column("block_public_policy", "configuration.BlockPublicPolicy", ColumnType.BOOL),
        Column("restrict_public_buckets", "configuration.RestrictPublicBuckets", ColumnType.BOOL),
    ),
)

SECURITY_GROUPS = Dataset(
    source=SOURCE, name="security_groups", kind=DatasetKind.SNAPSHOT,
    description="EC2 security groups per account and active region, with their ingress and egress permissions.",
    key_columns=("account_id", "region", "group_id"),
    columns=(
        *_account_columns(regional=True),
        Column("group_id", "group.GroupId", required=True),
        Column("group_name", "group.GroupName", required=True),
        Column("vpc_id", "group.VpcId"),
        Column("description", "group.Description"),
        Column("ip_permissions", "group.IpPermissions", ColumnType.JSON),
        Column("ip_permissions_egress", "group.IpPermissionsEgress", ColumnType.JSON),
    ),
)

RDS_INSTANCES = Dataset(
    source=SOURCE, name="rds_instances", kind=DatasetKind.SNAPSHOT,
    description="RDS DB instances per account and active region (encryption, backups, Multi-AZ, tags).",
    key_columns=("db_instance_arn",),
    columns=(
        *_account_columns(regional=True),
        Column("db_instance_arn", "instance.DBInstanceArn", required=True),
        Column("db_instance_identifier", "instance.DBInstanceIdentifier", required=True),
        Column("engine", "instance.Engine"),
        Column("status", "instance.DBInstanceStatus"),
        Column("storage_encrypted", "instance.StorageEncrypted", ColumnType.BOOL, required=True),
        Column("kms_key_id", "instance.KmsKeyId"),
        Column("backup_retention_period", "instance.BackupRetentionPeriod", ColumnType.INT, required=True),
        Column("multi_az", "instance.MultiAZ", ColumnType.BOOL, required=True),
        Column("tags", "instance.TagList", ColumnType.JSON),
    ),
)

KMS_KEYS = Dataset(
    source=SOURCE, name="kms_keys", kind=DatasetKind.SNAPSHOT,
    description="KMS keys per account and active region with aliases and, for customer-managed "
                "symmetric keys, automatic rotation status.",
    key_columns=("key_arn",),
    columns=(
        *_account_columns(regional=True),
        Column("key_id", "metadata.KeyId", required=True),
        Column("key_arn", "metadata.Arn", required=True),
        Column("key_manager", "metadata.KeyManager", required=True),
        Column("key_state", "metadata.KeyState", required=True),
        Column("key_spec", "metadata.KeySpec"),
        Column("origin", "metadata.Origin"),
        Column("aliases", "aliases", ColumnType.STRING_LIST, required=True),
        Column("rotation_enabled", "rotation.KeyRotationEnabled", ColumnType.BOOL),
    ),
)

CLOUDTRAIL_TRAILS = Dataset(
    source=SOURCE, name="cloudtrail_trails", kind=DatasetKind.SNAPSHOT,
    description="CloudTrail trails per account (from their home regions) with status and event selectors.",
    key_columns=("trail_arn",),
    columns=(
        *_account_columns(regional=True),
        Column("trail_arn", "trail.TrailARN", required=True),
        Column("trail_name", "trail.Name", required=True),
        Column("home_region", "trail.HomeRegion"),
        Column("s3_bucket_name", "trail.S3BucketName"),
        Column("is_multi_region", "trail.IsMultiRegionTrail", ColumnType.BOOL, required=True),
        Column("is_organization_trail", "trail.IsOrganizationTrail", ColumnType.BOOL),
        Column("log_file_validation_enabled", "trail.LogFileValidationEnabled", ColumnType.BOOL, required=True),
        Column("include_global_service_events", "trail.IncludeGlobalServiceEvents", ColumnType.BOOL),
        Column("is_logging", "status.IsLogging", ColumnType.BOOL, required=True),
        Column("latest_delivery_at", "status.LatestDeliveryTime", ColumnType.TIMESTAMP),
        Column("event_selectors", "selectors.EventSelectors", ColumnType.JSON),
        Column("advanced_event_selectors", "selectors.AdvancedEventSelectors", ColumnType.JSON),
    ),
)

GUARDDUTY_DETECTORS = Dataset(
    source=SOURCE, name="guardduty_detectors", kind=DatasetKind.SNAPSHOT,
    description="GuardDuty per account and active region: one row per detector, or one row with no "
                "detector when the region has none.",
    key_columns=("account_id", "region", "detector_id"),
    columns=(
        *_account_columns(regional=True),
        Column("detector_id", "detector_id"),
        Column("status", "detector.Status"),
        Column("finding_publishing_frequency", "detector.FindingPublishingFrequency"),
        Column("updated_at", "detector.UpdatedAt", ColumnType.TIMESTAMP),
    ),
)

BACKUP_JOBS = Dataset(
    source=SOURCE, name="backup_jobs", kind=DatasetKind.EVENT, time_column="created_at",
    description="AWS Backup jobs created in the interval, per account and active region.",
    key_columns=("account_id", "backup_job_id"),
    columns=(
        *_account_columns(regional=True),
        Column("backup_job_id", "job.BackupJobId", required=True),
        Column("resource_arn", "job.ResourceArn", required=True),
        Column("resource_type", "job.ResourceType"),
        Column("state", "job.State", required=True),
        Column("created_at", "job.CreationDate", ColumnType.TIMESTAMP, required=True),
        Column("completed_at", "job.CompletionDate", ColumnType.TIMESTAMP),
        Column("status_message", "job.StatusMessage"),
        Column("backup_vault_name", "job.BackupVaultName"),
        Column("recovery_point_arn", "job.RecoveryPointArn"),
    ),
)

DATASETS = (CREDENTIAL_REPORT, ACCOUNT_SUMMARY, PASSWORD_POLICY, IAM_POLICIES, IAM_USERS, S3_BUCKETS,
            S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, SECURITY_GROUPS, RDS_INSTANCES, KMS_KEYS, CLOUDTRAIL_TRAILS,
            GUARDDUTY_DETECTORS, BACKUP_JOBS)


# the client -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AwsAccount:
    account_id: str
    name: str
    role_arn: str
    regions: tuple[str, ...]

    def __str__(self) -> str:
        return f"account {self.account_id} ({self.name})"


def accounts_from_extra(extra: dict[str, Any], conn_id: str = CONN_ID) -> tuple[AwsAccount, ...]:
    """The accounts to audit, validated: a bad entry names the field and the entry."""
    entries = extra.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"connection {conn_id}: extra.accounts must list the accounts to audit "
                          "(account_id, name, role_arn, regions)")
    accounts = []
    for number, entry in enumerate(entries, start=1):
        where = f"connection {conn_id}: extra.accounts #{number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object")
        account_id = str(entry.get("account_id", ""))
        if len(account_id) != 12 or not account_id.isdigit():
            raise ConfigError(f"{where}: account_id must be 12 digits, got {entry.get('account_id')!r}")
        role_arn = entry.get("role_arn") or ""
        if not str(role_arn).startswith(f"arn:aws:iam::{account_id}:role/"):
            raise ConfigError(f"{where} ({account_id}): role_arn must be a role in that account, got {role_arn!r}")
        regions = entry.get("regions")
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
            raise ConfigError(f"{where} ({account_id}): regions must be a non-empty list of region names")
        accounts.append(AwsAccount(account_id, str(entry.get("name") or account_id), str(role_arn), tuple(regions)))
    return tuple(accounts)


def strip_account_host_label(request: Any, **_: Any) -> None:
    """S3 Control puts the account id in the host name (`<account>.s3-control...`); a loopback
    endpoint (an IP or localhost) cannot take that label, so it is removed after endpoint
    resolution. Endpoints with a real host name are left alone."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    label, _, rest = parts.netloc.partition(".")
    host = rest.rsplit(":", 1)[0]
    if label.isdigit() and len(label) == 12 and (host == "localhost" or host.replace(".", "").isdigit()):
        request.url = urlunsplit(parts._replace(netloc=rest))


class _Pool:
    """Assumed-role credentials and clients for one connection, shared by the extracts a
    process runs (a demo or backfill runs hundreds): creating a botocore client costs tens
    of milliseconds, assuming a role a round trip. Credentials (valid an hour) are reused
    for at most REUSE_S; all clients share one boto3 session, so service models load once."""

    REUSE_S = 45 * 60

    def __init__(self) -> None:
        import boto3

        self.boto = boto3.Session()
        self.lock = threading.RLock()
        self.credentials: dict[str, tuple[dict[str, Any], float]] = {}
        self.clients: dict[tuple[str, str, str, float], Any] = {}


_POOLS: dict[tuple[Any, ...], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(key: tuple[Any, ...]) -> _Pool:
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = _Pool()
        return _POOLS[key]


@dataclass
class AwsClient:
    """Clients per audited account (STS AssumeRole), service and region."""

    accounts: tuple[AwsAccount, ...]
    home_region: str
    endpoint_url: str | None
    endpoint_urls: dict[str, str]
    max_attempts: int
    login: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    page_size: int | None = None  # None: each API's default
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        secret = hashlib.sha256(self.password.encode()).hexdigest()
        self._pool = _pool_for((self.endpoint_url, tuple(sorted(self.endpoint_urls.items())), self.home_region,
                                self.login, secret, self.max_attempts))

    def __enter__(self) -> AwsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # clients stay in the process's pool for the next extract

    def _config(self, region: str) -> Any:
        from botocore.config import Config

        return Config(region_name=region, retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                      connect_timeout=10, read_timeout=60, s3={"addressing_style": "path"},
                      user_agent_extra="ccm-audit")

    def _endpoint(self, service: str) -> str | None:
        return self.endpoint_urls.get(service) or self.endpoint_url

    def _credentials(self, account: AwsAccount) -> tuple[dict[str, Any], float]:
        pool = self._pool
        with pool.lock:
            cached = pool.credentials.get(account.account_id)
            if cached is not None and time.monotonic() - cached[1] < pool.REUSE_S:
                return cached
            keys = {"aws_access_key_id": self.login, "aws_secret_access_key": self.password} if self.login else {}
            sts = pool.boto.client("sts", endpoint_url=self._endpoint("sts"), config=self._config(self.home_region),
                                   **keys)
            response = self._call(account, self.home_region, "sts", "AssumeRole", sts.assume_role, (),
                                  RoleArn=account.role_arn, RoleSessionName=SESSION_NAME, DurationSeconds=3600)
            credentials = response["Credentials"]
            pool.credentials[account.account_id] = ({
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }, time.monotonic())
            return pool.credentials[account.account_id]

    def client(self, account: AwsAccount, service: str, region: str | None = None) -> Any:
        region = region or self.home_region
        pool = self._pool
        with pool.lock:
            credentials, stamp = self._credentials(account)
            key = (account.account_id, service, region, stamp)
            if key not in pool.clients:
                for stale in [k for k in pool.clients if k[:3] == key[:3]]:
                    pool.clients.pop(stale).close()
                client = pool.boto.client(service, endpoint_url=self._endpoint(service), config=self._config(region),
                                          **credentials)
                if service == "s3control":
                    client.meta.events.register("before-sign.s3-control", strip_account_host_label)
                pool.clients[key] = client
            return pool.clients[key]

    def _call(self, account: AwsAccount, region: str, service: str, operation: str, method: Callable,
              allow: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """Run one (already retried by botocore) call; errors become SourceError naming the
        account, region and API; error codes in `allow` return None instead."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in allow:
                return None
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
            raise SourceError(SOURCE, f"{account} {region} {service}:{operation} failed after {attempts} "
                                      f"attempt(s): {error.get('Code', '?')}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise SourceError(SOURCE, f"{account} {region} {service}:{operation} failed: {exc}") from None

    def call(self, account: AwsAccount, service: str, operation: str, region: str | None = None,
             allow: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """One API call by its AWS name (e.g. "GetBucketEncryption"); error codes in `allow`
        (e.g. "no configuration") return None."""
        from botocore import xform_name

        region = region or self.home_region
        method = getattr(self.client(account, service, region), xform_name(operation))
        return self._call(account, region, service, operation, method, allow, **kwargs)

    def pages(self, account: AwsAccount, service: str, operation: str, fetch_log: FetchLog,
              region: str | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, following the API's own tokens; bounded (botocore
        also refuses a token that repeats)."""
        from botocore import xform_name

        region = region or self.home_region
        paginator = self.client(account, service, region).get_paginator(xform_name(operation))
        config = {"PageSize": self.page_size} if self.page_size else {}
        iterator = iter(paginator.paginate(**kwargs, PaginationConfig=config))
        for number in range(1, MAX_PAGES + 2):
            page = self._call(account, region, service, operation, lambda: next(iterator, None))
            if page is None:
                return
            if number > MAX_PAGES:
                raise SourceError(SOURCE, f"{account} {region} {service}:{operation} returned more than "
                                          f"{MAX_PAGES} pages; refusing to continue")
            fetch_log.pages += 1
            yield page

    def paginate(self, account: AwsAccount, service: str, operation: str, result_key: str, fetch_log: FetchLog,
                 region: str | None = None, **kwargs: Any) -> Iterator[Any]:
        """Every item under `result_key` of a paginated call."""
        for page in self.pages(account, service, operation, fetch_log, region, **kwargs):
            yield from page.get(result_key, [])


def make_client(connection: Any, settings: Any, sleep: Callable[[float], None] | None = None,
                **overrides: Any) -> AwsClient:
    """An AwsClient from the aws_default connection (see the module docstring for its extra).
    Overrides (tests, tuning): max_attempts, page_size."""
    unknown = set(overrides) - {"max_attempts", "page_size"}
    if unknown:
        raise ConfigError(f"source {SOURCE}: unknown client override(s) {', '.join(sorted(unknown))}")
    if connection is None:
        raise ConfigError(f"source {SOURCE}: no {CONN_ID} connection")
    extra = connection.extra or {}
    endpoint_urls = extra.get("endpoint_urls") or {}
    if not isinstance(endpoint_urls, dict):
        raise ConfigError(f"connection {CONN_ID}: extra.endpoint_urls must map service names to URLs")
    password = str(connection.password or "")  # a Secret: never shown in reprs
    return AwsClient(
        accounts=accounts_from_extra(extra, connection.conn_id),
        home_region=extra.get("region_name") or "us-east-1",
        endpoint_url=extra.get("endpoint_url") or None,
        endpoint_urls=dict(endpoint_urls),
        max_attempts=int(overrides.pop("max_attempts", settings.http_max_attempts)),
        login=connection.login or "", password=password,
        page_size=overrides.pop("page_size", None),
        sleep=sleep or time.sleep,
    )


# records ----------------------------------------------------------------------------------

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


def fetch_security_groups(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for region in account.regions:
                for group in client.paginate(account, "ec2", "DescribeSecurityGroups", "SecurityGroups", fetch_log,
                                             region=region):
                    yield _wrap(account, region, group=group)

    return fetch


def fetch_rds_instances(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for region in account.regions:
                for instance in client.paginate(account, "rds", "DescribeDBInstances", "DBInstances", fetch_log,
                                                region=region):
                    yield _wrap(account, region, instance=instance)

    return fetch


def fetch_kms_keys(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for region in account.regions:
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
        for account in client.accounts:
            for region in account.regions:
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
        for account in client.accounts:
            for region in account.regions:
                detector_ids = list(client.paginate(account, "guardduty", "ListDetectors", "DetectorIds", fetch_log,
                                                    region=region))
                if not detector_ids:
                    yield _wrap(account, region, detector_id=None, detector=None)
                for detector_id in detector_ids:
                    detector = client.call(account, "guardduty", "GetDetector", region=region, DetectorId=detector_id)
                    yield _wrap(account, region, detector_id=detector_id, detector=detector)

    return fetch


def fetch_backup_jobs(client: AwsClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for account in client.accounts:
            for region in account.regions:
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
    BACKUP_JOBS.name: fetch_backup_jobs,
}

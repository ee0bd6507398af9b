"""`ccm doctor`: everything a run will need, checked before the first run, one row per check.

Without it a wrong token, a missing permission or a renamed export column shows up days
later as failed extracts and `not_tested` periods. Each check here makes the same call the
extract makes (the family's own client and fetcher, over the day a run would read), so a
green doctor means the run's calls were allowed; a failure says what to change.

Checks, for the datasets the control matrix needs:
- every API dataset: its connection is configured, the source answers, the credential is
  accepted and allowed to read (the first page or the records of each account and region);
  a refusal names the HTTP status or AWS action and the scope or permission to grant;
- every inbox export: delivered for the day, every contract column there, every value
  parses (the same whole-file check as the extract, through the configured mapping);
- the lake and the evidence store accept a write; an S3 evidence bucket has Object Lock
  enabled with a COMPLIANCE default retention of at least `CCM_EVIDENCE_RETENTION_DAYS`.
"""

from __future__ import annotations

import contextlib
import itertools
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from ccm.config import Settings
from ccm.constants import DatasetKind
from ccm.datasets import Dataset
from ccm.errors import CcmError, ExportError
from ccm.sources.connections import Connection
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.registry import get_dataset, source_family

ConnectionResolver = Callable[[str], Connection]


class CheckStatus(StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIPPED = "skipped"  # does not apply to this deployment (e.g. Object Lock on a local store)


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor's table: what was checked, the outcome, and the fix when it failed."""

    area: str
    check: str
    status: CheckStatus
    detail: str = ""
    fix: str = ""


# What each API dataset needs granted, named as the source's own admin console names it.
PERMISSIONS: dict[str, str] = {
    "okta": "Okta: a read-only administrator's API token, or an API service app granted okta.users.read, "
            "okta.roles.read and okta.logs.read",
    "okta.users": "Okta scope okta.users.read",
    "okta.factors": "Okta scope okta.users.read",
    "okta.admin_roles": "Okta scope okta.roles.read",
    "okta.system_log": "Okta scope okta.logs.read",
    "google.users": "Google scope https://www.googleapis.com/auth/admin.directory.user.readonly "
                    "(domain-wide delegation for an admin subject)",
    "github.organization": "GitHub organization permission 'Administration: read'",
    "github.members": "GitHub organization permission 'Members: read'",
    "github.saml_identities": "GitHub organization owner access to the GraphQL samlIdentityProvider",
    "github.repositories": "GitHub repository permission 'Metadata: read'",
    "github.branch_protection": "GitHub repository permission 'Administration: read'",
    "github.dependabot_alerts": "GitHub repository permission 'Dependabot alerts: read'",
    "github.pull_requests": "GitHub repository permission 'Pull requests: read'",
    "github.pull_request_reviews": "GitHub repository permission 'Pull requests: read'",
    "github.pull_request_commits": "GitHub repository permission 'Contents: read'",
    "github.check_runs": "GitHub repository permission 'Checks: read'",
    "github.deployments": "GitHub repository permission 'Deployments: read'",
    "github.workflow_runs": "GitHub repository permission 'Actions: read'",
}

_AWS_ACTION = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)")
_HTTP_STATUS = re.compile(r"HTTP (\d{3})")


def fix_for(dataset: Dataset, conn_id: str | None, error: BaseException) -> str:
    """The change that makes `error` go away, as specific as the error allows."""
    text = str(error)
    action = _AWS_ACTION.search(text)
    if action:
        return f"allow {action.group(1)} in the audit role's IAM policy (include/aws/ccm-audit-policy.json)"
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return f"grant the audit role read access for {dataset.key} ({code})"
    if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"):
        return f"the AWS credentials are rejected ({code}): fix the {conn_id} connection or the role to assume"
    status = _HTTP_STATUS.search(text)
    grant = PERMISSIONS.get(dataset.key) or PERMISSIONS.get(dataset.source, "read access")
    if status and status.group(1) == "401":
        return f"the credential in connection {conn_id} is rejected (expired, revoked or mistyped): replace it"
    if status and status.group(1) == "403":
        return f"the credential in connection {conn_id} lacks a permission: grant {grant}"
    if status and status.group(1) == "404":
        return (f"{conn_id} points at something that does not exist: check its host and extra "
                "(e.g. the GitHub organisation `org`, the Okta domain)")
    if "cannot reach" in text:
        return f"check the host of connection {conn_id} and the network path to it"
    return f"see the error; grant {grant} if it is a permission"


def check_sources(settings: Settings, dataset_keys: Iterable[str], resolve: ConnectionResolver, day: date,
                  sample: int = 1) -> list[CheckResult]:
    """For each API dataset: the connection resolves and the family's fetcher reads the day.

    Event datasets read the first `sample` records (the first page: the call and its
    permission); snapshot datasets are read whole, because their fetchers call each account,
    region or repository in turn and a permission missing in the last one must show too.
    """
    results: list[CheckResult] = []
    interval = Interval(datetime(day.year, day.month, day.day, tzinfo=UTC),
                        datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1))
    connections: dict[str, Connection | CcmError] = {}
    for key in dataset_keys:
        dataset = get_dataset(key)
        family = source_family(dataset.source)
        if family.conn_id is None:
            continue
        if family.conn_id not in connections:
            try:
                connections[family.conn_id] = resolve(family.conn_id)
                results.append(CheckResult(f"connection {family.conn_id}", "configured", CheckStatus.OK))
            except CcmError as exc:
                connections[family.conn_id] = exc
                results.append(CheckResult(f"connection {family.conn_id}", "configured", CheckStatus.FAIL, str(exc),
                                           f"set AIRFLOW_CONN_{family.conn_id.upper()} (JSON, as for Airflow): "
                                           f"host, password and extra as docs/datasets.md lists for {family.name}"))
        connection = connections[family.conn_id]
        if isinstance(connection, CcmError):
            results.append(CheckResult(f"source {family.name}", f"{key} readable", CheckStatus.SKIPPED,
                                       f"no {family.conn_id} connection"))
            continue
        try:
            with family.make_client(connection, settings) as client:
                fetch = family.fetcher(dataset, client)
                records = fetch(interval, FetchLog())
                limit = sample if dataset.kind is DatasetKind.EVENT else None
                read = sum(1 for _ in itertools.islice(records, limit))
        except Exception as exc:  # every failure is a row, not a crash: the table must be complete
            results.append(CheckResult(f"source {family.name}", f"{key} readable", CheckStatus.FAIL,
                                       f"{type(exc).__name__}: {exc}", fix_for(dataset, family.conn_id, exc)))
            continue
        results.append(CheckResult(f"source {family.name}", f"{key} readable", CheckStatus.OK,
                                   f"{read} records read for {day.isoformat()}"
                                   + (" (first page)" if dataset.kind is DatasetKind.EVENT else "")))
    return results


def check_inbox(settings: Settings, dataset_keys: Iterable[str], day: date) -> list[CheckResult]:
    """Each export the controls need: delivered for `day`, and fitting its contract whole."""
    from ccm.sources.describe import export_path
    from ccm.sources.exports.contract import ColumnMapping
    from ccm.sources.exports.daily import make_inbox
    from ccm.sources.exports.inbox import export_for, read_records

    results: list[CheckResult] = []
    keys = [k for k in dataset_keys if source_family(get_dataset(k).source).conn_id is None]
    if not keys:
        return results
    try:
        inbox = make_inbox(None, settings)
    except CcmError as exc:
        return [CheckResult("inbox", "column mapping", CheckStatus.FAIL, str(exc),
                            "fix the inbox mapping file (CCM_INBOX_MAPPING)")]
    for key in keys:
        dataset = get_dataset(key)
        expected = export_path(dataset).replace("YYYY-MM-DD", day.isoformat())
        try:
            export = export_for(inbox, dataset.source, f"{dataset.source}/{dataset.name}", day)
        except CcmError as exc:
            results.append(CheckResult("inbox", f"{key} delivered", CheckStatus.FAIL, str(exc),
                                       f"deliver {settings.inbox_uri}/{expected} (columns: `ccm inbox template {key}`)"))
            continue
        mapping = inbox.mappings.get(key) or ColumnMapping.identity(dataset)
        try:
            records = read_records(inbox, export, FetchLog(), dataset.source, mapping)
        except ExportError as exc:
            column = f" column {exc.column!r}" if exc.column else ""
            results.append(CheckResult("inbox", f"{key} fits its contract", CheckStatus.FAIL, str(exc),
                                       f"fix{column} in the export, or map the export's own columns and date formats "
                                       "in the inbox mapping (CCM_INBOX_MAPPING); contract in docs/datasets.md"))
            continue
        results.append(CheckResult("inbox", f"{key} fits its contract", CheckStatus.OK,
                                   f"{export.path}: {len(records)} records"))
    return results


def check_stores(settings: Settings) -> list[CheckResult]:
    """The lake and the evidence store accept a write; an S3 evidence bucket keeps it locked."""
    results = [_probe_write("lake", settings.lake_uri, settings.s3_endpoint_url)]
    results.append(_probe_write("evidence store", settings.evidence_uri, settings.s3_endpoint_url))
    results.append(check_object_lock(settings))
    return results


def _probe_write(name: str, uri: str, endpoint: str | None) -> CheckResult:
    """Write and remove a small object. (On an Object Lock bucket the probe stays, retained.)"""
    from ccm.lake import open_filesystem

    try:
        fs, root = open_filesystem(uri, endpoint)
        if not uri.startswith("s3://"):
            fs.create_dir(root, recursive=True)
        probe = posixpath.join(root, f"doctor-probe-{datetime.now(UTC):%Y%m%dT%H%M%S%f}")
        with fs.open_output_stream(probe) as stream:
            stream.write(b"ccm doctor write probe\n")
        with contextlib.suppress(OSError):  # an Object Lock bucket may refuse; the write is what was checked
            fs.delete_file(probe)
    except Exception as exc:
        return CheckResult(name, "writable", CheckStatus.FAIL, f"{uri}: {type(exc).__name__}: {exc}",
                           f"create {uri} and give the pipeline's identity write access to it")
    return CheckResult(name, "writable", CheckStatus.OK, uri)


def check_object_lock(settings: Settings) -> CheckResult:
    uri = settings.evidence_uri
    if not uri.startswith("s3://"):
        return CheckResult("evidence store", "Object Lock (compliance mode)", CheckStatus.SKIPPED,
                           f"{uri} is a local directory: no Object Lock (use an S3 bucket for a real audit)")
    import boto3

    bucket = uri.removeprefix("s3://").split("/", 1)[0]
    fix = (f"create the evidence bucket with Object Lock enabled (it cannot be added later without AWS support) and a "
           f"default retention: aws s3api put-object-lock-configuration --bucket {bucket} --object-lock-configuration "
           f"'{{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{{\"DefaultRetention\":{{\"Mode\":\"COMPLIANCE\","
           f"\"Days\":{settings.evidence_retention_days}}}}}}}'")
    try:
        config = boto3.client("s3", endpoint_url=settings.s3_endpoint_url).get_object_lock_configuration(
            Bucket=bucket)["ObjectLockConfiguration"]
    except Exception as exc:
        return CheckResult("evidence store", "Object Lock (compliance mode)", CheckStatus.FAIL,
                           f"bucket {bucket}: no Object Lock configuration ({type(exc).__name__}: {exc})", fix)
    retention: dict[str, Any] = (config.get("Rule") or {}).get("DefaultRetention") or {}
    days = retention.get("Days") or 365 * (retention.get("Years") or 0)
    if config.get("ObjectLockEnabled") != "Enabled":
        problem = "Object Lock is not enabled"
    elif retention.get("Mode") != "COMPLIANCE":
        problem = f"default retention mode is {retention.get('Mode') or 'not set'}, not COMPLIANCE"
    elif days < settings.evidence_retention_days:
        problem = f"default retention is {days} days, less than CCM_EVIDENCE_RETENTION_DAYS={settings.evidence_retention_days}"
    else:
        return CheckResult("evidence store", "Object Lock (compliance mode)", CheckStatus.OK,
                           f"bucket {bucket}: COMPLIANCE, {days} days")
    return CheckResult("evidence store", "Object Lock (compliance mode)", CheckStatus.FAIL, f"bucket {bucket}: {problem}",
                       fix)


def needed_datasets(settings: Settings) -> list[str]:
    """The datasets the deployment's control matrix reads, in matrix order."""
    from ccm.controls.catalog import load_controls
    from ccm.sources.registry import dataset_kinds

    catalog = load_controls(settings, dataset_kinds())
    return list(dict.fromkeys(req.dataset for control in catalog for req in control.sources))


def run_doctor(settings: Settings, resolve: ConnectionResolver, day: date,
               datasets: list[str] | None = None) -> list[CheckResult]:
    """Every check, in table order: stores, inbox exports, sources."""
    keys = datasets if datasets is not None else needed_datasets(settings)
    return [*check_stores(settings), *check_inbox(settings, keys, day),
            *check_sources(settings, keys, resolve, day)]

"""`ccm init`: a deployment's starting configuration, written once and never overwritten.

A new user otherwise learns what to configure by reading the source modules. This writes,
into a configuration folder:
- `connections.env`: one `AIRFLOW_CONN_<ID>` per source family, every field it reads with
  what it is for (the same variables Airflow reads, so the CLI and the scheduler agree);
- `settings.env`: the `CCM_*` settings with their defaults and meaning;
- `inbox_mapping.yml`: the column mapping for exports whose columns or dates differ from
  the contract (commented out: nothing to map until an export differs);
and, when the inbox is a local directory, one folder per export dataset holding
`<dataset>.template.<csv|json>` (no date in its name, so the extract never reads it).

Re-running adds what is missing (a variable or connection a newer version needs, a
template) and keeps every file and every variable the user already has, untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ccm.config import Settings


class Written(StrEnum):
    CREATED = "created"
    ADDED = "added to"  # missing entries appended to an existing file
    KEPT = "kept"


@dataclass(frozen=True)
class ConnectionTemplate:
    """One source's connection: a JSON skeleton and a line per field saying what it is for."""

    conn_id: str
    source: str
    document: dict[str, object]
    fields: tuple[tuple[str, str], ...]


CONNECTIONS: tuple[ConnectionTemplate, ...] = (
    ConnectionTemplate("aws_default", "aws and cloudtrail", {
        "conn_type": "aws", "login": "", "password": "",
        "extra": {"region_name": "us-east-1", "cloudtrail_bucket": "",
                  "accounts": [{"account_id": "123456789012", "name": "production",
                                "role_arn": "arn:aws:iam::123456789012:role/ccm-audit",
                                "regions": ["us-east-1"]}]}}, (
        ("login / password", "an access key id and secret; leave empty to use the standard AWS credential chain "
                             "(instance role, AWS_PROFILE, ...)"),
        ("extra.region_name", "the home region for global APIs (IAM, STS, Organizations)"),
        ("extra.accounts", "every account to audit: account_id (12 digits), name, role_arn (the read-only audit "
                           "role in that account, assumed with STS), regions (where the company runs resources)"),
        ("extra.organization", "instead of extra.accounts: discover the accounts from the AWS Organization: "
                               "{\"role_name\": \"ccm-audit\", \"regions\": [...], \"allow\": [], \"deny\": [], "
                               "\"role_arn\": <optional role allowed organizations:ListAccounts>}; deploy the audit role "
                               "with include/aws/ccm-audit-stackset.yaml"),
        ("extra.cloudtrail_bucket", "the S3 bucket of the organisation trail's log files"),
        ("extra.cloudtrail_prefix", "optional: the trail's S3 key prefix, if it has one"),
        ("extra.cloudtrail_role_arn", "optional: a role to assume for reading the trail bucket (log archive account)"),
        ("extra.endpoint_url", "optional: another AWS endpoint (tests and the demo point it at a moto server)"),
    )),
    ConnectionTemplate("okta_default", "okta", {
        "conn_type": "http", "host": "https://your-org.okta.com", "password": ""}, (
        ("host", "your Okta org URL"),
        ("password", "an API token (SSWS) of a read-only administrator: reads users, factors, admin roles and the "
                     "System Log (okta.users.read, okta.roles.read, okta.logs.read)"),
        ("extra.client_id", "instead of an API token, an API service app (private_key_jwt): its client id; the "
                            "password is then the app's private key (PEM); optional extra.key_id and extra.scopes"),
    )),
    ConnectionTemplate("google_default", "google", {
        "conn_type": "http", "host": "https://admin.googleapis.com", "password": ""}, (
        ("host", "the Admin SDK root, https://admin.googleapis.com"),
        ("password", "an OAuth access token with admin.directory.user.readonly for an admin (expires after an "
                     "hour: refresh it before each run)"),
        ("extra.subject", "instead of an access token, a service account with domain-wide delegation of "
                          "admin.directory.user.readonly: the admin's email to act as; the password is then the "
                          "service account's JSON key"),
    )),
    ConnectionTemplate("github_default", "github", {
        "conn_type": "http", "host": "https://api.github.com", "password": "", "extra": {"org": "your-org"}}, (
        ("host", "the REST API root: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server"),
        ("password", "a token of an organisation owner with read access: Administration, Members, Metadata, "
                     "Contents, Pull requests, Checks, Deployments, Actions, Dependabot alerts (all read)"),
        ("extra.org", "the organisation's login, as in https://github.com/<org>"),
        ("extra.app_id / extra.installation_id", "instead of a token, a GitHub App: its id and the organisation's "
                                                 "installation id; the password is then the app's private key (PEM), "
                                                 "and installation tokens are renewed as they expire"),
        ("extra.graphql_url", "optional: the GraphQL endpoint if not <host>/graphql (SAML identities)"),
    )),
    ConnectionTemplate("intune_default", "intune", {
        "conn_type": "http", "host": "https://graph.microsoft.com", "login": "", "password": "",
        "extra": {"tenant_id": ""}}, (
        ("host", "the Microsoft Graph root, https://graph.microsoft.com (if you manage devices with Intune)"),
        ("login / password", "an Entra app registration's application (client) id and a client secret, granted the "
                             "application permission DeviceManagementManagedDevices.Read.All"),
        ("extra.tenant_id", "the Entra directory (tenant) id the app belongs to"),
    )),
    ConnectionTemplate("crowdstrike_default", "crowdstrike", {
        "conn_type": "http", "host": "https://api.crowdstrike.com", "login": "", "password": ""}, (
        ("host", "your Falcon cloud's API URL: api.crowdstrike.com, api.us-2.crowdstrike.com, api.eu-1.crowdstrike.com"),
        ("login / password", "a Falcon API client id and secret with the Hosts: Read scope"),
    )),
    ConnectionTemplate("jamf_default", "jamf", {
        "conn_type": "http", "host": "https://your-org.jamfcloud.com", "login": "", "password": ""}, (
        ("host", "your Jamf Pro URL (if you manage Macs with Jamf Pro)"),
        ("login / password", "a Jamf Pro API client id and secret whose role has the Read Computers privilege"),
    )),
)

SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("CCM_DATA_DIR", "", "the default parent of the lake, evidence store, inbox and warehouse (default: ./var)"),
    ("CCM_LAKE_URI", "", "the raw lake: a directory or s3://bucket/prefix"),
    ("CCM_EVIDENCE_URI", "", "the evidence store: a directory, or s3://bucket/prefix on a bucket with Object Lock "
                             "in compliance mode (`ccm doctor` checks it)"),
    ("CCM_EVIDENCE_RETENTION_DAYS", "400", "how long evidence is locked: the observation window plus the audit"),
    ("CCM_INBOX_URI", "", "where the HR, LMS, GRC and IGA exports are delivered: a directory or s3://bucket/prefix"),
    ("CCM_INBOX_MAPPING", "", "the column mapping for exports with their own column names or date formats"),
    ("CCM_WAREHOUSE", "", "the DuckDB file the populations and results are built in"),
    ("CCM_COMPANY_DIR", "", "your own controls and exceptions (`ccm controls init`)"),
    ("CCM_EXCEPTIONS", "", "the approved exceptions file (default: include/exceptions.yml)"),
    ("CCM_S3_ENDPOINT_URL", "", "optional: another S3 endpoint for the lake, evidence and inbox"),
    ("CCM_LATE_DATA_LOOKBACK_HOURS", "24", "how far back late CloudTrail files are re-read"),
)

MAPPING_EXAMPLE = """\
# How an export differs from its contract (docs/datasets.md), per dataset. Uncomment and edit
# when your HRIS or LMS names its columns or writes its dates its own way; `ccm doctor` checks it.
#
# hr.employees:
#   columns:              # the export's column -> the contract's source field
#     Employee Number: employee_id
#     Work Email: work_email
#   date_formats:         # the contract's source field -> strptime format (naive times are UTC)
#     hire_date: "%m/%d/%Y"
#     termination_datetime: "%m/%d/%Y %H:%M"
#   encoding: utf-8       # e.g. cp1252 for a Windows export
"""

_ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _connection_block(template: ConnectionTemplate) -> str:
    lines = [f"# {template.conn_id}: {template.source}"]
    lines += [f"#   {name}: {why}" for name, why in template.fields]
    lines.append(f"export AIRFLOW_CONN_{template.conn_id.upper()}='{json.dumps(template.document)}'")
    return "\n".join(lines) + "\n"


def _setting_block(name: str, default: str, why: str, folder: Path) -> str:
    value = str(folder.resolve() / "inbox_mapping.yml") if name == "CCM_INBOX_MAPPING" else default
    prefix = "" if value else "# "  # unset: the default applies
    return f"# {why}\n{prefix}export {name}={value}\n"


def _write_blocks(path: Path, header: str, blocks: dict[str, str]) -> Written:
    """Create `path`, or append the blocks whose variable it does not assign yet; never rewrite."""
    if not path.exists():
        path.write_text(header + "\n" + "\n".join(blocks.values()))
        return Written.CREATED
    text = path.read_text()
    present = set(_ASSIGNED.findall(text)) | set(re.findall(r"^#\s*export\s+([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    missing = [block for name, block in blocks.items() if name not in present]
    if not missing:
        return Written.KEPT
    with path.open("a") as stream:
        stream.write(("\n" if not text.endswith("\n") else "") + "\n" + "\n".join(missing))
    return Written.ADDED


def init_deployment(folder: Path, settings: Settings) -> list[tuple[Written, Path]]:
    """Write the starting configuration into `folder` (and inbox templates); returns what was
    created, added to or kept, file by file."""
    from ccm.sources.describe import export_format, inbox_template
    from ccm.sources.exports.datasets import DATASETS

    folder.mkdir(parents=True, exist_ok=True)
    out: list[tuple[Written, Path]] = []
    connections = folder / "connections.env"
    out.append((_write_blocks(connections, "# Source connections: `source` this file, then run `ccm doctor`.\n"
                                           "# Airflow reads the same AIRFLOW_CONN_* variables (or put them in its "
                                           "secrets backend).",
                              {f"AIRFLOW_CONN_{t.conn_id.upper()}": _connection_block(t) for t in CONNECTIONS}),
                connections))
    settings_file = folder / "settings.env"
    out.append((_write_blocks(settings_file, "# ccm settings: commented lines keep their default.",
                              {name: _setting_block(name, default, why, folder) for name, default, why in SETTINGS}),
                settings_file))
    mapping = folder / "inbox_mapping.yml"
    if mapping.exists():
        out.append((Written.KEPT, mapping))
    else:
        mapping.write_text(MAPPING_EXAMPLE)
        out.append((Written.CREATED, mapping))
    if settings.inbox_uri.startswith("s3://"):
        return out  # templates go to the producers, not into a bucket; `ccm inbox template` writes one
    for dataset in DATASETS:
        target = Path(settings.inbox_uri) / dataset.source / dataset.name / (
            f"{dataset.name}.template.{export_format(dataset)}")
        if target.exists():
            out.append((Written.KEPT, target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(inbox_template(dataset))
        out.append((Written.CREATED, target))
    return out

"""CloudTrail datasets: management events, trail changes, digest coverage per hour."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "cloudtrail"
CONN_ID = "aws_default"
TRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
                       "PutInsightSelectors", "DeleteEventDataStore")


# the fields the controls (and a first look at an incident) need; everything else is in raw
_EVENT_COLUMNS = (
    Column("event_id", "eventID", required=True, description="Unique per event; duplicates are dropped."),
    Column("event_time", "eventTime", ColumnType.TIMESTAMP, required=True),
    Column("event_source", "eventSource", required=True),
    Column("event_name", "eventName", required=True),
    Column("event_type", "eventType", description="AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ..."),
    Column("aws_region", "awsRegion"),
    Column("recipient_account_id", "recipientAccountId"),
    Column("source_ip_address", "sourceIPAddress"),
    Column("read_only", "readOnly", ColumnType.BOOL),
    Column("error_code", "errorCode"),
    Column("user_type", "userIdentity.type", description="Root, IAMUser, AssumedRole, FederatedUser, AWSService, ..."),
    Column("user_arn", "userIdentity.arn"),
    Column("user_invoked_by", "userIdentity.invokedBy", description="the AWS service that acted for the identity"),
    Column("console_login_result", "responseElements.ConsoleLogin", description="ConsoleLogin: Success or Failure"),
    Column("mfa_used", "additionalEventData.MFAUsed", description="ConsoleLogin: Yes or No"),
    Column("saml_provider_arn", "additionalEventData.SamlProviderArn",
           description="ConsoleLogin through a SAML identity provider (the IdP did the authentication)"),
    Column("log_file", "log_file", description="S3 key of the log file the record was read from (not a record field)"),
)

EVENTS = Dataset(
    source=SOURCE,
    name="events",
    kind=DatasetKind.EVENT,
    description="CloudTrail management events of every account and region in scope, by eventTime.",
    key_columns=("event_id",),
    time_column="event_time",
    columns=_EVENT_COLUMNS,
    late_arriving=True,
)

TRAIL_CHANGES = Dataset(
    source=SOURCE,
    name="trail_changes",
    kind=DatasetKind.EVENT,
    description=(
        "Calls that change what a trail records (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ...), "
        "from every log file delivered intact; files missing or altered are reported by cloudtrail.digests."
    ),
    key_columns=("event_id",),
    time_column="event_time",
    columns=_EVENT_COLUMNS,
    late_arriving=True,
)

DIGESTS = Dataset(
    source=SOURCE,
    name="digests",
    kind=DatasetKind.EVENT,
    description="Hourly digest coverage per account and region: digest found, log files listed, missing, altered.",
    key_columns=("account_id", "region", "digest_start_time"),
    time_column="digest_start_time",
    columns=(
        Column("account_id", "account_id", required=True),
        Column("region", "region", required=True),
        Column("digest_start_time", "digest_start_time", ColumnType.TIMESTAMP, required=True),
        Column("digest_end_time", "digest_end_time", ColumnType.TIMESTAMP, required=True),
        Column("digest_found", "digest_found", ColumnType.BOOL, required=True,
               description="false: no digest covers this hour (none delivered, or not yet)"),
        Column("digest_s3_object", "digest_s3_object",
               description="the digest's key; for a missing hour, the key the next digest's chain names, if any"),
        Column("digest_intact", "digest_intact", ColumnType.BOOL,
               description="the next digest records this digest's SHA-256 (null: no next digest yet)"),
        Column("previous_digest_s3_object", "previous_digest_s3_object"),
        Column("log_file_count", "log_file_count", ColumnType.INT),
        Column("log_files_missing", "log_files_missing", ColumnType.INT,
               description="listed log files not in the bucket"),
        Column("log_files_altered", "log_files_altered", ColumnType.INT,
               description="listed log files whose uncompressed SHA-256 differs from the digest, or unreadable"),
        Column("log_files", "log_files", ColumnType.JSON,
               description="[{s3_object, hash_value, found, intact, oldest_event_time, newest_event_time}]"),
        Column("oldest_event_time", "oldest_event_time", ColumnType.TIMESTAMP),
        Column("newest_event_time", "newest_event_time", ColumnType.TIMESTAMP),
    ),
    late_arriving=True,
)

DATASETS = (EVENTS, TRAIL_CHANGES, DIGESTS)

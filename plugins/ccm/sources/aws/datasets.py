"""AWS datasets: IAM (credential report, account summary, password policy, policies, users),
S3, security groups, RDS, KMS, CloudTrail trails, GuardDuty, AWS Config recorders, Backup jobs.
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "aws"
CONN_ID = "aws_default"


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
    description="RDS DB instances per account and active region (encryption, backups, Multi-AZ, public "
                "accessibility, deletion protection, tags).",
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
        Column("publicly_accessible", "instance.PubliclyAccessible", ColumnType.BOOL, required=True),
        Column("deletion_protection", "instance.DeletionProtection", ColumnType.BOOL, required=True),
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

CONFIG_RECORDERS = Dataset(
    source=SOURCE, name="config_recorders", kind=DatasetKind.SNAPSHOT,
    description="AWS Config per account and active region: one row per configuration recorder with its "
                "status, or one row with no recorder when the region has none.",
    key_columns=("account_id", "region", "recorder_name"),
    columns=(
        *_account_columns(regional=True),
        Column("recorder_name", "recorder.name"),
        Column("all_supported", "recorder.recordingGroup.allSupported", ColumnType.BOOL),
        Column("include_global_resource_types", "recorder.recordingGroup.includeGlobalResourceTypes",
               ColumnType.BOOL),
        Column("recording", "status.recording", ColumnType.BOOL),
        Column("last_status", "status.lastStatus"),
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
            GUARDDUTY_DETECTORS, CONFIG_RECORDERS, BACKUP_JOBS)

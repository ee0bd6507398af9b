-- Population for inf_encryption_at_rest: per period, every S3 bucket (default encryption)
-- and every RDS instance (storage encryption) in the audited accounts. Buckets tagged
-- data-classification confidential or restricted must use KMS keys (requires_kms). The
-- criteria live in the GX suite ctl_inf_encryption_at_rest.
with

buckets as (
    {{ observed_snapshot('stg_aws__s3_buckets', 'aws.s3_buckets') }}
),

instances as (
    {{ observed_snapshot('stg_aws__rds_instances', 'aws.rds_instances') }}
)

select
    period_start,
    period_end,
    bucket_arn as entity_id,
    's3_bucket' as resource_type,
    account_id,
    region,
    sse_algorithm is not null as encrypted,
    sse_algorithm as encryption,
    coalesce(data_classification in ('confidential', 'restricted'), false) as requires_kms,
    data_classification,
    observed_at,
    'aws.s3_buckets:bucket_name=' || bucket_name || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from buckets

union all

select
    period_start,
    period_end,
    db_instance_arn as entity_id,
    'rds_instance' as resource_type,
    account_id,
    region,
    coalesce(storage_encrypted, false) as encrypted,
    case when storage_encrypted then 'aws:kms' end as encryption,
    false as requires_kms,  -- RDS storage encryption always uses KMS
    null as data_classification,
    observed_at,
    'aws.rds_instances:db_instance_arn=' || db_instance_arn || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from instances

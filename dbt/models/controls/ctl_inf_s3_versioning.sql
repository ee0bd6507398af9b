-- Population for inf_s3_versioning: every S3 bucket of every audited account, per period,
-- with its versioning state as GetBucketVersioning reports it: Enabled, Suspended, or
-- NeverEnabled when the answer has no Status (a bucket whose versioning was never turned
-- on). The criterion (Enabled) lives in the GX suite ctl_inf_s3_versioning.
with

buckets as (
    {{ observed_snapshot('stg_aws__s3_buckets', 'aws.s3_buckets') }}
)

select
    period_start,
    period_end,
    bucket_arn as entity_id,
    account_id,
    bucket_name,
    region,
    coalesce(versioning_status, 'NeverEnabled') as versioning_state,
    data_classification,
    observed_at,
    'aws.s3_buckets:bucket_name=' || bucket_name || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from buckets

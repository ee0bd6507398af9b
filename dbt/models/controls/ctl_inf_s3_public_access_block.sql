-- Population for inf_s3_public_access_block: per period, every audited account (its
-- account-level S3 Block Public Access settings) and every bucket (its own settings). A
-- missing configuration shows as all four settings off. The criterion (all four on) lives
-- in the GX suite ctl_inf_s3_public_access_block.
with

accounts as (
    {{ observed_snapshot('stg_aws__s3_account_public_access_blocks', 'aws.s3_account_public_access_block') }}
),

buckets as (
    {{ observed_snapshot('stg_aws__s3_buckets', 'aws.s3_buckets') }}
)

select
    period_start,
    period_end,
    account_id as entity_id,
    'account' as entity_type,
    account_id,
    has_configuration,
    block_public_acls,
    ignore_public_acls,
    block_public_policy,
    restrict_public_buckets,
    observed_at,
    'aws.s3_account_public_access_block:account_id=' || account_id || '@'
        || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from accounts

union all

select
    period_start,
    period_end,
    bucket_arn as entity_id,
    'bucket' as entity_type,
    account_id,
    has_public_access_block as has_configuration,
    block_public_acls,
    ignore_public_acls,
    block_public_policy,
    restrict_public_buckets,
    observed_at,
    'aws.s3_buckets:bucket_name=' || bucket_name || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from buckets

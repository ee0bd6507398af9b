select
    observed_at,
    account_id,
    account_name,
    has_configuration,
    coalesce(block_public_acls, false) as block_public_acls,
    coalesce(ignore_public_acls, false) as ignore_public_acls,
    coalesce(block_public_policy, false) as block_public_policy,
    coalesce(restrict_public_buckets, false) as restrict_public_buckets,
    raw,
    lake_file
from {{ source('aws', 'aws__s3_account_public_access_block') }}

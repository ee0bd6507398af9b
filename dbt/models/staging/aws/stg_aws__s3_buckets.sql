select
    observed_at,
    account_id,
    account_name,
    bucket_name,
    'arn:aws:s3:::' || bucket_name as bucket_arn,
    region,
    json_extract_string(encryption_rules, '$[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm') as sse_algorithm,
    public_access_block is not null as has_public_access_block,
    coalesce((public_access_block::json ->> 'BlockPublicAcls')::boolean, false) as block_public_acls,
    coalesce((public_access_block::json ->> 'IgnorePublicAcls')::boolean, false) as ignore_public_acls,
    coalesce((public_access_block::json ->> 'BlockPublicPolicy')::boolean, false) as block_public_policy,
    coalesce((public_access_block::json ->> 'RestrictPublicBuckets')::boolean, false) as restrict_public_buckets,
    versioning_status,
    lower(tags::json ->> 'data-classification') as data_classification,
    tags::json as tags,
    raw,
    lake_file
from {{ source('aws', 'aws__s3_buckets') }}

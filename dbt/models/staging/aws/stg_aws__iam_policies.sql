select
    observed_at,
    account_id,
    account_name,
    policy_arn,
    policy_name,
    default_version_id,
    attachment_count,
    document::json as document,
    raw,
    lake_file
from {{ source('aws', 'aws__iam_policies') }}

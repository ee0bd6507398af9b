select
    observed_at,
    account_id,
    account_name,
    region,
    trail_arn,
    trail_name,
    home_region,
    s3_bucket_name,
    is_multi_region,
    is_organization_trail,
    log_file_validation_enabled,
    is_logging,
    coalesce(event_selectors, '[]')::json as event_selectors,
    coalesce(advanced_event_selectors, '[]')::json as advanced_event_selectors,
    raw,
    lake_file
from {{ source('aws', 'aws__cloudtrail_trails') }}

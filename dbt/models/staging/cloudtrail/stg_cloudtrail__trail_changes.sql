-- Changes to what a trail records; trail_name is the last part of the name or ARN requested.
select
    event_id,
    event_time,
    event_name,
    aws_region,
    recipient_account_id,
    user_arn,
    error_code,
    error_code is null as succeeded,
    regexp_extract(
        coalesce(raw ->> '$.requestParameters.name', raw ->> '$.requestParameters.trailName', ''),
        '([^/:]+)$', 1
    ) as trail_name,
    log_file,
    raw,
    lake_file
from {{ source('cloudtrail', 'cloudtrail__trail_changes') }}

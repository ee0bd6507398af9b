select
    observed_at,
    account_id,
    account_name,
    region,
    detector_id,
    status as detector_status,
    raw,
    lake_file
from {{ source('aws', 'aws__guardduty_detectors') }}

select
    observed_at,
    account_id,
    account_name,
    region,
    recorder_name,
    all_supported,
    include_global_resource_types,
    recording,
    upper(last_status) as last_status,
    raw,
    lake_file
from {{ source('aws', 'aws__config_recorders') }}

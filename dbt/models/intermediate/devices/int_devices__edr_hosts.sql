-- Every EDR's hosts in one shape, per observation (one union branch per EDR; CrowdStrike
-- Falcon today).
select
    'crowdstrike' as edr,
    'crowdstrike.hosts' as dataset,
    observed_at,
    lake_file,
    host_id,
    hostname,
    serial_number,
    last_seen_at,
    sensor_status
from {{ ref('stg_crowdstrike__hosts') }}

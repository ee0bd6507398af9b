-- Falcon hosts per observation; the serial number upper-cased and trimmed (the join key to
-- the MDM's devices).
select
    observed_at,
    device_id as host_id,
    hostname,
    nullif(upper(trim(serial_number)), '') as serial_number,
    last_seen as last_seen_at,
    first_seen as first_seen_at,
    status as sensor_status,
    platform_name,
    agent_version,
    os_version,
    product_type_desc,
    raw,
    lake_file
from {{ source('crowdstrike', 'crowdstrike__hosts') }}

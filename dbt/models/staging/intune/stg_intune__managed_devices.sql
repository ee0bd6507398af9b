-- Intune managed devices per observation. The primary user's UPN is lower-cased (the
-- join key to the HR work email) and NULL when Intune has none (Graph sends ""); the
-- serial number is upper-cased and trimmed (the join key to the EDR's hosts).
select
    observed_at,
    device_id,
    device_name,
    operating_system,
    os_version,
    is_encrypted,
    compliance_state,
    management_state,
    last_sync_at,
    enrolled_at,
    nullif(lower(trim(user_principal_name)), '') as user_principal_name,
    nullif(upper(trim(serial_number)), '') as serial_number,
    owner_type,
    model,
    manufacturer,
    raw,
    lake_file
from {{ source('intune', 'intune__managed_devices') }}

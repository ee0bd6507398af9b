-- Population for end_devices_encrypted: every actively managed device (management state
-- "managed": not being retired or wiped) per period, from the MDM observation taken after
-- the period closed, with whether its disk is encrypted (BitLocker / FileVault, as the
-- MDM reports it). The pass criterion lives in the GX suite ctl_end_devices_encrypted.
with

devices as (
    {{ device_graph() }}
)

select
    period_start,
    period_end,
    device_id as entity_id,
    mdm,
    device_name,
    operating_system,
    serial_number,
    primary_user,
    is_encrypted,
    observed_at,
    source_ref
from devices
where is_managed

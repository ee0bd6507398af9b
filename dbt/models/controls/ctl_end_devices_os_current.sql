-- Population for end_devices_os_current: every actively managed device per period, from
-- the MDM observation taken after the period closed, with whether its OS version meets
-- the company's minimum for its platform (var device_os_minimums) and how many hours
-- before the observation it last checked in. The pass criteria (minimum met, checked in
-- within var device_check_in_max_hours) live in the GX suite ctl_end_devices_os_current.
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
    os_version,
    os_minimum,
    os_meets_minimum,
    last_check_in_at,
    check_in_age_hours,
    check_in_age_hours <= {{ var('device_check_in_max_hours') }} as checked_in_recently,
    primary_user,
    observed_at,
    source_ref
from devices
where is_managed

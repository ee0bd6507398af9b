-- Population for end_edr_sensor_reporting: every actively managed device per period, from
-- the MDM observation taken after the period closed, with the EDR hosts of the same serial
-- number in the EDR observation taken after the period closed and how many hours before
-- the observation the sensor last reported. A device without a serial number, or with no
-- EDR host, has no sensor: sensor_finding says which. The pass criterion (a sensor that
-- reported within var device_check_in_max_hours) lives in the GX suite.
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
    serial_number,
    primary_user,
    edr_host_count,
    sensor_last_seen_at,
    sensor_age_hours,
    case
        when serial_number is null then 'no_serial_number'
        when edr_host_count = 0 then 'no_edr_host'
        when sensor_age_hours > {{ var('device_check_in_max_hours') }} then 'sensor_silent'
        else 'reporting'
    end as sensor_finding,
    observed_at,
    source_ref
from devices
where is_managed

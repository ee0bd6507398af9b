-- Population for end_device_owners: every device the MDM lists (whatever its management
-- state) per period, from the MDM observation taken after the period closed, linked to its
-- owner on the HR roster observed after the period closed. owner_finding states the
-- verdict's reason:
--   current_workforce       the owner is Active or Pending in HR;
--   leaver_device_retiring  the owner left and a retire or wipe was issued;
--   leaver_within_deadline  the owner left less than var device_retire_deadline_hours ago;
--   leaver_not_retired      the owner left longer ago and the device is still managed;
--   no_primary_user         the MDM names nobody for the device (it cannot be attributed);
--   no_hr_record            its primary user is on no (or on more than one) HR record.
-- The pass criterion (the first three) lives in the GX suite ctl_end_device_owners.
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
    management_state,
    primary_user,
    employee_id,
    employment_status,
    termination_at,
    case
        when owner_link <> 'linked' then owner_link
        when has_current_hr_record then 'current_workforce'
        when is_being_removed then 'leaver_device_retiring'
        when termination_at is not null
             and observed_at <= termination_at + interval ({{ var('device_retire_deadline_hours') }}) hour
            then 'leaver_within_deadline'
        else 'leaver_not_retired'
    end as owner_finding,
    observed_at,
    source_ref
from devices

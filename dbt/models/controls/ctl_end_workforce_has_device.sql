-- Population for end_workforce_has_device: every active workforce member (HR status
-- Active, employees and contractors) on the roster observed after the period closed, with
-- how many actively managed devices the MDM observation taken after the period closed
-- attributes to them (primary user = work email, through the device graph). The pass
-- criterion (at least one) lives in the GX suite ctl_end_workforce_has_device.
with

people as (
    {{ observed_snapshot('stg_hr__employees', 'hr.employees') }}
),

devices as (
    {{ device_graph() }}
),

owned as (
    select period_start, employee_id, count(*) as managed_device_count,
           string_agg(device_id, ',' order by device_id) as device_ids
    from devices
    where is_managed and employee_id is not null
    group by period_start, employee_id
)

select
    people.period_start,
    people.period_end,
    people.employee_id as entity_id,
    people.email,
    people.employment_type,
    people.department,
    coalesce(owned.managed_device_count, 0) as managed_device_count,
    owned.device_ids,
    people.observed_at,
    'hr.employees:employee_id=' || people.employee_id || '@'
        || strftime(people.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from people
left join owned
    on owned.period_start = people.period_start
   and owned.employee_id = people.employee_id
where people.is_active

-- The device graph as each planned control-period sees it: every MDM device of the
-- observation the engine chose for that period, with
-- - its EDR sensor: the hosts with the same serial number in the EDR observation chosen
--   for the same period (how many, and the latest last_seen among them);
-- - its owner: the person on the HR roster observation chosen for the same period whose
--   work email is the device's primary user (an email two roster entries share links to
--   nobody);
-- - owner_link: why a device has no owner (no_primary_user, no_hr_record), else linked.
-- Hours are measured to the device observation's observed_at (when the MDM was read).
-- Population models read their own rows: where population_model = <the model>.
with

plan as (
    select distinct population_model, period_start, period_end, dataset, lake_file
    from {{ ref('stg_ccm__plan_inputs') }}
),

devices as (
    select plan.population_model, plan.period_start, plan.period_end, devices.*
    from {{ ref('int_devices__managed_devices') }} as devices
    join plan on plan.dataset = devices.dataset and plan.lake_file = devices.lake_file
    where devices.observed_at between {{ plan_bound('snapshots_from') }} and {{ plan_bound('snapshots_to') }}
),

hosts as (
    select plan.population_model, plan.period_start, hosts.*
    from {{ ref('int_devices__edr_hosts') }} as hosts
    join plan on plan.dataset = hosts.dataset and plan.lake_file = hosts.lake_file
    where hosts.observed_at between {{ plan_bound('snapshots_from') }} and {{ plan_bound('snapshots_to') }}
),

sensors as (
    select population_model, period_start, serial_number, count(*) as edr_host_count,
           max(last_seen_at) as sensor_last_seen_at
    from hosts
    where serial_number is not null
    group by population_model, period_start, serial_number
),

people as (
    select plan.population_model, plan.period_start, people.*
    from {{ ref('int_identity__people') }} as people
    join plan on plan.dataset = people.dataset and plan.lake_file = people.lake_file
    where people.observed_at between {{ plan_bound('snapshots_from') }} and {{ plan_bound('snapshots_to') }}
),

by_email as (
    select population_model, period_start, lower(email) as email, min(employee_id) as employee_id
    from people
    group by population_model, period_start, lower(email)
    having count(distinct employee_id) = 1
)

select
    devices.*,
    coalesce(sensors.edr_host_count, 0) as edr_host_count,
    sensors.sensor_last_seen_at,
    person.employee_id,
    person.employment_status,
    coalesce(person.is_current, false) as has_current_hr_record,
    person.termination_at,
    case
        when devices.primary_user is null then 'no_primary_user'
        when person.employee_id is null then 'no_hr_record'
        else 'linked'
    end as owner_link,
    date_diff('minute', devices.last_check_in_at, devices.observed_at) / 60.0 as check_in_age_hours,
    date_diff('minute', sensors.sensor_last_seen_at, devices.observed_at) / 60.0 as sensor_age_hours,
    devices.dataset || ':' || devices.device_id || '@'
        || strftime(devices.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from devices
left join sensors
    on sensors.population_model = devices.population_model
   and sensors.period_start = devices.period_start
   and sensors.serial_number = devices.serial_number
left join by_email
    on by_email.population_model = devices.population_model
   and by_email.period_start = devices.period_start
   and by_email.email = devices.primary_user
left join people as person
    on person.population_model = devices.population_model
   and person.period_start = devices.period_start
   and person.employee_id = by_email.employee_id

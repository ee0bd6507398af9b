-- Population for org_background_checks: every hire whose start date (HR hire_date) falls in
-- the period, from the HR roster observed after the period closed, with the first background
-- check the screening vendor completed for them (matched on the HR employee id the check was
-- ordered under). The vendor's own list is never the population: a hire with no check at all
-- is in it, a withdrawn candidate's check is not. The pass criterion (completed at least a day
-- before the start date, with a clear or adjudicated outcome) lives in the GX suite.
with

roster as (
    {{ observed_snapshot('stg_hr__employees', 'hr.employees') }}
),

checks as (
    {{ observed_snapshot('stg_grc__background_checks', 'grc.background_checks') }}
),

hires as (
    select *
    from roster
    where hire_date >= period_start::date and hire_date < period_end::date
),

completed as (
    select
        period_start,
        employee_id,
        check_id,
        requested_at,
        completed_at,
        check_result,
        check_adjudication,
        check_outcome,
        observed_at,
        row_number() over (partition by period_start, employee_id order by completed_at, check_id) as nth
    from checks
    where check_status = 'complete' and completed_at is not null and completed_at < period_end
),

ordered as (
    select period_start, employee_id, count(*) as checks_ordered
    from checks
    group by period_start, employee_id
)

select
    hires.period_start,
    hires.period_end,
    hires.employee_id as entity_id,
    hires.email,
    hires.employment_type,
    hires.employment_status,
    hires.hire_date,
    coalesce(ordered.checks_ordered, 0) as checks_ordered,
    completed.check_id,
    completed.requested_at as check_requested_at,
    completed.completed_at as check_completed_at,
    completed.check_result,
    completed.check_adjudication,
    completed.check_outcome,
    date_diff('day', completed.completed_at::date, hires.hire_date) as days_completed_before_start,
    hires.observed_at,
    'hr.employees:employee_id=' || hires.employee_id || '@' || strftime(hires.observed_at, '%Y-%m-%dT%H:%M:%SZ')
    || coalesce('; grc.background_checks:check_id=' || completed.check_id || '@'
                || strftime(completed.observed_at, '%Y-%m-%dT%H:%M:%SZ'), '') as source_ref
from hires
left join completed
    on completed.period_start = hires.period_start
   and completed.employee_id = hires.employee_id
   and completed.nth = 1
left join ordered
    on ordered.period_start = hires.period_start
   and ordered.employee_id = hires.employee_id

-- Population for org_policy_acknowledgement: every employee active in the HR roster at the
-- period's close, with the policy versions in force at the close that require
-- acknowledgement (per policy, the latest version published before the close, from the GRC
-- policy register observed after it) and whether they acknowledged each one by the close.
-- A version is owed from its publication or the employee's start date, whichever is later;
-- max_days_unacknowledged is how long the oldest unacknowledged one has been owed (0 when
-- everything is acknowledged). The grace period lives in the GX suite.
with

roster as (
    {{ observed_snapshot('stg_hr__employees', 'hr.employees') }}
),

policies as (
    {{ observed_snapshot('stg_grc__policies', 'grc.policies') }}
),

acknowledgements as (
    {{ observed_snapshot('stg_grc__policy_acknowledgements', 'grc.policy_acknowledgements') }}
),

in_force as (
    select
        *,
        row_number() over (partition by period_start, policy_id order by published_at desc, policy_version desc) as nth
    from policies
    where is_published and published_at < period_end
),

required as (
    select period_start, policy_id, policy_version, title, published_at
    from in_force
    where nth = 1 and requires_acknowledgement
),

acknowledged as (
    select period_start, employee_id, policy_id, policy_version, min(acknowledged_at) as acknowledged_at
    from acknowledgements
    where acknowledged_at < period_end
    group by period_start, employee_id, policy_id, policy_version
),

owed as (
    select
        roster.period_start,
        roster.employee_id,
        required.policy_id,
        required.policy_version,
        acknowledged.acknowledged_at,
        date_diff('day', greatest(required.published_at::date, roster.hire_date), roster.period_end::date)
            as days_owed
    from roster
    join required
        on required.period_start = roster.period_start
    left join acknowledged
        on acknowledged.period_start = roster.period_start
       and acknowledged.employee_id = roster.employee_id
       and acknowledged.policy_id = required.policy_id
       and acknowledged.policy_version = required.policy_version
    where roster.is_active
),

per_employee as (
    select
        period_start,
        employee_id,
        count(*) as policies_required,
        count(acknowledged_at) as policies_acknowledged,
        list(policy_id || ' v' || policy_version order by policy_id) filter (where acknowledged_at is null)
            as unacknowledged_policies,
        max(days_owed) filter (where acknowledged_at is null) as max_days_unacknowledged
    from owed
    group by period_start, employee_id
)

select
    roster.period_start,
    roster.period_end,
    roster.employee_id as entity_id,
    roster.email,
    roster.hire_date,
    coalesce(per_employee.policies_required, 0) as policies_required,
    coalesce(per_employee.policies_acknowledged, 0) as policies_acknowledged,
    coalesce(per_employee.unacknowledged_policies, []) as unacknowledged_policies,
    coalesce(per_employee.max_days_unacknowledged, 0) as max_days_unacknowledged,
    roster.observed_at,
    'hr.employees:employee_id=' || roster.employee_id || '@' || strftime(roster.observed_at, '%Y-%m-%dT%H:%M:%SZ')
    || '; grc.policy_acknowledgements:employee_id=' || roster.employee_id as source_ref
from roster
left join per_employee
    on per_employee.period_start = roster.period_start
   and per_employee.employee_id = roster.employee_id
where roster.is_active

-- Population for iam_okta_deprovision_24h: HR terminations, one row per person, in the
-- month their 24-hour deadline falls (termination_at + 24h in [period_start,
-- period_end)). A month is evaluated after it closes, so every deadline in it has
-- passed; a termination late on a month's last day is judged in the next month, when
-- its deadline has passed too. Each termination belongs to exactly one month.
--
-- The Okta side is the users observation after the month closed: a DEPROVISIONED
-- account was deactivated at statusChanged; an account still not deactivated is
-- counted up to the observation (so at least the time since termination, more than
-- 24 hours). With several Okta accounts the slowest counts. The threshold (24 hours)
-- lives in the GX suite ctl_iam_okta_deprovision_24h.
with

terminations as (
    select *
    from ({{ observed_snapshot('int_identity__people', 'hr.employees') }})
    where termination_at is not null
      and termination_at + interval 24 hours >= period_start
      and termination_at + interval 24 hours < period_end
),

okta as (
    {{ identity_graph('okta') }}
),

per_person as (
    select
        terminations.period_start,
        terminations.employee_id,
        count(okta.account_id) as okta_account_count,
        list(okta.account_id order by okta.account_id) filter (where okta.account_id is not null)
            as okta_user_ids,
        bool_and(okta.is_deprovisioned) as deactivated,
        max(case when okta.is_deprovisioned then okta.status_changed_at end) as deactivated_at,
        max(date_diff('second', terminations.termination_at,
                      case when okta.is_deprovisioned then okta.status_changed_at else okta.observed_at end))
            / 3600.0 as lag_hours,
        max(okta.observed_at) as okta_observed_at
    from terminations
    left join okta
        on okta.period_start = terminations.period_start
       and okta.employee_id = terminations.employee_id
    group by terminations.period_start, terminations.employee_id
)

select
    terminations.period_start,
    terminations.period_end,
    terminations.employee_id as entity_id,
    terminations.email,
    terminations.termination_at,
    terminations.termination_at + interval 24 hours as deadline_at,
    per_person.okta_account_count,
    coalesce(per_person.okta_user_ids, []) as okta_user_ids,
    coalesce(per_person.deactivated, false) as deactivated,
    case when per_person.deactivated then per_person.deactivated_at end as deactivated_at,
    round(per_person.lag_hours, 3) as deprovision_lag_hours,
    terminations.observed_at as hr_observed_at,
    per_person.okta_observed_at,
    'hr.employees:employee_id=' || terminations.employee_id || '@'
        || strftime(terminations.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from terminations
join per_person
    on per_person.period_start = terminations.period_start
   and per_person.employee_id = terminations.employee_id

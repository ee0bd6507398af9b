-- Population for org_security_training: every employee active in the HR roster at the
-- period's close (employees and contractors; the LMS's own user list is never the
-- population), with their security-awareness completions from the LMS report observed
-- after the close (matched on the HR employee id the LMS carries).
--
-- Two measures, each tested against its threshold in the GX suite:
-- * onboarding_days: for someone whose first security-awareness completion had not
--   happened when the period started (a recent hire), days from the start date to that
--   completion - or, if there is none yet, to the period's close (a lower bound: still
--   within the limit means not yet due). NULL for people trained before the period, so a
--   new starter is judged in the period the course was due or done, not forever after.
-- * months_since_last_completion: whole months from the latest completion to the close
--   (NULL when there is none; such a person is judged by onboarding_days).
with

roster as (
    {{ observed_snapshot('stg_hr__employees', 'hr.employees') }}
),

training as (
    {{ observed_snapshot('stg_lms__training_completions', 'lms.training_completions') }}
),

completions as (
    select
        period_start,
        employee_id,
        min(completed_at) as first_completed_at,
        max(completed_at) as last_completed_at,
        count(*) as completions,
        arg_max(course_code, completed_at) as last_course_code,
        arg_max(enrollment_id, completed_at) as last_enrollment_id
    from training
    where is_security_awareness and is_completed and completed_at < period_end and employee_id is not null
    group by period_start, employee_id
)

select
    roster.period_start,
    roster.period_end,
    roster.employee_id as entity_id,
    roster.email,
    roster.employment_type,
    roster.hire_date,
    completions.first_completed_at,
    completions.last_completed_at,
    completions.last_course_code,
    coalesce(completions.completions, 0) as completions,
    case
        when completions.first_completed_at is null or completions.first_completed_at >= roster.period_start
            then date_diff('day', roster.hire_date,
                           coalesce(completions.first_completed_at::date, roster.period_end::date))
    end as onboarding_days,
    {{ whole_months_between('completions.last_completed_at', 'roster.period_end') }} as months_since_last_completion,
    roster.observed_at,
    'hr.employees:employee_id=' || roster.employee_id || '@' || strftime(roster.observed_at, '%Y-%m-%dT%H:%M:%SZ')
    || coalesce('; lms.training_completions:enrollment_id=' || completions.last_enrollment_id, '') as source_ref
from roster
left join completions
    on completions.period_start = roster.period_start
   and completions.employee_id = roster.employee_id
where roster.is_active

-- Population for mon_incident_postmortems: incidents closed in the period, plus incidents
-- closed earlier whose postmortem was still missing when the period started (carried
-- over), from the incident register observed after the period closed.
--
-- business_days_to_postmortem counts business days (Mon-Fri) after the closure date up to
-- the postmortem date. Without a postmortem by the close it is the least it can still be:
-- as if written on the first business day after the close. So an incident closed near the
-- period's end whose deadline falls in the next period is not failed early: it passes if
-- not yet overdue, is carried into the next period, and is judged there on when its
-- postmortem was actually written (or fails again while it is still missing and overdue).
-- The 5-business-day limit lives in the GX suite.
with

incidents as (
    {{ observed_snapshot('stg_grc__incidents', 'grc.incidents') }}
),

in_scope as (
    select
        *,
        case when postmortem_completed_at < period_end then postmortem_completed_at end as postmortem_at
    from incidents
    where closed_at is not null
      and closed_at < period_end
      and (closed_at >= period_start or postmortem_completed_at is null or postmortem_completed_at >= period_start)
)

select
    period_start,
    period_end,
    incident_id as entity_id,
    title,
    severity,
    incident_status,
    closed_at,
    postmortem_at as postmortem_completed_at,
    closed_at < period_start as carried_over,
    postmortem_at is null as postmortem_missing_at_close,
    case
        when postmortem_at is not null
            then {{ business_days_between('closed_at::date', 'postmortem_at::date') }}
        else {{ business_days_between('closed_at::date', 'period_end::date - 1') }} + 1
    end as business_days_to_postmortem,
    observed_at,
    'grc.incidents:incident_id=' || incident_id || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from in_scope

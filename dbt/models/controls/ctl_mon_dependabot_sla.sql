-- Population for mon_dependabot_sla: every critical or high Dependabot alert that was open
-- at some moment of the period, from the alerts observed after the period closed, with
--   days_open: from the alert's creation until it was fixed or dismissed if that happened
--   in the period, otherwise until the period's end.
-- So an alert fixed late fails the period it was fixed in, and an alert still open past its
-- SLA fails every period it stays open (an overdue alert is reported every month until it
-- is resolved). A dismissal resolves an alert: it is a recorded risk decision.
-- The SLAs per severity live in the GX suite ctl_mon_dependabot_sla.
with

alerts as (
    {{ observed_snapshot('stg_github__dependabot_alerts', 'github.dependabot_alerts') }}
)

select
    period_start,
    period_end,
    repository || '/dependabot/' || number as entity_id,
    repository,
    number as alert_number,
    severity,
    state,
    package_ecosystem,
    package_name,
    ghsa_id,
    created_at,
    resolved_at,
    resolved_at is not null and resolved_at < period_end as resolved_in_period,
    date_diff('second', created_at, case when resolved_at < period_end then resolved_at else period_end end)
        / 86400.0 as days_open,
    observed_at,
    'github.dependabot_alerts:repository=' || repository || ',number=' || number || '@'
        || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from alerts
where severity in ('critical', 'high')
  and created_at < period_end
  and (resolved_at is null or resolved_at >= period_start)

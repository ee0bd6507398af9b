-- Population for mon_guardduty_enabled: every (account, active region) the extract read,
-- per period, with its number of enabled GuardDuty detectors (a region without a detector
-- has a row with none). The criterion (at least one) lives in the GX suite.
with

detectors as (
    {{ observed_snapshot('stg_aws__guardduty_detectors', 'aws.guardduty_detectors') }}
)

select
    period_start,
    period_end,
    account_id || '/' || region as entity_id,
    account_id,
    region,
    count(detector_id) as detector_count,
    count(*) filter (where detector_status = 'ENABLED') as enabled_detectors,
    max(observed_at) as observed_at,
    'aws.guardduty_detectors:account_id=' || account_id || ',region=' || region || '@'
        || strftime(max(observed_at), '%Y-%m-%dT%H:%M:%SZ') as source_ref
from detectors
group by period_start, period_end, account_id, region

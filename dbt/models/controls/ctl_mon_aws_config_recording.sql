-- Population for mon_aws_config_recording: every (account, active region) per period, with
-- the number of its AWS Config recorders that record every supported resource type, are
-- recording and whose last delivery did not fail. The dataset has one row per
-- account-region even without a recorder (recorder_name null), so a region without one is
-- in the population with none. The criterion (at least one) lives in the GX suite.
with

recorders as (
    {{ observed_snapshot('stg_aws__config_recorders', 'aws.config_recorders') }}
)

select
    period_start,
    period_end,
    account_id || '/' || region as entity_id,
    account_id,
    region,
    count(recorder_name) as recorder_count,
    count(*) filter (
        where recorder_name is not null
          and coalesce(all_supported, false)
          and coalesce(recording, false)
          and coalesce(last_status, '') <> 'FAILURE'
    ) as recording_recorders,
    max(observed_at) as observed_at,
    'aws.config_recorders:account_id=' || account_id || ',region=' || region || '@'
        || strftime(max(observed_at), '%Y-%m-%dT%H:%M:%SZ') as source_ref
from recorders
group by period_start, period_end, account_id, region

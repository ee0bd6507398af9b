-- Population for avl_restore_test: every system in the restore-test programme at the
-- period's close (a system is in the programme once a restore test of it is on record),
-- from the restore-test log observed after the close, with its restore tests completed
-- in the period. A test is successful when the restore succeeded and the restored data
-- was verified (stg_grc__restore_tests.is_successful); the "at least one per quarter"
-- criterion lives in the GX suite.
with

tests as (
    {{ observed_snapshot('stg_grc__restore_tests', 'grc.restore_tests') }}
),

systems as (
    select
        period_start,
        period_end,
        system_id,
        arg_max(system_name, started_at) as system_name,
        arg_max(system_kind, started_at) as system_kind,
        min(started_at) as first_tested_at,
        max(observed_at) as observed_at
    from tests
    where started_at < period_end
    group by period_start, period_end, system_id
),

in_period as (
    select
        period_start,
        system_id,
        count(*) filter (where is_successful) as successful_restore_tests,
        count(*) filter (where not is_successful) as unsuccessful_restore_tests,
        max(completed_at) filter (where is_successful) as last_successful_restore_at,
        list(test_id order by completed_at) as restore_test_ids
    from tests
    where completed_at >= period_start and completed_at < period_end
    group by period_start, system_id
)

select
    systems.period_start,
    systems.period_end,
    systems.system_id as entity_id,
    systems.system_name,
    systems.system_kind,
    systems.first_tested_at,
    coalesce(in_period.successful_restore_tests, 0) as successful_restore_tests,
    coalesce(in_period.unsuccessful_restore_tests, 0) as unsuccessful_restore_tests,
    in_period.last_successful_restore_at,
    coalesce(in_period.restore_test_ids, []) as restore_test_ids,
    systems.observed_at,
    'grc.restore_tests:system_id=' || systems.system_id || '@' || strftime(systems.observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from systems
left join in_period
    on in_period.period_start = systems.period_start
   and in_period.system_id = systems.system_id

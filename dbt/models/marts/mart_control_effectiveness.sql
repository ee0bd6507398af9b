{#
  Control effectiveness per window: how many periods passed, the longest run of
  consecutive failing periods, the first and last failure, and how long failures took
  to remediate.

  A failure episode starts with a `fail` period and is remediated by the next `pass`
  period; `excepted` and `not_tested` periods in between neither end nor extend it (an
  exception accepts a failure, missing data proves nothing). Time to remediate runs
  from the end of the episode's first failing period (when it was detected) to the end
  of the passing period (when the fix was confirmed). The longest failing streak counts
  consecutive `fail` periods only. Everything is computed inside the window.
#}
with windows as (
    select * from {{ ref('int_metrics__windows') }}
),

results as (
    select * from {{ ref('int_metrics__current_results') }}
),

controls as (
    select control_id from {{ ref('stg_ccm__controls') }}
    union
    select distinct control_id from results
),

periods as (
    select windows.window_name, results.control_id, results.period_start, results.period_end, results.status
    from windows
    inner join results
        on results.period_start >= windows.window_start and results.period_end <= windows.window_end
),

ordered as (
    select
        *,
        row_number() over (partition by window_name, control_id order by period_start)
        - row_number() over (partition by window_name, control_id, status = 'fail' order by period_start)
            as fail_island,
        count(*) filter (where status = 'pass') over (
            partition by window_name, control_id order by period_start
            rows between unbounded preceding and current row
        ) as passes_so_far
    from periods
),

streaks as (
    select window_name, control_id, fail_island, count(*) as streak_length
    from ordered
    where status = 'fail'
    group by window_name, control_id, fail_island
),

episodes as (
    select
        window_name,
        control_id,
        passes_so_far as passes_before,
        min(period_start) as first_failing_period_start,
        min(period_end) as detected_at
    from ordered
    where status = 'fail'
    group by window_name, control_id, passes_so_far
),

remediations as (
    select
        episodes.*,
        passes.period_end as remediated_at
    from episodes
    left join ordered as passes
        on passes.window_name = episodes.window_name
        and passes.control_id = episodes.control_id
        and passes.status = 'pass'
        and passes.passes_so_far = episodes.passes_before + 1
),

counts as (
    select
        window_name,
        control_id,
        count(*) as periods_total,
        count(*) filter (where status = 'pass') as periods_pass,
        count(*) filter (where status = 'fail') as periods_fail,
        count(*) filter (where status = 'excepted') as periods_excepted,
        count(*) filter (where status = 'not_tested') as periods_not_tested,
        min(period_start) filter (where status = 'fail') as first_failure_period_start,
        max(period_start) filter (where status = 'fail') as last_failure_period_start
    from periods
    group by window_name, control_id
),

longest as (
    select window_name, control_id, max(streak_length) as longest_failing_streak
    from streaks
    group by window_name, control_id
),

remediation_summary as (
    select
        window_name,
        control_id,
        count(*) as failure_episodes,
        count(remediated_at) as remediated_episodes,
        avg(date_diff('second', detected_at, remediated_at) / 3600.0) as mean_time_to_remediate_hours,
        min(first_failing_period_start) filter (where remediated_at is null) as open_failure_since
    from remediations
    group by window_name, control_id
)

select
    windows.window_name,
    windows.window_days,
    windows.window_start,
    windows.window_end,
    controls.control_id,
    coalesce(counts.periods_total, 0) as periods_total,
    coalesce(counts.periods_pass, 0) as periods_pass,
    coalesce(counts.periods_fail, 0) as periods_fail,
    coalesce(counts.periods_excepted, 0) as periods_excepted,
    coalesce(counts.periods_not_tested, 0) as periods_not_tested,
    counts.periods_pass / nullif(counts.periods_total, 0) as pass_share,
    (counts.periods_pass + counts.periods_excepted) / nullif(counts.periods_total, 0) as pass_or_excepted_share,
    (counts.periods_total - counts.periods_not_tested) / nullif(counts.periods_total, 0) as tested_share,
    coalesce(longest.longest_failing_streak, 0) as longest_failing_streak,
    counts.first_failure_period_start,
    counts.last_failure_period_start,
    coalesce(remediation_summary.failure_episodes, 0) as failure_episodes,
    coalesce(remediation_summary.remediated_episodes, 0) as remediated_episodes,
    remediation_summary.mean_time_to_remediate_hours,
    remediation_summary.open_failure_since
from windows
cross join controls
left join counts
    on counts.window_name = windows.window_name and counts.control_id = controls.control_id
left join longest
    on longest.window_name = windows.window_name and longest.control_id = controls.control_id
left join remediation_summary
    on remediation_summary.window_name = windows.window_name and remediation_summary.control_id = controls.control_id

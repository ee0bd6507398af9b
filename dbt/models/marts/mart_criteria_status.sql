{#
  Criteria roll-up: each TSC criterion's status from its controls, per window.

  `status` is the worst latest result among the criterion's controls (fail, then
  not_tested, then excepted, then pass); null while none of them has a result yet (for
  example an annual control before its first year closes). The period counts add up
  the control-periods of the criterion's controls that lie in the window, so a control
  mapped to two criteria counts in both.
#}
with windows as (
    select * from {{ ref('int_metrics__windows') }}
),

results as (
    select * from {{ ref('int_metrics__current_results') }}
),

mapping as (
    select * from {{ ref('stg_ccm__control_criteria') }}
),

criteria as (
    select criterion, any_value(criterion_group) as criterion_group, count(distinct control_id) as controls
    from mapping
    group by criterion
),

latest as (
    select control_id, status
    from (
        select control_id, status, row_number() over (partition by control_id order by period_start desc) as recency
        from results
    )
    where recency = 1
),

latest_by_criterion as (
    select
        mapping.criterion,
        count(latest.control_id) as controls_with_result,
        count(*) filter (where latest.status = 'pass') as controls_pass,
        count(*) filter (where latest.status = 'fail') as controls_fail,
        count(*) filter (where latest.status = 'excepted') as controls_excepted,
        count(*) filter (where latest.status = 'not_tested') as controls_not_tested
    from mapping
    left join latest on latest.control_id = mapping.control_id
    group by mapping.criterion
),

window_periods as (
    select windows.window_name, mapping.criterion, results.status
    from windows
    inner join results
        on results.period_start >= windows.window_start and results.period_end <= windows.window_end
    inner join mapping on mapping.control_id = results.control_id
),

window_totals as (
    select
        window_name,
        criterion,
        count(*) as periods_total,
        count(*) filter (where status = 'pass') as periods_pass,
        count(*) filter (where status = 'fail') as periods_fail,
        count(*) filter (where status = 'excepted') as periods_excepted,
        count(*) filter (where status = 'not_tested') as periods_not_tested
    from window_periods
    group by window_name, criterion
)

select
    windows.window_name,
    windows.window_days,
    windows.window_start,
    windows.window_end,
    criteria.criterion,
    criteria.criterion_group,
    criteria.controls,
    latest_by_criterion.controls_with_result,
    latest_by_criterion.controls_pass,
    latest_by_criterion.controls_fail,
    latest_by_criterion.controls_excepted,
    latest_by_criterion.controls_not_tested,
    case
        when latest_by_criterion.controls_fail > 0 then 'fail'
        when latest_by_criterion.controls_not_tested > 0 then 'not_tested'
        when latest_by_criterion.controls_excepted > 0 then 'excepted'
        when latest_by_criterion.controls_pass > 0 then 'pass'
    end as status,
    coalesce(window_totals.periods_total, 0) as periods_total,
    coalesce(window_totals.periods_pass, 0) as periods_pass,
    coalesce(window_totals.periods_fail, 0) as periods_fail,
    coalesce(window_totals.periods_excepted, 0) as periods_excepted,
    coalesce(window_totals.periods_not_tested, 0) as periods_not_tested,
    window_totals.periods_pass / nullif(window_totals.periods_total, 0) as pass_share
from windows
cross join criteria
inner join latest_by_criterion on latest_by_criterion.criterion = criteria.criterion
left join window_totals
    on window_totals.window_name = windows.window_name and window_totals.criterion = criteria.criterion

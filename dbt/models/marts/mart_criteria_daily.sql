{#
  Each criterion's state day by day, for trends: on day D every control of the criterion
  contributes the result of its period containing D (a monthly control's result stands
  for every day of its month, once that month has been evaluated). `pass_share` is the
  share of the controls with a result that passed; `status` is the worst of them.
#}
with as_of as (
    select * from {{ ref('int_metrics__as_of') }}
),

results as (
    select * from {{ ref('int_metrics__current_results') }}
),

mapping as (
    select * from {{ ref('stg_ccm__control_criteria') }}
),

first_day as (
    select min(period_start) as first_day from results
),

days as (
    -- whole days up to the as-of day: a monthly result does not speak for days still to come
    select unnest(range(first_day.first_day, as_of.as_of_day, interval 1 day)) as day
    from first_day cross join as_of
    where first_day.first_day is not null
),

daily as (
    select
        mapping.criterion,
        mapping.criterion_group,
        days.day,
        mapping.control_id,
        results.status
    from days
    cross join mapping
    left join results
        on results.control_id = mapping.control_id
        and results.period_start <= days.day
        and results.period_end > days.day
)

select
    criterion,
    any_value(criterion_group) as criterion_group,
    cast(day as date) as day,
    count(distinct control_id) as controls,
    count(status) as controls_with_result,
    count(*) filter (where status = 'pass') as controls_pass,
    count(*) filter (where status = 'fail') as controls_fail,
    count(*) filter (where status = 'excepted') as controls_excepted,
    count(*) filter (where status = 'not_tested') as controls_not_tested,
    count(*) filter (where status = 'pass') / nullif(count(status), 0) as pass_share,
    case
        when count(*) filter (where status = 'fail') > 0 then 'fail'
        when count(*) filter (where status = 'not_tested') > 0 then 'not_tested'
        when count(*) filter (where status = 'excepted') > 0 then 'excepted'
        when count(*) filter (where status = 'pass') > 0 then 'pass'
    end as status
from daily
group by criterion, day

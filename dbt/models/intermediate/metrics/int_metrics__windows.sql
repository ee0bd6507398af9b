{#
  The windows effectiveness is measured over: `all` (every result) and trailing windows
  of `metric_window_days` whole days ending at midnight of the as-of day. A period is in
  a window when it lies entirely inside it.
#}
{%- set window_days = var('metric_window_days', [7, 30, 90, 365]) %}
with as_of as (
    select * from {{ ref('int_metrics__as_of') }}
),

bounds as (
    select min(period_start) as first_start, max(period_end) as last_end
    from {{ ref('int_metrics__current_results') }}
)

select
    'all' as window_name,
    cast(null as integer) as window_days,
    least(coalesce(bounds.first_start, as_of.as_of_day), as_of.as_of_day) as window_start,
    greatest(coalesce(bounds.last_end, as_of.as_of_day), as_of.as_of_day) as window_end
from as_of cross join bounds
{%- for days in window_days %}
union all
select
    '{{ days }}d' as window_name,
    {{ days }} as window_days,
    as_of_day - interval '{{ days }} days' as window_start,
    as_of_day as window_end
from as_of
{%- endfor %}

{#
  Source completeness by day: for every dataset and every UTC day from the first extract
  up to the as-of day, whether an extract covering that day completed. `missing` means no
  attempt covered the day at all (the run did not happen, or the dataset is new).
#}
with as_of as (
    select * from {{ ref('int_metrics__as_of') }}
),

manifests as (
    select * from {{ ref('stg_ccm__extract_manifests') }}
),

datasets as (
    select dataset, source, kind from {{ ref('stg_ccm__datasets') }}
    union
    select distinct dataset, source, kind from manifests
),

first_day as (
    select min(date_trunc('day', interval_start)) as first_day from manifests
),

days as (
    select unnest(range(first_day.first_day, as_of.as_of_day, interval 1 day)) as day
    from first_day cross join as_of
    where first_day.first_day is not null
),

attempts as (
    select
        datasets.dataset,
        datasets.source,
        datasets.kind,
        days.day,
        manifests.status,
        manifests.rows_written,
        manifests.quarantined
    from datasets
    cross join days
    left join manifests
        on manifests.dataset = datasets.dataset
        and manifests.interval_start < days.day + interval 1 day
        and manifests.interval_end > days.day
)

select
    dataset,
    source,
    kind,
    cast(day as date) as day,
    case
        when bool_or(status = 'complete') then 'complete'
        when bool_or(status = 'incomplete') then 'incomplete'
        when bool_or(status = 'failed') then 'failed'
        else 'missing'
    end as day_status,
    count(status) as attempts,
    coalesce(max(rows_written) filter (where status = 'complete'), 0) as rows_written,
    coalesce(sum(quarantined), 0) as quarantined
from attempts
group by dataset, source, kind, day

{#
  Source freshness and completeness per dataset, from the extract manifests.

  `data_as_of` is how current the dataset is: for snapshots the latest complete
  observation, for events the end of the latest completely extracted interval. A dataset
  is `stale` when that is older than the extract cadence (`source_cadence_hours`, one
  day) plus the freshness the strictest control needs (6 hours when no control reads it):
  by then a run that should have refreshed it has missed its deadline.
  `health` is what the dashboard shows first: `never_extracted`, `stale`,
  `last_attempt_failed` (still fresh, but the latest attempt did not complete), or `ok`.
#}
{%- set cadence_hours = var('source_cadence_hours', 24) %}
with as_of as (
    select * from {{ ref('int_metrics__as_of') }}
),

manifests as (
    select * from {{ ref('stg_ccm__extract_manifests') }}
    where started_at <= (select as_of from as_of)
),

datasets as (
    select dataset, source, dataset_name, kind from {{ ref('stg_ccm__datasets') }}
    union
    select distinct dataset, source, split_part(dataset, '.', 2), kind from manifests
    where dataset not in (select dataset from {{ ref('stg_ccm__datasets') }})
),

requirements as (
    select dataset, min(freshness_hours) as required_freshness_hours, count(distinct control_id) as controls_depending
    from {{ ref('stg_ccm__control_sources') }}
    group by dataset
),

last_attempt as (
    select dataset, status as last_attempt_status, started_at as last_attempt_at, error as last_error
    from (
        select
            *,
            row_number() over (
                partition by dataset order by started_at desc, recorded_at desc nulls last, extract_id desc
            ) as attempt_rank
        from manifests
    )
    where attempt_rank = 1
),

summary as (
    select
        dataset,
        count(*) as attempts_total,
        count(*) filter (where status = 'complete') as attempts_complete,
        count(*) filter (where status = 'incomplete') as attempts_incomplete,
        count(*) filter (where status = 'failed') as attempts_failed,
        max(finished_at) filter (where status = 'complete') as last_complete_at,
        max(observed_at) filter (where status = 'complete') as last_observed_at,
        max(interval_end) filter (where status = 'complete') as covered_through,
        sum(quarantined) as quarantined_total,
        arg_max(rows_written, finished_at) filter (where status = 'complete') as rows_written_last
    from manifests
    group by dataset
),

completeness as (
    select
        dataset,
        count(*) as days_30d,
        count(*) filter (where day_status = 'complete') as days_complete_30d
    from {{ ref('mart_source_completeness') }}
    where day >= cast((select as_of_day from as_of) - interval 30 day as date)
    group by dataset
),

measured as (
    select
        datasets.dataset,
        datasets.source,
        datasets.dataset_name,
        datasets.kind,
        requirements.required_freshness_hours,
        coalesce(requirements.controls_depending, 0) as controls_depending,
        last_attempt.last_attempt_at,
        last_attempt.last_attempt_status,
        last_attempt.last_error,
        summary.last_complete_at,
        summary.last_observed_at,
        summary.covered_through,
        case when datasets.kind = 'snapshot' then summary.last_observed_at else summary.covered_through end
            as data_as_of,
        coalesce(summary.attempts_total, 0) as attempts_total,
        coalesce(summary.attempts_complete, 0) as attempts_complete,
        coalesce(summary.attempts_incomplete, 0) as attempts_incomplete,
        coalesce(summary.attempts_failed, 0) as attempts_failed,
        coalesce(summary.quarantined_total, 0) as quarantined_total,
        summary.rows_written_last,
        coalesce(completeness.days_30d, 0) as days_30d,
        coalesce(completeness.days_complete_30d, 0) as days_complete_30d,
        completeness.days_complete_30d / nullif(completeness.days_30d, 0) as completeness_30d,
        {{ cadence_hours }} + coalesce(requirements.required_freshness_hours, 6) as max_age_hours
    from datasets
    left join requirements on requirements.dataset = datasets.dataset
    left join last_attempt on last_attempt.dataset = datasets.dataset
    left join summary on summary.dataset = datasets.dataset
    left join completeness on completeness.dataset = datasets.dataset
)

select
    measured.*,
    round(date_diff('second', data_as_of, (select as_of from as_of)) / 3600.0, 2) as age_hours,
    case
        when data_as_of is null then 'never'
        when date_diff('second', data_as_of, (select as_of from as_of)) / 3600.0 > max_age_hours then 'stale'
        else 'fresh'
    end as freshness_status,
    case
        when data_as_of is null then 'never_extracted'
        when date_diff('second', data_as_of, (select as_of from as_of)) / 3600.0 > max_age_hours then 'stale'
        when last_attempt_status <> 'complete' then 'last_attempt_failed'
        else 'ok'
    end as health
from measured

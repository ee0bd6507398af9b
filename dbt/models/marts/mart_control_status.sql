-- Control status by period: the current result of every evaluated control-period, with
-- the control's matrix attributes. The heatmap of the dashboard is this table.
with results as (
    select * from {{ ref('int_metrics__current_results') }}
),

controls as (
    select * from {{ ref('stg_ccm__controls') }}
),

criteria as (
    select control_id, string_agg(criterion, ', ' order by criterion) as criteria
    from {{ ref('stg_ccm__control_criteria') }}
    group by control_id
)

select
    results.control_id,
    controls.title,
    controls.control_domain,
    controls.owner,
    controls.frequency,
    criteria.criteria,
    results.period_start,
    results.period_end,
    results.status,
    results.status = 'pass' as is_pass,
    results.version,
    results.population_size,
    results.failing_count,
    results.excepted_count,
    results.reason,
    results.data_docs_path,
    results.evidence_path,
    results.evaluated_at,
    results.run_id,
    controls.control_id is not null as in_control_matrix,
    row_number() over (partition by results.control_id order by results.period_start desc) = 1 as is_latest_period
from results
left join controls on controls.control_id = results.control_id
left join criteria on criteria.control_id = results.control_id

{#
  The instant every metric is computed at. The publish step writes its clock into
  ccm.metrics_as_of (the simulated clock in the demo, so figures are reproducible); without
  it, the latest instant the warehouse knows about (a result's period end or an extract).
#}
with known as (
    select max(period_end) as latest from {{ ref('stg_ccm__control_results') }}
    union all
    select max(finished_at) from {{ ref('stg_ccm__extract_manifests') }}
),

as_of as (
    select coalesce(
        (select max(as_of) from {{ ref('stg_ccm__metrics_as_of') }}),
        max(latest),
        cast('1970-01-01 00:00:00+00' as timestamptz)
    ) as as_of
    from known
)

select
    as_of,
    -- metrics count whole UTC days: periods closing by midnight of the as-of day
    date_trunc('day', as_of) as as_of_day
from as_of

-- The current (latest) version of every evaluated control-period.
select * exclude (version_rank)
from (
    select
        *,
        row_number() over (partition by control_id, period_start order by version desc) as version_rank
    from {{ ref('stg_ccm__control_results') }}
)
where version_rank = 1

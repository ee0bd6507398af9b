select
    control_id,
    population_model,
    period_start,
    period_end,
    dataset,
    observed_at,
    lake_file
from {{ source('ccm', 'plan_inputs') }}

select
    control_id,
    population_model,
    period_start,
    period_end,
    inputs_complete,
    not_tested_reason
from {{ source('ccm', 'evaluation_plan') }}

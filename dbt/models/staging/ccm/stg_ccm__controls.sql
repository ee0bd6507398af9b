select
    control_id,
    title,
    description,
    owner,
    frequency,
    population_model,
    suite,
    -- the domain prefix of the control_id (iam_, inf_, chg_, ...) groups controls for display
    split_part(control_id, '_', 1) as control_domain
from {{ source('ccm', 'controls') }}

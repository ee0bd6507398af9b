select
    control_id,
    dataset,
    freshness_hours
from {{ source('ccm', 'control_sources') }}

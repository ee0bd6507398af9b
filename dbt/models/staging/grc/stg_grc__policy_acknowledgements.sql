select
    observed_at,
    acknowledgement_id,
    policy_id,
    policy_version,
    employee_id,
    lower(email) as email,
    acknowledged_at,
    method,
    raw,
    lake_file
from {{ source('grc', 'grc__policy_acknowledgements') }}

select
    observed_at,
    check_id,
    candidate_id,
    employee_id,
    lower(email) as email,
    package,
    lower(status) as check_status,
    lower(result) as check_result,
    lower(adjudication) as check_adjudication,
    coalesce(lower(adjudication), lower(result)) as check_outcome,
    requested_at,
    completed_at,
    raw,
    lake_file
from {{ source('grc', 'grc__background_checks') }}

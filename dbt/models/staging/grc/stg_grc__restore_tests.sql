select
    observed_at,
    test_id,
    system_id,
    system_name,
    system_kind,
    backup_id,
    backup_taken_at,
    started_at,
    completed_at,
    lower(result) as result,
    data_verified,
    lower(result) = 'success' and coalesce(data_verified, false) as is_successful,
    restore_minutes,
    lower(performed_by) as performed_by,
    ticket,
    raw,
    lake_file
from {{ source('grc', 'grc__restore_tests') }}

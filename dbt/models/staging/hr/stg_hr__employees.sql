select
    observed_at,
    employee_id,
    first_name,
    last_name,
    lower(email) as email,
    department,
    title,
    manager_id,
    employment_type,
    status as employment_status,
    hire_date,
    termination_at,
    status = 'Active' as is_active,
    raw,
    lake_file
from {{ source('hr', 'hr__employees') }}

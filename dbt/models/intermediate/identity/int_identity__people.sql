-- People: the HR roster per observation, the root of every identity. A person is
-- "current" while Active or Pending (hired, starting within 14 days); a Terminated
-- record stays on the roster for 400 days with its termination moment.
select
    observed_at,
    lake_file,
    'hr.employees' as dataset,
    employee_id,
    email,
    first_name,
    last_name,
    department,
    manager_id,
    employment_type,
    employment_status,
    employment_status in ('Active', 'Pending') as is_current,
    hire_date,
    termination_at
from {{ ref('stg_hr__employees') }}

select
    observed_at,
    user_id,
    status,
    lower(login) as login,
    lower(email) as email,
    first_name,
    last_name,
    employee_number,
    user_type,
    created as created_at,
    activated as activated_at,
    status_changed as status_changed_at,
    last_login as last_login_at,
    password_changed as password_changed_at,
    status in ('ACTIVE', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'RECOVERY') as can_sign_in,
    raw,
    lake_file
from {{ source('okta', 'okta__users') }}

select
    observed_at,
    user_id,
    login,
    user_type,
    site_admin,
    role,
    two_factor_disabled,
    raw,
    lake_file
from {{ source('github', 'github__members') }}

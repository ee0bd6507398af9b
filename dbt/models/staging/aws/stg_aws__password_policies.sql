select
    observed_at,
    account_id,
    account_name,
    has_policy,
    minimum_password_length,
    require_symbols,
    require_numbers,
    require_uppercase,
    require_lowercase,
    allow_users_to_change,
    expire_passwords,
    -- IAM omits MaxPasswordAge (some implementations say 0) when passwords never expire
    nullif(max_password_age, 0) as max_password_age_days,
    password_reuse_prevention,
    hard_expiry,
    raw,
    lake_file
from {{ source('aws', 'aws__password_policy') }}

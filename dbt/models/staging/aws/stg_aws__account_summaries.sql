select
    observed_at,
    account_id,
    account_name,
    account_mfa_enabled,
    account_access_keys_present,
    users as user_count,
    mfa_devices_in_use,
    policies as customer_policy_count,
    raw,
    lake_file
from {{ source('aws', 'aws__account_summary') }}

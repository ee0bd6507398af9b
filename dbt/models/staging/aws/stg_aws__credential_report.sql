-- One row per IAM user (and the root user) per account per observation.
select
    observed_at,
    account_id,
    account_name,
    report_generated_at,
    user_name,
    arn,
    is_root,
    user_creation_time as user_created_at,
    password_enabled,
    password_last_used as password_last_used_at,
    password_last_changed as password_last_changed_at,
    mfa_active,
    access_key_1_active,
    access_key_1_last_rotated as access_key_1_last_rotated_at,
    access_key_1_last_used_date as access_key_1_last_used_at,
    access_key_2_active,
    access_key_2_last_rotated as access_key_2_last_rotated_at,
    access_key_2_last_used_date as access_key_2_last_used_at,
    raw,
    lake_file
from {{ source('aws', 'aws__credential_report') }}

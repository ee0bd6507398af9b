select
    account_id,
    account_name,
    region,
    backup_job_id,
    resource_arn,
    resource_type,
    state,
    created_at,
    completed_at,
    status_message,
    backup_vault_name,
    raw,
    lake_file
from {{ source('aws', 'aws__backup_jobs') }}

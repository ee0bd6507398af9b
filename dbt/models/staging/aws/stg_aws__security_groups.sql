select
    observed_at,
    account_id,
    account_name,
    region,
    group_id,
    group_name,
    vpc_id,
    description,
    coalesce(ip_permissions, '[]')::json as ip_permissions,
    raw,
    lake_file
from {{ source('aws', 'aws__security_groups') }}

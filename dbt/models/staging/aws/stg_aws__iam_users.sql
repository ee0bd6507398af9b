select
    observed_at,
    account_id,
    account_name,
    user_arn,
    user_name,
    user_id,
    lower(tags::json ->> 'email') as person_email,
    tags::json as tags,
    attached_policy_arns,
    groups,
    -- an administrator principal: AWS's AdministratorAccess attached directly or through a group
    list_contains(effective_policy_arns, 'arn:aws:iam::aws:policy/AdministratorAccess') as is_admin,
    raw,
    lake_file
from {{ source('aws', 'aws__iam_users') }}

select
    document_id,
    action,
    split_part(action, '.', 1) as action_category,
    created_at,
    operation_type,
    actor,
    actor_id,
    actor_is_bot,
    org,
    repo,
    "user" as acted_on_user,
    name as branch_or_object_name,
    business,
    raw,
    lake_file
from {{ source('github', 'github__audit_log') }}

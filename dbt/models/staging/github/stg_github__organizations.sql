select
    observed_at,
    org_id,
    login,
    name,
    two_factor_requirement_enabled,
    default_repository_permission,
    members_can_create_repositories,
    plan,
    created_at,
    raw,
    lake_file
from {{ source('github', 'github__organization') }}

-- Okta administrator role assignments per observation (GET /api/v1/users/{id}/roles of
-- every user /api/v1/iam/assignees/users lists).
select
    observed_at,
    user_id,
    role_assignment_id,
    role_type,
    role_label,
    role_status,
    assignment_type,
    created as granted_at,
    raw,
    lake_file
from {{ source('okta', 'okta__admin_roles') }}

-- Google Workspace directory users per observation. The Directory API reports
-- "1970-01-01T00:00:00Z" as lastLoginTime for users who never signed in: that becomes
-- NULL here. The HR employee id is the externalIds entry of type "organization".
select
    observed_at,
    user_id,
    lower(primary_email) as primary_email,
    list_filter(cast(raw::json -> 'externalIds' as json[]), lambda e: e ->> 'type' = 'organization')[1] ->> 'value'
        as employee_id,
    given_name,
    family_name,
    is_admin,
    coalesce(is_delegated_admin, false) as is_delegated_admin,
    is_enrolled_in_2sv,
    is_enforced_in_2sv,
    suspended,
    coalesce(archived, false) as archived,
    deletion_time as deleted_at,
    deletion_time is not null as is_deleted,
    org_unit_path,
    creation_time as created_at,
    case when last_login_time > '1970-01-01 00:00:00+00'::timestamptz then last_login_time end as last_login_at,
    not suspended and not coalesce(archived, false) and deletion_time is null as is_active,
    raw,
    lake_file
from {{ source('google', 'google__users') }}

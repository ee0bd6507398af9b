-- Administrator rights per observation, one row per (system, account, role):
-- Okta role assignments (okta.admin_roles) and Google super admins (isAdmin on
-- google.users). Role names are the system's own, as the approved list names them.
-- GitHub org owners and AWS administrators join by adding a branch with these columns.
with

okta as (
    select
        'okta' as system,
        'okta.admin_roles' as dataset,
        observed_at,
        lake_file,
        user_id as account_id,
        upper(role_type) as role,
        role_label,
        assignment_type,
        granted_at
    from {{ ref('stg_okta__admin_roles') }}
),

google as (
    select
        'google' as system,
        'google.users' as dataset,
        observed_at,
        lake_file,
        user_id as account_id,
        'SUPER_ADMIN' as role,
        'Super Admin' as role_label,
        'USER' as assignment_type,
        cast(null as timestamptz) as granted_at
    from {{ ref('stg_google__users') }}
    where is_admin and not is_deleted
)

select * from okta
union all by name
select * from google

-- Accounts: every account of every system, per observation, in one shape.
--
--   system, dataset, observed_at, lake_file   which observation the row comes from
--   account_id, login, email                  the account and its join keys (lower-case)
--   employee_id_hint                          the HR employee id the system carries, if any
--   status, status_changed_at                 the system's own status and when it last changed
--   is_active                                 can sign in now
--   is_deprovisioned                          deactivated / deleted: no longer an account
--   last_activity_at, created_at              last sign-in (NULL = never) and creation
--
-- One branch per system. GitHub (org members linked through their SAML nameId, the
-- Okta login) and AWS (IAM users linked through their "email" tag) join by adding a
-- branch here with the same columns and a row in int_identity__systems; the graph and
-- every identity control then see them without further change.
with

okta as (
    select
        'okta' as system,
        'okta.users' as dataset,
        observed_at,
        lake_file,
        user_id as account_id,
        login,
        email,
        employee_number as employee_id_hint,
        status,
        status_changed_at,
        can_sign_in as is_active,
        status = 'DEPROVISIONED' as is_deprovisioned,
        last_login_at as last_activity_at,
        created_at
    from {{ ref('stg_okta__users') }}
),

google as (
    select
        'google' as system,
        'google.users' as dataset,
        observed_at,
        lake_file,
        user_id as account_id,
        primary_email as login,
        primary_email as email,
        employee_id as employee_id_hint,
        case
            when is_deleted then 'DELETED'
            when suspended then 'SUSPENDED'
            when archived then 'ARCHIVED'
            else 'ACTIVE'
        end as status,
        coalesce(deleted_at, case when suspended then null end) as status_changed_at,
        is_active,
        is_deleted as is_deprovisioned,
        last_login_at as last_activity_at,
        created_at
    from {{ ref('stg_google__users') }}
)

select * from okta
union all by name
select * from google

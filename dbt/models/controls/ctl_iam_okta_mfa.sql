-- Population for iam_okta_mfa: every Okta user who can sign in, per period, with the
-- number of active MFA factors observed at the period's close. The pass criterion
-- (at least one) lives in the GX suite ctl_iam_okta_mfa.
with

users as (
    {{ observed_snapshot('stg_okta__users', 'okta.users') }}
),

factors as (
    {{ observed_snapshot('stg_okta__factors', 'okta.factors') }}
),

active_mfa as (
    select
        period_start,
        user_id,
        count(*) as active_factor_count,
        list(distinct factor_type order by factor_type) as active_factor_types
    from factors
    where is_active_mfa
    group by period_start, user_id
)

select
    users.period_start,
    users.period_end,
    users.user_id as entity_id,
    users.login,
    users.email,
    users.status as user_status,
    coalesce(active_mfa.active_factor_count, 0) as active_factor_count,
    coalesce(active_mfa.active_factor_types, []) as active_factor_types,
    users.observed_at,
    'okta.users:user_id=' || users.user_id || '@' || strftime(users.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from users
left join active_mfa
    on active_mfa.period_start = users.period_start
   and active_mfa.user_id = users.user_id
where users.can_sign_in

-- Population for iam_github_org_2fa: per period, the GitHub organisation itself (does it
-- require 2FA?) and every member (is 2FA enabled?), from the observation taken after the
-- period closed. Members are linked to people through their SAML identity (email).
-- The pass criterion lives in the GX suite ctl_iam_github_org_2fa.
with

org as (
    {{ observed_snapshot('stg_github__organizations', 'github.organization') }}
),

members as (
    {{ observed_snapshot('stg_github__members', 'github.members') }}
),

saml as (
    {{ observed_snapshot('stg_github__saml_identities', 'github.saml_identities') }}
)

select
    org.period_start,
    org.period_end,
    org.login as entity_id,
    'organization' as entity_type,
    cast(null as varchar) as role,
    case when org.two_factor_requirement_enabled then 'required' else 'not_required' end as two_factor_state,
    cast(null as varchar) as email,
    org.observed_at,
    'github.organization:org_id=' || org.org_id || '@' || strftime(org.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from org

union all

select
    members.period_start,
    members.period_end,
    members.login as entity_id,
    'member' as entity_type,
    members.role,
    case when members.two_factor_disabled then 'disabled' else 'enabled' end as two_factor_state,
    saml.name_id as email,
    members.observed_at,
    'github.members:user_id=' || members.user_id || '@' || strftime(members.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from members
left join saml
    on saml.period_start = members.period_start
   and lower(saml.login) = lower(members.login)

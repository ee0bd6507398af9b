-- Population for iam_aws_console_mfa: every principal with a successful AWS console
-- sign-in in the period, with how many of those sign-ins AWS authenticated without MFA
-- (additionalEventData.MFAUsed = No). Sign-ins through a SAML identity provider were
-- authenticated by the IdP (MFA enforced there and tested by iam_okta_mfa), so they never
-- count as without MFA here. The pass criterion (none) lives in the GX suite.
with

logins as (
    {{ events_in_periods('stg_cloudtrail__events', 'event_time') }}
),

successful as (
    select *
    from logins
    where is_console_login and console_login_succeeded
)

select
    period_start,
    period_end,
    user_arn as entity_id,
    any_value(user_type) as principal_type,
    any_value(recipient_account_id) as account_id,
    bool_or(authenticated_by_identity_provider) as authenticated_by_identity_provider,
    count(*) as successful_logins,
    count(*) filter (where not authenticated_by_identity_provider and not coalesce(mfa_used, false))
        as logins_without_mfa,
    min(event_time) as first_login_at,
    'cloudtrail.events:eventID=' || coalesce(
        arg_min(event_id, event_time) filter (where not authenticated_by_identity_provider
                                              and not coalesce(mfa_used, false)),
        arg_min(event_id, event_time)
    ) as source_ref
from successful
where user_arn is not null
group by period_start, period_end, user_arn

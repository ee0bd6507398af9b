-- Population for iam_dormant_accounts: every Okta account that can sign in, per period,
-- with the days since it was last used at the period's close. Last use is Okta's
-- lastLogin; an account that never signed in counts from its creation, so a
-- never-used account older than 90 days is dormant too. The threshold (90 days) lives
-- in the GX suite ctl_iam_dormant_accounts.
with

accounts as (
    {{ identity_graph('okta') }}
)

select
    period_start,
    period_end,
    account_id as entity_id,
    login,
    status,
    created_at,
    last_activity_at as last_login_at,
    last_activity_at is null as never_signed_in,
    round(date_diff('second', coalesce(last_activity_at, created_at), period_end) / 86400.0, 3) as days_unused,
    observed_at,
    source_ref
from accounts
where is_active

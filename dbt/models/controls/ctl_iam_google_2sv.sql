-- Population for iam_google_2sv: every active Google Workspace user (not suspended,
-- archived or deleted) per period, with their 2-step verification enrolment and
-- enforcement as observed after the period closed. The pass criterion (both true) lives
-- in the GX suite ctl_iam_google_2sv.
with

users as (
    {{ observed_snapshot('stg_google__users', 'google.users') }}
)

select
    period_start,
    period_end,
    user_id as entity_id,
    primary_email,
    employee_id,
    org_unit_path,
    is_enrolled_in_2sv,
    is_enforced_in_2sv,
    observed_at,
    'google.users:user_id=' || user_id || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from users
where is_active
